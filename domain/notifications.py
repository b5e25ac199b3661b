"""What an alert notification says, and how a webhook proves it came from this CSMS.

A webhook's body is JSON; ``X-Chargestream-Timestamp`` carries the Unix time it was sent and
``X-Chargestream-Signature`` is ``sha256=`` + the hex HMAC-SHA256, keyed with the channel's
secret, of ``<timestamp>.<body>``: a receiver recomputes it over the raw body and refuses a
stale timestamp, so a captured request cannot be replayed later (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from chargestream.domain.records import Alert

SIGNATURE_HEADER = "X-Chargestream-Signature"
TIMESTAMP_HEADER = "X-Chargestream-Timestamp"
OPENED = "opened"
CLOSED = "closed"
TEST = "test"


def transition_of(alert: Alert) -> str:
    return OPENED if alert.open else CLOSED


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def alert_message(alert: Alert, transition: str) -> dict[str, Any]:
    """The webhook body (and the e-mail's facts) for one transition of an alert."""
    return {
        "event": f"alert.{transition}",
        "alert_id": alert.alert_id,
        "charge_point_id": alert.charge_point_id,
        "kind": alert.kind.value,
        "severity": alert.severity,
        "message": alert.message,
        "connector_id": alert.connector_id,
        "rule_id": alert.rule_id,
        "value": alert.value,
        "opened_at": _time(alert.opened_at),
        "closed_at": _time(alert.closed_at),
    }


def subject(message: dict[str, Any]) -> str:
    """An e-mail subject, one line whatever the (untrusted) text in the alert."""
    state = "resolved" if message["event"] == f"alert.{CLOSED}" else message["severity"]
    line = f"[chargestream] {state}: {message['kind']} on {message['charge_point_id']}"
    return " ".join(line.split())[:200]


def text_body(message: dict[str, Any]) -> str:
    return "".join(f"{name}: {value}\n" for name, value in message.items() if value is not None)


def in_cooldown(last_opened: datetime | None, opened_at: datetime, cooldown: int) -> bool:
    """Whether an alert opened at ``opened_at`` falls in the cooldown of the last one sent.

    Times are the alerts' own (from the log), so the decision does not depend on when a
    worker sees them.
    """
    if last_opened is None or cooldown <= 0:
        return False
    return 0 <= (opened_at - last_opened).total_seconds() < cooldown
