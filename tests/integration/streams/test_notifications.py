"""Alert notifications end to end: a charge point faults over a real WebSocket (OCPP 1.6 and
2.0.1), the embedded CSMS derives the alert, and its Notifier sends a signed webhook to a real
HTTP receiver and an e-mail through a real SMTP server (aiosmtpd), both on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from ocpp.v16 import call

from chargestream.domain.notifications import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from chargestream.domain.settings import Settings
from chargestream.streams.control import owns_everything
from chargestream.streams.notification_senders import Senders
from chargestream.streams.notifications import Notifier
from tests.conftest import RunningCsms, eventually, free_port, make_settings
from tests.ocpp201_frames import boot, status
from tests.ocpp_client import TestChargePoint, booted, raw_station

SECRET = "a-webhook-secret-for-the-tests"
DEADLINE = 30.0  # seconds: a retried delivery waits 2 s, then 4 s


@dataclass
class Receiver:
    """A real HTTP server on loopback that keeps every request; answers 500 ``failures`` times."""

    failures: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for _, body in self.requests]

    def events(self) -> list[str]:
        return [body["event"] for body in self.bodies()]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                state.requests.append((dict(self.headers), body))
                failing = state.failures > 0
                state.failures -= failing
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    yield state
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(message_from_bytes(envelope.original_content or b""))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    server = Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    yield box, port
    server.stop()


@pytest.fixture
def csms_settings(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Settings:
    return make_settings(
        tmp_path / "data", smtp_host="127.0.0.1", smtp_port=mailbox[1], smtp_from="csms@test"
    )


async def channels(csms: RunningCsms, receiver: Receiver, **options: Any) -> None:
    hook = {"kind": "webhook", "target": receiver.url, "secret": SECRET, **options}
    mail = {"kind": "email", "target": "ops@example.com", **options}
    for channel_id, body in (("hook", hook), ("mail", mail)):
        answer = await csms.api.put(f"/api/v1/notification-channels/{channel_id}", json=body)
        assert answer.status_code == 200, answer.text


async def log(csms: RunningCsms) -> list[dict[str, Any]]:
    answer = await csms.api.get("/api/v1/notifications")
    assert answer.status_code == 200
    result: list[dict[str, Any]] = answer.json()
    return result


def signed(headers: dict[str, str], body: bytes) -> bool:
    return verify(SECRET, int(headers[TIMESTAMP_HEADER]), body, headers[SIGNATURE_HEADER])


async def fault(cp: TestChargePoint, state: str) -> None:
    error = "GroundFailure" if state == "Faulted" else "NoError"
    await cp.call(call.StatusNotification(connector_id=1, error_code=error, status=state))


async def test_a_fault_is_notified_once_by_signed_webhook_and_email_then_its_end(
    csms: RunningCsms, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    await channels(csms, receiver)
    async with booted(csms.ocpp_url, "CP-N1", TestChargePoint) as cp:
        await fault(cp, "Available")
        await fault(cp, "Faulted")
        await eventually(lambda: _true(receiver.requests and box.messages), timeout=DEADLINE)

        [(headers, body)] = receiver.requests
        assert signed(headers, body)
        [opened] = receiver.bodies()
        assert opened["event"] == "alert.opened"
        assert (opened["charge_point_id"], opened["kind"]) == ("CP-N1", "faulted")
        assert box.recipients == [["ops@example.com"]]
        assert box.subjects() == ["[chargestream] critical: faulted on CP-N1"]
        assert "GroundFailure" in mail_text(box.messages[0])

        await fault(cp, "Available")
        await eventually(lambda: _true(len(receiver.requests) == len(box.messages) == 2))
    assert receiver.events() == ["alert.opened", "alert.closed"]
    assert "resolved" in box.subjects()[1]

    entries = await eventually(lambda: _delivered(csms, 4))
    assert {(e["channel_id"], e["transition"]) for e in entries} == {
        ("hook", "opened"),
        ("hook", "closed"),
        ("mail", "opened"),
        ("mail", "closed"),
    }
    assert all(e["attempts"] == 1 for e in entries)

    # the delivery log in pages of one: each entry once, in the listing's order
    paged, cursor = [], {}
    while page := (
        await csms.api.get("/api/v1/notifications", params={"limit": 1, **cursor})
    ).json():
        paged += page
        cursor = {"before": page[-1]["created_at"], "before_id": page[-1]["notification_id"]}
    assert paged == await log(csms)
    no_time = await csms.api.get("/api/v1/notifications", params={"before_id": "x"})
    assert no_time.status_code == 422


async def test_a_daily_digest_mails_the_days_faults_once(
    csms: RunningCsms, csms_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    daily = {"kind": "email", "target": "ops@example.com", "digest": True}
    answer = await csms.api.put("/api/v1/notification-channels/daily", json=daily)
    assert answer.json()["digest"] is True
    async with booted(csms.ocpp_url, "CP-D", TestChargePoint) as cp:
        await fault(cp, "Faulted")
        await eventually(lambda: _open_alerts(csms))
    notifier = Notifier(csms.app.store, Senders(csms_settings).send)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    await notifier.reconcile(tomorrow, owns_everything)
    await notifier.reconcile(tomorrow, owns_everything)
    await notifier.drain()
    today = datetime.now(UTC).date()
    assert box.subjects() == [f"[chargestream] digest {today}: 1 alert(s)"]
    assert "faulted CP-D: Connector 1 faulted: GroundFailure (open)" in mail_text(box.messages[0])
    assert [(e["transition"], e["status"]) for e in await log(csms)] == [("digest", "delivered")]


async def test_a_2_0_1_station_fault_is_notified(csms: RunningCsms, receiver: Receiver) -> None:
    await channels(csms, receiver, alert_kind="faulted")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    async with raw_station(csms.ocpp_url, "EVSE-N") as station:
        await station.call("BootNotification", boot())
        await station.call("StatusNotification", status(1, 1, "Faulted", now))
        await eventually(lambda: _true(receiver.requests), timeout=DEADLINE)
    [opened] = receiver.bodies()
    assert (opened["event"], opened["charge_point_id"]) == ("alert.opened", "EVSE-N")
    assert signed(*receiver.requests[0])


async def test_cooldown_suppresses_a_second_fault(csms: RunningCsms, receiver: Receiver) -> None:
    await channels(csms, receiver, cooldown=3600)
    async with booted(csms.ocpp_url, "CP-N2", TestChargePoint) as cp:
        await fault(cp, "Faulted")
        await fault(cp, "Available")
        await fault(cp, "Faulted")
        entries = await eventually(lambda: _settled(csms, 6), timeout=DEADLINE)
    statuses = sorted((e["transition"], e["status"]) for e in entries if e["channel_id"] == "hook")
    assert statuses == [("closed", "delivered"), ("opened", "delivered"), ("opened", "suppressed")]
    assert receiver.events() == ["alert.opened", "alert.closed"]


async def test_a_failing_receiver_gets_the_alert_on_the_third_attempt(
    csms: RunningCsms, receiver: Receiver
) -> None:
    receiver.failures = 2
    await channels(csms, receiver, alert_kind="faulted")
    async with booted(csms.ocpp_url, "CP-N3", TestChargePoint) as cp:
        await fault(cp, "Faulted")
        [entry] = await eventually(lambda: _delivered(csms, 2, "hook"), timeout=DEADLINE)
    assert (entry["attempts"], entry["last_error"]) == (3, "webhook: HTTP 500")
    assert receiver.events() == ["alert.opened"] * 3
    assert len({body for _, body in receiver.requests}) == 1  # the same message each time


async def test_channels_api_never_shows_the_secret(
    csms: RunningCsms, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    await channels(csms, receiver)
    shown = (await csms.api.get("/api/v1/notification-channels/hook")).json()
    assert shown["has_secret"] is True and "secret" not in shown
    assert SECRET not in (await csms.api.get("/api/v1/notification-channels")).text

    await csms.api.put(  # replaced without a secret: the stored one is kept
        "/api/v1/notification-channels/hook", json={"kind": "webhook", "target": receiver.url}
    )
    assert (await csms.api.post("/api/v1/notification-channels/hook/test")).status_code == 200
    assert signed(*receiver.requests[0])
    assert (await csms.api.post("/api/v1/notification-channels/mail/test")).status_code == 200
    assert mailbox[0].subjects() == ["[chargestream] info: test on -"]

    bad = await csms.api.put(
        "/api/v1/notification-channels/x",
        json={"kind": "webhook", "target": "file:///etc/passwd", "secret": "x" * 8},
    )
    assert bad.status_code == 422 and "x" * 8 not in bad.text
    mail = {"kind": "email", "target": "a@b.c\r\nBcc: x@y.z"}
    assert (await csms.api.put("/api/v1/notification-channels/x", json=mail)).status_code == 422

    receiver.failures = 1
    failed = await csms.api.post("/api/v1/notification-channels/hook/test")
    assert (failed.status_code, failed.json()) == (502, {"detail": "webhook: HTTP 500"})
    assert (await csms.api.delete("/api/v1/notification-channels/hook")).status_code == 204
    assert (await csms.api.get("/api/v1/notification-channels/hook")).status_code == 404


def mail_text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def _open_alerts(csms: RunningCsms) -> list[Any]:
    alerts: list[Any] = (await csms.api.get("/api/v1/alerts", params={"open": "true"})).json()
    return alerts


async def _true(value: object) -> bool:
    return bool(value)


async def _settled(csms: RunningCsms, count: int) -> list[dict[str, Any]] | None:
    """The log once it has ``count`` entries and none is still being sent."""
    entries = await log(csms)
    pending = any(e["status"] == "pending" for e in entries)
    return entries if len(entries) >= count and not pending else None


async def _delivered(
    csms: RunningCsms, count: int, channel: str | None = None
) -> list[dict[str, Any]] | None:
    entries = await log(csms)
    done = [e for e in entries if e["status"] == "delivered"]
    if len(done) < count:
        return None
    return [e for e in done if channel in (None, e["channel_id"])]
