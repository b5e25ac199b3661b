"""Password rotation over OCPP: a ChangeConfiguration of ``AuthorizationKey``.

The gateway node that holds the connection sends the CALL and is the first to know the
answer, in embedded and in stack mode alike, so it stores the new key's hash there
(``Gateway.call``): an answer lost between gateway and API cannot lose the key the charger
now uses. Accepted and RebootRequired (applied after the reboot) store it as the *next*
password; anything else (Rejected, NotSupported, a CALLERROR, no answer) changes nothing.
"""

from __future__ import annotations

from typing import Any

from chargestream.domain.passwords import MAX_CHARGE_POINT_PASSWORD, MIN_CHARGE_POINT_PASSWORD
from chargestream.domain.redaction import is_secret_key
from chargestream.gateway import ocppj
from chargestream.gateway.connection import Reply

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
