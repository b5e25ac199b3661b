"""How the device model forms read component and variable lines into 2.0.1 payloads."""

from __future__ import annotations

import functools
from typing import Any

from chargestream.domain.protocols import OcppVersion
from chargestream.ui import ocpp_forms
from chargestream.ui.device_model_forms import component, pairs, variable

problem: Any = functools.partial(ocpp_forms.problem, version=OcppVersion.V201)


def test_a_component_line_names_instance_evse_and_connector() -> None:
    assert component("OCPPCommCtrlr") == {"name": "OCPPCommCtrlr"}
    assert component(" Connector/Left@1:2 ") == {
        "name": "Connector",
        "instance": "Left",
        "evse": {"id": 1, "connectorId": 2},
    }
    assert component("EVSE@3") == {"name": "EVSE", "evse": {"id": 3}}
    assert component("EVSE@x") is None
    assert variable("Power/Max") == {"name": "Power", "instance": "Max"}


def test_lines_become_a_valid_get_variables_and_get_report() -> None:
    lines = "OCPPCommCtrlr, HeartbeatInterval\n\nConnector@1:1, Power/Max\n"
    items = pairs(lines)
    assert items[1] == {
        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
        "variable": {"name": "Power", "instance": "Max"},
    }
    assert problem("GetVariables", {"getVariableData": items}) is None
    report = {"requestId": 1, "componentVariable": pairs("EVSE@1", variable_needed=False)}
    assert problem("GetReport", report) is None


def test_a_line_that_does_not_parse_is_left_for_the_schema_check_to_name() -> None:
    (item,) = pairs("EVSE@one, Power")
    assert item["component"] == "EVSE@one"
    assert problem("GetVariables", {"getVariableData": [item]}) is not None
    assert problem("GetBaseReport", {"requestId": 1, "reportBase": "Everything"}) is not None
