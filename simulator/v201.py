"""An OCPP 2.0.1 charging station: the 1.6 charge point's behaviour in 2.0.1 messages.

The connectors, sessions, energy and timing are the 1.6 charge point's; what differs is
what goes on the wire. Each connector is an EVSE with one connector (``evse.id`` = the
1.6 connector number). A session is one transaction with a station-chosen id, reported
by TransactionEvents Started, Updated (one per meter sample) and Ended with a seqNo per
transaction. TransactionEvents made while offline are queued with ``offline: true`` and
sent, in order, after the next accepted BootNotification; one unanswered when the
connection dropped goes out again unchanged. A session is complete once its Ended event
is answered.
"""

from __future__ import annotations

import uuid
from typing import Any

from chargestream.simulator.chargepoint import Call, ChargePoint
from chargestream.simulator.session import Connector, Session, timestamp

# 2.0.1 reports a connector in use as Occupied, whatever the session is doing
_CONNECTOR_STATUS = {
    "Preparing": "Occupied",
    "Charging": "Occupied",
    "Finishing": "Occupied",
}
_QUEUED_OFFLINE = frozenset({"TransactionEvent"})
# stoppedReason -> the triggerReason of the Ended event
_STOP_TRIGGERS = {
    "DeAuthorized": "Deauthorized",
    "EVDisconnected": "EVCommunicationLost",
    "ImmediateReset": "ResetCommand",
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
}
_UNSUPPORTED_MEASURANDS = frozenset({"Temperature"})  # a device model variable in 2.0.1
_REGISTER = "Energy.Active.Import.Register"


def connector_status(status: str) -> str:
    """The 2.0.1 connectorStatus of a connector in the simulator's (1.6) terms."""
    return _CONNECTOR_STATUS.get(status, status)


def sampled_values(values: list[dict[str, str]]) -> list[dict[str, Any]]:
    """1.6 sampled values in 2.0.1 form: numbers, ``unitOfMeasure``, 2.0.1 measurands."""
    converted = []
    for value in values:
        if value["measurand"] in _UNSUPPORTED_MEASURANDS:
            continue
        text = value["value"]
        sampled: dict[str, Any] = {
            "value": int(text) if text.isdigit() else float(text),
            "context": value["context"],
            "measurand": value["measurand"],
            "unitOfMeasure": {"unit": value["unit"]},
        }
        if "location" in value:
            sampled["location"] = value["location"]
        converted.append(sampled)
    return converted


def _register(wh: int, context: str, at: str) -> list[dict[str, Any]]:
    """A ``meterValue`` of just the energy register, read at ``at``."""
    value = {
        "value": wh,
        "context": context,
        "measurand": _REGISTER,
        "unitOfMeasure": {"unit": "Wh"},
    }
    return [{"timestamp": at, "sampledValue": [value]}]


