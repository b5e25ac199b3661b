"""The embedded derivation in a process of its own (``CHARGESTREAM_DERIVATION=process``):
views derived by the child over real WebSocket charge points, the controllers' commands
through the parent's gateway, a killed child started again, the last frames derived at
stop, and a child that ends when its parent is killed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from chargestream.app.embedded import EmbeddedCsms
from chargestream.storage.sqlite import SqliteStore
from tests.conftest import (
    RunningCsms,
    chargestream_run,
    eventually,
    free_port,
    make_settings,
    running_csms,
)
from tests.integration.gateway.test_local_lists import (
    ListKeepingChargePoint,
    assign,
    in_sync_at,
    known,
    put_tag,
)
from tests.ocpp_client import booted, charge


@pytest.fixture
async def csms(tmp_path: Path) -> AsyncIterator[RunningCsms]:
    settings = make_settings(tmp_path / "data", derivation="process", control_interval=0.2)
    async with running_csms(settings) as running:
        yield running


def child_pid(csms: RunningCsms) -> int | None:
    derivation = csms.app.derivation
    assert derivation is not None and not hasattr(derivation, "processor")
    return derivation.pid  # type: ignore[union-attr]


async def session_energy(csms: RunningCsms, transaction_id: int) -> float | None:
    response = await csms.api.get(f"/api/v1/sessions/{transaction_id}")
    return response.json()["energy_kwh"] if response.status_code == 200 else None


def metric(text: str, name: str) -> float:
    """The value of one sample line of /metrics (0 when absent)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_views_are_derived_by_a_process_of_their_own(csms: RunningCsms) -> None:
    pid = await eventually(lambda: asyncio.sleep(0, child_pid(csms)))
    assert pid != os.getpid()
    transaction_id = await charge(csms.ocpp_url, "CP-CHILD", [30, 31])
    assert await eventually(lambda: session_energy(csms, transaction_id)) == 2.0


async def test_a_killed_derivation_process_is_started_again_and_catches_up(
    csms: RunningCsms,
) -> None:
    first = await eventually(lambda: asyncio.sleep(0, child_pid(csms)))
    before = metric((await csms.api.get("/metrics")).text, "chargestream_processor_restarts_total")
    os.kill(first, signal.SIGKILL)
    transaction_id = await charge(csms.ocpp_url, "CP-AFTER-KILL", [20])  # while it is down

    async def another() -> int | None:
        pid = child_pid(csms)
        return pid if pid not in (None, first) else None

    await eventually(another, timeout=20)
    assert await eventually(lambda: session_energy(csms, transaction_id), timeout=20) == 1.0
    after = metric((await csms.api.get("/metrics")).text, "chargestream_processor_restarts_total")
    assert after == before + 1


async def test_the_controllers_commands_go_through_the_parents_gateway(
    csms: RunningCsms,
) -> None:
    answered = 'chargestream_commands_total{outcome="answered"}'
    before = metric((await csms.api.get("/metrics")).text, answered)
    await put_tag(csms, "TAG-A")
    async with booted(csms.ocpp_url, "CP-LIST", ListKeepingChargePoint) as cp:
        await known(csms, "CP-LIST")
        await assign(csms, "CP-LIST", {"tags": ["TAG-A"]})
        await in_sync_at(csms.api, "CP-LIST", 10000)  # the child's controller sent it
        assert cp.held == {"TAG-A": {"status": "Accepted"}}
    listed = await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-LIST"})
    commands = listed.json()
    sent = {(c["action"], c["sent_by"], c["outcome"]) for c in commands}
    assert ("SendLocalList", "csms", "answered") in sent

    async def counted() -> float | None:  # the child's counters reach the parent's /metrics
        now = metric((await csms.api.get("/metrics")).text, answered)
        return now if now >= before + 2 else None  # GetLocalListVersion and SendLocalList

    await eventually(counted, timeout=15)


async def test_stop_derives_the_last_frames_and_ends_the_child(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, derivation="process")
    app = EmbeddedCsms(settings)
    addresses = await app.start()
    url = f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp"
    try:
        pid = await eventually(lambda: asyncio.sleep(0, app.derivation.pid))  # type: ignore[union-attr]
        transaction_id = await charge(url, "CP-LAST", [25])
    finally:
        await app.stop()  # the gateway first, then the child's last pass
    assert not Path(f"/proc/{pid}").exists()  # ended and reaped
    store = SqliteStore(settings.store_path)
    await store.open()
    try:
        session = await store.get_session(transaction_id)
        assert session is not None and session.energy_kwh == 1.0
    finally:
        await store.close()


async def test_the_child_ends_when_chargestream_run_is_killed(tmp_path: Path) -> None:
    parent = chargestream_run(
        tmp_path,
        stdout=subprocess.DEVNULL,
        ocpp_port=free_port(),
        api_port=free_port(),
        ftp_port=0,
        run_ui="false",
    )
    try:
        assert parent.stderr is not None
        child = None
        async with asyncio.timeout(60):
            while child is None:
                line = await asyncio.to_thread(parent.stderr.readline)
                assert line, "chargestream run ended before its derivation process started"
                event = orjson.loads(line)
                if event.get("event") == "derivation_process_started":
                    child = int(event["pid"])
        assert Path(f"/proc/{child}").exists()
        parent.kill()
        parent.wait(10)

        async def gone() -> bool:
            return not Path(f"/proc/{child}").exists()

        await eventually(gone, timeout=20)  # it saw its channel close
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait(10)
        if parent.stderr is not None:
            parent.stderr.close()
