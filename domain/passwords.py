"""Password hashing for charge point Basic auth and operator logins.

PBKDF2-SHA256 from the standard library; the stored form carries its own
parameters: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 120_000


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def iterations(stored: str) -> int:
    """The PBKDF2 iterations checking against ``stored`` costs (0: not a hash of ours)."""
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != "pbkdf2_sha256" or not parts[1].isdigit():
        return 0
    return int(parts[1])


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` is the one ``stored`` was made from; False for anything else,
    a ``stored`` value that is not a hash of ours included."""
    rounds = iterations(stored)
    if rounds < 1:
        return False
    _, _, salt, expected = stored.split("$")
    try:
        salt_bytes = bytes.fromhex(salt)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt_bytes, rounds)
    return hmac.compare_digest(digest.hex(), expected)
