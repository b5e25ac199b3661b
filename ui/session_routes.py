"""The two HTTP routes that set and clear the dashboard's sign-in cookie.

A Streamlit script talks to the browser over a WebSocket and cannot set a cookie. So,
once an operator signs in, the shell puts an invisible image on the page whose address
carries a one-time *grant* (ui.session_tokens, valid ``GRANT_TTL`` seconds);
``GET /auth/remember?grant=…`` answers it with the ``chargestream_session`` cookie (a
signed session token: Secure, HttpOnly, SameSite=Strict, ``CHARGESTREAM_UI_SESSION_TTL``
seconds). Signing out puts ``/auth/forget`` on the page, which expires the cookie. Both
refuse requests another site made (``Sec-Fetch-Site``). Reading the key file and
operators.json happens in a worker thread, never on the server's event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chargestream.domain.settings import Settings
from chargestream.ui.operators import OperatorFileError, load_operators
from chargestream.ui.session_tokens import (
    COOKIE,
    GRANT,
    SESSION,
    SessionKeyError,
    issue,
    session_key,
    verify,
)

REMEMBER = "/auth/remember"
FORGET = "/auth/forget"
_NO_STORE = {"Cache-Control": "no-store"}


class _UsedGrants:
    """Grants already exchanged, until they expire: each sets a cookie once."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, nonce: str, expires: float, now: float) -> bool:
        with self._lock:
            self._expiry = {n: e for n, e in self._expiry.items() if e > now}
            if nonce in self._expiry:
                return False
            self._expiry[nonce] = expires
            return True


def session_routes(settings: Callable[[], Settings]) -> list[Route]:
    used = _UsedGrants()

    def exchange(grant: str) -> str | None:
        """The session token for a valid, unused grant (runs in a worker thread)."""
        config, now = settings(), time.time()
        try:
            key, operators = session_key(config.data_dir), load_operators(config.data_dir)
        except (OSError, OperatorFileError, SessionKeyError):
            return None
        claims = verify(key, grant, GRANT, operators, now)
        if claims is None or not used.first_use(claims.nonce, claims.expires, now):
            return None
        expires = int(now) + config.ui_session_ttl
        return issue(key, claims.operator, operators[claims.operator], SESSION, expires)

    async def remember(request: Request) -> Response:
        if _cross_site(request):
            return Response(status_code=403, headers=_NO_STORE)
        token = await asyncio.to_thread(exchange, request.query_params.get("grant", ""))
        if token is None:
            return Response(status_code=403, headers=_NO_STORE)
        response = Response(status_code=204, headers=_NO_STORE)
        response.set_cookie(
            COOKIE,
            token,
            max_age=settings().ui_session_ttl,
            path="/",
            secure=True,
            httponly=True,
            samesite="strict",
        )
        return response

    async def forget(request: Request) -> Response:
        if _cross_site(request):
            return Response(status_code=403, headers=_NO_STORE)
        response = Response(status_code=204, headers=_NO_STORE)
        response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response

    return [Route(REMEMBER, remember), Route(FORGET, forget)]


def _cross_site(request: Request) -> bool:
    """Browsers say where a request comes from; only the dashboard's own pages may ask."""
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")
