"""The simulator's pure 2.0.1 parts: which stations speak it, the option, the messages."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from chargestream.simulator import FleetConfig, FleetStats
from chargestream.simulator.cli import protocol_percent
from chargestream.simulator.commands_v201 import HANDLERS, UNSUPPORTED
from chargestream.simulator.rng import Rng
from chargestream.simulator.v201 import ChargePointV201, connector_status, sampled_values


def v201_indexes(config: FleetConfig, first: int, last: int) -> list[int]:
    return [i for i in range(first, last + 1) if config.speaks_v201(i)]


@pytest.mark.parametrize("percent", [0, 1, 30, 50, 99, 100])
def test_exactly_the_share_of_any_hundred_stations_speaks_v201(percent: int) -> None:
    config = FleetConfig(v201_percent=percent)
    for first in (1, 37, 1001):
        assert len(v201_indexes(config, first, first + 99)) == percent


def test_the_version_of_a_station_does_not_depend_on_the_split() -> None:
    config = FleetConfig(stations=10, v201_percent=30)
    whole = v201_indexes(config, 1, 10)
    parts = [
        v201_indexes(p, p.first_station, p.first_station + p.stations - 1) for p in config.split(3)
    ]
    assert [i for part in parts for i in part] == whole == [4, 7, 10]


def test_the_protocol_option() -> None:
    assert [protocol_percent(t) for t in ("1.6", "2.0.1", "mix", "mix:30", "mix:0")] == [
        0,
        100,
        50,
        30,
        0,
    ]
    for bad in ("2.1", "mix:101", "mix:-1", "mix:x", "1.6:20", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            protocol_percent(bad)
    with pytest.raises(ValueError, match="v201_percent"):
        FleetConfig(v201_percent=101)


def test_sampled_values_in_v201_form() -> None:
    values = [
        {
            "value": "1234",
            "context": "Trigger",
            "measurand": "Energy.Active.Import.Register",
            "unit": "Wh",
        },
        {
            "value": "41",
            "context": "Trigger",
            "measurand": "SoC",
            "unit": "Percent",
            "location": "EV",
        },
        {"value": "12.5", "context": "Trigger", "measurand": "Current.Import", "unit": "A"},
        {"value": "30.1", "context": "Trigger", "measurand": "Temperature", "unit": "Celsius"},
    ]
    assert sampled_values(values) == [
        {
            "value": 1234,
            "context": "Trigger",
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"},
        },
        {
            "value": 41,
            "context": "Trigger",
            "measurand": "SoC",
            "unitOfMeasure": {"unit": "Percent"},
            "location": "EV",
        },
        {
            "value": 12.5,
            "context": "Trigger",
            "measurand": "Current.Import",
            "unitOfMeasure": {"unit": "A"},
        },
    ]


def test_connector_statuses_in_v201_terms() -> None:
    assert [connector_status(s) for s in ("Available", "Preparing", "Charging", "Finishing")] == [
        "Available",
        "Occupied",
        "Occupied",
        "Occupied",
    ]
    assert connector_status("Faulted") == "Faulted"


def station() -> ChargePointV201:
    return ChargePointV201(1, FleetConfig(v201_percent=100), FleetStats(), Rng(7, 1))


def command(cp: ChargePointV201, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    return HANDLERS[action](cp, payload, 0.0)


def test_reset_on_idle_is_refused_while_a_session_runs() -> None:
    cp = station()
    cp.online = True
    connector = cp.connectors[0]
    cp.begin_session(connector, "TAG", 0.0, remote=True)
    assert command(cp, "Reset", {"type": "OnIdle"}) == {"status": "Rejected"}
    assert command(cp, "Reset", {"type": "Immediate", "evseId": 1}) == {"status": "Rejected"}
    assert command(cp, "Reset", {"type": "Immediate"}) == {"status": "Accepted"}
    assert cp.reset_type == "Immediate"
    ended = [c for c in cp.outbox if c.payload.get("eventType") == "Ended"]
    assert ended[0].payload["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert ended[0].payload["triggerReason"] == "ResetCommand"


def test_set_variables_changes_the_live_values() -> None:
    cp = station()
    interval = {
        "component": {"name": "SampledDataCtrlr"},
        "variable": {"name": "TxUpdatedInterval"},
    }
    answer = command(cp, "SetVariables", {"setVariableData": [{**interval, "attributeValue": "5"}]})
    assert answer["setVariableResult"] == [{"attributeStatus": "Accepted", **interval}]
    answer = command(cp, "GetVariables", {"getVariableData": [interval]})
    assert answer["getVariableResult"] == [
        {"attributeStatus": "Accepted", **interval, "attributeValue": "5"}
    ]


def test_unhandled_v201_actions_are_not_supported() -> None:
    assert {"ReserveNow", "SetChargingProfile", "GetBaseReport"} <= UNSUPPORTED
    assert not UNSUPPORTED & HANDLERS.keys()
