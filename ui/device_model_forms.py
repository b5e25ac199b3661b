"""Forms for the OCPP 2.0.1 device model commands: GetBaseReport, GetReport, GetVariables,
SetVariables.

Each form turns bounded widgets into a request payload; ``ocpp_forms.problem`` checks it
against the action's official 2.0.1 schema before it is sent (the API checks it again
against the charge point's protocol). Components and variables are written one a line as
``Component[/instance][@evse[:connector]], Variable[/instance]``.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from chargestream.ui.ocpp_forms import request_id

MAX_NAME = 50  # component and variable names and instances
MAX_VALUE = 1000  # SetVariableData.attributeValue
MAX_LINES = 100  # component/variable lines one form sends
REPORT_BASES = ["FullInventory", "ConfigurationInventory", "SummaryInventory"]
CRITERIA = ["Active", "Available", "Enabled", "Problem"]
ATTRIBUTE_TYPES = ["Actual", "Target", "MinSet", "MaxSet"]
_COMPONENT = re.compile(
    r"^(?P<name>[^/@]+)(?:/(?P<instance>[^@]+))?(?:@(?P<evse>\d+)(?::(?P<connector>\d+))?)?$"
)
_VARIABLE = re.compile(r"^(?P<name>[^/]+)(?:/(?P<instance>.+))?$")
LINE_HELP = (
    "One a line: `Component[/instance][@evse[:connector]], Variable[/instance]`, "
    "e.g. `OCPPCommCtrlr, HeartbeatInterval` or `Connector@1:1, Power/Max`."
)


def component(text: str) -> dict[str, Any] | None:
    """``Name[/instance][@evse[:connector]]`` as a 2.0.1 ComponentType, None if it is not."""
    found = _COMPONENT.match(text.strip())
    if found is None:
        return None
    made: dict[str, Any] = {"name": found["name"].strip()}
    if found["instance"]:
        made["instance"] = found["instance"].strip()
    if found["evse"]:
        made["evse"] = {"id": int(found["evse"])}
        if found["connector"]:
            made["evse"]["connectorId"] = int(found["connector"])
    return made


def variable(text: str) -> dict[str, Any] | None:
    """``Name[/instance]`` as a 2.0.1 VariableType, None if it is not."""
    found = _VARIABLE.match(text.strip())
    if found is None:
        return None
    made = {"name": found["name"].strip()}
    if found["instance"]:
        made["instance"] = found["instance"].strip()
    return made


def pairs(text: str, *, variable_needed: bool = True) -> list[dict[str, Any]]:
    """The lines' components and variables; a line that does not parse is kept as it is,
    so the schema check names it."""
    items: list[dict[str, Any]] = []
    for line in text.splitlines()[:MAX_LINES]:
        if not line.strip():
            continue
        component_text, _, variable_text = line.partition(",")
        item: dict[str, Any] = {"component": component(component_text) or component_text}
        if variable_text.strip() or variable_needed:
            item["variable"] = variable(variable_text) or variable_text
        items.append(item)
    return items


def _lines(key: str, label: str) -> str:
    return str(st.text_area(label, max_chars=MAX_LINES * 120, height=110, key=key, help=LINE_HELP))


def _attribute_type(payload: dict[str, Any], key: str) -> dict[str, Any]:
    chosen = st.selectbox("Attribute", ATTRIBUTE_TYPES, key=key)
    return payload if chosen == "Actual" else {**payload, "attributeType": chosen}


def get_base_report() -> dict[str, Any]:
    return {
        "requestId": request_id("dm_base_request"),
        "reportBase": st.selectbox("Report", REPORT_BASES, key="dm_base_report"),
    }


def get_report() -> dict[str, Any]:
    payload: dict[str, Any] = {"requestId": request_id("dm_report_request")}
    criteria = st.multiselect("Component criteria", CRITERIA, key="dm_report_criteria")
    if criteria:
        payload["componentCriteria"] = criteria
    lines = _lines("dm_report_lines", "Components (variable optional)")
    wanted = pairs(lines, variable_needed=False)
    if wanted:
        payload["componentVariable"] = wanted
    return payload


def get_variables() -> dict[str, Any]:
    attribute = _attribute_type({}, "dm_get_attribute")
    items = pairs(_lines("dm_get_lines", "Variables"))
    return {"getVariableData": [{**item, **attribute} for item in items]}


def set_variables() -> dict[str, Any]:
    component_column, variable_column = st.columns(2)
    item: dict[str, Any] = {
        "component": component(
            component_column.text_input("Component", max_chars=120, key="dm_set_component")
        )
        or {},
        "variable": variable(
            variable_column.text_input("Variable", max_chars=120, key="dm_set_variable")
        )
        or {},
        "attributeValue": st.text_input("Value", max_chars=MAX_VALUE, key="dm_set_value"),
    }
    return {"setVariableData": [_attribute_type(item, "dm_set_attribute")]}


FORMS = {
    "GetBaseReport": get_base_report,
    "GetReport": get_report,
    "GetVariables": get_variables,
    "SetVariables": set_variables,
}
"""The device model commands by action: each builds its payload from its widgets."""