class ChargePointV201(ChargePoint):
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    queued_offline = _QUEUED_OFFLINE

    __slots__ = ()

    def boot_call(self) -> Call:
        model = self.model
        station = {
            "model": model.model,
            "vendorName": model.vendor,
            "serialNumber": f"{model.code}-{self.index:07d}",
            "firmwareVersion": model.firmware,
        }
        return Call("BootNotification", {"reason": "PowerUp", "chargingStation": station})

    def status_call(self, connector_id: int, status: str, error_code: str = "NoError") -> Call:
        """StatusNotification of EVSE ``connector_id`` (its connector 1); no error codes."""
        payload = {
            "timestamp": timestamp(),
            "connectorStatus": connector_status(status),
            "evseId": connector_id,
            "connectorId": 1,
        }
        return Call("StatusNotification", payload)

    def all_status_calls(self) -> list[Call]:
        """Every EVSE's connector; 2.0.1 has no status of the station as a whole."""
        return [self.status_call(c.id, c.status) for c in self.connectors]

    def set_status(self, connector: Connector, status: str, error_code: str = "NoError") -> None:
        """Notify only when the 2.0.1 status changes (Preparing → Charging stays Occupied)."""
        before = connector_status(connector.status)
        connector.status = status
        connector.error_code = error_code
        if connector_status(status) != before:
            self.enqueue(self.status_call(connector.id, status))

    def set_charge_point_status(self, status: str) -> None:
        self.status = status

    def enqueue(self, call: Call) -> None:
        """A TransactionEvent made while offline says so."""
        if not self.online and call.action == "TransactionEvent":
            call.payload["offline"] = True
        super().enqueue(call)

    def authorize_call(self, session: Session) -> Call:
        return Call("Authorize", {"idToken": _id_token(session)}, session)

    def transaction_event(
        self,
        session: Session,
        event_type: str,
        trigger: str,
        info: dict[str, Any],
        meter_value: list[dict[str, Any]],
    ) -> Call:
        """The session's next TransactionEvent (seqNo counts per transaction from 0). Every
        event names the EVSE, so the CSMS knows it whichever event it gets first."""
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": timestamp(),
            "triggerReason": trigger,
            "seqNo": session.seq_no,
            "transactionInfo": {"transactionId": session.transaction_id, **info},
            "evse": {"id": session.connector_id, "connectorId": 1},
        }
        session.seq_no += 1
        if meter_value:
            payload["meterValue"] = meter_value
        return Call("TransactionEvent", payload, session)

    def start_call(self, connector: Connector, session: Session) -> Call:
        session.transaction_id = uuid.uuid4().hex  # unique across stations and runs
        info: dict[str, Any] = {"chargingState": "Charging"}
        trigger = "Authorized"
        if session.remote_start_id is not None:
            info["remoteStartId"] = session.remote_start_id
            trigger = "RemoteStart"
        begin = _register(session.meter_start, "Transaction.Begin", session.start_timestamp)
        call = self.transaction_event(session, "Started", trigger, info, begin)
        call.payload["timestamp"] = session.start_timestamp
        call.payload["idToken"] = _id_token(session)
        return call

    def stop_call(self, session: Session) -> Call:
        reason = session.stop_reason
        call = self.transaction_event(
            session,
            "Ended",
            _STOP_TRIGGERS.get(reason, "AbnormalCondition"),
            {"chargingState": "Idle", "stoppedReason": reason},
            _register(session.meter_stop, "Transaction.End", session.stop_timestamp),
        )
        call.payload["timestamp"] = session.stop_timestamp
        return call

    def meter_call(self, connector: Connector, context: str) -> Call:
        """An Updated TransactionEvent while charging, else MeterValues of the EVSE."""
        sample = {
            "timestamp": timestamp(),
            "sampledValue": sampled_values(connector.sampled_values(context)),
        }
        session = connector.charging_session
        if session is None:
            return Call("MeterValues", {"evseId": connector.id, "meterValue": [sample]})
        trigger = "Trigger" if context == "Trigger" else "MeterValuePeriodic"
        return self.transaction_event(
            session, "Updated", trigger, {"chargingState": "Charging"}, [sample]
        )

    def sample_call(self, session: Session, at: str, values: list[dict[str, str]]) -> Call:
        """A past meter sample (``history``): an Updated TransactionEvent of that time."""
        sample = {"timestamp": at, "sampledValue": sampled_values(values)}
        call = self.transaction_event(
            session, "Updated", "MeterValuePeriodic", {"chargingState": "Charging"}, [sample]
        )
        call.payload["timestamp"] = at
        return call

    def on_result(self, call: Call, payload: dict[str, Any], now: float) -> None:
        """A CALLRESULT; KeyError, TypeError or ValueError if it is malformed."""
        if call.action == "Authorize":
            self._authorized(call.session, payload["idTokenInfo"]["status"], now)
        elif call.action == "TransactionEvent":
            event_type = call.payload["eventType"]
            if event_type == "Ended":
                self._completed(call.session)
            elif event_type == "Started":
                self._accepted(call.session, payload.get("idTokenInfo"), now)

    def _accepted(self, session: Session | None, token_info: Any, now: float) -> None:
        """StopTxOnInvalidId: a Started event whose idToken the CSMS refused ends it."""
        if token_info is None or token_info["status"] == "Accepted":
            return
        assert session is not None
        connector = self.connectors[session.connector_id - 1]
        if connector.session is session and connector.status == "Charging":
            self.stop_session(connector, "DeAuthorized", now)


def _id_token(session: Session) -> dict[str, str]:
    return {"idToken": session.id_tag, "type": session.token_type}
