"""Diagnostics uploads without I/O: the one-time upload token and the uploaded file's record.

A token is a capability the CSMS hands a charge point in GetDiagnostics' ``location``:
``<payload>.<mac>``, the payload naming the charge point, the file id it will be stored
under and its expiry, the MAC an HMAC-SHA256 keyed from the API token. Any API process
holding the same token can check it without a shared table; single use is the file store's
(the first upload stored under the file id wins).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

MAX_TOKEN = 1024  # longer text is no token of ours
MAX_FILE_NAME = 255
DEFAULT_FILE_NAME = "diagnostics"
FILE_ID = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


@dataclass(frozen=True, slots=True)
class DiagnosticsFile:
    """A diagnostics file a charge point uploaded. ``file_name`` is the charge point's text
    (shown, never used as a path); ``sha256`` is the hex digest of the content."""

    charge_point_id: str
    file_id: str
    file_name: str
    size: int
    sha256: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class UploadGrant:
    """What a valid token allows: one upload for ``charge_point_id`` until ``expires_at``."""

    charge_point_id: str
    file_id: str
    expires_at: datetime


def upload_key(api_token: str) -> bytes:
    """The MAC key, derived from the API token (the secret every API process shares)."""
    return hashlib.sha256(b"chargestream diagnostics upload\0" + api_token.encode()).digest()


def new_grant(charge_point_id: str, now: datetime, ttl: int) -> UploadGrant:
    expires = datetime.fromtimestamp(int(now.timestamp()) + ttl, UTC)
    return UploadGrant(charge_point_id, secrets.token_hex(16), expires)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def mint_token(key: bytes, grant: UploadGrant) -> str:
    body = [grant.charge_point_id, grant.file_id, int(grant.expires_at.timestamp())]
    payload = _b64(orjson.dumps(body))
    return f"{payload}.{_mac(key, payload)}"


def read_token(key: bytes, token: str, now: datetime) -> UploadGrant | None:
    """The grant of a token this key made and that has not expired; None for anything else."""
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return None
    try:
        body = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    match body:
        case [str(cp), str(file_id), int(expires)] if FILE_ID.match(file_id):
            if expires <= now.timestamp():
                return None
            return UploadGrant(cp, file_id, datetime.fromtimestamp(expires, UTC))
    return None


def display_name(raw: str | None) -> str:
    """A charge point's file name as harmless text: its last path component, without
    quotes, backslashes or control characters, at most 255 characters."""
    if not raw:
        return DEFAULT_FILE_NAME
    text = raw.encode("utf-8", "replace").decode()  # no lone surrogates
    text = unicodedata.normalize("NFC", text).replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip().lstrip(".")
    return text[:MAX_FILE_NAME] or DEFAULT_FILE_NAME


def ftp_credentials(token: str) -> tuple[str, str]:
    """A token as FTP user and password (its payload and its MAC): the pair is the token,
    so FTP credentials are as single-use and expiring as an HTTP upload location."""
    payload, mac = token.split(".")
    return payload, mac


def token_from_credentials(user: str, password: str) -> str:
    """The token an FTP login names (checked with ``read_token`` like any other)."""
    return f"{user}.{password}"


def older_than(record: DiagnosticsFile, now: datetime, days: int) -> bool:
    """Whether retention of ``days`` (0: keep forever) has passed for ``record``."""
    return days > 0 and (now - record.received_at).total_seconds() > days * 86_400
