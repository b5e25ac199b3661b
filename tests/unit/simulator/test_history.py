"""The past sessions ``simulate --backfill-days`` sends: in time order, paced, metered."""

from __future__ import annotations

from datetime import datetime

from chargestream.simulator.chargepoint import ChargePoint
from chargestream.simulator.config import FleetConfig
from chargestream.simulator.history import CALLS_PER_SECOND, history_calls
from chargestream.simulator.rng import Rng
from chargestream.simulator.stats import FleetStats

UNTIL = 1_800_000_000.0  # epoch seconds


def seconds(call_timestamp: str) -> float:
    return datetime.fromisoformat(call_timestamp).timestamp()


def test_history_is_in_time_order_paced_and_ends_before_now() -> None:
    cp = ChargePoint(1, FleetConfig(), FleetStats(), Rng(3, 1))
    registers = [connector.register_wh for connector in cp.connectors]
    calls = history_calls(cp, ("TAG-1",), 3, UNTIL, now=100.0)
    times = [
        seconds(call.payload.get("timestamp") or call.payload["meterValue"][0]["timestamp"])
        for call in calls
    ]
    assert times == sorted(times)
    assert times[0] >= UNTIL - 3 * 86_400 and times[-1] <= UNTIL - 600
    assert [call.due_at for call in calls[:3]] == [100.0 + n / CALLS_PER_SECOND for n in range(3)]
    actions = {call.action for call in calls}
    assert actions == {"StartTransaction", "MeterValues", "StopTransaction"}
    starts = [call for call in calls if call.action == "StartTransaction"]
    stops = [call for call in calls if call.action == "StopTransaction"]
    assert len(starts) == len(stops) >= 3
    for start in starts:
        session = start.session
        assert session is not None and session.meter_start < session.meter_stop
    for connector, before in zip(cp.connectors, registers, strict=True):
        assert connector.register_wh > before  # the live sessions continue from there


def test_no_backfill_days_means_no_history() -> None:
    cp = ChargePoint(1, FleetConfig(), FleetStats(), Rng(3, 1))
    assert history_calls(cp, ("TAG-1",), 0, UNTIL, now=0.0) == []
