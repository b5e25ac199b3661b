"""Diagnostics uploads over a real WebSocket charge point and real HTTP: GetDiagnostics
through the API carries a one-time upload location of the CSMS, the file uploaded there
(PUT or multipart POST) is listed and downloadable, DiagnosticsStatusNotification is
tracked, and the upload endpoint refuses what it must."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from chargestream.domain.settings import Settings
from tests.conftest import RunningCsms, eventually, make_settings
from tests.ocpp_client import TestChargePoint, booted

CONTENT = b"diagnostics \x00\xff line\n" * 1000
MAX_BYTES = 100_000


class DiagnosticsChargePoint(TestChargePoint):
    """Answers GetDiagnostics and remembers the location it was given."""

    __test__ = False

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **options: Any) -> call_result.GetDiagnostics:
        self.received.append(("GetDiagnostics", {"location": location, **options}))
        return call_result.GetDiagnostics(file_name="diag.tar.gz")


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", upload_max_bytes=MAX_BYTES)


def diagnostics_charge_point(
    url: str, cp_id: str
) -> AbstractAsyncContextManager[DiagnosticsChargePoint]:
    return booted(url, cp_id, DiagnosticsChargePoint)


async def request_location(csms: RunningCsms, cp: DiagnosticsChargePoint) -> tuple[str, str]:
    """POST …/diagnostics; the file id and the location the charge point received."""
    response = await csms.api.post(
        f"/api/v1/charge-points/{cp.id}/diagnostics",
        json={"retries": 2, "start_time": "2026-11-27T10:00:00Z"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["command"]["outcome"] == "answered"
    assert body["command"]["response"] == {"fileName": "diag.tar.gz"}
    action, payload = cp.received[-1]
    assert action == "GetDiagnostics"
    assert payload["retries"] == 2 and payload["start_time"] == "2026-11-27T10:00:00Z"
    return body["file_id"], payload["location"]


async def test_put_upload_is_listed_downloadable_and_single_use(
    csms: RunningCsms, csms_settings: Settings
) -> None:
    async with diagnostics_charge_point(csms.ocpp_url, "CP-D1") as cp:
        file_id, location = await request_location(csms, cp)
        assert location.startswith(str(csms.api.base_url).rstrip("/") + "/uploads/")
        async with httpx.AsyncClient() as charger:  # no bearer token: the location is enough
            answer = await charger.put(location + "diag.tar.gz", content=CONTENT)
            assert answer.status_code == 201, answer.text
            assert answer.json()["sha256"] == hashlib.sha256(CONTENT).hexdigest()
            again = await charger.put(location, content=b"other")
            assert again.status_code == 409
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))

    (listed,) = (await csms.api.get("/api/v1/charge-points/CP-D1/diagnostics")).json()
    assert listed["file_id"] == file_id and listed["charge_point_id"] == "CP-D1"
    assert (listed["file_name"], listed["size"]) == ("diag.tar.gz", len(CONTENT))
    download = await csms.api.get(f"/api/v1/charge-points/CP-D1/diagnostics/{file_id}")
    assert download.status_code == 200 and download.content == CONTENT
    assert 'filename="diag.tar.gz"' in download.headers["content-disposition"]
    async with httpx.AsyncClient(base_url=str(csms.api.base_url)) as anonymous:
        refused = await anonymous.get(f"/api/v1/charge-points/CP-D1/diagnostics/{file_id}")
        assert refused.status_code == 401
    stored = [p for p in (csms_settings.data_dir / "diagnostics").rglob("*") if p.is_file()]
    assert stored and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in stored)

    async def uploaded() -> list[dict[str, Any]]:
        statuses = (await csms.api.get("/api/v1/charge-points/CP-D1/transfer-statuses")).json()
        return [s for s in statuses if s["transfer"] == "diagnostics" and s["status"] == "Uploaded"]

    await eventually(uploaded)


async def test_multipart_post_with_a_hostile_file_name(
    csms: RunningCsms, csms_settings: Settings
) -> None:
    async with diagnostics_charge_point(csms.ocpp_url, "CP-D2") as cp:
        file_id, location = await request_location(csms, cp)
        boundary = "b0undary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="..\\..\\../etc/pass\x01wd.log"\r\n'
                "Content-Type: application/gzip\r\n\r\n"
            ).encode()
            + CONTENT
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        async with httpx.AsyncClient() as charger:
            no_file = body.replace(b"filename=", b"filenam=")
            refused = await charger.post(location, content=no_file, headers=headers)
            assert refused.status_code == 400
            answer = await charger.post(location, content=body, headers=headers)
            assert answer.status_code == 201, answer.text
    (listed,) = (await csms.api.get("/api/v1/charge-points/CP-D2/diagnostics")).json()
    assert listed["file_name"] == "pass_wd.log"
    assert listed["size"] == len(CONTENT)
    download = await csms.api.get(f"/api/v1/charge-points/CP-D2/diagnostics/{file_id}")
    assert download.content == CONTENT
    data_dir = csms_settings.data_dir.resolve()
    assert all(p.resolve().is_relative_to(data_dir) for p in data_dir.parent.rglob("*"))
    assert not any("passwd" in p.name for p in data_dir.parent.rglob("*"))


async def test_wrong_token_oversize_and_foreign_file_are_refused(
    csms: RunningCsms, csms_settings: Settings
) -> None:
    async with diagnostics_charge_point(csms.ocpp_url, "CP-D3") as cp:
        file_id, location = await request_location(csms, cp)
        base = location.rsplit("/uploads/", 1)[0]
        token = location.rstrip("/").rsplit("/", 1)[1]
        async with httpx.AsyncClient() as charger:
            forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
            for bad in (forged, "nothing", "a.b", "x" * 2000):
                wrong = await charger.put(f"{base}/uploads/{bad}/", content=b"x")
                assert wrong.status_code == 404, bad
            too_big = await charger.put(location, content=b"x" * (MAX_BYTES + 1))
            assert too_big.status_code == 413

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted
                for _ in range(MAX_BYTES // 10_000 + 2):
                    yield b"y" * 10_000

            streamed = await charger.put(location, content=chunks())
            assert streamed.status_code == 413
            # an oversize upload leaves the location usable
            sneaky = location + "..%2F..%2F..%2Fapi-token"  # a name that is a path
            assert (await charger.put(sneaky, content=b"small")).status_code == 201
    listing = (await csms.api.get("/api/v1/charge-points/CP-D3/diagnostics")).json()
    assert [(f["size"], f["file_name"]) for f in listing] == [(5, "api-token")]
    data_dir = csms_settings.data_dir
    assert not (data_dir / "api-token").exists() and not (data_dir.parent / "api-token").exists()
    # a file id of another charge point is not found under this one
    other = await csms.api.get(f"/api/v1/charge-points/CP-D1/diagnostics/{file_id}")
    assert other.status_code == 404
    traversal = await csms.api.get("/api/v1/charge-points/CP-D3/diagnostics/..%2F..%2Fapi-token")
    assert traversal.status_code == 404
