"""Derivation of the OCPP 2.0.1 device model: answered NotifyReports, and the answers to the
GetVariables and SetVariables the CSMS sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chargestream.domain.records import MAX_VARIABLE_VALUE, DeviceVariable, VariableSource
from chargestream.streams.parse import event_time
from chargestream.streams.state import ChargePointDerivation
from tests.ocpp201_device_model import (
    CONNECTOR_1,
    HEARTBEAT,
    get_variables,
    get_variables_answer,
    notify_report,
    set_variables,
    set_variables_answer,
)
from tests.unit.streams.test_derive import CP, Log, derive_with_every_field_broken, run
from tests.unit.streams.test_derive_reservations import command
from tests.unit.streams.test_derive_v201 import Log201

NOPE = {"component": {"name": "Nope"}, "variable": {"name": "Nope"}}
GENERATED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def started_log() -> Log201:
    """A charge point connected over OCPP 2.0.1, the only version with a device model."""
    log = Log201()
    log.connect()
    return log


def variables(log: Log) -> list[DeviceVariable]:
    state, records = run(log.events)
    assert ChargePointDerivation.from_json(state.to_json()) == state
    return [record for record in records if isinstance(record, DeviceVariable)]


def test_an_answered_notify_report_derives_every_attribute_it_reports() -> None:
    log = started_log()
    log.call("NotifyReport", notify_report(request_id=7))
    heartbeat, availability, power, power_target, identity = variables(log)
    sent = log.events[-2].event
    assert heartbeat == DeviceVariable(
        CP,
        "OCPPCommCtrlr",
        "HeartbeatInterval",
        event_time(sent.received_us),  # the NotifyReport's own time, not its answer's
        VariableSource.REPORT,
        value="300",
        mutability="ReadWrite",
        persistent=True,
        characteristics={
            "dataType": "integer",
            "unit": "s",
            "minLimit": 1,
            "maxLimit": 86400,
            "supportsMonitoring": False,
        },
        request_id=7,
        generated_at=GENERATED,
    )
    assert (availability.component, availability.evse_id, availability.connector_id) == (
        "EVSE",
        1,
        None,
    )
    assert availability.characteristics is not None
    assert availability.characteristics["valuesList"].startswith("Available,")
    assert (power.evse_id, power.connector_id, power.variable_instance) == (1, 1, "Max")
    assert (power.attribute_type, power.value) == ("Actual", "22000")
    assert (power_target.attribute_type, power_target.value) == ("Target", "11000")
    assert (identity.value, identity.constant, identity.mutability) == ("<b>cp</b>", True, None)


def test_a_notify_report_not_answered_or_answered_with_an_error_derives_nothing() -> None:
    log = started_log()
    log.unanswered("NotifyReport", notify_report())
    log.error(log.unanswered("NotifyReport", notify_report()), "FormatViolation")
    assert variables(log) == []


def test_get_variables_derives_the_accepted_values() -> None:
    log = started_log()
    asked = get_variables(HEARTBEAT, {"component": CONNECTOR_1, "variable": {"name": "X"}})
    answer = get_variables_answer(
        {**HEARTBEAT, "attributeStatus": "Accepted", "attributeValue": "60"},
        {"component": CONNECTOR_1, "variable": {"name": "X"}, "attributeStatus": "UnknownVariable"},
    )
    command(log, "GetVariables", asked, answer)
    command(log, "GetVariables", asked, None)  # not answered (yet): nothing
    (heartbeat,) = variables(log)
    assert (heartbeat.component, heartbeat.variable, heartbeat.attribute_type) == (
        "OCPPCommCtrlr",
        "HeartbeatInterval",
        "Actual",
    )
    assert (heartbeat.value, heartbeat.status, heartbeat.source) == (
        "60",
        "Accepted",
        VariableSource.GET,
    )
    assert heartbeat.mutability is None  # what a report said stays in the store


def test_set_variables_derives_the_value_set_and_its_status() -> None:
    log = started_log()
    target = {"component": CONNECTOR_1, "variable": {"name": "Power", "instance": "Max"}}
    asked = set_variables(
        {**HEARTBEAT, "attributeValue": "120"},
        {**target, "attributeType": "Target", "attributeValue": "7400"},
        {**NOPE, "attributeValue": "1"},
    )
    answer = set_variables_answer(
        {**HEARTBEAT, "attributeStatus": "Accepted"},
        {**target, "attributeType": "Target", "attributeStatus": "RebootRequired"},
        {**NOPE, "attributeStatus": "Rejected"},
    )
    command(log, "SetVariables", asked, answer)
    heartbeat, power = variables(log)
    assert (heartbeat.value, heartbeat.status, heartbeat.source) == (
        "120",
        "Accepted",
        VariableSource.SET,
    )
    assert (power.attribute_type, power.value, power.status) == ("Target", "7400", "RebootRequired")
    assert (power.evse_id, power.connector_id, power.variable_instance) == (1, 1, "Max")


def test_set_variables_result_for_something_not_asked_derives_nothing() -> None:
    log = started_log()
    asked = set_variables({**HEARTBEAT, "attributeValue": "120"})
    answer = set_variables_answer(
        {**HEARTBEAT, "attributeType": "Target", "attributeStatus": "Accepted"}
    )
    command(log, "SetVariables", asked, answer)
    assert variables(log) == []


def item(component: Any, variable: Any, *attributes: Any) -> dict[str, Any]:
    return {"component": component, "variable": variable, "variableAttribute": list(attributes)}


def test_a_lenient_charge_points_report_is_read_tolerantly_and_bounded() -> None:
    """Values beyond the 2.0.1 schema (a lenient charge point) are cut or skipped."""
    log = started_log()
    long_name = "N" * 80
    report = {
        "requestId": "one",
        "generatedAt": "yesterday",
        "reportData": [
            item({"name": long_name}, {"name": "V"}, {"value": "x" * 5000}),
            item({"name": "C", "evse": {"id": 10_000}}, {"name": "V"}, {"value": "1"}),
            item({"name": "C"}, {"name": ""}, {"value": "1"}),
            item({"name": "C"}, {"name": "V"}, {"type": "Desired", "value": "1"}, "junk"),
            item({"name": "C"}, {"name": "W"}, {"value": 5, "persistent": "yes"}),
            "junk",
        ],
    }
    report["reportData"][-2]["variableCharacteristics"] = {  # type: ignore[index]
        "dataType": "float",
        "unit": "u" * 40,
        "minLimit": "1",
        "maxLimit": True,
        "valuesList": 7,
    }
    log.call("NotifyReport", report)
    long_value, no_value = variables(log)
    assert (len(long_value.component), len(long_value.value or "")) == (50, MAX_VARIABLE_VALUE)
    assert (long_value.request_id, long_value.generated_at) == (None, long_value.updated_at)
    assert (no_value.variable, no_value.value, no_value.persistent) == ("W", None, None)
    assert no_value.characteristics == {"unit": "u" * 16}


def test_wrong_values_anywhere_in_a_device_model_message_never_raise() -> None:
    log = started_log()
    log.call("NotifyReport", notify_report())
    command(
        log,
        "GetVariables",
        get_variables(HEARTBEAT),
        get_variables_answer({**HEARTBEAT, "attributeStatus": "Accepted", "attributeValue": "1"}),
    )
    command(
        log,
        "SetVariables",
        set_variables({**HEARTBEAT, "attributeValue": "2"}),
        set_variables_answer({**HEARTBEAT, "attributeStatus": "Accepted"}),
    )
    bad_values: list[Any] = [None, True, -1, 10**6, 1.5, "", "x", [], {}, [{}]]
    derive_with_every_field_broken(log.events, bad_values)
