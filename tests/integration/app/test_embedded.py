"""The embedded mode as a whole: restart, replay, alerts, and the real process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from ocpp.v16 import call
from websockets.asyncio.client import connect

from chargestream.app import derivation_process
from chargestream.app.embedded import EmbeddedCsms
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.storage.base import Store
from chargestream.streams import metrics
from tests.conftest import (
    RunningCsms,
    chargestream_run,
    eventually,
    free_port,
    make_settings,
    running_csms,
)
from tests.ocpp_client import T0, at, charge, charge_point


async def views(store: Store, charge_point_id: str) -> dict[str, object]:
    sessions = await store.sessions_for_charge_point(charge_point_id)
    return {
        "state": await store.get_charge_point_state(charge_point_id),
        "history": await store.status_history(
            charge_point_id, T0 - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
        ),
        "sessions": sessions,
        "meter": [await store.meter_values(s.transaction_id) for s in sessions],
        "alerts": await store.alerts(limit=1000),
        "charging_profiles": await store.installed_charging_profiles(charge_point_id),
    }


async def test_threshold_and_faulted_alerts_open_and_close(csms: RunningCsms) -> None:
    await csms.api.put(
        "/api/v1/alert-rules/hot",
        json={"measurand": "Temperature", "operator": ">", "threshold": 60, "severity": "critical"},
    )
    await csms.app.derivation.processor.refresh_rules()
    await charge(csms.ocpp_url, "CP-HOT", [40, 75, 80, 50])

    async def alerts():
        found = (await csms.api.get("/api/v1/alerts")).json()
        kinds = {a["kind"] for a in found}
        return found if {"threshold", "faulted"} <= kinds else None

    found = {a["kind"]: a for a in await eventually(alerts)}
    hot = found["threshold"]
    assert hot["rule_id"] == "hot" and hot["value"] == 75 and hot["closed_at"] is not None
    assert found["faulted"]["closed_at"] is None
    open_alerts = (await csms.api.get("/api/v1/alerts", params={"open": "true"})).json()
    assert [a["kind"] for a in open_alerts] == ["faulted"]
    ack = await csms.api.post(
        f"/api/v1/alerts/{found['faulted']['alert_id']}/acknowledge", json={"by": "ops"}
    )
    assert ack.status_code == 200


async def test_replay_rebuilds_identical_views(csms: RunningCsms) -> None:
    await charge(csms.ocpp_url, "CP-R", [30, 31, 32])
    app = csms.app

    async def caught_up():  # the disconnect is derived too: nothing more will come
        if await app.derivation.processor.process_available() > 0:
            return None
        snapshot = await views(app.store, "CP-R")
        return snapshot if not snapshot["state"].connected else None

    before = await eventually(caught_up)
    assert before["sessions"]
    replayed = await app.derivation.processor.rebuild()
    assert replayed > 5  # events: a CALL and its answer are one
    after = await views(app.store, "CP-R")
    assert [asdict(s) for s in after["sessions"]] == [asdict(s) for s in before["sessions"]]
    for key in before:
        assert after[key] == before[key], key


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = EmbeddedCsms(settings)
    addresses = await first.start()
    transaction_id = await charge(f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp", "CP-S", [20])
    await first.stop()

    async with running_csms(settings) as second:
        session = (await second.api.get(f"/api/v1/sessions/{transaction_id}")).json()
        assert session["energy_kwh"] == 1.0
        async with charge_point(second.ocpp_url, "CP-S") as cp:
            start = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG1", meter_start=0, timestamp=at(999)
                )
            )
        assert start.transaction_id > transaction_id  # ids are never reused


async def test_chargestream_run_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    ocpp_port, api_port, ui_port = free_port(), free_port(), free_port()
    process = chargestream_run(
        tmp_path,
        ocpp_port=ocpp_port,
        api_port=api_port,
        ftp_port=free_port(),  # its FTP thread stops with it too
        ui_port=ui_port,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as api:

            async def healthy():
                if process.poll() is not None:
                    raise AssertionError(process.communicate()[1].decode())
                try:
                    return (await api.get("/healthz")).json()
                except httpx.TransportError:
                    return None

            health = await eventually(healthy, timeout=30)
            assert health["status"] == "ok" and health["mode"] == "embedded"
            async with charge_point(f"ws://127.0.0.1:{ocpp_port}/ocpp", "CP-P") as cp:
                await cp.call(call.Heartbeat())

            async def dashboard_up():
                try:
                    response = await api.get(f"http://127.0.0.1:{ui_port}/_stcore/health")
                except httpx.TransportError:
                    return False
                return response.status_code == 200

            await eventually(dashboard_up, timeout=60)
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.to_thread(process.communicate, timeout=30)
        assert process.returncode == 0, stderr.decode()
        assert b'"event":"stopped"' in stderr
        assert b"Dashboard operator created: admin / " in stdout
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert (tmp_path / "events.db").exists() and (tmp_path / "chargestream.db").exists()
    assert (tmp_path / "operators.json").exists()


def test_bad_setting_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "CHARGESTREAM_OCPP_PORT": "ninety"}
    result = subprocess.run(
        [sys.executable, "-m", "chargestream.app.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "CHARGESTREAM_OCPP_PORT" in result.stdout + result.stderr


async def test_a_processor_that_dies_is_logged_and_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(derivation_process, "RESTART_FIRST", 0.05)
    app = EmbeddedCsms(make_settings(tmp_path))
    follow, runs = app.derivation.processor.run, []

    async def dies_the_first_time() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("a bug in the processor")
        await follow()

    monkeypatch.setattr(app.derivation.processor, "run", dies_the_first_time)
    restarts = metrics.PROCESSOR_RESTARTS._value.get()
    with caplog.at_level(logging.ERROR, logger="chargestream"):
        addresses = await app.start()
        try:
            url = f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp/CP-AFTER"
            async with connect(url, subprotocols=["ocpp1.6"]) as websocket:  # type: ignore[list-item]
                await websocket.send('[2,"h","Heartbeat",{}]')
                await asyncio.wait_for(websocket.recv(), 10)

            async def derived() -> object:
                return await app.store.get_charge_point_state("CP-AFTER")

            await eventually(derived)  # the restarted processor derives
        finally:
            await app.stop()
    failures = [r for r in caplog.records if r.getMessage() == "processor_failed"]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert len(runs) == 2 and metrics.PROCESSOR_RESTARTS._value.get() == restarts + 1


async def test_stop_logs_a_failing_last_derivation_and_still_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = EmbeddedCsms(make_settings(tmp_path))
    await app.start()

    async def fails() -> int:
        raise RuntimeError("a bug in the processor")

    monkeypatch.setattr(app.derivation.processor, "process_available", fails)
    with caplog.at_level(logging.ERROR, logger="chargestream"):
        await app.stop()
    assert "final_derivation_failed" in [r.getMessage() for r in caplog.records]
    with pytest.raises(EventLogUnavailable):  # closed all the same
        await app.event_log.append([])
