"""Sign-in tokens and the routes that set and clear the cookie (ui.session_tokens, _routes)."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from chargestream.domain.settings import Settings
from chargestream.ui.operators import Operator, save_operators
from chargestream.ui.roles import Role
from chargestream.ui.session_routes import FORGET, REMEMBER, session_routes
from chargestream.ui.session_tokens import (
    COOKIE,
    GRANT,
    KEY_FILE,
    SESSION,
    issue,
    session_key,
    verify,
)

ADA = Operator("pbkdf2$fake-hash-1", Role.OPERATOR)
NOW = 1_800_000_000


def test_the_key_is_made_once_and_private(tmp_path: Path) -> None:
    key = session_key(tmp_path / "data")

    assert len(key) == 32 and session_key(tmp_path / "data") == key
    assert stat.S_IMODE((tmp_path / "data" / KEY_FILE).stat().st_mode) == 0o600


def test_a_token_holds_its_operator_until_it_expires() -> None:
    token = issue(b"k" * 32, "ada", ADA, SESSION, NOW + 60)

    claims = verify(b"k" * 32, token, SESSION, {"ada": ADA}, NOW)
    assert claims is not None and claims.operator == "ada"
    assert verify(b"k" * 32, token, SESSION, {"ada": ADA}, NOW + 60) is None  # expired
    assert verify(b"k" * 32, token, GRANT, {"ada": ADA}, NOW) is None  # not a grant


@pytest.mark.parametrize(
    "operators",
    [
        {},  # removed
        {"ada": Operator("pbkdf2$fake-hash-2", Role.OPERATOR)},  # new password
        {"ada": Operator(ADA.password_hash, Role.ADMIN)},  # new role
    ],
)
def test_a_changed_operator_invalidates_its_tokens(operators: dict[str, Operator]) -> None:
    token = issue(b"k" * 32, "ada", ADA, SESSION, NOW + 60)

    assert verify(b"k" * 32, token, SESSION, operators, NOW) is None


def test_forged_or_mangled_tokens_are_refused() -> None:
    token = issue(b"k" * 32, "ada", ADA, SESSION, NOW + 60)
    body, _, signature = token.partition(".")

    for bad in (
        issue(b"x" * 32, "ada", ADA, SESSION, NOW + 60),  # another key
        f"{body}x.{signature}",
        f"{body}.{signature[:-1]}",
        "not a token",
        "",
        token + "0" * 2000,
    ):
        assert verify(b"k" * 32, bad, SESSION, {"ada": ADA}, NOW) is None


async def test_a_grant_sets_the_cookie_once_and_forget_clears_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, ui_session_ttl=3600)
    save_operators(tmp_path, {"ada": ADA})
    app = Starlette(routes=session_routes(lambda: settings))
    grant = issue(session_key(tmp_path), "ada", ADA, GRANT, 2**40)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://dash") as client:
        answer = await client.get(REMEMBER, params={"grant": grant})
        assert answer.status_code == 204
        cookie = answer.headers["set-cookie"]
        for attribute in ("HttpOnly", "Max-Age=3600", "Path=/", "SameSite=strict", "Secure"):
            assert attribute in cookie
        token = answer.cookies[COOKIE]
        claims = verify(session_key(tmp_path), token, SESSION, {"ada": ADA}, time.time())
        assert claims is not None and claims.operator == "ada"

        again = await client.get(REMEMBER, params={"grant": grant})  # one-time
        assert again.status_code == 403 and "set-cookie" not in again.headers
        session = await client.get(REMEMBER, params={"grant": token})  # not a grant
        assert session.status_code == 403
        fresh = issue(session_key(tmp_path), "ada", ADA, GRANT, 2**40)
        elsewhere = await client.get(
            REMEMBER, params={"grant": fresh}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert elsewhere.status_code == 403

        cleared = await client.get(FORGET)
        assert cleared.status_code == 204
        assert f'{COOKIE}=""' in cleared.headers["set-cookie"]
        assert "Max-Age=0" in cleared.headers["set-cookie"]
