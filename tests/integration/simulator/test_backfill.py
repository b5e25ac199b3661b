"""``simulate --backfill-days``: days of past sessions and statuses, derived by the real
embedded CSMS, from an OCPP 1.6 charge point and an OCPP 2.0.1 station."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningCsms, eventually
from tests.integration.simulator.fake_csms import fleet, ledger, quick, until
from tests.integration.simulator.test_simulator_csms import csms_settings, reconciled

__all__ = ["csms_settings"]  # the fixture: unknown id tags accepted

CP = "SIM-00001"


@pytest.mark.parametrize(
    ("percent", "shown"),
    [
        (0, {"Available", "Preparing", "Charging", "Finishing"}),
        (100, {"Available", "Occupied", "Charging"}),  # Charging: the chargingState
    ],
)
async def test_backfilled_sessions_and_statuses_have_past_times(
    csms: RunningCsms, tmp_path: Path, percent: int, shown: set[str]
) -> None:
    config = quick(
        csms.ocpp_url,
        tmp_path,
        stations=1,
        v201_percent=percent,
        idle_seconds=(600.0, 600.0),
        backfill_days=1.0,
    )
    now = datetime.now(UTC)
    async with fleet(config) as stats:
        await until(lambda: len(ledger(config)) >= 3, timeout=30)
    counts = await reconciled(csms, config)  # every past session stored exactly as sent
    assert stats.call_errors == 0 and counts.found >= 3
    listed = (await csms.api.get("/api/v1/sessions", params={"limit": 100})).json()
    sessions = [s for s in listed if datetime.fromisoformat(s["start_time"]) < now]
    assert len(sessions) >= 3
    for session in sessions:
        started = datetime.fromisoformat(session["start_time"])
        stopped = datetime.fromisoformat(session["stop_time"])
        assert now - timedelta(days=1, minutes=1) < started < stopped < now - timedelta(minutes=9)
        assert session["energy_kwh"] > 0
    longest = max(sessions, key=lambda s: s["energy_kwh"])
    values = (
        await csms.api.get(f"/api/v1/sessions/{longest['transaction_id']}/meter-values")
    ).json()
    started = datetime.fromisoformat(longest["start_time"])
    stopped = datetime.fromisoformat(longest["stop_time"])
    times = [datetime.fromisoformat(value["timestamp"]) for value in values]
    assert times and all(started <= time <= stopped for time in times)

    # the status timeline and availability reach back the whole day
    window = {
        "from": (now - timedelta(days=1, minutes=1)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }

    async def past_statuses() -> list[dict[str, Any]] | None:
        response = await csms.api.get(f"/api/v1/charge-points/{CP}/status-history", params=window)
        ports = [i for i in response.json() if i["connector_id"] > 0]
        return ports if sum(i["status"] == "Charging" for i in ports) >= 3 else None

    intervals = await eventually(past_statuses)
    for connector in {i["connector_id"] for i in intervals}:
        first = min(
            datetime.fromisoformat(i["start"]) for i in intervals if i["connector_id"] == connector
        )
        assert abs(first - (now - timedelta(days=1))) < timedelta(minutes=1)
    assert {i["status"] for i in intervals} >= shown

    report = await csms.api.get(
        "/api/v1/reports/availability", params={**window, "charge_point": CP}
    )
    ports = report.json()["ports"]
    assert ports and all(port["observed_s"] > 23.9 * 3600 for port in ports)
    assert sum(port["seconds_by_status"].get("Charging", 0) for port in ports) > 3 * 20 * 60
