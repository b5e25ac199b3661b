"""Password hashing for charge point Basic auth and operator logins.

Two stored forms, each carrying its own parameters:

- ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``: slow on purpose, for the
  passwords people choose (dashboard operators), and charge point hashes made before
  charge point passwords had a minimum length.
- ``hmac_sha256$<salt hex>$<hash hex>``: one HMAC-SHA256 keyed with a random salt, for
  charge point passwords. These are machine secrets of at least
  ``MIN_CHARGE_POINT_PASSWORD`` characters (rotation generates 160 random bits), so
  guessing them is infeasible without key stretching, and a reconnect storm of thousands
  of charge points can check them all in well under a second (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 120_000
MIN_CHARGE_POINT_PASSWORD = 16  # characters; shorter stored hashes keep working
MAX_CHARGE_POINT_PASSWORD = 40  # the OCPP 1.6 security whitepaper's limit
FAST = "hmac_sha256"


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """A PBKDF2 hash: for passwords people choose."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def hash_charge_point_password(password: str) -> str:
    """A salted HMAC-SHA256: for charge point passwords (machine secrets)."""
    salt = secrets.token_bytes(16)
    return f"{FAST}${salt.hex()}${_hmac(salt, password.encode()).hex()}"


def iterations(stored: str) -> int:
    """What checking against ``stored`` costs, in SHA-256 compressions of PBKDF2 iterations:
    its iterations, 1 for the fast form (0: not a hash of ours)."""
    parts = stored.split("$")
    if len(parts) == 3 and parts[0] == FAST:
        return 1
    if len(parts) != 4 or parts[0] != "pbkdf2_sha256" or not parts[1].isdigit():
        return 0
    return int(parts[1])


def verify_password(password: str | bytes, stored: str) -> bool:
    """True if ``password`` is the one ``stored`` was made from; False for anything else,
    a ``stored`` value that is not a hash of ours included. Bytes are compared as they
    are (a str as UTF-8)."""
    secret = password.encode() if isinstance(password, str) else password
    rounds = iterations(stored)
    if rounds < 1:
        return False
    parts = stored.split("$")
    try:
        salt = bytes.fromhex(parts[-2])
    except ValueError:
        return False
    if parts[0] == FAST:
        digest = _hmac(salt, secret)
    else:
        digest = hashlib.pbkdf2_hmac("sha256", secret, salt, rounds)
    return hmac.compare_digest(digest.hex(), parts[-1])


def verify_basic_password(password: bytes, stored: str) -> bool:
    """A Basic-auth password against a charge point's hash: the key as it was set, or,
    for the fast form, the bytes a hex key stands for (chargers following the OCPP 1.6
    security whitepaper hex-decode ``AuthorizationKey``). A hex key matches its bytes in
    lower or upper case; a mixed-case hex key only as text."""
    if verify_password(password, stored):
        return True
    if not stored.startswith(FAST + "$") or not password:
        return False
    as_hex = password.hex()
    return verify_password(as_hex, stored) or verify_password(as_hex.upper(), stored)


def _hmac(salt: bytes, secret: bytes) -> bytes:
    return hmac.new(salt, secret, hashlib.sha256).digest()


def generate_charge_point_password() -> str:
    """A new charge point password: 20 random bytes as 40 hex digits, as the OCPP 1.6
    security whitepaper asks of ``AuthorizationKey`` (chargers use the text or its bytes)."""
    return secrets.token_hex(20)
