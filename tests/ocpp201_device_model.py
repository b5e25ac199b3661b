"""Hand-written OCPP 2.0.1 device model messages, each checked against the official 2.0.1
JSON schema (the ``ocpp`` package's), for the derivation, API and dashboard tests."""

from __future__ import annotations

from typing import Any

from tests.ocpp201_frames import valid_as as valid

EVSE_1 = {"name": "EVSE", "evse": {"id": 1}}
CONNECTOR_1 = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def notify_report(
    request_id: int = 1, tbc: bool = False, seq_no: int = 0, **extra: Any
) -> dict[str, Any]:
    """A NotifyReport part of a FullInventory: a controller's settings, an EVSE and a
    connector, a variable with a Target beside its Actual, one with markup for a value."""
    report = {
        "requestId": request_id,
        "generatedAt": "2024-03-01T12:00:00Z",
        "seqNo": seq_no,
        "tbc": tbc,
        "reportData": [
            {
                **HEARTBEAT,
                "variableAttribute": [
                    {"value": "300", "mutability": "ReadWrite", "persistent": True}
                ],
                "variableCharacteristics": {
                    "dataType": "integer",
                    "unit": "s",
                    "minLimit": 1,
                    "maxLimit": 86400,
                    "supportsMonitoring": False,
                },
            },
            {
                "component": EVSE_1,
                "variable": {"name": "AvailabilityState"},
                "variableAttribute": [
                    {"type": "Actual", "value": "Available", "mutability": "ReadOnly"}
                ],
                "variableCharacteristics": {
                    "dataType": "OptionList",
                    "valuesList": "Available,Occupied,Reserved,Unavailable,Faulted",
                    "supportsMonitoring": True,
                },
            },
            {
                "component": CONNECTOR_1,
                "variable": {"name": "Power", "instance": "Max"},
                "variableAttribute": [
                    {"type": "Actual", "value": "22000", "mutability": "ReadOnly"},
                    {"type": "Target", "value": "11000"},
                ],
                "variableCharacteristics": {
                    "dataType": "decimal",
                    "unit": "W",
                    "supportsMonitoring": True,
                },
            },
            {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "Identity"},
                "variableAttribute": [{"value": "<b>cp</b>", "constant": True}],
                "variableCharacteristics": {"dataType": "string", "supportsMonitoring": False},
            },
        ],
        **extra,
    }
    return valid("NotifyReportRequest", report)


def get_variables(*items: dict[str, Any]) -> dict[str, Any]:
    return valid("GetVariablesRequest", {"getVariableData": list(items)})


def get_variables_answer(*results: dict[str, Any]) -> dict[str, Any]:
    return valid("GetVariablesResponse", {"getVariableResult": list(results)})


def set_variables(*items: dict[str, Any]) -> dict[str, Any]:
    return valid("SetVariablesRequest", {"setVariableData": list(items)})


def set_variables_answer(*results: dict[str, Any]) -> dict[str, Any]:
    return valid("SetVariablesResponse", {"setVariableResult": list(results)})
