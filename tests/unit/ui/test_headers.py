"""ui.headers: the security headers middleware, without a server."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from chargestream.ui.headers import (
    SecurityHeaders,
    content_security_policy,
    inline_script_hashes,
    security_headers,
    streamlit_index,
)

PAGE = """<html><head>
<script>
  window.prerenderReady = false
</script>
<script type="module" crossorigin src="./static/js/index.js"></script>
<SCRIPT nonce="x">alert(1)</SCRIPT>
</head></html>"""


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_inline_scripts_are_hashed_and_scripts_with_a_source_are_not() -> None:
    assert inline_script_hashes(PAGE) == [
        sha256("\n  window.prerenderReady = false\n"),
        sha256("alert(1)"),
    ]


def test_the_policy_names_only_the_dashboard_itself() -> None:
    policy = dict(
        (name, sources)
        for name, *sources in (
            d.split() for d in content_security_policy(["'sha256-x'"]).split(";")
        )
    )
    assert policy["script-src"] == ["'self'", "'sha256-x'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert all("http" not in source for sources in policy.values() for source in sources)


def test_the_installed_streamlit_page_has_inline_scripts_to_hash() -> None:
    assert inline_script_hashes(streamlit_index())  # else the policy would block nothing new


async def _served(scope_type: str, app_headers: list[tuple[bytes, bytes]]) -> list[Any]:
    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": app_headers})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    middleware = SecurityHeaders(app, security_headers(PAGE))
    await middleware({"type": scope_type}, receive, send)
    return sent


async def test_every_http_response_gets_the_headers_it_lacks() -> None:
    start, body = await _served("http", [(b"x-content-type-options", b"nosniff"), (b"a", b"1")])
    names = [name for name, _ in start["headers"]]
    assert names.count(b"x-content-type-options") == 1  # kept, not repeated
    assert {b"content-security-policy", b"x-frame-options", b"referrer-policy"} <= set(names)
    assert (b"a", b"1") in start["headers"]
    assert body == {"type": "http.response.body", "body": b"ok"}


async def test_websocket_scopes_pass_untouched() -> None:
    start, _ = await _served("websocket", [(b"a", b"1")])
    assert start["headers"] == [(b"a", b"1")]
