"""Answers to CSMS-initiated CALLs: the Core and RemoteTrigger profiles of OCPP 1.6.

Each handler validates what it needs (KeyError for a missing field,
TypeError or ValueError for a wrong one; the station turns those into a
CALLERROR), changes the charge point, and returns the CALLRESULT payload.
Whatever the command makes the charge point send is queued after the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chargestream.simulator import ocpp_keys
from chargestream.simulator.chargepoint import Call, ChargePoint

Handler = Callable[[ChargePoint, dict[str, Any], float], dict[str, Any]]

# Actions of feature profiles the simulator does not list in SupportedFeatureProfiles.
UNSUPPORTED = frozenset(
    {
        "CancelReservation",
        "ClearChargingProfile",
        "GetCompositeSchedule",
        "GetDiagnostics",
        "GetLocalListVersion",
        "ReserveNow",
        "SendLocalList",
        "SetChargingProfile",
        "UpdateFirmware",
    }
)

ACCEPTED = {"status": "Accepted"}
REJECTED = {"status": "Rejected"}


def string(payload: dict[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def change_configuration(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    return {"status": cp.configure(string(payload, "key"), string(payload, "value"), now)}


def get_configuration(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    known, unknown = [], []
    for key in payload.get("key") or ocpp_keys.KEYS:
        spec = ocpp_keys.KEYS.get(key)
        if spec is None:
            unknown.append(key)
        else:
            known.append({"key": key, "readonly": spec.readonly, "value": cp.setting(key)})
    return {"configurationKey": known, "unknownKey": unknown}


def start_remotely(
    cp: ChargePoint, connector_id: object, id_tag: str, now: float, **session: Any
) -> bool:
    """Begin a session on the connector (None: the first free one); False if none is free."""
    if connector_id is not None:
        chosen = cp.connector(connector_id)
        candidates = [chosen] if chosen is not None else []
    else:
        candidates = cp.connectors
    if cp.accepts_sessions:
        for connector in candidates:
            if connector.status == "Available" and connector.operative:
                cp.begin_session(connector, id_tag, now, remote=True, **session)
                return True
    return False


def remote_start(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    id_tag = string(payload, "idTag")
    return ACCEPTED if start_remotely(cp, payload.get("connectorId"), id_tag, now) else REJECTED


def stop_remotely(cp: ChargePoint, transaction_id: object, now: float) -> dict[str, Any]:
    for connector in cp.connectors:
        session = connector.session
        if session is not None and session.transaction_id == transaction_id:
            cp.stop_session(connector, "Remote", now)
            return ACCEPTED
    return REJECTED


def remote_stop(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    return stop_remotely(cp, payload["transactionId"], now)


def reset(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    """Stop sessions now; the station reconnects and boots once they are answered."""
    kind = payload["type"]
    if kind not in ("Hard", "Soft"):
        raise ValueError(f"type must be Hard or Soft, not {kind!r}")
    reset_now(cp, kind, f"{kind}Reset", now)
    return ACCEPTED


def reset_now(cp: ChargePoint, kind: str, stop_reason: str, now: float) -> None:
    cp.reset_type = kind
    for connector in cp.connectors:
        if connector.status == "Charging":
            cp.stop_session(connector, stop_reason, now)
        elif connector.status == "Preparing":
            cp.release(connector, now)


def unlock_connector(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    connector = cp.connector(payload["connectorId"])
    if connector is None:
        return {"status": "NotSupported"}
    if connector.status == "Charging":
        cp.stop_session(connector, "UnlockCommand", now)
    return {"status": "Unlocked"}


def change_availability(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    """Scheduled if a session is under way; the change then waits until it ends."""
    return set_availability(cp, payload["connectorId"], payload["type"], now)


def set_availability(
    cp: ChargePoint, connector_id: object, kind: str, now: float
) -> dict[str, Any]:
    """Of one connector, or with ``connector_id`` 0 of the charge point and all of them."""
    if kind not in ("Inoperative", "Operative"):
        raise ValueError(f"must be Inoperative or Operative, not {kind!r}")
    if connector_id == 0:
        targets = cp.connectors
    else:
        target = cp.connector(connector_id)
        if target is None:
            return REJECTED
        targets = [target]
    operative = kind == "Operative"
    scheduled = False
    for connector in targets:
        connector.operative = operative
        if connector.status in ("Available", "Unavailable"):
            cp.release(connector, now)
        elif connector.status in ("Preparing", "Charging"):
            scheduled = True
    if connector_id == 0:
        cp.set_charge_point_status("Available" if operative else "Unavailable")
    return {"status": "Scheduled" if scheduled else "Accepted"}


def trigger_message(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    requested = payload["requestedMessage"]
    connector_id = payload.get("connectorId")
    connector = cp.connector(connector_id)
    if connector_id not in (None, 0) and connector is None:
        return REJECTED
    if requested == "BootNotification":
        cp.enqueue(cp.boot_call())
    elif requested == "Heartbeat":
        cp.enqueue(Call("Heartbeat", {}))
    elif requested == "StatusNotification":
        if connector is not None:
            targets = [connector]
        else:  # no connectorId: the charge point and every connector; 0: the charge point
            cp.enqueue(cp.status_call(0, cp.status))
            targets = cp.connectors if connector_id is None else []
        for c in targets:
            cp.enqueue(cp.status_call(c.id, c.status, c.error_code))
    elif requested == "MeterValues":
        for c in [connector] if connector is not None else cp.connectors:
            cp.meter(c, now, "Trigger")
    else:
        return {"status": "NotImplemented"}
    return ACCEPTED


HANDLERS: dict[str, Handler] = {
    "ChangeAvailability": change_availability,
    "ChangeConfiguration": change_configuration,
    "ClearCache": lambda cp, payload, now: ACCEPTED,
    "DataTransfer": lambda cp, payload, now: ACCEPTED,
    "GetConfiguration": get_configuration,
    "RemoteStartTransaction": remote_start,
    "RemoteStopTransaction": remote_stop,
    "Reset": reset,
    "TriggerMessage": trigger_message,
    "UnlockConnector": unlock_connector,
}
