"""Charge point passwords over real WebSockets and HTTP against the embedded CSMS: rotation
with ChangeConfiguration AuthorizationKey (the old key works until the first connect with
the new one; the hex-decoded key works too; a refused change keeps the old), the
rotate-password endpoint, 16 characters at least, and no key in clear anywhere the CSMS
keeps or shows data."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from chargestream.domain.passwords import hash_charge_point_password, hash_password
from tests.conftest import RunningCsms, eventually

PASSWORD = "old-password-0123456789"
BOOT = {"chargePointVendor": "ABB", "chargePointModel": "T54"}


def basic(charge_point_id: str, password: bytes) -> dict[str, str]:
    token = base64.b64encode(charge_point_id.encode() + b":" + password).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def connected(
    csms: RunningCsms, charge_point_id: str, password: str | bytes
) -> AsyncIterator[ClientConnection]:
    """A charge point connected with this Basic-auth password, booted."""
    secret = password.encode() if isinstance(password, str) else password
    async with connect(
        csms.url(charge_point_id),
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=basic(charge_point_id, secret),
        open_timeout=30,
    ) as websocket:
        await websocket.send(orjson.dumps([2, "b1", "BootNotification", BOOT]).decode())
        answer = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
        assert answer[:2] == [3, "b1"] and answer[2]["status"] == "Accepted"
        yield websocket


async def refused(csms: RunningCsms, charge_point_id: str, password: str | bytes) -> int:
    """The HTTP status of a handshake that must be refused."""
    with pytest.raises(InvalidStatus) as refusal:
        async with connected(csms, charge_point_id, password):
            pass
    return refusal.value.response.status_code


async def answered(
    websocket: ClientConnection, request: Any, answer: dict[str, Any]
) -> tuple[httpx.Response, dict[str, Any]]:
    """Wait for the CSMS's CALL while ``request`` (an API call) runs; answer it; return the
    API's response and the CALL's payload."""
    task = asyncio.ensure_future(request)
    call = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
    assert call[0] == 2
    await websocket.send(orjson.dumps([3, call[1], answer]).decode())
    return await asyncio.wait_for(task, 10), call[3]


async def register(csms: RunningCsms, charge_point_id: str) -> None:
    response = await csms.api.put(
        f"/api/v1/charge-points/{charge_point_id}", json={"password": PASSWORD}
    )
    assert response.status_code == 200, response.text


async def test_rotation_keeps_the_old_key_until_the_first_connect_with_the_new_one(
    csms: RunningCsms,
) -> None:
    await register(csms, "CP-R")
    async with connected(csms, "CP-R", PASSWORD) as websocket:
        response, call = await answered(
            websocket,
            csms.api.post("/api/v1/charge-points/CP-R/rotate-password"),
            {"status": "Accepted"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "answered" and body["response"] == {"status": "Accepted"}
    key = call["value"]
    assert call["key"] == "AuthorizationKey" and len(key) == 40 and bytes.fromhex(key)
    assert key not in response.text
    logged = (await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-R"})).json()
    assert logged[0]["sent_by"] == "api"

    async with connected(csms, "CP-R", PASSWORD):  # the old key still works
        pass
    async with connected(csms, "CP-R", bytes.fromhex(key)):  # the key's bytes, not UTF-8
        pass
    assert await refused(csms, "CP-R", PASSWORD) == 401  # the first connect ended it
    async with connected(csms, "CP-R", key):  # the key as text
        pass
    stored = await csms.app.store.get_registration("CP-R")
    assert stored is not None and stored.next_password_hash is None


async def test_rotation_with_the_command_api_and_reboot_required_stores_the_key(
    csms: RunningCsms,
) -> None:
    await register(csms, "CP-C")
    key = "command-api-key-0123456789"
    async with connected(csms, "CP-C", PASSWORD) as websocket:
        response, _ = await answered(
            websocket,
            csms.api.post(
                "/api/v1/charge-points/CP-C/commands/ChangeConfiguration",
                json={"key": "AuthorizationKey", "value": key},
            ),
            {"status": "RebootRequired"},
        )
    assert response.status_code == 200 and key not in response.text
    async with connected(csms, "CP-C", key):
        pass
    assert await refused(csms, "CP-C", PASSWORD) == 401


@pytest.mark.parametrize("status", ["Rejected", "NotSupported"])
async def test_a_refused_change_keeps_the_old_key(csms: RunningCsms, status: str) -> None:
    await register(csms, "CP-N")
    async with connected(csms, "CP-N", PASSWORD) as websocket:
        response, call = await answered(
            websocket,
            csms.api.post("/api/v1/charge-points/CP-N/rotate-password"),
            {"status": status},
        )
    assert response.status_code == 200 and response.json()["response"] == {"status": status}
    assert await refused(csms, "CP-N", call["value"]) == 401
    async with connected(csms, "CP-N", PASSWORD):
        pass
    stored = await csms.app.store.get_registration("CP-N")
    assert stored is not None and stored.next_password_hash is None


async def test_rotate_password_is_404_for_an_unknown_and_409_for_an_absent_charge_point(
    csms: RunningCsms,
) -> None:
    unknown = await csms.api.post("/api/v1/charge-points/CP-NOBODY/rotate-password")
    assert unknown.status_code == 404
    await register(csms, "CP-AWAY")
    away = await csms.api.post("/api/v1/charge-points/CP-AWAY/rotate-password")
    assert away.status_code == 409 and away.json()["outcome"] == "not_connected"
    stored = await csms.app.store.get_registration("CP-AWAY")
    assert stored is not None and stored.next_password_hash is None


async def test_a_password_shorter_than_16_characters_is_refused(csms: RunningCsms) -> None:
    short = await csms.api.put("/api/v1/charge-points/CP-S", json={"password": "fifteen-chars!!"})
    assert short.status_code == 422 and "at least 16 characters" in short.text
    assert "fifteen-chars!!" not in short.text  # the value is not sent back
    await register(csms, "CP-S")
    async with connected(csms, "CP-S", PASSWORD) as websocket:
        response = await csms.api.post(
            "/api/v1/charge-points/CP-S/commands/ChangeConfiguration",
            json={"key": "AuthorizationKey", "value": "fifteen-chars!!"},
        )
        assert response.status_code == 422
        assert "16 to 40 characters" in response.json()["error"]
        await websocket.send(orjson.dumps([2, "h1", "Heartbeat", {}]).decode())
        assert orjson.loads(await asyncio.wait_for(websocket.recv(), 10))[:2] == [3, "h1"]


async def test_an_older_short_password_keeps_working(csms: RunningCsms) -> None:
    await csms.api.put("/api/v1/charge-points/CP-OLD", json={})
    registration = await csms.app.store.get_registration("CP-OLD")
    assert registration is not None
    await csms.app.directory.register(
        type(registration)("CP-OLD", password_hash=hash_password("eight-ch", iterations=1000))
    )
    async with connected(csms, "CP-OLD", "eight-ch"):
        pass


async def test_a_password_that_is_not_utf8_is_refused_without_harm(csms: RunningCsms) -> None:
    await register(csms, "CP-U")
    assert await refused(csms, "CP-U", b"\xff\xfe\x00not-utf8") == 401
    async with connected(csms, "CP-U", PASSWORD):
        pass


async def test_no_key_in_clear_in_the_log_the_store_frames_commands_or_logs(
    csms: RunningCsms, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await register(csms, "CP-X")
    key = "visible-nowhere-0123456789"
    async with connected(csms, "CP-X", PASSWORD) as websocket:
        await answered(
            websocket,
            csms.api.post(
                "/api/v1/charge-points/CP-X/commands/ChangeConfiguration",
                json={"key": "AuthorizationKey", "value": key},
            ),
            {"status": "Accepted"},
        )
        response, _ = await answered(  # a charger that should not, and does, show it
            websocket,
            csms.api.post("/api/v1/charge-points/CP-X/commands/GetConfiguration", json={}),
            {"configurationKey": [{"key": "AuthorizationKey", "readonly": False, "value": key}]},
        )
        assert response.status_code == 200
        assert response.json()["response"]["configurationKey"][0]["value"] == "[redacted]"

    async def frames_listed() -> list[dict[str, Any]]:
        response = await csms.api.get("/api/v1/charge-points/CP-X/frames")
        listed: list[dict[str, Any]] = response.json()
        return listed if len(listed) >= 6 else []

    listed = await eventually(frames_listed)
    assert any("[redacted]" in f["frame"] for f in listed)
    commands = await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-X"})
    for text in (orjson.dumps(listed).decode(), commands.text, caplog.text):
        assert key not in text
    stored = await csms.app.store.commands("CP-X")
    assert key not in repr(stored)
    for path in csms.app.settings.data_dir.rglob("*"):  # the log and store, WAL files too
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


async def test_a_rotation_stored_by_another_process_works_at_the_first_connect(
    csms: RunningCsms,
) -> None:
    await register(csms, "CP-O")
    async with connected(csms, "CP-O", PASSWORD):  # its registration is cached now
        pass
    current = await csms.app.store.get_registration("CP-O")
    assert current is not None
    key = "rotated-on-another-node-0123"
    await csms.app.store.put_registration(  # as another gateway node does: no cache told
        replace(current, next_password_hash=hash_charge_point_password(key))
    )
    async with connected(csms, "CP-O", key):
        pass
    assert await refused(csms, "CP-O", PASSWORD) == 401


async def test_an_unanswered_change_keeps_the_old_key_and_forgets_the_new(
    csms: RunningCsms,
) -> None:
    await register(csms, "CP-T")
    async with connected(csms, "CP-T", PASSWORD) as websocket:
        rotating = asyncio.ensure_future(
            csms.api.post("/api/v1/charge-points/CP-T/rotate-password", params={"timeout": 1})
        )
        call = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
        response = await asyncio.wait_for(rotating, 10)  # the charge point never answers
    assert response.status_code == 504 and response.json()["outcome"] == "timed_out"
    assert await refused(csms, "CP-T", call[3]["value"]) == 401
    async with connected(csms, "CP-T", PASSWORD):
        pass


async def test_a_charge_point_that_reconnects_with_the_new_key_before_answering_keeps_it(
    csms: RunningCsms,
) -> None:
    await register(csms, "CP-K")
    async with connected(csms, "CP-K", PASSWORD) as websocket:
        rotating = asyncio.ensure_future(
            csms.api.post("/api/v1/charge-points/CP-K/rotate-password")
        )
        call = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
        key = call[3]["value"]
        async with connected(csms, "CP-K", key):  # it applied the key and reconnected at once
            response = await asyncio.wait_for(rotating, 10)
            assert response.json()["outcome"] == "connection_lost"
    async with connected(csms, "CP-K", key):
        pass
    assert await refused(csms, "CP-K", PASSWORD) == 401


async def test_a_charge_point_not_registered_gets_no_password(csms: RunningCsms) -> None:
    async def seen() -> bool:  # the processor has derived the connection
        return (await csms.api.get("/api/v1/charge-points/CP-FREE")).status_code == 200

    async with connect(csms.url("CP-FREE"), subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        await eventually(seen)
        response = await csms.api.post(  # no BootNotification: it stays unregistered
            "/api/v1/charge-points/CP-FREE/commands/ChangeConfiguration",
            json={"key": "AuthorizationKey", "value": "free-charger-key-0123"},
        )
    assert response.status_code == 422
    assert response.json()["error"] == "register the charge point before setting its password"
    assert await csms.app.store.get_registration("CP-FREE") is None
