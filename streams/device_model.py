"""A charge point's OCPP 2.0.1 device model as the log shows it (pure helpers for ``derive``).

From an answered NotifyReport (every attribute of every variable it reports), and from the
answers to the GetVariables (an Accepted value) and SetVariables (the value of an Accepted or
RebootRequired set, with that status) the CSMS sent. Everything here is the charge point's
text: names, values and characteristics are read tolerantly and cut to the 2.0.1 limits,
and an item that does not fit (no name, an EVSE beyond MAX_CONNECTOR_ID, an unknown
attribute type) is skipped. How many variables a charge point may have stored is bounded
by the store (``MAX_DEVICE_VARIABLES``).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from chargestream.domain.records import (
    MAX_DEVICE_VARIABLES,
    MAX_VARIABLE_VALUE,
    DeviceVariable,
    VariableSource,
)
from chargestream.streams.parse import (
    INT64_MAX,
    INT64_MIN,
    MAX_CONNECTOR_ID,
    get_int,
    get_list,
    get_str,
    parse_time,
)

MAX_NAME = 50  # component and variable names and instances
MAX_UNIT = 16
MAX_VALUES_LIST = 1000
ATTRIBUTE_TYPES = frozenset({"Actual", "Target", "MinSet", "MaxSet"})
MUTABILITIES = frozenset({"ReadOnly", "WriteOnly", "ReadWrite"})
DATA_TYPES = frozenset(
    {
        "string",
        "decimal",
        "integer",
        "dateTime",
        "boolean",
        "OptionList",
        "SequenceList",
        "MemberList",
    }
)
VALUE_SET = frozenset({"Accepted", "RebootRequired"})  # SetVariables statuses that set it


def reported(charge_point_id: str, report: dict[str, Any], at: datetime) -> list[DeviceVariable]:
    """The variables of an answered NotifyReport (``at``: when it was sent)."""
    request_id = get_int(report, "requestId")
    generated_at = parse_time(report.get("generatedAt"), at)
    variables: list[DeviceVariable] = []
    for item in get_list(report, "reportData")[:MAX_DEVICE_VARIABLES]:
        if not isinstance(item, dict):
            continue
        base = _variable(charge_point_id, item, at, VariableSource.REPORT)
        if base is None:
            continue
        characteristics = _characteristics(item.get("variableCharacteristics"))
        for attribute in get_list(item, "variableAttribute")[: len(ATTRIBUTE_TYPES)]:
            if not isinstance(attribute, dict):
                continue
            attribute_type = _attribute_type(attribute, "type")
            if attribute_type is None:
                continue
            variables.append(
                DeviceVariable(
                    **base,
                    attribute_type=attribute_type,
                    value=_value(attribute, "value"),
                    mutability=_enum(attribute, "mutability", MUTABILITIES),
                    persistent=_bool(attribute, "persistent"),
                    constant=_bool(attribute, "constant"),
                    characteristics=characteristics,
                    request_id=request_id,
                    generated_at=generated_at,
                )
            )
    return variables


def got(charge_point_id: str, answer: dict[str, Any], at: datetime) -> list[DeviceVariable]:
    """The values of a GetVariables answer whose attributeStatus is Accepted."""
    variables: list[DeviceVariable] = []
    for item in _items(answer, "getVariableResult"):
        value = _value(item, "attributeValue")
        if get_str(item, "attributeStatus") != "Accepted" or value is None:
            continue
        made = _attribute(charge_point_id, item, at, VariableSource.GET)
        if made is not None:
            variables.append(DeviceVariable(**made, value=value, status="Accepted"))
    return variables


def set_(
    charge_point_id: str, request: dict[str, Any], answer: dict[str, Any], at: datetime
) -> list[DeviceVariable]:
    """The variables a SetVariables answer says were set (Accepted or RebootRequired): the
    value the request gave them, and the status."""
    asked = {}
    for item in _items(request, "setVariableData"):
        made = _attribute(charge_point_id, item, at, VariableSource.SET)
        value = _value(item, "attributeValue")
        if made is not None and value is not None:
            asked[_identity(made)] = value
    variables: list[DeviceVariable] = []
    for item in _items(answer, "setVariableResult"):
        status = get_str(item, "attributeStatus")
        made = _attribute(charge_point_id, item, at, VariableSource.SET)
        if status not in VALUE_SET or made is None or _identity(made) not in asked:
            continue
        variables.append(DeviceVariable(**made, value=asked[_identity(made)], status=status))
    return variables


def _items(payload: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = get_list(payload, name)[:MAX_DEVICE_VARIABLES]
    return [item for item in items if isinstance(item, dict)]


def _identity(fields: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(fields[name] for name in DeviceVariable.KEY)


def _attribute(
    charge_point_id: str, item: dict[str, Any], at: datetime, source: VariableSource
) -> dict[str, Any] | None:
    """The key fields of a Get/SetVariables item (its attributeType defaults to Actual)."""
    base = _variable(charge_point_id, item, at, source)
    attribute_type = _attribute_type(item, "attributeType")
    if base is None or attribute_type is None:
        return None
    return {**base, "attribute_type": attribute_type}


def _variable(
    charge_point_id: str, item: dict[str, Any], at: datetime, source: VariableSource
) -> dict[str, Any] | None:
    """The component and variable an item names, or None for one that does not fit."""
    component, variable = item.get("component"), item.get("variable")
    if not isinstance(component, dict) or not isinstance(variable, dict):
        return None
    component_name, variable_name = _name(component, "name"), _name(variable, "name")
    if component_name is None or variable_name is None:
        return None
    evse = component.get("evse")
    evse_id = connector_id = None
    if isinstance(evse, dict):
        evse_id, connector_id = get_int(evse, "id"), get_int(evse, "connectorId")
        if not _small(evse_id) or (connector_id is not None and not _small(connector_id)):
            return None
    return {
        "charge_point_id": charge_point_id,
        "component": component_name,
        "component_instance": _name(component, "instance"),
        "evse_id": evse_id,
        "connector_id": connector_id,
        "variable": variable_name,
        "variable_instance": _name(variable, "instance"),
        "updated_at": at,
        "source": source,
    }


def _small(number: int | None) -> bool:
    return number is not None and 0 <= number <= MAX_CONNECTOR_ID


def _name(payload: dict[str, Any], field: str) -> str | None:
    text = get_str(payload, field)
    return text[:MAX_NAME] if text else None


def _value(payload: dict[str, Any], field: str) -> str | None:
    text = get_str(payload, field)
    return None if text is None else text[:MAX_VARIABLE_VALUE]


def _attribute_type(payload: dict[str, Any], field: str) -> str | None:
    """The attribute type (absent: Actual), None when it is none of the four."""
    value = payload.get(field, "Actual")
    return value if isinstance(value, str) and value in ATTRIBUTE_TYPES else None


def _enum(payload: dict[str, Any], field: str, allowed: frozenset[str]) -> str | None:
    value = payload.get(field)
    return value if isinstance(value, str) and value in allowed else None


def _bool(payload: dict[str, Any], field: str) -> bool | None:
    value = payload.get(field)
    return value if isinstance(value, bool) else None


def _number(value: Any) -> bool:
    """A finite float or an integer JSON writers take (64-bit)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return (
        isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX
    )


def _characteristics(raw: Any) -> dict[str, Any] | None:
    """The reported characteristics, only the 2.0.1 fields of the right types, bounded."""
    if not isinstance(raw, dict):
        return None
    kept: dict[str, Any] = {}
    data_type = _enum(raw, "dataType", DATA_TYPES)
    if data_type is not None:
        kept["dataType"] = data_type
    unit = get_str(raw, "unit")
    if unit:
        kept["unit"] = unit[:MAX_UNIT]
    for limit in ("minLimit", "maxLimit"):
        number = raw.get(limit)
        if _number(number):
            kept[limit] = number
    values_list = get_str(raw, "valuesList")
    if values_list:
        kept["valuesList"] = values_list[:MAX_VALUES_LIST]
    monitoring = _bool(raw, "supportsMonitoring")
    if monitoring is not None:
        kept["supportsMonitoring"] = monitoring
    return kept or None
