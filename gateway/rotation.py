"""Password rotation over OCPP: a ChangeConfiguration of ``AuthorizationKey``.

The gateway node that holds the connection sends the CALL and is the first to know the
answer, in embedded and in stack mode alike, so the new key's hash is kept there
(``Gateway.call``): an answer lost between gateway and API cannot lose the key the charger
now uses. It is stored as the *next* password before the CALL leaves, so a charger that
applies it is never locked out by a store that fails afterwards, and withdrawn unless the
answer is Accepted or RebootRequired (applied after the reboot): Rejected, NotSupported, a
CALLERROR, no answer or a lost connection leave the registration as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chargestream.domain.passwords import (
    MAX_CHARGE_POINT_PASSWORD,
    MIN_CHARGE_POINT_PASSWORD,
    hash_charge_point_password,
)
from chargestream.domain.redaction import is_secret_key
from chargestream.gateway import ocppj
from chargestream.gateway.connection import Reply
from chargestream.gateway.directory import Directory
from chargestream.storage.base import StoreUnavailable

log = logging.getLogger("chargestream.gateway")

ACTION = "ChangeConfiguration"
KEY = "AuthorizationKey"
ACCEPTING = frozenset({"Accepted", "RebootRequired"})


def new_password(action: str, payload: dict[str, Any]) -> str | None:
    """The password a CALL sets, if it is a rotation."""
    if action != ACTION or not is_secret_key(payload.get("key")):
        return None
    value = payload.get("value")
    return value if isinstance(value, str) else None


def password_problem(password: str) -> str | None:
    """Why a charge point password cannot be used, or None."""
    if not MIN_CHARGE_POINT_PASSWORD <= len(password) <= MAX_CHARGE_POINT_PASSWORD:
        return (
            f"a charge point password ({KEY}) needs {MIN_CHARGE_POINT_PASSWORD} to"
            f" {MAX_CHARGE_POINT_PASSWORD} characters"
        )
    return None


def applied(reply: Reply) -> bool:
    """The charge point took the new configuration (now or at its next reboot)."""
    message = reply.message
    return (
        isinstance(message, ocppj.CallResult)
        and isinstance(message.payload, dict)
        and message.payload.get("status") in ACCEPTING
    )


async def call(
    directory: Directory,
    send: Callable[[str, dict[str, Any], float], Awaitable[Reply]],
    charge_point_id: str,
    action: str,
    payload: dict[str, Any],
    timeout: float,
) -> Reply:
    """``send`` the CALL; if it sets a password, keep it as the next one while it is sent,
    and after it only if the charge point applied it."""
    password = new_password(action, payload)
    if password is None:
        return await send(action, payload, timeout)
    hashed = hash_charge_point_password(password)
    await directory.set_next_password(charge_point_id, hashed)  # StoreUnavailable: not sent
    kept = False
    try:
        reply = await send(action, payload, timeout)
        kept = applied(reply)
        return reply
    finally:
        if kept:
            log.info("password_rotation_stored", extra={"fields": {"cp": charge_point_id}})
        else:
            await asyncio.shield(_withdraw(directory, charge_point_id, hashed))


async def _withdraw(directory: Directory, charge_point_id: str, hashed: str) -> None:
    try:
        await directory.withdraw_next_password(charge_point_id, hashed)
    except StoreUnavailable as error:  # a next password nobody knows: harmless, logged
        log.error(
            "password_withdrawal_failed",
            extra={"fields": {"cp": charge_point_id, "error": str(error)}},
        )
