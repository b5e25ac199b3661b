"""The Notifier over a real SQLite store with a recording sender: which channels get an alert,
once per transition (dedupe), the cooldown, retries until delivered or failed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargestream.domain.frames import EventKind, FrameEvent, LoggedEvent
from chargestream.domain.records import (
    Alert,
    AlertKind,
    ChannelKind,
    DerivedRecord,
    NotificationChannel,
    NotificationStatus,
)
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.control import Observed
from chargestream.streams.notification_senders import DeliveryError
from chargestream.streams.notifications import BACKLOG, Notifier

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOOK = NotificationChannel("hook", ChannelKind.WEBHOOK, "http://127.0.0.1:1/h", secret="s" * 16)
MAIL = NotificationChannel("mail", ChannelKind.EMAIL, "ops@example.com", cooldown=600)
DAY = timedelta(days=1)
FAULTED = Alert("A-1", "CP-1", AlertKind.FAULTED, T0, "connector 1 faulted", connector_id=1)


class Receiver:
    """Records what was sent; fails the first ``failures`` attempts."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[str, str]] = []
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, channel: NotificationChannel, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if self.failures:
            self.failures -= 1
            raise DeliveryError("webhook: HTTP 500")
        self.sent.append((channel.channel_id, message["event"]))


def batch(*records: DerivedRecord) -> list[Observed]:
    event = FrameEvent("CP-1", EventKind.FRAME, "[3]", "n", "c", 1, 0, action="StatusNotification")
    return [Observed(LoggedEvent(1, event), list(records))]


async def notifier(store: SqliteStore, receiver: Receiver, **options: Any) -> Notifier:
    for channel in (HOOK, MAIL):
        await store.put_notification_channel(channel)
    return Notifier(store, receiver, first_retry=0.001, clock=lambda: T0, **options)


async def test_each_channel_gets_an_opening_and_a_closing_once(store: SqliteStore) -> None:
    receiver = Receiver()
    notify = await notifier(store, receiver)
    closed = replace(FAULTED, closed_at=T0 + timedelta(minutes=1))
    for records in ([FAULTED], [FAULTED], [closed], [closed]):  # re-derived: sent once
        await notify.observe(batch(*records))
    await notify.drain()
    assert sorted(receiver.sent) == [
        ("hook", "alert.closed"),
        ("hook", "alert.opened"),
        ("mail", "alert.closed"),
        ("mail", "alert.opened"),
    ]
    log = await store.notifications()
    assert {n.status for n in log} == {NotificationStatus.DELIVERED}
    assert all(n.attempts == 1 and n.delivered_at == T0 for n in log)


async def test_a_second_worker_does_not_send_what_the_first_claimed(store: SqliteStore) -> None:
    first, second = Receiver(), Receiver()
    await (await notifier(store, first)).observe(batch(FAULTED))
    other = await notifier(store, second)
    await other.observe(batch(FAULTED))
    await other.drain()
    assert second.sent == []


async def test_channels_filter_by_kind_rule_and_enabled(store: SqliteStore) -> None:
    receiver = Receiver()
    notify = await notifier(store, receiver)
    await store.put_notification_channel(replace(HOOK, alert_kind=AlertKind.OFFLINE))
    await store.put_notification_channel(replace(MAIL, enabled=False))
    await notify.observe(batch(FAULTED))
    await notify.drain()
    assert receiver.sent == []
    threshold = Alert("A-2", "CP-1", AlertKind.THRESHOLD, T0, "hot", rule_id="R-1")
    await store.put_notification_channel(replace(HOOK, rule_id="R-1", alert_kind=AlertKind.OFFLINE))
    await notify.observe(batch(threshold))
    await notify.drain()
    assert receiver.sent == []  # R-1 but not OFFLINE
    await store.put_notification_channel(replace(HOOK, rule_id="R-1", alert_kind=None))
    await notify.observe(batch(threshold))
    await notify.drain()
    assert receiver.sent == [("hook", "alert.opened")]


async def test_cooldown_suppresses_a_reopening_and_its_closing(store: SqliteStore) -> None:
    receiver = Receiver()
    notify = await notifier(store, receiver)
    again = replace(FAULTED, alert_id="A-2", opened_at=T0 + timedelta(minutes=5))
    later = replace(FAULTED, alert_id="A-3", opened_at=T0 + timedelta(minutes=10))
    await notify.observe(batch(FAULTED, again, replace(again, closed_at=again.opened_at), later))
    await notify.drain()
    mail = [n for n in await store.notifications() if n.channel_id == "mail"]
    assert {(n.alert_id, n.transition): n.status for n in mail} == {
        ("A-1", "opened"): NotificationStatus.DELIVERED,
        ("A-2", "opened"): NotificationStatus.SUPPRESSED,
        ("A-2", "closed"): NotificationStatus.SUPPRESSED,
        ("A-3", "opened"): NotificationStatus.DELIVERED,
    }
    assert receiver.sent.count(("hook", "alert.opened")) == 3  # the hook has no cooldown


