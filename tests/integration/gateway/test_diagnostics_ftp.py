"""Diagnostics over FTP with a real WebSocket charge point and Python's ftplib: GetDiagnostics
through the API carries a one-time ftp:// location of the embedded CSMS, the file stored there
is listed and downloadable, and the FTP server refuses a second login with the same
credentials, oversize files, paths out of its root and every command an upload needs not."""

from __future__ import annotations

import asyncio
import ftplib
import hashlib
import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chargestream.domain.settings import Settings
from tests.conftest import RunningCsms, free_port, make_settings
from tests.integration.gateway.test_diagnostics import CONTENT, MAX_BYTES, diagnostics_charge_point


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", upload_max_bytes=MAX_BYTES, ftp_port=free_port())


async def ftp_location(csms: RunningCsms, cp_id: str) -> tuple[str, str]:
    """Request diagnostics over FTP; the file id and the location the charge point got."""
    async with diagnostics_charge_point(csms.ocpp_url, cp_id) as cp:
        response = await csms.api.post(
            f"/api/v1/charge-points/{cp_id}/diagnostics", json={"protocol": "ftp"}
        )
        assert response.status_code == 200, response.text
        ((action, payload),) = cp.received
    assert action == "GetDiagnostics"
    return response.json()["file_id"], payload["location"]


def login(location: str) -> ftplib.FTP:
    """A logged-in session on the location's server (blocking: run it in a thread)."""
    parts = urlsplit(location)
    assert parts.hostname and parts.port and parts.username and parts.password
    ftp = ftplib.FTP()
    ftp.connect(parts.hostname, parts.port, timeout=10)
    try:
        ftp.login(parts.username, parts.password)
    except BaseException:
        ftp.close()
        raise
    return ftp


def two_sessions_at_once(location: str) -> tuple[str, str]:
    """Both log in before either stores: the first file is kept, the second refused."""
    with login(location) as first, login(location) as second:
        kept = first.storbinary("STOR diag.tar.gz", io.BytesIO(CONTENT))
        try:
            refused = second.storbinary("STOR other.log", io.BytesIO(b"other"))
        except ftplib.error_perm as error:
            refused = str(error)
    return kept, refused


def store(location: str, name: str, content: bytes, *, passive: bool = True) -> str:
    """STOR ``content`` as ``name`` in a new session; the server's last answer."""
    with login(location) as ftp:
        ftp.set_pasv(passive)
        return ftp.storbinary(f"STOR {name}", io.BytesIO(content))


async def test_ftp_upload_is_listed_downloadable_and_single_use(
    csms: RunningCsms, csms_settings: Settings
) -> None:
    file_id, location = await ftp_location(csms, "CP-F1")
    parts = urlsplit(location)
    assert parts.scheme == "ftp" and parts.path == "/"
    assert (parts.hostname, parts.port) == ("127.0.0.1", csms_settings.ftp_port)

    kept, refused = await asyncio.to_thread(two_sessions_at_once, location)
    assert kept.startswith("226") and refused.startswith("550")
    assert not list((csms_settings.data_dir / "diagnostics").rglob("*.part"))  # none left

    (listed,) = (await csms.api.get("/api/v1/charge-points/CP-F1/diagnostics")).json()
    assert listed["file_id"] == file_id
    assert (listed["file_name"], listed["size"]) == ("diag.tar.gz", len(CONTENT))
    assert listed["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    download = await csms.api.get(f"/api/v1/charge-points/CP-F1/diagnostics/{file_id}")
    assert download.status_code == 200 and download.content == CONTENT

    with pytest.raises(ftplib.error_perm, match=r"^530"):  # the same credentials, once more
        await asyncio.to_thread(login, location)
    forged = location.replace(f":{parts.password}@", f":{parts.password[:-2]}xx@")
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        await asyncio.to_thread(login, forged)


async def test_ftp_refuses_oversize_files_and_leaves_the_location_usable(
    csms: RunningCsms,
) -> None:
    _, location = await ftp_location(csms, "CP-F2")
    with pytest.raises((ftplib.error_temp, OSError)):
        await asyncio.to_thread(store, location, "big.log", b"x" * (MAX_BYTES + 1))
    assert (await csms.api.get("/api/v1/charge-points/CP-F2/diagnostics")).json() == []

    answer = await asyncio.to_thread(store, location, "small.log", b"small", passive=False)
    assert answer.startswith("226")  # in active mode too
    listing = (await csms.api.get("/api/v1/charge-points/CP-F2/diagnostics")).json()
    assert [(f["file_name"], f["size"]) for f in listing] == [("small.log", 5)]


def hostile_session(location: str) -> dict[str, str]:
    """What the server answers a client that tries more than one upload."""
    answers: dict[str, str] = {}
    with login(location) as ftp:
        for command in ("LIST", "RETR diag.tar.gz", "DELE x", "MKD sub", "SITE CHMOD 777 x"):
            try:
                answers[command] = ftp.sendcmd(command)
            except ftplib.error_perm as refused:
                answers[command] = str(refused)
        for name in ("../../api-token", "../x", "sub/x.log", "..\\x", "/etc/passwd"):
            try:
                answers[f"STOR {name}"] = ftp.storbinary(f"STOR {name}", io.BytesIO(b"evil"))
            except ftplib.error_perm as refused:
                answers[f"STOR {name}"] = str(refused)
        try:
            ftp.cwd("/etc")
        except ftplib.error_perm as refused:
            answers["CWD /etc"] = str(refused)
        answers["CWD /"] = ftp.cwd("/")  # what some clients do first: the root is there
        answers["PWD"] = ftp.pwd()
        answers["STOR ok.log"] = ftp.storbinary("STOR ok.log", io.BytesIO(b"fine"))
        try:
            ftp.storbinary("STOR again.log", io.BytesIO(b"second"))
        except ftplib.error_perm as refused:
            answers["STOR again.log"] = str(refused)
    return answers


async def test_ftp_refuses_paths_out_of_its_root_and_other_commands(
    csms: RunningCsms, csms_settings: Settings
) -> None:
    _, location = await ftp_location(csms, "CP-F3")
    answers = await asyncio.to_thread(hostile_session, location)
    for command in ("LIST", "RETR diag.tar.gz", "DELE x", "MKD sub", "SITE CHMOD 777 x"):
        assert answers[command].startswith("500"), (command, answers[command])
    for name in ("../../api-token", "../x", "sub/x.log", "..\\x", "/etc/passwd"):
        assert answers[f"STOR {name}"].startswith("550"), (name, answers[f"STOR {name}"])
    assert answers["CWD /etc"].startswith("550") and answers["CWD /"].startswith("250")
    assert answers["PWD"] == "/"
    assert answers["STOR ok.log"].startswith("226")
    assert answers["STOR again.log"].startswith("550")  # one file per location

    listing = (await csms.api.get("/api/v1/charge-points/CP-F3/diagnostics")).json()
    assert [(f["file_name"], f["size"]) for f in listing] == [("ok.log", 4)]
    data_dir = csms_settings.data_dir.resolve()
    assert all(p.resolve().is_relative_to(data_dir) for p in data_dir.parent.rglob("*"))
    assert not any(p.name in ("x", "x.log", "passwd") for p in data_dir.parent.rglob("*"))
