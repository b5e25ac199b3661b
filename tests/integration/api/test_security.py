"""Safe to expose, over real HTTP and WebSockets: the token, who sent a command, the
security headers, separate listeners and private data files of a running embedded CSMS."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import stat
from pathlib import Path

import httpx
import pytest
from ocpp.v16 import call

from chargestream.api.security import API_POLICY, DOCS_POLICY
from chargestream.app.embedded import EmbeddedCsms
from tests.conftest import RunningCsms, make_settings
from tests.ocpp_client import charge_point

COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


async def boot(cp) -> None:  # type: ignore[no-untyped-def]
    await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))


# -- who sent a command


async def test_every_command_records_who_sent_it(csms: RunningCsms) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        await boot(cp)
        by_token = await csms.api.post("/api/v1/charge-points/CP-1/commands/ClearCache")
        by_alice = await csms.api.post(
            "/api/v1/charge-points/CP-1/commands/ClearCache",
            headers={"X-Chargestream-Operator": "alice@depot-1"},
        )
    rejected = await csms.api.post(
        "/api/v1/charge-points/CP-1/commands/Reset",
        json={"type": "Hard-ish"},
        headers={"X-Chargestream-Operator": "Bob O'Neil"},
    )
    offline = await csms.api.post(
        "/api/v1/charge-points/CP-1/commands/Reset",
        json={"type": "Soft"},
        headers={"X-Chargestream-Operator": "carol"},
    )
    assert (by_token.status_code, by_token.json()["sent_by"]) == (200, "api")
    assert (by_alice.status_code, by_alice.json()["sent_by"]) == (200, "operator:alice@depot-1")
    assert (rejected.status_code, rejected.json()["sent_by"]) == (422, "operator:Bob O'Neil")
    assert (offline.status_code, offline.json()["sent_by"]) == (409, "operator:carol")

    log = (await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-1"})).json()
    assert [(c["outcome"], c["sent_by"]) for c in log] == [
        ("not_connected", "operator:carol"),
        ("rejected", "operator:Bob O'Neil"),
        ("answered", "operator:alice@depot-1"),
        ("answered", "api"),
    ]
    stored = await csms.app.store.commands("CP-1")
    assert [c.sent_by for c in stored] == [c["sent_by"] for c in log]


@pytest.mark.parametrize(
    "operator",
    [
        "x" * 65,  # too long
        "tab\there",  # a control character
        "",  # empty
        "zoë",  # not ASCII (arrives as latin-1 bytes)
    ],
)
async def test_an_unusable_operator_header_is_refused_and_nothing_is_sent(
    csms: RunningCsms, operator: str
) -> None:
    assert (await csms.api.put("/api/v1/charge-points/CP-1", json={})).status_code == 200
    headers = {"X-Chargestream-Operator": operator.encode("utf-8")}
    response = await csms.api.post(
        "/api/v1/charge-points/CP-1/commands/ClearCache",
        headers=headers,  # type: ignore[arg-type]
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["header", "X-Chargestream-Operator"]
    assert await csms.app.store.commands() == []


async def test_the_operator_header_does_not_replace_the_token(csms: RunningCsms) -> None:
    async with httpx.AsyncClient(base_url=str(csms.api.base_url)) as anonymous:
        response = await anonymous.post(
            "/api/v1/charge-points/CP-1/commands/ClearCache",
            headers={"X-Chargestream-Operator": "alice"},
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert await csms.app.store.commands() == []


# -- security headers


async def test_every_response_has_the_security_headers(csms: RunningCsms) -> None:
    async with httpx.AsyncClient(base_url=str(csms.api.base_url)) as anonymous:
        answers = {
            "api": await csms.api.get("/api/v1/charge-points"),
            "api 401": await anonymous.get("/api/v1/charge-points"),
            "api 404": await csms.api.get("/api/v1/charge-points/NOPE"),
            "api 422": await csms.api.get("/api/v1/commands", params={"limit": 0}),
            "healthz": await anonymous.get("/healthz"),
            "metrics": await anonymous.get("/metrics"),
            "openapi": await anonymous.get("/openapi.json"),
            "no route": await anonymous.get("/nothing-here"),
            "docs": await anonymous.get("/docs"),
            "docs script": await anonymous.get("/docs/init.js"),
        }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "api": 200,
        "api 401": 401,
        "api 404": 404,
        "api 422": 422,
        "healthz": 200,
        "metrics": 200,
        "openapi": 200,
        "no route": 404,
        "docs": 200,
        "docs script": 200,
    }
    for name, answer in answers.items():
        for header, value in COMMON_HEADERS.items():
            assert answer.headers.get(header) == value, (name, header)
        policy = DOCS_POLICY if name == "docs" else API_POLICY
        assert answer.headers["content-security-policy"] == policy, name
        no_store = answer.headers.get("cache-control") == "no-store"
        assert no_store is name.startswith("api"), name


async def test_the_docs_page_loads_only_what_its_policy_allows(csms: RunningCsms) -> None:
    page = (await csms.api.get("/docs")).text
    assert "<script>" not in page  # no inline script: the policy allows none
    assert "https://" not in page  # nothing from elsewhere: /docs works offline
    policy = dict(
        directive.strip().split(" ", 1) for directive in DOCS_POLICY.split(";") if directive
    )
    assert policy["script-src"] == policy["style-src"] == "'self'"
    for kind, media in (("script src=", "javascript"), ('stylesheet" href=', "css")):
        start = page.index(kind) + len(kind) + 1
        url = page[start : page.index('"', start)]
        asset = await csms.api.get(f"/{url}")
        assert asset.status_code == 200 and media in asset.headers["content-type"]
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert f'integrity="sha384-{digest}"' in page[start : page.index(">", start)]
    assert 'src="docs/init.js"' in page
    assert (await csms.api.get("/docs/assets/..%2Fmain.py")).status_code == 404
    schema = (await csms.api.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# -- separate listeners


def _addresses_of_port(port: int) -> set[str]:
    """The IPv4 addresses TCP sockets listen on at ``port``, as the kernel lists them."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port_hex = fields[1].split(":")
        if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
    return found


