"""Derivation: apply one frame event to a charge point's state, get the records to upsert.

Pure and deterministic: every time comes from the events (or from ``tick``'s caller), so
deriving the same log again, from scratch or from a saved state, yields the same records.

A charge point's CALL is derived when the log shows the CSMS answered it with a
CALLRESULT (the gateway logs a CALL and its answer as one exchange event; logs written
before that hold the answer as the next event, and derive the same): a CALL answered with a
CALLERROR (a schema violation, a charge point the CSMS has not accepted, a CALL beyond
the rate limit) was not acknowledged, the charge point may send it again, and nothing is
derived from it. It is derived with the CALL's own time, as if at the CALL.

A StopTransaction for a transaction already stopped keeps the first stop (time, reason,
meter): the session is emitted again unchanged, or, once forgotten, not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from chargestream.domain.frames import Direction, EventKind, FrameEvent, LoggedEvent, MessageType
from chargestream.domain.meter import base_value
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    Alert,
    AlertKind,
    AlertRule,
    ConnectorStatus,
    DerivedRecord,
    InstalledChargingProfile,
    LocalListState,
    MeterValue,
    ProfileRemoval,
    Reservation,
    ReservationStatus,
    SecurityEvent,
    Session,
    StatusInterval,
)
from chargestream.streams.charging_profiles import (
    ProfileKey,
    cleared_by,
    cleared_by_v201,
    ended_with,
    installed_profile,
    installed_profile_v201,
    key_of,
    removed,
    replaced_by,
)
from chargestream.streams.derive_v201 import (
    CHARGING_STATES,
    ENDED,
    TIMELINE_FROM,
    TransactionEvent,
    boot_fields,
    fold_event,
    fold_sample,
    meter_values_evse,
    session_of,
    status_report,
    transaction_event,
    transaction_id,
)
from chargestream.streams.device_model import got, reported, set_
from chargestream.streams.local_list_views import (
    asks_lengths,
    asks_lengths_v201,
    lengths_got,
    lengths_reported,
    list_sent,
    refused,
    send_local_list_v201,
    version_answer_v201,
    version_reported,
)
from chargestream.streams.meter import active_power_w, sampled_values, states_of_charge
from chargestream.streams.parse import (
    MILLISECOND,
    Frame,
    event_time,
    get_connector_id,
    get_int,
    get_list,
    get_str,
    parse_frame,
    parse_time,
    to_ms,
    truncate_ms,
)
from chargestream.streams.reservations import STATUS_UPDATES, reservation, reservation_v201
from chargestream.streams.security import (
    DIAGNOSTICS,
    FIRMWARE,
    LOG,
    csr_rejected,
    security_event,
    transfer_status,
)
from chargestream.streams.state import (
    ChargePointDerivation,
    PendingCall,
    PublishedSession,
    TransactionProgress,
)

if TYPE_CHECKING:
    from chargestream.domain.settings import Settings

__all__ = ["ChargePointDerivation", "DerivationSettings", "derive", "offline_due", "tick"]

OFFLINE = "Offline"
FAULTED = "Faulted"
MAX_PENDING = 32
MAX_OPEN_SESSIONS = 16
MAX_CLOSED_SESSIONS = 4
MAX_STOPPED = 32  # transaction ids remembered as stopped, beyond the closed sessions
MAX_RESERVATIONS = 16  # active reservations remembered per charge point
MAX_INSTALLED_PROFILES = 64  # installed charging profiles remembered per charge point
SECURITY_ERROR = "SecurityError"
# CALLs a charge point the CSMS has not accepted may not send even when triggered: a
# CALLRESULT to one of them shows the CSMS accepts the charge point.
NOT_TRIGGERABLE = frozenset(
    {
        "Authorize",
        "DataTransfer",
        "SecurityEventNotification",
        "StartTransaction",
        "StopTransaction",
        "TransactionEvent",  # OCPP 2.0.1
    }
)

AlertSlot = tuple[AlertKind, str | None, int | None]
OFFLINE_SLOT: AlertSlot = (AlertKind.OFFLINE, None, None)


@dataclass(frozen=True)
class DerivationSettings:
    offline_after: float = 600.0  # seconds of silence before an OFFLINE alert
    last_seen_resolution: float = 30.0  # re-emit ChargePointState for last_seen alone this often
    # Re-emit an open session for a change of its peak power or state of charge at most
    # this often (seconds, by frame time; 0: on every MeterValues). Start and stop always
    # emit. Each emission rewrites the session and its listings, the stack's most costly
    # write; the meter values themselves are emitted every time.
    session_refresh: float = 60.0
    rules: tuple[AlertRule, ...] = ()

    @classmethod
    def of(cls, settings: Settings, rules: tuple[AlertRule, ...] = ()) -> DerivationSettings:
        return cls(
            offline_after=settings.offline_after,
            session_refresh=settings.session_refresh,
            rules=rules,
        )


def derive(
    state: ChargePointDerivation | None, logged: LoggedEvent, settings: DerivationSettings
) -> tuple[ChargePointDerivation, list[DerivedRecord]]:
    """Apply one event; return the new state and the records to upsert."""
    event = logged.event
    state = state or ChargePointDerivation.new(event.charge_point_id)
    if logged.position <= state.position:
        return state, []
    step = _Step(state, settings, event_time(event.received_us), event.ocpp_version)
    alive = _is_sign_of_life(event, state)
    if alive:
        _check_offline(step, event.kind is EventKind.DISCONNECTED)
        _mark_seen(step)
    if event.kind is EventKind.CONNECTED:
        _connected(step, event)
    elif event.kind is EventKind.DISCONNECTED:
        if alive:
            _disconnected(step)
    else:
        _frame(step, event)
    return step.finish(logged.position), step.records


def tick(
    state: ChargePointDerivation, now: datetime, settings: DerivationSettings
) -> tuple[ChargePointDerivation, list[DerivedRecord]]:
    """Timer: open the OFFLINE alert when the cp has been silent/disconnected past offline_after.

    ``now`` is timezone-aware UTC. The alert opens at last sign of life + offline_after, not at
    ``now``, so a replay that never ticks derives the same alert (see ``_check_offline``).
    """
    last_seen = state.registry.last_seen
    if last_seen is None or not _silent_too_long(last_seen, now, settings) or state.refused:
        return state, []
    if any(alert.kind is AlertKind.OFFLINE for alert in state.alerts):
        return state, []
    alert = _offline_alert(state.charge_point_id, last_seen, settings)
    return replace(state, alerts=(*state.alerts, alert)), [alert]


def offline_due(state: ChargePointDerivation, settings: DerivationSettings) -> datetime | None:
    """From when ``tick`` opens the OFFLINE alert (None: it would not, whenever it ran)."""
    last_seen = state.registry.last_seen
    if last_seen is None or state.refused:
        return None
    if any(alert.kind is AlertKind.OFFLINE for alert in state.alerts):
        return None
    return last_seen + timedelta(seconds=settings.offline_after) + MILLISECOND


class _Step:
    """A mutable working copy of the state while one event is applied."""

    def __init__(
        self,
        state: ChargePointDerivation,
        settings: DerivationSettings,
        now: datetime,
        version: OcppVersion = OcppVersion.V16,
    ) -> None:
        self.state = state
        self.settings = settings
        self.now = now
        self.version = version  # of the event's connection
        self.cp = state.charge_point_id
        self.registry = state.registry
        self.registry_changed = False
        self.connection_id = state.connection_id
        self.intervals = {interval.connector_id: interval for interval in state.intervals}
        self.sessions = {session.transaction_id: session for session in state.sessions}
        self.closed = {session.transaction_id: session for session in state.closed}
        self.alerts: dict[AlertSlot, Alert] = {_slot(alert): alert for alert in state.alerts}
        self.pending = {(call.direction, call.message_id): call for call in state.pending}
        self.published = {mark.transaction_id: mark.at for mark in state.published}
        self.stopped = dict.fromkeys(state.stopped)
        self.refused = state.refused
        self.reservations = {r.reservation_id: r for r in state.reservations}
        self.profiles: dict[ProfileKey, InstalledChargingProfile] = {
            key_of(p): p for p in state.profiles
        }
        self.local_list = state.local_list
        self.transactions = {p.transaction_id: p for p in state.transactions}
        self.records: list[DerivedRecord] = []

    def update_registry(self, **changes: Any) -> None:
        if any(getattr(self.registry, name) != value for name, value in changes.items()):
            self.registry = replace(self.registry, **changes)
            self.registry_changed = True

    def enter_status(
        self,
        connector_id: int,
        status: str,
        error_code: str,
        start: datetime,
        info: str | None = None,
        vendor_error_code: str | None = None,
        evse_id: int | None = None,
    ) -> bool:
        """Close the connector's open interval and open one in ``status``; False if already in it.

        Starts strictly increase per connector (by at least 1 ms, even when the charge point's
        clock goes back), so intervals never overlap and never share a key.
        """
        current = self.intervals.get(connector_id)
        if current is not None:
            if (current.status, current.error_code, current.info) == (status, error_code, info):
                return False
            start = max(start, current.start + MILLISECOND)
            self.records.append(replace(current, end=start))
        interval = StatusInterval(
            self.cp, connector_id, start, status, error_code, None, info, vendor_error_code, evse_id
        )
        self.intervals[connector_id] = interval
        self.records.append(interval)
        return True

    def open_alert(self, alert: Alert) -> None:
        self.alerts[_slot(alert)] = alert
        self.records.append(alert)

    def close_alert(self, slot: AlertSlot, at: datetime) -> None:
        alert = self.alerts.pop(slot)
        self.records.append(replace(alert, closed_at=max(at, alert.opened_at)))

    def keep_session(self, session: Session, *, refresh: bool = False) -> None:
        """Remember the open session and emit it; a ``refresh`` only when one is due."""
        transaction_id = session.transaction_id
        self.sessions[transaction_id] = session
        _bound(self.sessions, MAX_OPEN_SESSIONS)
        last = self.published.get(transaction_id)
        every = timedelta(seconds=self.settings.session_refresh)
        if refresh and last is not None and self.now - last < every:
            return
        self.published[transaction_id] = self.now
        self.records.append(session)

    def finish(self, position: int) -> ChargePointDerivation:
        published = self.state.published_last_seen
        last_seen = self.registry.last_seen
        resolution = timedelta(seconds=self.settings.last_seen_resolution)
        moved = last_seen is not None and (published is None or last_seen - published >= resolution)
        if self.registry_changed or moved:
            self.records.append(self.registry)
            published = last_seen
        return ChargePointDerivation(
            charge_point_id=self.cp,
            registry=self.registry,
            position=position,
            connection_id=self.connection_id,
            published_last_seen=published,
            intervals=tuple(self.intervals[c] for c in sorted(self.intervals)),
            sessions=tuple(self.sessions.values()),
            closed=tuple(self.closed.values()),
            alerts=tuple(self.alerts.values()),
            pending=tuple(self.pending.values()),
            published=tuple(
                PublishedSession(tx, at) for tx, at in self.published.items() if tx in self.sessions
            ),
            stopped=tuple(self.stopped),
            refused=self.refused,
            reservations=tuple(self.reservations.values()),
            profiles=tuple(self.profiles.values()),
            local_list=self.local_list,
            transactions=tuple(self.transactions.values()),
        )


def _slot(alert: Alert) -> AlertSlot:
    return (alert.kind, alert.rule_id, alert.connector_id)


def _bound(items: dict[Any, Any], size: int) -> None:
    """Drop the oldest entries (insertion order) beyond ``size``."""
    while len(items) > size:
        del items[next(iter(items))]


# ------------------------------------------------------------------ connection and offline


def _is_sign_of_life(event: FrameEvent, state: ChargePointDerivation) -> bool:
    """Frames from the charge point, its connects and the end of its current connection.

    A CSMS frame says nothing about the charge point, and a late DISCONNECTED of an older
    connection (the charge point already reconnected, maybe to another node) is stale.
    """
    if event.kind is EventKind.FRAME:
        return event.direction is Direction.IN
    if event.kind is EventKind.DISCONNECTED:
        return state.connection_id in (None, event.connection_id)
    return True


def _mark_seen(step: _Step) -> None:
    """last_seen never goes back (gateway nodes' clocks differ slightly)."""
    last_seen = step.registry.last_seen
    if last_seen is None or step.now > last_seen:
        step.registry = replace(step.registry, last_seen=step.now)


def _silent_too_long(last_seen: datetime, now: datetime, settings: DerivationSettings) -> bool:
    return now - last_seen > timedelta(seconds=settings.offline_after)


def _offline_alert(cp: str, last_seen: datetime, settings: DerivationSettings) -> Alert:
    opened_at = truncate_ms(last_seen + timedelta(seconds=settings.offline_after))
    return Alert(
        alert_id=f"{cp}:offline:{to_ms(opened_at)}",
        charge_point_id=cp,
        kind=AlertKind.OFFLINE,
        opened_at=opened_at,
        message=f"No message from the charge point for over {settings.offline_after:g} s",
    )


def _check_offline(step: _Step, disconnected: bool) -> None:
    """Catch up on the OFFLINE alert as ``tick`` would have, then close it on a sign of life.

    A disconnect is no sign of being back: it leaves the alert open.
    """
    last_seen = step.registry.last_seen
    if (
        OFFLINE_SLOT not in step.alerts
        and last_seen is not None
        and not step.refused
        and _silent_too_long(last_seen, step.now, step.settings)
    ):
        step.open_alert(_offline_alert(step.cp, last_seen, step.settings))
    if OFFLINE_SLOT in step.alerts and not disconnected:
        step.close_alert(OFFLINE_SLOT, step.now)


def _connected(step: _Step, event: FrameEvent) -> None:
    step.connection_id = event.connection_id
    step.update_registry(
        connected=True, connected_since=step.now, node=event.node, ocpp_version=event.ocpp_version
    )
    _end_outage(step)


def _end_outage(step: _Step) -> None:
    """The outage ends at the reconnection: each Offline connector is back in the status it
    last reported, until it reports another.

    Statuses the charge point queued while offline are later than this reopened interval
    (``enter_status`` keeps starts increasing), so every moment from the disconnect to the
    reconnection stays Offline whatever their timestamps say, and a status sent late after the
    reconnection counts from its own timestamp.
    """
    for last in step.registry.connectors:
        current = step.intervals.get(last.connector_id)
        if current is not None and current.status == OFFLINE:
            _enter_connector_status(step, last, step.now)


def _disconnected(step: _Step) -> None:
    """Every known connector goes Offline until the charge point connects again."""
    step.connection_id = None
    step.update_registry(connected=False)
    for connector_id in sorted(step.intervals):
        evse_id = step.intervals[connector_id].evse_id
        step.enter_status(connector_id, OFFLINE, "NoError", step.now, evse_id=evse_id)


# ------------------------------------------------------------------------------ frames


def _frame(step: _Step, event: FrameEvent) -> None:
    frame = parse_frame(event.frame)
    if frame is None or event.direction is None:
        return
    if frame.message_type is MessageType.CALL:
        if event.direction is Direction.OUT:
            if frame.action in _COMMAND_HANDLERS[step.version][0]:
                _command(step, frame)
        elif event.answer is None:  # a log written before exchanges: the answer comes later
            _request(step, frame)
        else:
            _exchange(step, frame, event.answer)
        return
    call_direction = Direction.IN if event.direction is Direction.OUT else Direction.OUT
    call = step.pending.pop((call_direction, frame.message_id), None)
    if call is not None:
        _reply(step, call, frame)


def _reply(step: _Step, call: PendingCall, reply: Frame) -> None:
    """A CALL's answer: derive the CALL if it was acknowledged, note a refusal."""
    if reply.message_type is MessageType.CALLRESULT:
        _answered(step, call, reply.payload)
    elif call.direction is Direction.OUT:
        error_handler = _COMMAND_HANDLERS[step.version][1].get(call.action)
        if error_handler is not None:
            error_handler(step, call, reply.error_code)
    elif reply.error_code == SECURITY_ERROR:
        step.refused = True  # the CSMS refused the charge point (not the other way round)


def _request(step: _Step, frame: Frame) -> None:
    """Remember a charge point's CALL until the log shows its answer."""
    step.pending.pop((Direction.IN, frame.message_id), None)  # a reused id: the newest
    call = _incoming_call(step, frame)
    if call is not None:
        step.pending[(call.direction, call.message_id)] = call
        _bound(step.pending, MAX_PENDING)


def _exchange(step: _Step, frame: Frame, answer: str) -> None:
    """A charge point's CALL logged with its answer: derived as the CALL and then its
    answer as events of their own would be, without the wait in ``pending``."""
    step.pending.pop((Direction.IN, frame.message_id), None)  # a reused id: the newest
    call = _incoming_call(step, frame)
    reply = parse_frame(answer)
    if call is None or reply is None or reply.message_id != call.message_id:
        return
    if reply.message_type is not MessageType.CALL:
        _reply(step, call, reply)


def _incoming_call(step: _Step, frame: Frame) -> PendingCall | None:
    """A charge point's CALL as its answer's handlers read it; None when nothing can be
    derived from it (a payload nested deeper than orjson writes)."""
    requests, results = _HANDLERS[step.version]
    derived = frame.action in requests or frame.action in results
    try:
        payload = orjson.dumps(frame.payload).decode() if derived else ""
    except orjson.JSONEncodeError:
        return None
    return PendingCall(Direction.IN, frame.message_id, frame.action, payload, step.now)


def _command(step: _Step, frame: Frame) -> None:
    """Remember a CSMS command that derives records until the log shows the answer."""
    try:
        payload = orjson.dumps(frame.payload).decode()
    except orjson.JSONEncodeError:  # pragma: no cover - the CSMS sends only what it validated
        return
    call = PendingCall(Direction.OUT, frame.message_id, frame.action, payload, step.now)
    step.pending.pop((call.direction, call.message_id), None)
    step.pending[(call.direction, call.message_id)] = call
    _bound(step.pending, MAX_PENDING)


def _answered(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    """The CALL was answered with a CALLRESULT: derive it."""
    if call.direction is Direction.OUT:
        command_handler = _COMMAND_HANDLERS[step.version][0].get(call.action)
        if command_handler is not None:
            command_handler(step, call, result)
        return
    if call.action in NOT_TRIGGERABLE:
        step.refused = False
    requests, results = _HANDLERS[step.version]
    handler = requests.get(call.action)
    if handler is not None:
        now, step.now = step.now, call.sent_at  # derived as at the CALL
        try:
            handler(step, orjson.loads(call.payload))
        finally:
            step.now = now
    result_handler = results.get(call.action)
    if result_handler is not None:
        result_handler(step, call, result)


def _boot_notification(step: _Step, payload: dict[str, Any]) -> None:
    step.update_registry(
        vendor=get_str(payload, "chargePointVendor"),
        model=get_str(payload, "chargePointModel"),
        serial_number=get_str(payload, "chargePointSerialNumber"),
        charge_box_serial_number=get_str(payload, "chargeBoxSerialNumber"),
        firmware_version=get_str(payload, "firmwareVersion"),
        iccid=get_str(payload, "iccid"),
        imsi=get_str(payload, "imsi"),
        meter_type=get_str(payload, "meterType"),
        meter_serial_number=get_str(payload, "meterSerialNumber"),
        last_boot_at=step.now,
    )


def _boot_notification_result(step: _Step, _call: PendingCall, result: dict[str, Any]) -> None:
    status = get_str(result, "status")
    step.update_registry(registration_status=status)
    step.refused = status != "Accepted"


def _status_notification(step: _Step, payload: dict[str, Any]) -> None:
    connector_id = get_connector_id(payload)
    status = get_str(payload, "status")
    if connector_id is None or status is None:
        return
    error_code = get_str(payload, "errorCode") or "NoError"
    info, vendor_code = get_str(payload, "info"), get_str(payload, "vendorErrorCode")
    reported = ConnectorStatus(connector_id, status, error_code, step.now, info, vendor_code)
    _enter_connector_status(step, reported, parse_time(payload.get("timestamp"), step.now))


def _enter_connector_status(step: _Step, reported: ConnectorStatus, at: datetime) -> None:
    """A connector's reported status (``since``: unused) as of ``at``: its status
    interval, its entry in the registry, its FAULTED alert."""
    connector_id = reported.connector_id
    current = step.intervals.get(connector_id)
    # An outage is measured on our clock, so it ends on ours too. A reconnection ends it
    # (``_end_outage``); one still open at a status is left by a state derived before that rule.
    start = step.now if current is not None and current.status == OFFLINE else at
    status, error_code, info = reported.status, reported.error_code, reported.info
    vendor_code, evse_id = reported.vendor_error_code, reported.evse_id
    if not step.enter_status(
        connector_id, status, error_code, start, info, vendor_code, evse_id=evse_id
    ):
        return
    interval = step.intervals[connector_id]
    connectors = {c.connector_id: c for c in step.registry.connectors}
    connectors[connector_id] = replace(reported, since=interval.start)
    step.update_registry(connectors=tuple(connectors[c] for c in sorted(connectors)))
    _check_faulted(step, interval)


def _check_faulted(step: _Step, interval: StatusInterval) -> None:
    slot: AlertSlot = (AlertKind.FAULTED, None, interval.connector_id)
    if interval.status != FAULTED:
        if slot in step.alerts:
            step.close_alert(slot, interval.start)
        return
    if slot in step.alerts:
        return
    details = ", ".join(filter(None, (interval.info, interval.vendor_error_code)))
    step.open_alert(
        Alert(
            alert_id=f"{step.cp}:faulted:{interval.connector_id}:{to_ms(interval.start)}",
            charge_point_id=step.cp,
            kind=AlertKind.FAULTED,
            opened_at=interval.start,
            message=f"Connector {interval.connector_id} faulted: {interval.error_code}"
            + (f" ({details})" if details else ""),
            severity="critical",
            connector_id=interval.connector_id,
        )
    )


# ---------------------------------------------------------------------------- sessions


def _start_transaction_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    transaction_id = get_int(result, "transactionId")
    if transaction_id is None or transaction_id in step.closed or transaction_id in step.stopped:
        return
    request = orjson.loads(call.payload)
    _use_reservation(step, request, transaction_id, call.sent_at)
    session = step.sessions.get(transaction_id) or Session(transaction_id, step.cp)
    step.keep_session(
        replace(
            session,
            connector_id=get_connector_id(request),
            id_tag=get_str(request, "idTag"),
            start_time=parse_time(request.get("timestamp"), call.sent_at),
            meter_start=get_int(request, "meterStart"),
        )
    )


def _meter_values(step: _Step, payload: dict[str, Any]) -> None:
    connector_id = get_connector_id(payload)
    if connector_id is None:
        return
    transaction_id = get_int(payload, "transactionId")
    _close_orphaned_thresholds(step)
    session = before = step.sessions.get(transaction_id) if transaction_id is not None else None
    for element in get_list(payload, "meterValue"):
        values = sampled_values(step.cp, connector_id, transaction_id, element, step.now)
        if not values:
            continue
        step.records.extend(values)
        _check_thresholds(step, connector_id, values)
        if session is not None:
            session = _with_samples(session, values)
    if session is not None and session != before:
        step.keep_session(session, refresh=True)


def _stop_transaction(step: _Step, payload: dict[str, Any]) -> None:
    """Close the session. A repeated Stop never overwrites the first: the closed session is
    emitted again as it is (an idempotent upsert), and a transaction stopped so long ago
    that its session is forgotten gets nothing (the store has its first stop)."""
    transaction_id = get_int(payload, "transactionId")
    if transaction_id is None:
        return
    closed = step.closed.pop(transaction_id, None)
    if closed is not None:
        step.closed[transaction_id] = closed  # the most recently used stays longest
        step.records.append(closed)
        return
    if transaction_id in step.stopped:
        return
    session = step.sessions.pop(transaction_id, None) or Session(transaction_id, step.cp)
    connector_id = 0 if session.connector_id is None else session.connector_id
    for element in get_list(payload, "transactionData"):
        values = sampled_values(step.cp, connector_id, transaction_id, element, step.now)
        step.records.extend(values)
        session = _with_samples(session, values)
    meter_start, meter_stop = session.meter_start, get_int(payload, "meterStop")
    session = replace(
        session,
        stop_time=parse_time(payload.get("timestamp"), step.now),
        meter_stop=meter_stop,
        energy_kwh=None
        if meter_start is None or meter_stop is None
        else (meter_stop - meter_start) / 1000,
        stop_reason=get_str(payload, "reason") or "Local",
        stop_id_tag=get_str(payload, "idTag"),
    )
    step.closed[transaction_id] = session
    _bound(step.closed, MAX_CLOSED_SESSIONS)
    step.stopped[transaction_id] = None
    _bound(step.stopped, MAX_STOPPED)
    step.records.append(session)
    _end_tx_profiles(step, session)


def _end_tx_profiles(step: _Step, session: Session) -> None:
    """The TxProfiles of a transaction that stopped (1.6) or ended (2.0.1) go with it."""
    ended = ended_with(session.transaction_id, session.connector_id, step.profiles.values())
    _remove_profiles(step, ended, ProfileRemoval.TRANSACTION_STOPPED)


def _with_samples(session: Session, values: list[MeterValue]) -> Session:
    """Fold one sample into the session's peak power and first/last state of charge."""
    power = active_power_w(values)
    socs = states_of_charge(values)
    peak = session.peak_power_w
    if power is not None and (peak is None or power > peak):
        peak = power
    soc_start = session.soc_start if session.soc_start is not None or not socs else socs[0]
    soc_end = socs[-1] if socs else session.soc_end
    if (peak, soc_start, soc_end) == (session.peak_power_w, session.soc_start, session.soc_end):
        return session
    return replace(session, peak_power_w=peak, soc_start=soc_start, soc_end=soc_end)


# -------------------------------------------------------------------------- thresholds


def _check_thresholds(step: _Step, connector_id: int, values: list[MeterValue]) -> None:
    """Per sample and rule: open while any matching value breaches, close when none does."""
    for rule in step.settings.rules:
        if not rule.enabled:
            continue
        readings = [base_value(value) for value in values if value.measurand == rule.measurand]
        if not readings:
            continue
        slot: AlertSlot = (AlertKind.THRESHOLD, rule.rule_id, connector_id)
        breaching = [(number, unit) for number, unit in readings if rule.breached(number)]
        if breaching and slot not in step.alerts:
            step.open_alert(
                _threshold_alert(step.cp, connector_id, rule, values[0].timestamp, *breaching[0])
            )
        elif not breaching and slot in step.alerts:
            step.close_alert(slot, values[0].timestamp)


def _threshold_alert(
    cp: str, connector_id: int, rule: AlertRule, at: datetime, value: float, unit: str
) -> Alert:
    return Alert(
        alert_id=f"{cp}:threshold:{rule.rule_id}:{connector_id}:{to_ms(at)}",
        charge_point_id=cp,
        kind=AlertKind.THRESHOLD,
        opened_at=at,
        message=f"{rule.measurand} {_quantity(value, unit)} {rule.operator} {rule.threshold:.15g}",
        severity=rule.severity,
        connector_id=connector_id,
        rule_id=rule.rule_id,
        value=value,
    )


def _quantity(value: float, unit: str) -> str:
    """``11000 W``, ``0.98`` (no exponent notation, no float noise)."""
    return f"{value:.15g} {unit}".rstrip()


def _close_orphaned_thresholds(step: _Step) -> None:
    """A deleted or disabled rule's open alerts close at the next MeterValues."""
    active = {rule.rule_id for rule in step.settings.rules if rule.enabled}
    for slot in [slot for slot in step.alerts if slot[0] is AlertKind.THRESHOLD]:
        if slot[1] not in active:
            step.close_alert(slot, step.now)


# ---------------------------------------------------------------------------- security

SECURITY_SLOT: AlertSlot = (AlertKind.SECURITY, None, None)


def _security_event_notification(step: _Step, payload: dict[str, Any]) -> None:
    event = security_event(step.cp, payload, step.now)
    if event is None:
        return
    step.records.append(event)
    if event.critical:
        _raise_security_alert(step, event, "critical")


def _sign_certificate_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    if get_str(result, "status") != "Rejected":
        return
    event = csr_rejected(step.cp, call.sent_at)
    step.records.append(event)
    _raise_security_alert(step, event, "warning")


def _raise_security_alert(step: _Step, event: SecurityEvent, severity: str) -> None:
    """A charge point has one open security alert: that of its latest alerting event.

    It stays open (for the operator to acknowledge) until a newer one replaces it, so
    open security alerts stay one per charge point however many events come. Its id is
    the event's key (the type hashed: it is the charge point's text), so the event sent
    again leaves the alert as it is.
    """
    type_hash = hashlib.sha256(event.event_type.encode()).hexdigest()[:16]
    alert_id = f"{step.cp}:security:{to_ms(event.timestamp)}:{type_hash}"
    current = step.alerts.get(SECURITY_SLOT)
    if current is not None:
        if current.alert_id == alert_id:
            return
        step.close_alert(SECURITY_SLOT, event.received_at)
    details = f": {event.tech_info}" if event.tech_info else ""
    step.open_alert(
        Alert(
            alert_id=alert_id,
            charge_point_id=step.cp,
            kind=AlertKind.SECURITY,
            opened_at=event.received_at,
            message=f"Security event {event.event_type}{details}",
            severity=severity,
        )
    )


def _firmware_status(step: _Step, payload: dict[str, Any]) -> None:
    """FirmwareStatusNotification or its signed variant: the last one is the firmware's."""
    status = transfer_status(step.cp, FIRMWARE, payload, step.now)
    if status is not None:
        step.records.append(status)


def _log_status(step: _Step, payload: dict[str, Any]) -> None:
    status = transfer_status(step.cp, LOG, payload, step.now)
    if status is not None:
        step.records.append(status)


def _diagnostics_status(step: _Step, payload: dict[str, Any]) -> None:
    status = transfer_status(step.cp, DIAGNOSTICS, payload, step.now)
    if status is not None:
        step.records.append(status)


# ------------------------------------------------------------ device model (OCPP 2.0.1)


def _notify_report(step: _Step, payload: dict[str, Any]) -> None:
    step.records.extend(reported(step.cp, payload, step.now))


def _get_variables_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    """The device model's values; one asking for the local list's length limit sets it too."""
    values = got(step.cp, result, step.now)
    step.records.extend(values)
    if asks_lengths_v201(orjson.loads(call.payload)):
        _update_local_list(step, lambda state: lengths_got(state, values))


def _get_variables_refused(step: _Step, call: PendingCall, _error_code: str) -> None:
    """A GetVariables answered with an error: for the local list's limit, the default."""
    _get_variables_result(step, call, {})


def _set_variables_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    step.records.extend(set_(step.cp, orjson.loads(call.payload), result, step.now))


_REQUESTS: dict[str, Callable[[_Step, dict[str, Any]], None]] = {
    "BootNotification": _boot_notification,
    "StatusNotification": _status_notification,
    "MeterValues": _meter_values,
    "StopTransaction": _stop_transaction,
    "SecurityEventNotification": _security_event_notification,
    "FirmwareStatusNotification": _firmware_status,
    "SignedFirmwareStatusNotification": _firmware_status,
    "LogStatusNotification": _log_status,
    "DiagnosticsStatusNotification": _diagnostics_status,
}
_RESULTS: dict[str, Callable[[_Step, PendingCall, dict[str, Any]], None]] = {
    "BootNotification": _boot_notification_result,
    "StartTransaction": _start_transaction_result,
    "SignCertificate": _sign_certificate_result,
}


# -------------------------------------------------------------------------- OCPP 2.0.1
# The 2.0.1 messages of a charge point, read by derive_v201 into the records 1.6 derives.


def _boot_notification_v201(step: _Step, payload: dict[str, Any]) -> None:
    step.update_registry(**boot_fields(payload), last_boot_at=step.now)


def _status_notification_v201(step: _Step, payload: dict[str, Any]) -> None:
    report = status_report(payload)
    if report is None:
        return
    at = parse_time(report.timestamp, step.now)
    _enter_evse_status(step, report.evse.evse_id, report.evse.connector_id, report.status, at)


def _enter_evse_status(
    step: _Step, evse_id: int, connector_id: int | None, status: str, at: datetime
) -> None:
    """An EVSE's status (2.0.1 has no error codes), numbered as a connector in the views."""
    reported = ConnectorStatus(
        evse_id, status, "NoError", at, evse_id=evse_id, evse_connector_id=connector_id
    )
    _enter_connector_status(step, reported, at)


def _meter_values_v201(step: _Step, payload: dict[str, Any]) -> None:
    """A 2.0.1 MeterValues is outside transactions (theirs come in TransactionEvent)."""
    evse_id = meter_values_evse(payload)
    if evse_id is None:
        return
    _close_orphaned_thresholds(step)
    for element in get_list(payload, "meterValue"):
        values = sampled_values(step.cp, evse_id, None, element, step.now)
        if values:
            step.records.extend(values)
            _check_thresholds(step, evse_id, values)


def _transaction_event(step: _Step, payload: dict[str, Any]) -> None:
    """Fold the event into its transaction's progress and emit the session it shows.

    A transaction ended so long ago that its progress is forgotten gets nothing (the store
    has its session), as a repeated 1.6 StopTransaction.
    """
    event = transaction_event(payload, step.now)
    if event is None:
        return
    tx = transaction_id(step.cp, event.station_transaction_id)
    progress = step.transactions.pop(tx, None)
    if progress is None:
        if tx in step.stopped:
            return
        progress = TransactionProgress(tx, event.station_transaction_id)
    progress = fold_event(progress, event)
    connector_id = 0 if progress.evse_id is None else progress.evse_id
    _close_orphaned_thresholds(step)
    for element in event.meter_values:
        values = sampled_values(step.cp, connector_id, tx, element, step.now)
        if values:
            step.records.extend(values)
            _check_thresholds(step, connector_id, values)
            progress = fold_sample(progress, event.event_type, values)
    step.transactions[tx] = progress
    _bound(step.transactions, MAX_OPEN_SESSIONS + MAX_CLOSED_SESSIONS)
    _use_reservation(step, payload, tx, step.now)
    _keep_transaction_session(step, session_of(step.cp, progress), event.event_type == ENDED)
    _charging_state(step, event, progress)


def _keep_transaction_session(step: _Step, session: Session, ended_event: bool) -> None:
    """An open session as 1.6 keeps one (a change of its summary alone is a refresh); an
    ended one closed, emitted when it changed or on every Ended (like a repeated Stop)."""
    tx = session.transaction_id
    if session.stop_time is None:
        before = step.sessions.get(tx)
        summary_only = before is not None and before == replace(
            session,
            peak_power_w=before.peak_power_w,
            soc_start=before.soc_start,
            soc_end=before.soc_end,
        )
        step.keep_session(session, refresh=summary_only)
        return
    step.sessions.pop(tx, None)
    if step.closed.pop(tx, None) == session and not ended_event:
        step.closed[tx] = session
        return
    step.closed[tx] = session
    _bound(step.closed, MAX_CLOSED_SESSIONS)
    step.stopped.pop(tx, None)
    step.stopped[tx] = None
    _bound(step.stopped, MAX_STOPPED)
    step.records.append(session)
    _end_tx_profiles(step, session)


def _charging_state(step: _Step, event: TransactionEvent, progress: TransactionProgress) -> None:
    """A chargingState on the EVSE's status timeline: while it is Occupied (or charging),
    from events not older than its current status (so queued events do not rewrite it)."""
    evse_id = progress.evse_id
    if evse_id is None or event.charging_state not in CHARGING_STATES:
        return
    current = step.intervals.get(evse_id)
    if current is None or current.status not in TIMELINE_FROM or event.at < current.start:
        return
    known = next((c for c in step.registry.connectors if c.connector_id == evse_id), None)
    connector_id = known.evse_connector_id if known else progress.evse_connector_id
    _enter_evse_status(step, evse_id, connector_id, event.charging_state, event.at)


def _reservation_status_update(step: _Step, payload: dict[str, Any]) -> None:
    """A 2.0.1 station ended an active reservation: it expired, or it was removed."""
    status = STATUS_UPDATES.get(get_str(payload, "reservationUpdateStatus") or "")
    reservation_id = get_int(payload, "reservationId")
    if status is None or reservation_id is None:
        return
    held = step.reservations.pop(reservation_id, None)
    if held is not None:
        step.records.append(replace(held, status=status, updated_at=step.now))


_V201_REQUESTS: dict[str, Callable[[_Step, dict[str, Any]], None]] = {
    "BootNotification": _boot_notification_v201,
    "StatusNotification": _status_notification_v201,
    "MeterValues": _meter_values_v201,
    "TransactionEvent": _transaction_event,
    "SecurityEventNotification": _security_event_notification,
    "FirmwareStatusNotification": _firmware_status,
    "LogStatusNotification": _log_status,
    "NotifyReport": _notify_report,
    "ReservationStatusUpdate": _reservation_status_update,
}
_V201_RESULTS: dict[str, Callable[[_Step, PendingCall, dict[str, Any]], None]] = {
    "BootNotification": _boot_notification_result,
    "SignCertificate": _sign_certificate_result,
}
_HANDLERS = {
    OcppVersion.V16: (_REQUESTS, _RESULTS),
    OcppVersion.V201: (_V201_REQUESTS, _V201_RESULTS),
}
"""A charge point's CALLs derived once answered (request, result handlers), by version."""


# ------------------------------------------------------------------------ reservations


def _reserve_now_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    _keep_reservation(
        step, reservation(step.cp, orjson.loads(call.payload), result, call.sent_at, step.now)
    )


def _reserve_now_result_v201(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    _keep_reservation(
        step, reservation_v201(step.cp, orjson.loads(call.payload), result, call.sent_at, step.now)
    )


def _keep_reservation(step: _Step, made: Reservation | None) -> None:
    """A ReserveNow answered: the reservation with the answer's status; an active one is kept
    (the oldest forgotten beyond MAX_RESERVATIONS, expired ones first)."""
    if made is None:
        return
    step.records.append(made)
    step.reservations.pop(made.reservation_id, None)
    for expired in [r for r in step.reservations.values() if r.expiry_date <= step.now]:
        del step.reservations[expired.reservation_id]
    if made.status is ReservationStatus.ACTIVE:
        step.reservations[made.reservation_id] = made
        _bound(step.reservations, MAX_RESERVATIONS)


def _cancel_reservation_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    if get_str(result, "status") != "Accepted":
        return
    held = step.reservations.pop(get_int(orjson.loads(call.payload), "reservationId") or 0, None)
    if held is not None:
        step.records.append(replace(held, status=ReservationStatus.CANCELLED, updated_at=step.now))


def _use_reservation(
    step: _Step, request: dict[str, Any], transaction_id: int, at: datetime
) -> None:
    """A StartTransaction (or a 2.0.1 TransactionEvent) naming an active reservation uses it,
    linked to the session."""
    reservation_id = get_int(request, "reservationId")
    held = None if reservation_id is None else step.reservations.pop(reservation_id, None)
    if held is not None:
        used: Reservation = replace(
            held, status=ReservationStatus.USED, updated_at=at, transaction_id=transaction_id
        )
        step.records.append(used)


# ------------------------------------------------------------------- charging profiles


def _set_charging_profile_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    """An Accepted SetChargingProfile installs the profile, replacing those OCPP says it
    replaces (the oldest installed forgotten beyond MAX_INSTALLED_PROFILES)."""
    if get_str(result, "status") == "Accepted":
        _install_profile(step, installed_profile(step.cp, orjson.loads(call.payload), step.now))


def _set_charging_profile_result_v201(
    step: _Step, call: PendingCall, result: dict[str, Any]
) -> None:
    if get_str(result, "status") == "Accepted":
        request = orjson.loads(call.payload)
        _install_profile(step, installed_profile_v201(step.cp, request, step.now))


def _install_profile(step: _Step, made: InstalledChargingProfile | None) -> None:
    if made is None:
        return
    replaced = replaced_by(made, step.profiles.values())
    others = [old for old in replaced if key_of(old) != key_of(made)]
    _remove_profiles(step, others, ProfileRemoval.REPLACED)
    step.profiles.pop(key_of(made), None)
    step.profiles[key_of(made)] = made
    _bound(step.profiles, MAX_INSTALLED_PROFILES)
    step.records.append(made)


def _clear_charging_profile_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    if get_str(result, "status") == "Accepted":
        matched = cleared_by(orjson.loads(call.payload), step.profiles.values())
        _remove_profiles(step, matched, ProfileRemoval.CLEARED)


def _clear_charging_profile_result_v201(
    step: _Step, call: PendingCall, result: dict[str, Any]
) -> None:
    if get_str(result, "status") == "Accepted":
        matched = cleared_by_v201(orjson.loads(call.payload), step.profiles.values())
        _remove_profiles(step, matched, ProfileRemoval.CLEARED)


def _remove_profiles(
    step: _Step, profiles: list[InstalledChargingProfile], why: ProfileRemoval
) -> None:
    for profile in profiles:
        del step.profiles[key_of(profile)]
        step.records.append(removed(profile, why, step.now))


# ------------------------------------------------------- local authorization lists


def _update_local_list(step: _Step, change: Callable[[LocalListState], LocalListState]) -> None:
    """Apply ``change`` to the charge point's list state, as of now, and emit it."""
    before = step.local_list or LocalListState(step.cp, step.now)
    step.local_list = change(replace(before, updated_at=step.now))
    step.records.append(step.local_list)


def _send_local_list_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    _local_list_sent(step, call, orjson.loads(call.payload), result)


def _send_local_list_result_v201(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    _local_list_sent(step, call, send_local_list_v201(orjson.loads(call.payload)), result)


def _local_list_sent(
    step: _Step, call: PendingCall, request: dict[str, Any], result: dict[str, Any]
) -> None:
    def apply(state: LocalListState) -> LocalListState:
        state, entries = list_sent(state, request, result, call.message_id)
        step.records.extend(entries)
        return state

    _update_local_list(step, apply)


def _get_local_list_version_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    _update_local_list(step, lambda state: version_reported(state, result, call.message_id))


def _get_local_list_version_result_v201(
    step: _Step, call: PendingCall, result: dict[str, Any]
) -> None:
    _get_local_list_version_result(step, call, version_answer_v201(result))


def _get_configuration_result(step: _Step, call: PendingCall, result: dict[str, Any]) -> None:
    if asks_lengths(orjson.loads(call.payload)):
        _update_local_list(step, lambda state: lengths_reported(state, result))


def _local_list_refused(step: _Step, _call: PendingCall, error_code: str) -> None:
    _update_local_list(step, lambda state: refused(state, error_code))


def _lengths_refused(step: _Step, call: PendingCall, _error_code: str) -> None:
    """A GetConfiguration for the lengths answered with an error: the defaults apply."""
    _get_configuration_result(step, call, {})


_COMMAND_RESULTS: dict[str, Callable[[_Step, PendingCall, dict[str, Any]], None]] = {
    "ReserveNow": _reserve_now_result,
    "CancelReservation": _cancel_reservation_result,
    "SetChargingProfile": _set_charging_profile_result,
    "ClearChargingProfile": _clear_charging_profile_result,
    "SendLocalList": _send_local_list_result,
    "GetLocalListVersion": _get_local_list_version_result,
    "GetConfiguration": _get_configuration_result,
}
"""CSMS commands derived from their CALLRESULT, by action."""

_COMMAND_ERRORS: dict[str, Callable[[_Step, PendingCall, str], None]] = {
    "SendLocalList": _local_list_refused,
    "GetLocalListVersion": _local_list_refused,
    "GetConfiguration": _lengths_refused,
}
"""CSMS commands derived from a CALLERROR answer (its error code), by action."""

_V201_COMMAND_RESULTS: dict[str, Callable[[_Step, PendingCall, dict[str, Any]], None]] = {
    "GetVariables": _get_variables_result,
    "SetVariables": _set_variables_result,
    "ReserveNow": _reserve_now_result_v201,
    "CancelReservation": _cancel_reservation_result,
    "SendLocalList": _send_local_list_result_v201,
    "GetLocalListVersion": _get_local_list_version_result_v201,
    "SetChargingProfile": _set_charging_profile_result_v201,
    "ClearChargingProfile": _clear_charging_profile_result_v201,
}
_V201_COMMAND_ERRORS: dict[str, Callable[[_Step, PendingCall, str], None]] = {
    "SendLocalList": _local_list_refused,
    "GetLocalListVersion": _local_list_refused,
    "GetVariables": _get_variables_refused,
}
_COMMAND_HANDLERS = {
    OcppVersion.V16: (_COMMAND_RESULTS, _COMMAND_ERRORS),
    OcppVersion.V201: (_V201_COMMAND_RESULTS, _V201_COMMAND_ERRORS),
}
"""CSMS commands derived from their answer (result, error handlers), by version: the 1.6
features reach 2.0.1 charge points with their 2.0.1 messages (ADR 0009)."""
