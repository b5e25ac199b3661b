"""The past ``simulate --backfill-days`` sends: in time order, paced, metered, with the
statuses around each session and now and then a fault, in OCPP 1.6 and 2.0.1."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from typing import Any

from chargestream.simulator.chargepoint import FAULT_CODES, Call, ChargePoint
from chargestream.simulator.config import FleetConfig
from chargestream.simulator.history import CALLS_PER_SECOND, history_calls
from chargestream.simulator.rng import Rng
from chargestream.simulator.stats import FleetStats
from chargestream.simulator.v201 import ChargePointV201

UNTIL = 1_800_000_000.0  # epoch seconds
DAY = 86_400


def seconds(call_timestamp: str) -> float:
    return datetime.fromisoformat(call_timestamp).timestamp()


def when(call: Call) -> float:
    payload = call.payload
    return seconds(payload.get("timestamp") or payload["meterValue"][0]["timestamp"])


def connector_of(call: Call) -> int:
    """The connector (1.6) or EVSE (2.0.1) a past call is about."""
    if call.session is not None:
        return call.session.connector_id
    return int(call.payload.get("evseId") or call.payload["connectorId"])


def statuses(calls: list[Call], key: str = "status") -> dict[int, list[str]]:
    """Each connector's reported statuses in order."""
    found: dict[int, list[str]] = defaultdict(list)
    for call in calls:
        if call.action == "StatusNotification":
            found[connector_of(call)].append(call.payload[key])
    return found


def test_history_is_in_time_order_paced_and_ends_before_now() -> None:
    cp = ChargePoint(1, FleetConfig(), FleetStats(), Rng(3, 1))
    registers = [connector.register_wh for connector in cp.connectors]
    calls = history_calls(cp, ("TAG-1",), 3, UNTIL, now=100.0)
    times = [when(call) for call in calls]
    assert times == sorted(times)
    assert times[0] == UNTIL - 3 * DAY and times[-1] <= UNTIL - 600
    assert [call.due_at for call in calls[:3]] == [100.0 + n / CALLS_PER_SECOND for n in range(3)]
    actions = {call.action for call in calls}
    assert actions == {"StartTransaction", "MeterValues", "StopTransaction", "StatusNotification"}
    starts = [call for call in calls if call.action == "StartTransaction"]
    stops = [call for call in calls if call.action == "StopTransaction"]
    assert len(starts) == len(stops) >= 3
    for start in starts:
        session = start.session
        assert session is not None and session.meter_start < session.meter_stop
    for connector, before in zip(cp.connectors, registers, strict=True):
        assert connector.register_wh > before  # the live sessions continue from there


def test_every_past_session_has_its_statuses_around_it() -> None:
    cp = ChargePoint(1, FleetConfig(), FleetStats(), Rng(3, 1))
    calls = history_calls(cp, ("TAG-1",), 3, UNTIL, now=0.0)
    for connector in cp.connectors:
        said = [
            call.payload.get("status") or call.action
            for call in calls
            if connector_of(call) == connector.id and call.action != "MeterValues"
        ]
        assert said[0] == "Available"
        text = " ".join(said).replace("Faulted Available", "")  # a fault between sessions
        assert text.split() == ["Available"] + [
            "Preparing",
            "StartTransaction",
            "Charging",
            "StopTransaction",
            "Finishing",
            "Available",
        ] * said.count("StartTransaction")


def test_a_connector_faults_now_and_then_and_recovers_before_its_next_session() -> None:
    cp = ChargePoint(2, FleetConfig(), FleetStats(), Rng(5, 2))
    calls = history_calls(cp, ("TAG-1",), 20, UNTIL, now=0.0)
    faults = [
        c for c in calls if c.action == "StatusNotification" and c.payload["status"] == "Faulted"
    ]
    assert faults
    for fault in faults:
        assert fault.payload["errorCode"] in FAULT_CODES
        same = [c for c in calls if connector_of(c) == connector_of(fault)]
        after = same[same.index(fault) + 1]
        assert (after.action, after.payload["status"]) == ("StatusNotification", "Available")
        assert when(after) > when(fault)


def test_a_2_0_1_station_sends_past_transaction_events_and_statuses() -> None:
    cp = ChargePointV201(1, FleetConfig(), FleetStats(), Rng(3, 1))
    calls = history_calls(cp, ("TAG-1",), 3, UNTIL, now=0.0)
    assert [when(call) for call in calls] == sorted(when(call) for call in calls)
    assert {call.action for call in calls} == {"TransactionEvent", "StatusNotification"}

    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        if call.action == "TransactionEvent":
            events[call.payload["transactionInfo"]["transactionId"]].append(call.payload)
    assert len(events) >= 3
    for sequence in events.values():
        kinds = [event["eventType"] for event in sequence]
        assert kinds[0] == "Started" and kinds[-1] == "Ended" and len(kinds) > 2
        assert [event["seqNo"] for event in sequence] == list(range(len(sequence)))
        started, ended = seconds(sequence[0]["timestamp"]), seconds(sequence[-1]["timestamp"])
        assert UNTIL - 3 * DAY < started < ended <= UNTIL - 600
        for event in sequence:  # each meter value read when its event happened
            for value in event["meterValue"]:
                assert value["timestamp"] == event["timestamp"]

    for said in statuses(calls, "connectorStatus").values():
        assert set(said) <= {"Available", "Occupied", "Faulted"}
        assert all(a != b for a, b in pairwise(said))  # only changes


def test_no_backfill_days_means_no_history() -> None:
    cp = ChargePoint(1, FleetConfig(), FleetStats(), Rng(3, 1))
    assert history_calls(cp, ("TAG-1",), 0, UNTIL, now=0.0) == []