async def test_ocpp_and_api_listen_on_their_own_addresses(tmp_path: Path) -> None:
    app = EmbeddedCsms(make_settings(tmp_path, ocpp_host="0.0.0.0", api_host="127.0.0.1"))
    addresses = await app.start()
    try:
        assert _addresses_of_port(addresses.ocpp_port) == {"0.0.0.0"}
        assert _addresses_of_port(addresses.api_port) == {"127.0.0.1"}
    finally:
        await app.stop()
    defaults = EmbeddedCsms(make_settings(tmp_path / "defaults"))
    addresses = await defaults.start()
    try:
        assert _addresses_of_port(addresses.ocpp_port) == {"127.0.0.1"}
        assert _addresses_of_port(addresses.api_port) == {"127.0.0.1"}
    finally:
        await defaults.stop()


# -- private data files


def _modes(directory: Path) -> dict[str, int]:
    """Files in ``directory`` and below (``pki/ca.pem``) by name, with their modes;
    the directories in it must be 0700."""
    modes = {}
    for path in directory.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        else:
            modes[str(path.relative_to(directory))] = mode
    return modes


async def test_the_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    old_umask = os.umask(0o002)  # even a permissive umask
    try:
        app = EmbeddedCsms(make_settings(data_dir))
        addresses = await app.start()
    finally:
        os.umask(old_umask)
    try:
        async with charge_point(f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp", "CP-F") as cp:
            await boot(cp)
        modes = _modes(data_dir)
        assert {"events.db", "events.db-wal", "chargestream.db", "chargestream.db-wal"} <= set(
            modes
        )
        assert {"pki/ca.pem", "pki/ca-key.pem", "pki/server-key.pem"} <= set(modes)
        assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(data_dir.parent.stat().st_mode) == 0o700  # made by us, too
    finally:
        await app.stop()


async def test_files_an_earlier_version_left_readable_are_narrowed(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    data_dir.mkdir()
    data_dir.chmod(0o755)  # the operator's own directory
    first = EmbeddedCsms(make_settings(data_dir))
    await first.start()
    await first.stop()
    for name in ("events.db", "chargestream.db"):
        os.chmod(data_dir / name, 0o644)
    second = EmbeddedCsms(make_settings(data_dir))
    await second.start()
    try:
        modes = _modes(data_dir)
        assert modes["events.db"] == modes["chargestream.db"] == 0o600
        assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o755  # kept: we did not make it
    finally:
        await second.stop()
