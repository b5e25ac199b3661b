"""Which charge point may connect how: the OCPP 1.6 security profiles at the handshake.

``admit`` is the whole rule, pure, so it is tested without sockets; gateway/server.py
gathers its inputs (the charge point's profile, the listener, the Basic password state,
the client certificate's common name) and turns a ``Refusal`` into an HTTP answer
before the upgrade.

- Profile 0: any listener; a password, if the registration has one, must be right.
- Profiles 1 and 2: a password must be set and sent right; 2 only over TLS.
- Profile 3: only over TLS, with a client certificate (checked against the client CA by
  TLS) whose subject common name is the charge point id. Basic auth is not needed, but a
  password that is sent while one is set must be right.

A profile 2 or 3 charge point is never admitted over the plain listener (no downgrade).
The password is checked last (PBKDF2 is the slow part), so ``admit`` is asked twice:
with ``Password.UNCHECKED`` before the check, and with its result after.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus

from chargestream.domain.records import Registration


class Password(Enum):
    NONE_SET = "none_set"  # the registration has no password
    NOT_SENT = "not_sent"  # one is set, the request has no Basic credentials for it
    UNCHECKED = "unchecked"  # sent, not checked yet
    WRONG = "wrong"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class Refusal:
    status: HTTPStatus
    reason: str  # the log's and the metric's label
    text: str  # the response body (says nothing about what is stored)
    failed_auth: bool = False  # counts toward the per-address failure limit


def profile_of(registration: Registration | None, default: int) -> int:
    """The charge point's own profile, else the default (also for one not registered)."""
    if registration is None or registration.security_profile is None:
        return default
    return registration.security_profile


def authenticated(registration: Registration | None, default: int) -> bool:
    """Whether a connection of this charge point proved who it is (a password or a client
    certificate): profile 1 or higher, or a password set (which profile 0 checks too)."""
    return profile_of(registration, default) >= 1 or bool(
        registration is not None and registration.password_hash
    )


def admit(
    profile: int,
    *,
    tls: bool,
    password: Password,
    certificate_cn: str | None,
    charge_point_id: str,
) -> Refusal | None:
    """None to admit the charge point, else why not."""
    if profile >= 2 and not tls:
        return Refusal(
            HTTPStatus.FORBIDDEN,
            "tls_required",
            f"security profile {profile}: connect with wss:// to the TLS port\n",
        )
    if profile >= 3:
        if certificate_cn is None:
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                "client_certificate_missing",
                "security profile 3: a client certificate is required\n",
                failed_auth=True,
            )
        if certificate_cn != charge_point_id:
            return Refusal(
                HTTPStatus.FORBIDDEN,
                "client_certificate_mismatch",
                "the client certificate is not this charge point's\n",
                failed_auth=True,
            )
        return _wrong(password)
    if password is Password.NONE_SET:
        if profile == 0:
            return None
        return Refusal(
            HTTPStatus.UNAUTHORIZED,
            "no_password_set",
            "invalid credentials\n",
        )
    if password is Password.NOT_SENT:
        return Refusal(HTTPStatus.UNAUTHORIZED, "auth", "invalid credentials\n")
    return _wrong(password)


def _wrong(password: Password) -> Refusal | None:
    if password is Password.WRONG:
        return Refusal(HTTPStatus.UNAUTHORIZED, "auth", "invalid credentials\n", failed_auth=True)
    return None
