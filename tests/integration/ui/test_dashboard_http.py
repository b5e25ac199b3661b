"""The dashboard process over real HTTP: security headers, CORS, XSRF, what is switched off.

The dashboard runs as ``chargestream run`` starts it (``start_ui``: ``streamlit run``
of ui/server.py with the flags of ``ui_command``); no browser session runs a page here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chargestream.app.dashboard import APP, start_ui, stop_ui, ui_command
from chargestream.domain.settings import Settings
from tests.conftest import free_port, make_settings

HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
FOREIGN = "http://attacker.example"
SERVER = Path(__file__).resolve().parents[3] / "ui" / "server.py"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("dashboard") / "data", ui_port=free_port())
    process = start_ui(settings)
    url = f"http://127.0.0.1:{settings.ui_port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            assert process.poll() is None, "the dashboard exited"
            assert time.monotonic() < deadline, "the dashboard did not start within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        stop_ui(process)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok"
    except httpx.HTTPError:
        return False


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    directives = [d.split() for d in response.headers["content-security-policy"].split(";")]
    return {name: sources for name, *sources in directives}


def test_the_command_runs_the_server_with_the_protections_on(tmp_path: Path) -> None:
    command = ui_command(Settings(data_dir=tmp_path, ui_host="127.0.0.2", ui_port=18501))
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert Path(command[4]).resolve() == SERVER.resolve()  # ui/server.py: the headers
    assert command[-2:] == ["--", str(APP)]
    flags = dict(zip(command[5:-2:2], command[6:-2:2], strict=True))
    assert flags == {
        "--server.port": "18501",
        "--server.address": "127.0.0.2",
        "--server.headless": "true",
        "--server.fileWatcherType": "none",
        "--server.runOnSave": "false",
        "--server.allowRunOnSave": "false",
        "--server.enableXsrfProtection": "true",
        "--server.xsrfCookieSameSite": "strict",
        "--server.enableCORS": "true",
        "--server.enableStaticServing": "false",
        "--server.enableAgentApi": "false",
        "--server.maxUploadSize": "1",
        "--browser.gatherUsageStats": "false",
        "--client.toolbarMode": "minimal",
        "--client.showErrorDetails": "none",
        "--client.showErrorLinks": "false",
        "--logger.hideWelcomeMessage": "true",
    }


def test_every_answer_carries_the_security_headers(dashboard: str) -> None:
    index = httpx.get(f"{dashboard}/")
    assert index.status_code == 200 and "<script" in index.text
    assets = re.findall(r'(?:src|href)="\./(static/[^"]+\.(?:js|css))"', index.text)
    assert assets
    for path in ["/", "/remote_control?cp=CP-1", "/_stcore/health", f"/{assets[0]}"]:
        response = httpx.get(f"{dashboard}{path}")
        assert response.status_code == 200, path
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        assert "strict-transport-security" not in response.headers  # plain HTTP: the proxy's
        assert "access-control-allow-origin" not in response.headers


def test_the_content_security_policy_allows_nothing_from_elsewhere(dashboard: str) -> None:
    index = httpx.get(f"{dashboard}/")
    policy = _policy(index)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]  # no remote image, ever
    assert policy["connect-src"] == ["'self'"]
    scripts = policy["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    inline = re.findall(r"<script>(.*?)</script>", index.text, re.DOTALL)
    assert inline  # Streamlit's index.html has one inline script: allowed by its hash only
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts


def test_other_origins_get_no_cors_and_no_websocket(dashboard: str) -> None:
    answer = httpx.get(f"{dashboard}/_stcore/host-config", headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in answer.headers

    async def open_stream(origin: str) -> None:
        async with connect(
            f"ws://{dashboard.removeprefix('http://')}/_stcore/stream",
            origin=origin,
            subprotocols=["streamlit"],
        ):
            pass

    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(open_stream(FOREIGN))
    assert refused.value.response.status_code == 403
    asyncio.run(open_stream(dashboard))  # the dashboard's own pages may connect


def test_xsrf_protection_is_on_with_a_same_site_strict_cookie(dashboard: str) -> None:
    cookies = httpx.get(f"{dashboard}/_stcore/health").headers.get_list("set-cookie")
    xsrf = next(c for c in cookies if c.startswith("_streamlit_xsrf="))
    assert "SameSite=Strict" in xsrf
    upload = httpx.put(
        f"{dashboard}/_stcore/upload_file/session/file", files={"file": ("a.txt", b"abc")}
    )
    assert upload.status_code == 403 and "XSRF" in upload.text


def test_the_agent_api_is_off(dashboard: str) -> None:
    answer = httpx.post(f"{dashboard}/_stcore/agent/interact", json={})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "not_available"
