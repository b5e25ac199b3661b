"""Answers of an OCPP 2.0.1 station to the commands the 1.6 simulator answers, in 2.0.1 form.

Same contract as ``commands``: a handler validates what it needs (KeyError, TypeError or
ValueError become a CALLERROR), changes the charge point, returns the CALLRESULT payload.
GetVariables and SetVariables read and change the 1.6 configuration values through their
device model names (``ocpp_keys.VARIABLES``).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from chargestream.simulator import ocpp_keys
from chargestream.simulator.chargepoint import Call, ChargePoint
from chargestream.simulator.commands import (
    ACCEPTED,
    REJECTED,
    Handler,
    reset_now,
    set_availability,
    start_remotely,
    stop_remotely,
    string,
)

_BUSY = ("Preparing", "Charging")


def _dict(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload[name]
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be an object")
    return value


def _evse_id(payload: dict[str, Any]) -> Any:
    """The ``evse.id`` of a command, None if it names no EVSE."""
    evse = payload.get("evse")
    return None if evse is None else _dict(payload, "evse")["id"]


def request_start(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    token = _dict(payload, "idToken")
    remote_start_id = payload["remoteStartId"]
    if type(remote_start_id) is not int:
        raise TypeError("remoteStartId must be an integer")
    started = start_remotely(
        cp,
        payload.get("evseId"),
        string(token, "idToken"),
        now,
        token_type=string(token, "type"),
        remote_start_id=remote_start_id,
    )
    return ACCEPTED if started else REJECTED


def request_stop(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    return stop_remotely(cp, string(payload, "transactionId"), now)


def reset(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    """Immediate stops the sessions; OnIdle only when there are none (no scheduling)."""
    kind = payload["type"]
    if kind not in ("Immediate", "OnIdle"):
        raise ValueError(f"type must be Immediate or OnIdle, not {kind!r}")
    busy = any(connector.status in _BUSY for connector in cp.connectors)
    if "evseId" in payload or (kind == "OnIdle" and busy):
        return REJECTED
    reset_now(cp, kind, "ImmediateReset", now)
    return ACCEPTED


def _variable(item: Any) -> tuple[str | None, str | None]:
    """The configuration key an item names, else (None, why not)."""
    component = _dict(item, "component")["name"]
    variable = _dict(item, "variable")["name"]
    if item.get("attributeType", "Actual") != "Actual":
        return None, "NotSupportedAttributeType"
    key = ocpp_keys.VARIABLES.get((component, variable))
    if key is not None:
        return key, None
    known = component in ocpp_keys.COMPONENTS
    return None, "UnknownVariable" if known else "UnknownComponent"


def _result(item: dict[str, Any], status: str) -> dict[str, Any]:
    result = {
        "attributeStatus": status,
        "component": item["component"],
        "variable": item["variable"],
    }
    if "attributeType" in item:
        result["attributeType"] = item["attributeType"]
    return result


def get_variables(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    results = []
    for item in payload["getVariableData"]:
        key, refusal = _variable(item)
        if key is None:
            results.append(_result(item, refusal or "Rejected"))
        else:
            results.append(_result(item, "Accepted") | {"attributeValue": cp.setting(key)})
    return {"getVariableResult": results}


def set_variables(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    results = []
    for item in payload["setVariableData"]:
        key, refusal = _variable(item)
        if key is None:
            results.append(_result(item, refusal or "Rejected"))
            continue
        status = cp.configure(key, string(item, "attributeValue"), now)
        results.append(_result(item, "Accepted" if status == "Accepted" else "Rejected"))
    return {"setVariableResult": results}


def trigger_message(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    requested = payload["requestedMessage"]
    evse_id = _evse_id(payload)
    chosen = cp.connector(evse_id)
    if evse_id is not None and chosen is None:
        return REJECTED
    targets = [chosen] if chosen is not None else cp.connectors
    if requested == "BootNotification":
        cp.enqueue(cp.boot_call())
    elif requested == "Heartbeat":
        cp.enqueue(Call("Heartbeat", {}))
    elif requested == "StatusNotification":
        for connector in targets:
            cp.enqueue(cp.status_call(connector.id, connector.status))
    elif requested in ("MeterValues", "TransactionEvent"):
        if requested == "TransactionEvent":  # an Updated event of each running transaction
            targets = [c for c in targets if c.charging_session is not None]
            if not targets:
                return REJECTED
        for connector in targets:
            cp.meter(connector, now, "Trigger")
    else:
        return {"status": "NotImplemented"}
    return ACCEPTED


def change_availability(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    evse_id = _evse_id(payload)
    return set_availability(cp, evse_id or 0, payload["operationalStatus"], now)


def unlock_connector(cp: ChargePoint, payload: dict[str, Any], now: float) -> dict[str, Any]:
    connector = cp.connector(payload["evseId"])
    if connector is None or payload["connectorId"] != 1:
        return {"status": "UnknownConnector"}
    if connector.status in _BUSY:
        return {"status": "OngoingAuthorizedTransaction"}
    return {"status": "Unlocked"}


HANDLERS: dict[str, Handler] = {
    "ChangeAvailability": change_availability,
    "ClearCache": lambda cp, payload, now: ACCEPTED,
    "DataTransfer": lambda cp, payload, now: {"status": "UnknownVendorId"},
    "GetVariables": get_variables,
    "RequestStartTransaction": request_start,
    "RequestStopTransaction": request_stop,
    "Reset": reset,
    "SetVariables": set_variables,
    "TriggerMessage": trigger_message,
    "UnlockConnector": unlock_connector,
}
# Every other 2.0.1 action (a request schema of the ``ocpp`` package) is known but not
# supported: NotSupported, not NotImplemented.
UNSUPPORTED = (
    frozenset(
        schema.name.removesuffix("Request.json")
        for schema in resources.files("ocpp.v201").joinpath("schemas").iterdir()
        if schema.name.endswith("Request.json")
    )
    - HANDLERS.keys()
)
