"""``simulate --backfill-days``: days of past sessions, derived by the real embedded CSMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import RunningCsms
from tests.integration.simulator.fake_csms import fleet, ledger, quick, until
from tests.integration.simulator.test_simulator_csms import csms_settings, reconciled

__all__ = ["csms_settings"]  # the fixture: unknown id tags accepted


async def test_backfilled_sessions_have_past_times_energy_and_meter_values(
    csms: RunningCsms, tmp_path: Path
) -> None:
    config = quick(
        csms.ocpp_url, tmp_path, stations=1, idle_seconds=(600.0, 600.0), backfill_days=1.0
    )
    now = datetime.now(UTC)
    async with fleet(config) as stats:
        await until(lambda: len(ledger(config)) >= 3, timeout=20)
    counts = await reconciled(csms, config)  # every past session stored exactly as sent
    assert stats.call_errors == 0 and counts.found >= 3
    sessions = (await csms.api.get("/api/v1/sessions", params={"limit": 100})).json()
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
    assert times and all(started < time < stopped for time in times)