async def test_the_cooldown_and_its_suppressed_closings_survive_a_restart(
    store: SqliteStore,
) -> None:
    receiver = Receiver()
    again = replace(FAULTED, alert_id="A-2", opened_at=T0 + timedelta(minutes=5))
    first = await notifier(store, receiver)
    await first.observe(batch(FAULTED))
    await first.drain()
    restarted = Notifier(store, receiver, first_retry=0.001, clock=lambda: T0)  # a new process
    await restarted.observe(batch(again))
    third = Notifier(store, receiver, first_retry=0.001, clock=lambda: T0)
    await third.observe(batch(replace(again, closed_at=again.opened_at)))  # its closing
    await third.drain()
    mail = {(n.alert_id, n.transition): n for n in await store.notifications()}
    assert mail[("A-1", "opened")].status is NotificationStatus.DELIVERED
    assert mail[("A-1", "opened")].alert_kind is AlertKind.FAULTED
    assert mail[("A-1", "opened")].alert_opened_at == T0
    suppressed = {
        (n.channel_id, n.transition)
        for n in await store.notifications()
        if n.status is NotificationStatus.SUPPRESSED
    }
    assert suppressed == {("mail", "opened"), ("mail", "closed")}  # the hook has no cooldown


async def test_a_periodic_pass_learns_what_another_worker_sent(store: SqliteStore) -> None:
    receiver = Receiver()
    mine = await notifier(store, receiver)
    await mine.reconcile(T0, lambda key: True)  # started: nothing in the log yet
    theirs = Notifier(store, receiver, clock=lambda: T0)
    await theirs.observe(batch(FAULTED))  # the charge point's owner before a rebalance
    await theirs.drain()
    await mine.reconcile(T0, lambda key: True)
    await mine.observe(batch(replace(FAULTED, alert_id="A-2", opened_at=T0 + DAY / 1440)))
    await mine.drain()
    [entry] = [
        n for n in await store.notifications() if n.alert_id == "A-2" and n.channel_id == "mail"
    ]
    assert entry.status is NotificationStatus.SUPPRESSED


async def test_a_restart_reads_only_the_recent_log(store: SqliteStore) -> None:
    """Entries older than the longest cooldown plus BACKLOG no longer matter."""
    receiver = Receiver()
    first = await notifier(store, receiver)
    await first.observe(batch(FAULTED))
    await first.drain()
    much_later = T0 + BACKLOG + timedelta(minutes=11)
    restarted = Notifier(store, receiver, first_retry=0.001, clock=lambda: much_later)
    backlog = replace(FAULTED, alert_id="A-2", opened_at=T0 + timedelta(minutes=5))
    await restarted.observe(batch(backlog))
    await restarted.drain()
    assert receiver.sent.count(("mail", "alert.opened")) == 2  # the old send was not read


async def test_retried_until_delivered(store: SqliteStore) -> None:
    receiver = Receiver(failures=2)
    await store.put_notification_channel(HOOK)
    notify = Notifier(store, receiver, first_retry=0.001, clock=lambda: T0)
    await notify.observe(batch(FAULTED))
    await notify.drain()
    [entry] = await store.notifications()
    assert (entry.status, entry.attempts, entry.last_error) == (
        NotificationStatus.DELIVERED,
        3,
        "webhook: HTTP 500",
    )


async def test_failed_after_the_last_attempt(store: SqliteStore) -> None:
    await store.put_notification_channel(HOOK)
    notify = Notifier(store, Receiver(failures=9), attempts=3, first_retry=0.001)
    await notify.observe(batch(FAULTED))
    await notify.drain()
    [entry] = await store.notifications()
    assert (entry.status, entry.attempts) == (NotificationStatus.FAILED, 3)


async def test_batches_without_alerts_read_nothing(store: SqliteStore) -> None:
    await store.close()  # a store that cannot answer is never asked
    await Notifier(store, Receiver()).observe(batch())


async def test_a_digest_channel_gets_the_day_before_once_from_its_owner(
    store: SqliteStore,
) -> None:
    receiver = Receiver()
    digest = replace(MAIL, digest=True, alert_kind=AlertKind.FAULTED)
    await store.put_notification_channel(digest)
    notify = Notifier(store, receiver, clock=lambda: T0)
    offline = Alert("A-9", "CP-1", AlertKind.OFFLINE, T0, "offline")
    await store.upsert([FAULTED, offline, replace(FAULTED, alert_id="A-0", opened_at=T0 - DAY)])
    await notify.observe(batch(FAULTED))  # a digest channel gets nothing at once
    await notify.drain()
    assert receiver.sent == []

    await notify.reconcile(T0 - DAY, lambda key: True)  # a day without alerts: nothing
    await notify.reconcile(T0 + DAY, lambda key: key != "digest:mail")  # not the owner
    await notify.reconcile(T0 + DAY, lambda key: key == "digest:mail")
    await notify.reconcile(T0 + DAY, lambda key: True)  # done for the day
    await Notifier(store, receiver).reconcile(T0 + DAY, lambda key: True)  # another worker
    await notify.drain()
    assert receiver.sent == [("mail", "alert.digest")]
    [message] = receiver.messages
    assert [a["alert_id"] for a in message["alerts"]] == ["A-1"]  # the day's, the kind's
    [entry] = await store.notifications()
    assert (entry.notification_id, entry.status) == (
        f"digest|mail|{T0.date()}",
        NotificationStatus.DELIVERED,
    )


async def test_a_failing_sender_is_logged_and_stops_nothing(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(channel: NotificationChannel, message: dict[str, Any]) -> None:
        if channel.channel_id == "hook":
            raise ValueError("a bug")

    for channel in (HOOK, MAIL):
        await store.put_notification_channel(channel)
    notify = Notifier(store, broken, clock=lambda: T0)
    await notify.observe(batch(FAULTED))
    await notify.drain()
    assert "notification_failed" in caplog.messages
    statuses = {n.channel_id: n.status for n in await store.notifications()}
    assert statuses == {"hook": NotificationStatus.PENDING, "mail": NotificationStatus.DELIVERED}
