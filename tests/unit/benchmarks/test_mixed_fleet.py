"""A mixed fleet in the benchmarks: its option and the ledger's 2.0.1 lines."""

from __future__ import annotations

from pathlib import Path

from benchmarks import pipeline, study
from benchmarks.reconcile import (
    MeterFrame,
    StopFrame,
    _differences,
    _transaction_event,
    session_id,
)
from chargestream.streams.derive_v201 import transaction_id


def test_the_pipeline_and_the_study_take_a_mixed_fleet(tmp_path: Path) -> None:
    (plan,) = pipeline.plans(pipeline.parse_args(["--stations", "100", "--protocol", "mix:30"]))
    assert plan.v201_percent == 30
    fleet = pipeline.fleet_config(plan, "ws://127.0.0.1:1/ocpp", tmp_path / "ledger.jsonl")
    assert fleet.v201_percent == 30
    assert study.parse_args(["--protocol", "2.0.1"]).v201_percent == 100
    assert pipeline.parse_args([]).v201_percent == 0


def test_a_v201_ledger_line_is_found_under_the_session_id_the_csms_derives() -> None:
    entry = {
        "station": "SIM-00002",
        "ocppVersion": "2.0.1",
        "connector": 1,
        "transactionId": "4f2a",
        "meterStart": 1000,
        "meterStop": 3000,
        "energyWh": 2000,
        "stopReason": "Local",
        "startTimestamp": "2026-01-01T00:00:00.000Z",
        "stopTimestamp": "2026-01-01T00:05:00.000Z",
    }
    assert session_id(entry) == transaction_id("SIM-00002", "4f2a")
    assert session_id({"transactionId": 17}) == 17  # 1.6 lines, also those without a version
    stored = {
        "charge_point_id": "SIM-00002",
        "connector_id": 1,
        "meter_start": 1000,
        "meter_stop": 3000,
        "energy_kwh": 2.0,
        "stop_reason": "Local",
        "start_time": "2026-01-01T00:00:00Z",
        "stop_time": "2026-01-01T00:05:00Z",
        "station_transaction_id": "4f2a",
    }
    assert _differences(entry, stored) == []
    assert _differences(entry, stored | {"station_transaction_id": "other"}) == [
        "station_transaction_id"
    ]


def test_a_v201_stations_transaction_events_are_read_as_meter_and_stop_frames() -> None:
    sample = {"timestamp": "2026-01-01T00:00:01.000Z", "sampledValue": [{"value": 1}] * 7}
    event = {
        "eventType": "Ended",
        "transactionInfo": {"transactionId": "4f2a"},
        "evse": {"id": 2, "connectorId": 1},
        "meterValue": [sample],
    }
    meters: list[MeterFrame] = []
    stops: list[StopFrame] = []
    _transaction_event("SIM-00002", event, 5, meters, stops)
    session = transaction_id("SIM-00002", "4f2a")
    assert meters == [MeterFrame("SIM-00002", session, 2, 1767225601000, 7, 5)]
    assert stops == [StopFrame("SIM-00002", session, 5)]
