"""The diagnostics service: the location it sends, and uploads fed in small chunks (a
multipart boundary or header split anywhere) stored off the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chargestream.api.services.diagnostics import (
    DiagnosticsService,
    InvalidUpload,
    MalformedUpload,
    UsedUpload,
)
from chargestream.domain.diagnostics import mint_token, read_token, upload_key
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService
from chargestream.gateway.connection import Reply
from chargestream.gateway.ocppj import CallResult
from chargestream.storage.diagnostics import TooLarge
from chargestream.storage.sqlite import SqliteStore
from tests.unit.api.conftest import NOW, fixed_clock

TOKEN = "unit-api-token-0123456789"
CONTENT = bytes(range(256)) * 40


def service(tmp_path: Path, store: SqliteStore, sent: list[Any], **overrides: Any) -> Any:
    async def deliver(cp: str, action: str, payload: object, timeout: float) -> Reply:
        sent.append((cp, action, payload))
        return Reply(CallResult("m1", {}))

    settings = Settings(
        node_id="unit", api_token=TOKEN, data_dir=tmp_path, upload_max_bytes=20_000, **overrides
    )
    return DiagnosticsService(settings, CommandService(deliver, store, timeout=1), fixed_clock)


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def multipart(name: str) -> tuple[bytes, str]:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nfirst\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="'
        + name.encode()
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + CONTENT
        + b"\r\n--XyZ--\r\n"
    )
    return body, "multipart/form-data; boundary=XyZ"


async def test_the_location_carries_a_token_for_the_charge_point(
    tmp_path: Path, store: SqliteStore
) -> None:
    sent: list[Any] = []
    diagnostics = service(tmp_path, store, sent, upload_url="https://csms.example/")
    grant, command = await diagnostics.request(
        "CP-1", {"retries": 3, "start_time": NOW}, "http://ignored", None, sent_by="api"
    )
    assert command.outcome == "answered"
    ((cp, action, payload),) = sent
    assert (cp, action) == ("CP-1", "GetDiagnostics")
    assert payload["retries"] == 3 and payload["startTime"] == "2026-11-27T10:00:00Z"
    prefix = "https://csms.example/uploads/"
    assert payload["location"].startswith(prefix) and payload["location"].endswith("/")
    token = payload["location"][len(prefix) : -1]
    assert read_token(upload_key(TOKEN), token, NOW) == grant


@pytest.mark.parametrize("size", [1, 7, 4096])
async def test_a_multipart_upload_in_any_chunks(
    tmp_path: Path, store: SqliteStore, size: int
) -> None:
    diagnostics = service(tmp_path, store, [])
    grant, _ = await diagnostics.request("CP-1", {}, "http://h/", None, sent_by="api")
    token = mint_token(upload_key(TOKEN), grant)
    body, content_type = multipart("logs/diag.zip")
    record = await diagnostics.receive(token, chunks(body, size), content_type, None)
    assert (record.file_name, record.size) == ("diag.zip", len(CONTENT))
    _, path = await diagnostics.file("CP-1", grant.file_id)
    assert path.read_bytes() == CONTENT
    with pytest.raises(UsedUpload):
        await diagnostics.receive(token, chunks(b"x", 1), None, None)


async def test_refusals(tmp_path: Path, store: SqliteStore) -> None:
    diagnostics = service(tmp_path, store, [])
    grant, _ = await diagnostics.request("CP-1", {}, "http://h/", None, sent_by="api")
    token = mint_token(upload_key(TOKEN), grant)
    with pytest.raises(InvalidUpload):
        await diagnostics.receive(token + "x", chunks(b"x", 1), None, None)
    with pytest.raises(TooLarge):
        await diagnostics.receive(token, chunks(b"x" * 20_001, 1000), None, None)
    body, content_type = multipart("a.log")
    with pytest.raises(MalformedUpload):
        await diagnostics.receive(
            token, chunks(body.replace(b"filename", b"f"), 50), content_type, None
        )
    with pytest.raises(MalformedUpload):
        await diagnostics.receive(token, chunks(b"", 1), "multipart/form-data", None)
    assert await diagnostics.listing("CP-1") == []
    assert [p for p in (tmp_path / "diagnostics").rglob("*") if p.is_file()] == []
    record = await diagnostics.receive(token, chunks(b"ok", 1), None, "name.txt")
    assert record.file_name == "name.txt"
