"""Webhook signing, the message of an alert, the cooldown rule."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from chargestream.domain.notifications import (
    alert_message,
    digest_message,
    in_cooldown,
    opened_on,
    sign,
    subject,
    text_body,
    verify,
)
from chargestream.domain.records import Alert, AlertKind

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECRET = "a-webhook-secret-of-32-characters"


def test_the_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    body = b'{"event":"alert.opened"}'
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, body) == f"sha256={expected}"


def test_verify_refuses_another_body_timestamp_or_secret() -> None:
    body = b"{}"
    signature = sign(SECRET, 1, body)
    assert verify(SECRET, 1, body, signature)
    assert not verify(SECRET, 1, b"{ }", signature)
    assert not verify(SECRET, 2, body, signature)
    assert not verify("another-secret-of-some-length", 1, body, signature)


def test_message_of_an_opened_and_a_closed_alert() -> None:
    alert = Alert("A-1", "CP-1", AlertKind.FAULTED, T0, "connector 1\r\nBcc: x", connector_id=1)
    opened = alert_message(alert, "opened")
    assert opened["event"] == "alert.opened"
    assert opened["kind"] == "faulted"
    assert opened["opened_at"] == T0.isoformat()
    assert opened["closed_at"] is None
    assert subject(opened) == "[chargestream] warning: faulted on CP-1"
    closed = alert_message(alert, "closed")
    assert subject(closed) == "[chargestream] resolved: faulted on CP-1"
    assert "connector_id: 1\n" in text_body(opened)
    assert "closed_at" not in text_body(opened)


def test_the_subject_is_one_line_whatever_the_charge_point_sent() -> None:
    message = alert_message(Alert("A-1", "CP\r\nBcc: x", AlertKind.OFFLINE, T0, "m"), "opened")
    assert "\n" not in subject(message) and "\r" not in subject(message)


def test_cooldown_by_the_alerts_own_times() -> None:
    assert not in_cooldown(None, T0, 600)
    assert not in_cooldown(T0, T0 + timedelta(minutes=5), 0)
    assert in_cooldown(T0, T0 + timedelta(minutes=5), 600)
    assert not in_cooldown(T0, T0 + timedelta(minutes=10), 600)
    assert not in_cooldown(T0, T0 - timedelta(minutes=1), 600)  # an older alert seen late


def test_a_digest_holds_the_days_alerts_oldest_first() -> None:
    late = Alert("A-2", "CP-2", AlertKind.OFFLINE, T0 + timedelta(hours=5), "offline")
    early = Alert(
        "A-1", "CP-1", AlertKind.FAULTED, T0, "faulted\r\nBcc: x", closed_at=T0 + timedelta(1)
    )
    yesterday = Alert("A-0", "CP-1", AlertKind.FAULTED, T0 - timedelta(days=1), "old")
    day = T0.date()
    chosen = opened_on(day, [late, yesterday, early])
    message = digest_message(day, chosen)
    assert (message["event"], message["date"], message["count"]) == ("alert.digest", str(day), 2)
    assert [a["alert_id"] for a in message["alerts"]] == ["A-1", "A-2"]
    assert subject(message) == f"[chargestream] digest {day}: 2 alert(s)"
    body = text_body(message).splitlines()
    assert body == [
        f"{T0.isoformat()} warning faulted CP-1: faulted Bcc: x (closed "
        f"{(T0 + timedelta(1)).isoformat()})",
        f"{late.opened_at.isoformat()} warning offline CP-2: offline (open)",
    ]
