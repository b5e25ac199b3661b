"""Signed tokens that keep an operator signed in to the dashboard across reloads.

A token names the operator, its purpose (``grant``: exchanged once for the cookie;
``session``: the cookie's value), its expiry and the operator's *generation*: a prefix of
a hash over the operator's password hash and role, so a password or role change makes
every token issued before it worthless. It is signed with HMAC-SHA256 under a key kept in
``<data_dir>/ui-session.key`` (32 random bytes, 0600, made on first use). No Streamlit
here: the shell (ui.auth) and the cookie routes (ui.session_routes) share it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from chargestream.sqlite.files import FILE_MODE, private_directory
from chargestream.ui.operators import Operator

KEY_FILE = "ui-session.key"
KEY_BYTES = 32
COOKIE = "chargestream_session"
GRANT = "grant"
SESSION = "session"
GRANT_TTL = 60  # seconds from sign-in until the browser fetches its cookie
MAX_TOKEN = 1024  # characters; longer values are not tokens of ours


class SessionKeyError(ValueError):
    """The key file exists but holds no key (the operator may delete it)."""


@dataclass(frozen=True)
class Claims:
    operator: str
    purpose: str
    expires: int  # Unix seconds
    generation: str
    nonce: str


def session_key(data_dir: Path) -> bytes:
    """The signing key, made 0600 on first use (the data directory 0700)."""
    path = Path(data_dir) / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        key = path.read_bytes()
        if len(key) == KEY_BYTES:
            return key
    private_directory(Path(data_dir))
    temporary = path.with_name(f".{KEY_FILE}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secrets.token_bytes(KEY_BYTES))
    with contextlib.suppress(FileExistsError):
        os.link(temporary, path)  # the first process to make it wins; others read it
    temporary.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise SessionKeyError(f"{path} is not a session key: delete it to make a new one")
    return key


def generation(operator: Operator) -> str:
    """Changes whenever the operator's password hash or role does."""
    digest = hashlib.sha256(f"{operator.password_hash}\n{operator.role.value}".encode())
    return digest.hexdigest()[:16]


def issue(key: bytes, name: str, operator: Operator, purpose: str, expires: int) -> str:
    claims = {
        "o": name,
        "p": purpose,
        "e": expires,
        "g": generation(operator),
        "n": secrets.token_urlsafe(12),
    }
    # unpadded base64url, a dot and hex: nothing a cookie value would need quoted for
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    body = body.rstrip(b"=")
    return f"{body.decode()}.{_signature(key, body)}"


def verify(
    key: bytes, token: str, purpose: str, operators: dict[str, Operator], now: float
) -> Claims | None:
    """The token's claims if it is ours, unexpired, for ``purpose`` and the operator's
    current generation; None otherwise (whatever is wrong with it)."""
    body, _, signature = token.partition(".")
    if len(token) > MAX_TOKEN or not hmac.compare_digest(
        signature.encode(), _signature(key, body.encode()).encode()
    ):
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(body.encode() + b"=" * (-len(body) % 4)))
        claims = Claims(str(raw["o"]), str(raw["p"]), int(raw["e"]), str(raw["g"]), str(raw["n"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    operator = operators.get(claims.operator)
    if operator is None or claims.purpose != purpose or claims.expires <= now:
        return None
    return claims if hmac.compare_digest(claims.generation, generation(operator)) else None


def _signature(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()
