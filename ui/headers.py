"""Security headers on every HTTP answer of the dashboard (an ASGI middleware).

Streamlit has no option for response headers, but its ASGI app (``st.App``, see
ui/server.py) takes middleware. ``SecurityHeaders`` adds to every HTTP response that
does not already carry them:

- ``Content-Security-Policy``: scripts only from the dashboard itself (and the one inline
  script of Streamlit's index.html, by its hash), images, fonts, connections and workers
  only from the dashboard (``data:`` and ``blob:`` for what Streamlit draws itself), no
  plugins, no ``<base>``, no framing. Even a string that slipped through ``text.plain``
  could not make the browser fetch another address;
- ``X-Frame-Options: DENY`` (framing, for browsers without CSP ``frame-ancestors``),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``Cross-Origin-Opener-Policy: same-origin``, ``Cross-Origin-Resource-Policy:
  same-origin`` and a ``Permissions-Policy`` that turns off camera, microphone,
  geolocation, payment and USB.

``Strict-Transport-Security`` is not sent: the dashboard speaks plain HTTP, and HSTS is
for the TLS-terminating proxy in front of it to send.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SERVER_SCRIPT = Path(__file__).with_name("server.py")  # what `streamlit run` is given

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def inline_script_hashes(index_html: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) for the inline scripts of a page."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(index_html)
    ]


def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],  # Streamlit styles its elements inline
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],  # the page's own WebSocket and HTTP endpoints
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def streamlit_index() -> str:
    """The index.html the installed Streamlit serves (its inline scripts need hashes)."""
    import streamlit

    return (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")


def security_headers(index_html: str) -> list[tuple[bytes, bytes]]:
    """The headers ``SecurityHeaders`` adds, for a page with this index.html."""
    headers = {
        "content-security-policy": content_security_policy(inline_script_hashes(index_html)),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }
    return [(name.encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response (WebSockets untouched)."""

    def __init__(self, app: AsgiApp, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.app = app
        self.headers = headers if headers is not None else security_headers(streamlit_index())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(n, v) for n, v in self.headers if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
