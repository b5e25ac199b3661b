"""What the fuzzers found, each as a minimal reproducer over a real connection.

Each was a strict xfail while it was open; all are fixed now, so these are ordinary tests
that keep them fixed (and ``benchmarks.fuzzcases`` sends these inputs again).
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import RunningCsms, eventually, make_settings, running_csms

NOW = "2026-11-27T10:00:00.000Z"
PROBE = "FUZZ-PROBE"
FRESH_IDS = 500
WARM_UP = 300  # ids: more than the bounded caches on the way hold (128 each)
MAX_CONNECTORS = 100  # far above any real charge point; what a bound on the state may be


@pytest.fixture
async def unlimited(tmp_path: Path) -> AsyncIterator[RunningCsms]:
    """The embedded CSMS without the per-connection CALL rate and per-address limits.

    The directory caches a charge point's registration for ``cache_ttl`` seconds, then
    drops it: 0 here, so what a test measures is what stays.
    """
    settings = make_settings(tmp_path, calls_per_second=0, connections_per_address=0, cache_ttl=0)
    async with running_csms(settings) as running:
        yield running


async def open_cp(csms: RunningCsms, charge_point_id: str) -> ClientConnection:
    websocket = await connect(csms.url(charge_point_id), subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    boot = {"chargePointVendor": "chargestream", "chargePointModel": "fuzz"}
    assert (await call(websocket, "BootNotification", boot))[0] == 3
    return websocket


async def call(websocket: ClientConnection, action: str, payload: Any, raw: str = "") -> list[Any]:
    """Send a CALL (``raw``: this exact text instead) and return its answer."""
    await websocket.send(raw or orjson.dumps([2, "m1", action, payload]).decode())
    answer: list[Any] = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
    return answer


async def views_keep_deriving(csms: RunningCsms, marker: str) -> None:
    """Another charge point's StatusNotification still reaches the API's view."""
    websocket = await open_cp(csms, PROBE)
    try:
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": marker}
        assert (await call(websocket, "StatusNotification", status))[0] == 3
    finally:
        await websocket.close()

    async def derived() -> bool:
        response = await csms.api.get(f"/api/v1/charge-points/{PROBE}")
        return marker in response.text

    await eventually(derived, timeout=10)


# -- StopTransaction with a transactionId SQLite cannot hold


async def test_stop_transaction_with_a_transaction_id_beyond_int64_is_answered(
    csms: RunningCsms,
) -> None:
    websocket = await open_cp(csms, "FUZZ-STOP")
    try:
        stop = {"meterStop": 10, "timestamp": NOW, "transactionId": 2**64 - 1}
        answer = await call(websocket, "StopTransaction", stop)
    finally:
        await websocket.close()
    assert answer[0] == 3, answer  # schema-valid: a CALLRESULT, not InternalError


# -- derivation stops for good after one frame (the processor task dies silently)


async def test_views_keep_deriving_after_a_connector_id_beyond_int64(csms: RunningCsms) -> None:
    websocket = await open_cp(csms, "FUZZ-BIG")
    try:
        status = {"connectorId": 2**63, "errorCode": "NoError", "status": "Available"}
        assert (await call(websocket, "StatusNotification", status))[0] == 3
    finally:
        await websocket.close()
    await views_keep_deriving(csms, "after-uint64")


async def test_views_keep_deriving_after_a_deeply_nested_payload(csms: RunningCsms) -> None:
    nested = "[" * 300 + "]" * 300
    frame = (
        '[2,"m1","BootNotification",{"chargePointVendor":"v","chargePointModel":"m",'
        f'"x":{nested}}}]'
    )
    websocket = await open_cp(csms, "FUZZ-DEEP")
    try:
        answer = await call(websocket, "BootNotification", None, raw=frame)
    finally:
        await websocket.close()
    assert answer[0] == 4  # an extra property: refused, and yet derived
    await views_keep_deriving(csms, "after-nesting")


async def test_views_keep_deriving_after_a_timestamp_in_year_9999(csms: RunningCsms) -> None:
    websocket = await open_cp(csms, "FUZZ-9999")
    try:
        for status in ("Available", "Preparing"):
            payload = {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": status,
                "timestamp": "9999-12-31T23:59:59.999Z",
            }
            assert (await call(websocket, "StatusNotification", payload))[0] == 3
    finally:
        await websocket.close()
    await views_keep_deriving(csms, "after-9999")


async def test_views_keep_deriving_after_every_other_extreme_value(csms: RunningCsms) -> None:
    """The same probe passes after the values the fuzzers sent that did no harm."""
    websocket = await open_cp(csms, "FUZZ-OK")
    try:
        for payload in (
            {"connectorId": 2**63 - 1, "errorCode": "NoError", "status": "Available"},
            {"connectorId": 1, "errorCode": "NoError", "status": "Faulted", "info": "\x00🔌"},
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": NOW},
        ):
            assert (await call(websocket, "StatusNotification", payload))[0] == 3
    finally:
        await websocket.close()
    await views_keep_deriving(csms, "after-extremes")


# -- the API's schema


async def test_api_schema_documents_the_statuses_it_answers(csms: RunningCsms) -> None:
    unknown = await csms.api.get("/api/v1/charge-points/NO-SUCH-CP/frames")
    anonymous = await csms.api.get("/api/v1/charge-points", headers={"Authorization": ""})
    assert (unknown.status_code, anonymous.status_code) == (404, 401)
    schema = (await csms.api.get("/openapi.json")).json()
    frames = schema["paths"]["/api/v1/charge-points/{charge_point_id}/frames"]["get"]
    listing = schema["paths"]["/api/v1/charge-points"]["get"]
    assert "404" in frames["responses"]
    assert "401" in listing["responses"]


# -- memory per charge point id


async def test_memory_does_not_grow_with_every_new_charge_point_id(
    unlimited: RunningCsms,
) -> None:
    app, url = unlimited.app, unlimited.ocpp_url

    async def visit(number: int) -> None:
        async with connect(f"{url}/ID-{number:06d}", subprotocols=["ocpp1.6"]) as websocket:  # type: ignore[list-item]
            await websocket.send('[2,"h","Heartbeat",{}]')
            await asyncio.wait_for(websocket.recv(), 10)

    # traced from the start, so what a bounded cache (urllib's, SQLite's statements)
    # replaces after the warm-up has filled it counts as freed
    tracemalloc.start()
    try:
        for number in range(WARM_UP):  # warm-up: caches, pools, the first states
            await visit(number)
        await app.derivation.processor.process_available()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for number in range(WARM_UP, WARM_UP + FRESH_IDS):
            await visit(number)
        await app.derivation.processor.process_available()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100 * FRESH_IDS, f"{grown / FRESH_IDS:.0f} bytes per new charge point id"


async def test_a_charge_point_cannot_grow_its_state_with_endless_connector_ids(
    unlimited: RunningCsms,
) -> None:
    csms = unlimited
    websocket = await open_cp(csms, "FUZZ-CONNECTORS")
    try:
        for connector in range(1, 301):
            status = {"connectorId": connector, "errorCode": "NoError", "status": "Available"}
            assert (await call(websocket, "StatusNotification", status))[0] == 3
    finally:
        await websocket.close()

    async def connectors() -> int:
        response = await csms.api.get("/api/v1/charge-points/FUZZ-CONNECTORS")
        state = response.json().get("state") or {}
        return len(state.get("connectors") or ())

    await eventually(connectors, timeout=10)  # derived
    assert await connectors() <= MAX_CONNECTORS
