"""Sessions as tables and CSV: running ones with their progress (ui/dataframes.py)."""

from __future__ import annotations

from dataclasses import replace

from chargestream.streams.progress import Progress
from chargestream.ui.dataframes import csv, sessions_frame
from tests.storage_contract import at, full_session

RUNNING = replace(
    full_session(7), stop_time=None, meter_stop=None, energy_kwh=None, stop_reason=None
)


def test_a_running_session_shows_its_energy_power_and_duration_so_far() -> None:
    frame = sessions_frame([RUNNING], {7: Progress(2.123456, 7412.3, 601.23)}, now=at(10))
    row = frame.iloc[0]

    assert (row["energy_kwh"], row["power_kw"], row["duration_min"]) == (2.123, 7.41, 10.0)
    assert row["stop_reason"] is None  # an empty cell, not "active"


def test_without_progress_a_session_shows_its_own_figures() -> None:
    frame = sessions_frame([full_session(1)], now=at(1000))

    assert frame.iloc[0]["energy_kwh"] == 22.5
    assert frame.iloc[0]["duration_min"] == 90.0
    assert frame.iloc[0]["peak_power_kw"] == 11.04


def test_csv_has_iso_times_rounded_numbers_and_empty_cells() -> None:
    text = csv(sessions_frame([RUNNING], {7: Progress(2.123456, None, 601.23)}, now=at(10)))
    header, row = text.splitlines()
    fields = dict(zip(header.split(","), row.split(","), strict=True))

    assert fields["start_time"] == "2024-03-01T12:00:00Z"
    assert (fields["stop_time"], fields["stop_reason"], fields["power_kw"]) == ("", "", "")
    assert (fields["energy_kwh"], fields["duration_min"]) == ("2.123", "10.0")
