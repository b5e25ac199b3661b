"""What one simulated charge point does, apart from talking over the network.

Connectors go Available → Preparing → (Authorize) → Charging (StartTransaction,
MeterValues) → Finishing (StopTransaction) → Available, with faults, resets
and CSMS commands in between. Everything the charge point wants to say goes
into ``outbox`` as a ``Call``; its ``Station`` sends the calls one at a time
and reports the answers back. Nothing here waits or does I/O except the
ledger line written when a StopTransaction is answered. ``ChargePointV201``
(``v201.py``) is the same charge point saying it all in OCPP 2.0.1.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from chargestream.simulator import ocpp_keys
from chargestream.simulator.config import FleetConfig
from chargestream.simulator.ledger import Ledger
from chargestream.simulator.profiles import MODELS, boot_payload
from chargestream.simulator.rng import Rng
from chargestream.simulator.session import NEVER, Connector, Session, timestamp
from chargestream.simulator.stats import FleetStats

_TRANSACTION_ACTIONS = frozenset(
    {"StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"}
)
_QUEUED_OFFLINE = frozenset({"StartTransaction", "StopTransaction"})
FAULT_CODES = (
    "ConnectorLockFailure",
    "EVCommunicationError",
    "GroundFailure",
    "HighTemperature",
    "InternalError",
    "OverCurrentFailure",
    "OverVoltage",
    "PowerMeterFailure",
    "PowerSwitchFailure",
    "ReaderFailure",
    "UnderVoltage",
)
_STOP_REASONS = ("Local", "EVDisconnected")
_DEFAULT_HEARTBEAT = 300.0  # until BootNotification.conf says otherwise
# OCPP 1.6 TransactionMessageAttempts: a transaction message answered with a CALLERROR
# is sent again after FleetConfig.transaction_retry_interval x the attempts so far.
TRANSACTION_MESSAGE_ATTEMPTS = 3


class Call:
    """A CALL to the CSMS; ``frame`` is fixed once sent, so a resend is identical."""

    __slots__ = ("action", "attempts", "due_at", "frame", "message_id", "payload", "session")

    def __init__(self, action: str, payload: dict[str, Any], session: Session | None = None):
        self.action = action
        self.payload = payload
        self.session = session
        self.message_id = ""
        self.frame: bytes | None = None
        self.attempts = 1
        self.due_at = 0.0  # not sent before (a retry after a CALLERROR)

    @property
    def transactional(self) -> bool:
        """Kept across reconnects and sent again until answered."""
        return self.session is not None and self.action in _TRANSACTION_ACTIONS


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class ChargePoint:
    """An OCPP 1.6 charge point; ``ChargePointV201`` overrides what 2.0.1 says differently."""

    version = "1.6"
    subprotocol = "ocpp1.6"
    queued_offline = _QUEUED_OFFLINE  # the actions still queued while offline

    __slots__ = (
        "_config",
        "_fault_at",
        "_heartbeat_at",
        "_heartbeat_interval",
        "_ledger",
        "_meter_interval",
        "_overrides",
        "_stats",
        "_stopping",
        "connectors",
        "id",
        "index",
        "model",
        "online",
        "outbox",
        "reset_type",
        "rng",
        "status",
    )

    def __init__(
        self,
        index: int,
        config: FleetConfig,
        stats: FleetStats,
        rng: Rng,
        ledger: Ledger | None = None,
    ) -> None:
        self.id = f"{config.id_prefix}-{index:05d}"
        self.index = index
        self.rng = rng
        self.model = model = rng.choice(MODELS)
        self.connectors = [
            Connector(n, model, rng.uniform(100_000, 5_000_000))
            for n in range(1, model.connectors + 1)
        ]
        self.status = "Available"  # of connector 0, the charge point as a whole
        self.online = False  # BootNotification accepted on the current connection
        self.outbox: deque[Call] = deque()
        self.reset_type: str | None = None  # Hard or Soft while a Reset is under way
        self._config = config
        self._stats = stats
        self._ledger = ledger
        self._heartbeat_interval = config.heartbeat_interval or _DEFAULT_HEARTBEAT
        self._meter_interval = config.meter_interval
        self._overrides: dict[str, str] | None = None  # configuration the CSMS changed
        self._heartbeat_at = self._fault_at = NEVER
        self._stopping = False

    # ---------------------------------------------------------------- outbox

    def enqueue(self, call: Call) -> None:
        """Queue a CALL; offline, only transaction messages (``queued_offline``) are kept."""
        if self.online or call.action in self.queued_offline:
            self.outbox.append(call)

    def boot_call(self) -> Call:
        return Call("BootNotification", boot_payload(self.model, self.index))

    def status_call(self, connector_id: int, status: str, error_code: str = "NoError") -> Call:
        payload = {
            "connectorId": connector_id,
            "errorCode": error_code,
            "status": status,
            "timestamp": timestamp(),
        }
        return Call("StatusNotification", payload)

    def all_status_calls(self) -> list[Call]:
        """What the charge point reports once booted: itself and every connector."""
        statuses = [self.status_call(0, self.status)]
        return statuses + [self.status_call(c.id, c.status, c.error_code) for c in self.connectors]

    def authorize_call(self, session: Session) -> Call:
        return Call("Authorize", {"idTag": session.id_tag}, session)

    def start_call(self, connector: Connector, session: Session) -> Call:
        payload = {
            "connectorId": connector.id,
            "idTag": session.id_tag,
            "meterStart": session.meter_start,
            "timestamp": session.start_timestamp,
        }
        return Call("StartTransaction", payload, session)

    def stop_call(self, session: Session) -> Call:
        payload = {
            "meterStop": session.meter_stop,
            "timestamp": session.stop_timestamp,
            "reason": session.stop_reason,
            "idTag": session.id_tag,
        }  # transactionId is added when sent: StartTransaction may still be unanswered
        return Call("StopTransaction", payload, session)

    def meter_call(self, connector: Connector, context: str) -> Call:
        payload = {
            "connectorId": connector.id,
            "meterValue": [
                {"timestamp": timestamp(), "sampledValue": connector.sampled_values(context)}
            ],
        }
        return Call("MeterValues", payload, connector.charging_session)

    def sample_call(self, session: Session, at: str, values: list[dict[str, str]]) -> Call:
        """A meter sample of ``session`` taken at ``at``: a past one (``history``)."""
        payload = {
            "connectorId": session.connector_id,
            "meterValue": [{"timestamp": at, "sampledValue": values}],
        }
        return Call("MeterValues", payload, session)

    def set_status(self, connector: Connector, status: str, error_code: str = "NoError") -> None:
        connector.status = status
        connector.error_code = error_code
        self.enqueue(self.status_call(connector.id, status, error_code))

    def set_charge_point_status(self, status: str) -> None:
        self.status = status
        self.enqueue(self.status_call(0, status))

    # ------------------------------------------------------------------ time

    def next_due(self) -> float:
        due = min(self._fault_at, self._heartbeat_at if self.online else NEVER)
        if self.outbox and self.outbox[0].due_at > 0:
            due = min(due, self.outbox[0].due_at)
        for connector in self.connectors:
            if connector.due_at < due:
                due = connector.due_at
        return due

    def fire(self, now: float) -> None:
        """Do whatever is due at ``now``."""
        if self.online and now >= self._heartbeat_at:
            self.enqueue(Call("Heartbeat", {}))
            self._schedule_heartbeat(now)
        for connector in self.connectors:
            if now >= connector.due_at:
                self._step(connector, now)
        if now >= self._fault_at:
            self._fault(now)

    def _schedule_heartbeat(self, now: float) -> None:
        interval = self._heartbeat_interval
        self._heartbeat_at = now + interval if interval > 0 else NEVER

    # ------------------------------------------------------ connection events

    def came_online(self, interval: int, now: float) -> bool:
        """BootNotification accepted; False if the charge point already was online."""
        if self._config.heartbeat_interval is None and interval > 0:
            self._heartbeat_interval = interval
        self._schedule_heartbeat(now)
        if self.online:  # a BootNotification the CSMS triggered
            return False
        self.online = True
        self.outbox.extendleft(
            reversed(self.all_status_calls())
        )  # before queued transaction messages
        idle_high = self._config.idle_seconds[1]
        for connector in self.connectors:
            if connector.status == "Available" and connector.due_at == NEVER:
                connector.due_at = now + self.rng.uniform(0, idle_high)
        if self._config.fault_rate and self._fault_at == NEVER and not self._stopping:
            self._schedule_fault(now)
        return True

    def went_offline(self, unanswered: Call | None, now: float) -> None:
        """Keep the unanswered and queued transaction messages; forget the rest."""
        self.online = False
        pending = list(self.outbox)
        if unanswered is not None:
            pending.insert(0, unanswered)
        self.outbox = deque(call for call in pending if call.transactional)
        for call in pending:
            if call.action == "Authorize":
                self._authorized(call.session, "NotAnswered", now)

    def on_result(self, call: Call, payload: dict[str, Any], now: float) -> None:
        """A CALLRESULT; KeyError, TypeError or ValueError if it is malformed."""
        action = call.action
        if action == "Authorize":
            self._authorized(call.session, payload["idTagInfo"]["status"], now)
        elif action == "StartTransaction":
            self._started(call.session, payload, now)
        elif action == "StopTransaction":
            self._completed(call.session)

    def on_failure(self, call: Call, now: float) -> None:
        """A CALLERROR or malformed answer: an unanswered Authorize counts as refused, a
        transaction message is sent again, up to TRANSACTION_MESSAGE_ATTEMPTS times."""
        if call.action == "Authorize":
            self._authorized(call.session, "NotAnswered", now)
        elif call.transactional and call.attempts < TRANSACTION_MESSAGE_ATTEMPTS:
            call.due_at = now + self._config.transaction_retry_interval * call.attempts
            call.attempts += 1
            self.outbox.appendleft(call)  # before later transaction messages: order kept

    def stop(self, now: float) -> None:
        """The simulation ends: stop every session, start nothing new."""
        self._stopping = True
        self._fault_at = self._heartbeat_at = NEVER
        for connector in self.connectors:
            if connector.status == "Charging":
                self.stop_session(connector, "Local", now)
            connector.due_at = NEVER

    def rebooted(self, now: float) -> None:
        """After a Reset: nothing plugged in, availability kept, boot again."""
        self.reset_type = None
        self.online = False
        for connector in self.connectors:
            self.release(connector, now)
            connector.due_at = NEVER  # set again once booted

    # --------------------------------------------------------- configuration

    def setting(self, key: str) -> str:
        """The value of a known configuration key."""
        if key == "HeartbeatInterval":
            return _seconds(self._heartbeat_interval)
        if key == "MeterValueSampleInterval":
            return _seconds(self._meter_interval)
        if key == "NumberOfConnectors":
            return str(len(self.connectors))
        if self._overrides is not None and key in self._overrides:
            return self._overrides[key]
        return ocpp_keys.KEYS[key].default

    def configure(self, key: str, value: str, now: float) -> str:
        """ChangeConfiguration: the status, and the change applied if Accepted."""
        status = ocpp_keys.check_change(key, value)
        if status != "Accepted":
            return status
        if key == "HeartbeatInterval":
            self._heartbeat_interval = int(value)
            if self.online:
                self._schedule_heartbeat(now)
        elif key == "MeterValueSampleInterval":
            self._meter_interval = interval = int(value)
            for connector in self.connectors:
                if connector.status == "Charging" and connector.session is not None:
                    connector.next_meter_at = now + interval if interval > 0 else NEVER
                    connector.due_at = min(connector.next_meter_at, connector.session.ends_at)
        else:
            if self._overrides is None:
                self._overrides = {}
            self._overrides[key] = value
        return status

    # -------------------------------------------------------------- sessions

    def connector(self, connector_id: object) -> Connector | None:
        if type(connector_id) is int and 1 <= connector_id <= len(self.connectors):
            return self.connectors[connector_id - 1]
        return None

    @property
    def accepts_sessions(self) -> bool:
        return self.online and not self.reset_type and not self._stopping

    def begin_session(
        self,
        connector: Connector,
        id_tag: str,
        now: float,
        *,
        remote: bool,
        token_type: str = "ISO14443",
        remote_start_id: int | None = None,
    ) -> None:
        """A car plugs in; a remote start skips Authorize unless AuthorizeRemoteTxRequests."""
        connector.session = session = Session(connector.id, id_tag, self.model, self.rng)
        session.token_type = token_type
        session.remote_start_id = remote_start_id
        connector.due_at = NEVER
        self.set_status(connector, "Preparing")
        if remote and self.setting("AuthorizeRemoteTxRequests").lower() != "true":
            self._start_transaction(connector, now)
        else:
            self.enqueue(self.authorize_call(session))

    def stop_session(self, connector: Connector, reason: str, now: float) -> None:
        session = connector.session
        assert session is not None
        connector.advance(now, self.rng)
        session.meter_stop = int(connector.register_wh)
        session.stop_timestamp = timestamp()
        session.stop_reason = reason
        self.enqueue(self.stop_call(session))
        connector.session = None
        self.set_status(connector, "Finishing")
        connector.due_at = now + min(self.rng.uniform(2, 10), self._config.idle_seconds[1])
        self._stats.sessions_active -= 1

    def release(self, connector: Connector, now: float) -> None:
        """Nothing plugged in: Available, or Unavailable if made inoperative."""
        connector.session = None
        if connector.operative:
            self.set_status(connector, "Available")
            connector.due_at = now + self._idle_time()
        else:
            self.set_status(connector, "Unavailable")
            connector.due_at = NEVER

    def meter(self, connector: Connector, now: float, context: str) -> None:
        connector.advance(now, self.rng)
        self.enqueue(self.meter_call(connector, context))

    def _idle_time(self) -> float:
        return self.rng.uniform(*self._config.idle_seconds)

    def _step(self, connector: Connector, now: float) -> None:
        status = connector.status
        if status == "Available":
            if self.accepts_sessions and connector.operative:
                self.begin_session(
                    connector, self.rng.choice(self._config.id_tags), now, remote=False
                )
            else:
                connector.due_at = now + self._idle_time()
        elif status == "Charging":
            session = connector.session
            assert session is not None
            if now >= session.ends_at:
                self.stop_session(connector, self.rng.choice(_STOP_REASONS), now)
                return
            self.meter(connector, now, "Sample.Periodic")
            interval = self._meter_interval
            next_meter = connector.next_meter_at + interval
            connector.next_meter_at = next_meter if next_meter > now else now + interval
            connector.due_at = min(connector.next_meter_at, session.ends_at)
        elif status in ("Finishing", "Faulted"):
            self.release(connector, now)
        else:
            connector.due_at = NEVER

    def _authorized(self, session: Session | None, status: str, now: float) -> None:
        assert session is not None
        connector = self.connectors[session.connector_id - 1]
        if connector.session is not session or connector.status != "Preparing":
            return
        if status == "Accepted" and not self._stopping:  # stop() has already run
            self._start_transaction(connector, now)
        else:
            self.release(connector, now)

    def _start_transaction(self, connector: Connector, now: float) -> None:
        session = connector.session
        assert session is not None
        session.meter_start = int(connector.register_wh)
        session.start_timestamp = timestamp()
        session.ends_at = now + 60 * self.rng.uniform(*self._config.session_minutes)
        self.enqueue(self.start_call(connector, session))
        self.set_status(connector, "Charging")
        connector.sampled_at = now
        connector.advance(now, self.rng)
        interval = self._meter_interval
        connector.next_meter_at = now + interval if interval > 0 else NEVER
        connector.due_at = min(connector.next_meter_at, session.ends_at)
        self._stats.sessions_started += 1
        self._stats.sessions_active += 1

    def _started(self, session: Session | None, payload: dict[str, Any], now: float) -> None:
        assert session is not None
        transaction_id = payload["transactionId"]
        if type(transaction_id) is not int:
            raise TypeError("transactionId must be an integer")
        session.transaction_id = transaction_id
        if payload["idTagInfo"]["status"] != "Accepted":  # StopTransactionOnInvalidId
            connector = self.connectors[session.connector_id - 1]
            if connector.session is session and connector.status == "Charging":
                self.stop_session(connector, "DeAuthorized", now)

    def _completed(self, session: Session | None) -> None:
        assert session is not None and session.transaction_id is not None
        energy = session.meter_stop - session.meter_start
        self._stats.sessions_completed += 1
        self._stats.energy_wh += energy
        if self._ledger is not None:
            self._ledger.write(
                {
                    "station": self.id,
                    "ocppVersion": self.version,
                    "connector": session.connector_id,
                    "transactionId": session.transaction_id,
                    "idTag": session.id_tag,
                    "meterStart": session.meter_start,
                    "meterStop": session.meter_stop,
                    "energyWh": energy,
                    "startTimestamp": session.start_timestamp,
                    "stopTimestamp": session.stop_timestamp,
                    "stopReason": session.stop_reason,
                }
            )

    def _schedule_fault(self, now: float) -> None:
        rate = self._config.per_second(self._config.fault_rate)
        self._fault_at = now + self.rng.expovariate(rate)

    def _fault(self, now: float) -> None:
        """Fault a connector for a while; a session on it ends with reason Other."""
        self._schedule_fault(now)
        connector = self.rng.choice(self.connectors)
        if not self.online or connector.status not in ("Available", "Charging", "Finishing"):
            return
        if connector.status == "Charging":
            self.stop_session(connector, "Other", now)
        self._stats.faults += 1
        self.set_status(connector, "Faulted", self.rng.choice(FAULT_CODES))
        connector.due_at = now + self.rng.uniform(10, 60)
