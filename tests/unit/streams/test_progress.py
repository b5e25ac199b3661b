"""A session's progress so far from its meter values (streams/progress.py)."""

from __future__ import annotations

from dataclasses import replace

from chargestream.domain.records import MeterValue
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.progress import Progress, progress, progress_of
from tests.storage_contract import at, full_session

RUNNING = replace(
    full_session(7), stop_time=None, meter_stop=None, energy_kwh=None, stop_reason=None
)


def reading(minutes: int, measurand: str, value: float, unit: str, **extra: str) -> MeterValue:
    return MeterValue(
        charge_point_id="CP-1",
        connector_id=1,
        timestamp=at(minutes),
        measurand=measurand,
        value=value,
        unit=unit,
        transaction_id=7,
        **extra,
    )


SAMPLES = [
    reading(1, "Energy.Active.Import.Register", 1.5, "kWh"),
    reading(1, "Power.Active.Import", 11000, "W"),
    reading(2, "Energy.Active.Import.Register", 1700, "Wh"),
    reading(2, "Power.Active.Import", 3.5, "kW", phase="L1"),
    reading(2, "Power.Active.Import", 3.5, "kW", phase="L2"),
    reading(2, "SoC", 40, "Percent"),
]


def test_a_running_session_has_the_energy_since_its_start_meter_and_its_last_power() -> None:
    found = progress(RUNNING, SAMPLES, at(10))

    assert found == Progress(0.7, 7000.0, (at(10) - at(ms=1)).total_seconds())


def test_without_a_start_meter_the_first_reading_counts_as_the_start() -> None:
    found = progress(replace(RUNNING, meter_start=None), SAMPLES, at(10))

    assert found.energy_kwh == 0.2


def test_a_running_session_without_meter_values_has_only_a_duration() -> None:
    found = progress(RUNNING, [], at(3))

    assert (found.energy_kwh, found.power_w) == (None, None)
    assert found.duration_s == (at(3) - at(ms=1)).total_seconds()


def test_a_finished_session_keeps_its_own_energy_and_duration() -> None:
    found = progress(full_session(7), SAMPLES, at(1000))

    assert found == Progress(22.5, None, (at(90, ms=2) - at(ms=1)).total_seconds())


async def test_only_running_sessions_read_their_meter_values(store: SqliteStore) -> None:
    finished = full_session(8)
    await store.upsert([RUNNING, finished, *SAMPLES])

    found = await progress_of(store, [RUNNING, finished], at(10))

    assert found[7].energy_kwh == 0.7
    assert found[8].energy_kwh == 22.5
