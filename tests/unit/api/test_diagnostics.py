"""The diagnostics service: the location it sends, and uploads fed in small chunks (a
multipart boundary or header split anywhere) stored off the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from chargestream.api.services.diagnostics import (
    DiagnosticsService,
    FtpListener,
    InvalidUpload,
    MalformedUpload,
    UsedUpload,
)
from chargestream.api.services.errors import NotAvailable
from chargestream.domain.diagnostics import (
    mint_token,
    read_token,
    token_from_credentials,
    upload_key,
)
from chargestream.domain.diagnostics_request import log_request_id
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import ChargePointState
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService
from chargestream.gateway.connection import Reply
from chargestream.gateway.ocppj import CallResult
from chargestream.storage.diagnostics import TooLarge
from chargestream.storage.sqlite import SqliteStore
from tests.ocpp201_frames import valid
from tests.unit.api.conftest import NOW, fixed_clock

TOKEN = "unit-api-token-0123456789"
CONTENT = bytes(range(256)) * 40


class Listening:
    """Where an FTP server listens (the service reads only its port)."""

    def __init__(self, port: int | None) -> None:
        self.port = port


def service(
    tmp_path: Path,
    store: SqliteStore,
    sent: list[Any],
    ftp: FtpListener | None = None,
    **overrides: Any,
) -> Any:
    async def deliver(cp: str, action: str, payload: object, timeout: float) -> Reply:
        sent.append((cp, action, payload))
        return Reply(CallResult("m1", {}))

    settings = Settings(
        node_id="unit", api_token=TOKEN, data_dir=tmp_path, upload_max_bytes=20_000, **overrides
    )
    commands = CommandService(deliver, store, timeout=1)
    return DiagnosticsService(settings, commands, fixed_clock, ftp=ftp)


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


async def test_a_201_charge_point_gets_get_log_with_the_same_location(
    tmp_path: Path, store: SqliteStore
) -> None:
    await store.upsert([ChargePointState("CP-1", ocpp_version=OcppVersion.V201)])
    sent: list[Any] = []
    diagnostics = service(tmp_path, store, sent, upload_url="https://csms.example/")
    options = {"retries": 3, "retry_interval": 60, "start_time": NOW, "stop_time": NOW}
    grant, _ = await diagnostics.request("CP-1", options, "http://ignored", None, sent_by="api")
    ((_, action, payload),) = sent
    assert action == "GetLog"
    assert valid("GetLog", payload) == {
        "logType": "DiagnosticsLog",
        "requestId": log_request_id(grant.file_id),
        "log": {
            "remoteLocation": payload["log"]["remoteLocation"],
            "oldestTimestamp": "2026-11-27T10:00:00Z",
            "latestTimestamp": "2026-11-27T10:00:00Z",
        },
        "retries": 3,
        "retryInterval": 60,
    }
    token = payload["log"]["remoteLocation"].removeprefix("https://csms.example/uploads/")
    assert read_token(upload_key(TOKEN), token.rstrip("/"), NOW) == grant


@pytest.mark.parametrize(
    ("overrides", "base_url", "address"),
    [
        ({}, "http://csms.example:8080/", "csms.example:2121"),
        ({}, "http://[::1]:8080/", "[::1]:2121"),
        ({"ftp_url": "ftp://ftp.example:21"}, "http://ignored/", "ftp.example:21"),
        ({"diagnostics_protocol": "ftp"}, "http://10.0.0.5/", "10.0.0.5:2121"),
    ],
)
async def test_an_ftp_location_carries_the_token_as_user_and_password(
    tmp_path: Path, store: SqliteStore, overrides: dict[str, Any], base_url: str, address: str
) -> None:
    sent: list[Any] = []
    diagnostics = service(tmp_path, store, sent, Listening(2121), **overrides)
    options = {} if overrides.get("diagnostics_protocol") else {"protocol": "ftp"}
    grant, _ = await diagnostics.request("CP-1", options, base_url, None, sent_by="api")
    ((_, _, payload),) = sent
    location = urlsplit(payload["location"])
    assert (location.scheme, location.path) == ("ftp", "/")
    assert location.netloc.endswith(f"@{address}")
    assert location.username and location.password
    token = token_from_credentials(location.username, location.password)
    assert read_token(upload_key(TOKEN), token, NOW) == grant


@pytest.mark.parametrize("ftp", [None, Listening(None)])
async def test_ftp_without_an_ftp_server_is_not_available(
    tmp_path: Path, store: SqliteStore, ftp: FtpListener | None
) -> None:
    sent: list[Any] = []
    diagnostics = service(tmp_path, store, sent, ftp)
    with pytest.raises(NotAvailable, match="no FTP upload server"):
        await diagnostics.request("CP-1", {"protocol": "ftp"}, "http://x/", None, sent_by="api")
    assert sent == []  # nothing was sent to the charge point


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
