"""The charge point page's Device model tab (OCPP 2.0.1): the variables its NotifyReports,
GetVariables and SetVariables answers showed, filterable, and (role operator) forms for
GetBaseReport, GetReport, GetVariables and SetVariables sent through the command API.

Every name and value is the charge point's text: shown in a table, never as Markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import DeviceVariable
from chargestream.domain.settings import Settings
from chargestream.ui import auth, device_model_forms, ocpp_forms, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

COLUMNS = {
    "component": "Component",
    "component_instance": "Instance",
    "evse_id": "EVSE",
    "connector_id": "Connector",
    "variable": "Variable",
    "variable_instance": "Variable instance",
    "attribute_type": "Attribute",
    "value": "Value",
    "mutability": "Mutability",
    "persistent": "Persistent",
    "constant": "Constant",
    "characteristics": "Characteristics",
    "status": "Last Get/Set status",
    "source": "From",
    "updated_at": "Updated",
}
RESULT_KEY = "device_model_result"


def device_model_view(config: Settings, charge_point_id: str) -> None:
    variables = queries.device_variables(config, charge_point_id)
    if not variables:
        st.info(
            "No device model yet: it fills from an OCPP 2.0.1 charge point's NotifyReport"
            " (send GetBaseReport below).",
            icon=":material/account_tree:",
        )
    else:
        _table(variables)
    _commands(config, charge_point_id)


def _table(variables: list[DeviceVariable]) -> None:
    search = st.text_input(
        "Filter", key="device_model_filter", placeholder="component or variable contains…"
    ).casefold()
    shown = [
        v for v in variables if search in v.component.casefold() or search in v.variable.casefold()
    ]
    st.caption(f"{len(shown)} of {len(variables)} variable attributes")
    st.dataframe(
        pd.DataFrame([_row(v) for v in shown], columns=list(COLUMNS)),
        hide_index=True,
        width="stretch",
        key="device_model_table",
        column_config={
            **COLUMNS,
            "updated_at": widgets.time_column("Updated"),
        },
        placeholder="",
    )


def _row(variable: DeviceVariable) -> dict[str, object]:
    """Every value as text (the dataframe shows it as it is)."""
    characteristics = variable.characteristics or {}
    return {
        "component": variable.component,
        "component_instance": variable.component_instance or "",
        "evse_id": "" if variable.evse_id is None else str(variable.evse_id),
        "connector_id": "" if variable.connector_id is None else str(variable.connector_id),
        "variable": variable.variable,
        "variable_instance": variable.variable_instance or "",
        "attribute_type": variable.attribute_type,
        "value": variable.value or "",
        "mutability": variable.mutability or "",
        "persistent": _flag(variable.persistent),
        "constant": _flag(variable.constant),
        "characteristics": "; ".join(f"{k}={v}" for k, v in characteristics.items()),
        "status": variable.status or "",
        "source": variable.source.value,
        "updated_at": variable.updated_at,
    }


def _flag(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def _commands(config: Settings, charge_point_id: str) -> None:
    operator = auth.signed_in(config)
    with st.container(border=True):
        action = st.selectbox("Command", list(device_model_forms.FORMS), key="device_model_action")
        payload = device_model_forms.FORMS[action]()
        problem = ocpp_forms.problem(action, payload, OcppVersion.V201)
        if problem is not None:
            st.caption(f":material/error: Not a valid {action} request yet: {plain(problem)}")
        if st.button(
            f"Send {action}",
            icon=":material/send:",
            key="device_model_send",
            **auth.control(operator, Permission.SEND_COMMANDS),
        ):
            _send(config, charge_point_id, action, payload)
        auth.explain(operator, Permission.SEND_COMMANDS)
        _last_result(charge_point_id)


def _send(config: Settings, charge_point_id: str, action: str, payload: dict[str, object]) -> None:
    try:
        operator = auth.authorize(Permission.SEND_COMMANDS)
        result = api(config).command(charge_point_id, action, payload, operator=operator)
    except auth.Refused as refusal:
        st.error(f"{action} was not sent. {refusal}", icon=":material/lock:")
    except ApiError as error:
        st.error(plain(error))
    else:
        st.session_state[RESULT_KEY] = (charge_point_id, result)
        queries.commands.clear()
        queries.device_variables.clear()


def _last_result(charge_point_id: str) -> None:
    sent_to, result = st.session_state.get(RESULT_KEY, (None, None))
    if sent_to != charge_point_id or result is None:
        return
    widgets.show_command_result(charge_point_id, result)
    if result.response and set(result.response) != {"status"}:
        with st.expander("Full answer"):
            st.json(result.response)
