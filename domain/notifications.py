"""What an alert notification says, and how a webhook proves it came from this CSMS.

A webhook's body is JSON; ``X-Chargestream-Timestamp`` carries the Unix time it was sent and
``X-Chargestream-Signature`` is ``sha256=`` + the hex HMAC-SHA256, keyed with the channel's
secret, of ``<timestamp>.<body>``: a receiver recomputes it over the raw body and refuses a
stale timestamp, so a captured request cannot be replayed later (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chargestream.domain.records import Alert

SIGNATURE_HEADER = "X-Chargestream-Signature"
TIMESTAMP_HEADER = "X-Chargestream-Timestamp"
OPENED = "opened"
CLOSED = "closed"
TEST = "test"
DIGEST = "digest"
DIGEST_EVENT = f"alert.{DIGEST}"


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


def digest_message(day: date, alerts: Sequence[Alert]) -> dict[str, Any]:
    """One day's alerts (opened that UTC day), oldest first, each as its own message."""
    ordered = sorted(alerts, key=lambda alert: (alert.opened_at, alert.alert_id))
    return {
        "event": DIGEST_EVENT,
        "date": day.isoformat(),
        "count": len(ordered),
        "alerts": [alert_message(alert, transition_of(alert)) for alert in ordered],
    }


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day as [start, end)."""
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


def opened_on(day: date, alerts: Sequence[Alert]) -> list[Alert]:
    start, end = day_bounds(day)
    return [alert for alert in alerts if start <= alert.opened_at < end]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def subject(message: dict[str, Any]) -> str:
    """An e-mail subject, one line whatever the (untrusted) text in the alert."""
    if message["event"] == DIGEST_EVENT:
        return f"[chargestream] digest {message['date']}: {message['count']} alert(s)"
    state = "resolved" if message["event"] == f"alert.{CLOSED}" else message["severity"]
    line = f"[chargestream] {state}: {message['kind']} on {message['charge_point_id']}"
    return _one_line(line)[:200]


def text_body(message: dict[str, Any]) -> str:
    if message["event"] == DIGEST_EVENT:
        lines = [
            f"{a['opened_at']} {a['severity']} {a['kind']} {a['charge_point_id']}: "
            + _one_line(a["message"])
            + (f" (closed {a['closed_at']})" if a["closed_at"] else " (open)")
            for a in message["alerts"]
        ]
        return "".join(f"{line}\n" for line in lines)
    return "".join(f"{name}: {value}\n" for name, value in message.items() if value is not None)


def in_cooldown(last_opened: datetime | None, opened_at: datetime, cooldown: int) -> bool:
    """Whether an alert opened at ``opened_at`` falls in the cooldown of the last one sent.

    Times are the alerts' own (from the log), so the decision does not depend on when a
    worker sees them.
    """
    if last_opened is None or cooldown <= 0:
        return False
    return 0 <= (opened_at - last_opened).total_seconds() < cooldown
