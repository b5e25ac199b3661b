"""Alert notifications: a controller that sends each alert's opening and closing once.

It sees the Alert records derived for the charge points its process owns (``observe``).
For each channel that wants an alert it first claims the delivery (alert, channel,
transition) in the store with insert-if-absent, so a re-derivation, a replay's re-upsert of
the same alert or a second worker never sends it twice; only the claimant sends, in the
background, retrying with a doubling delay up to ``attempts`` times, and records every
attempt in the delivery log. An opening within a channel's cooldown of the last one sent for
the same charge point, kind and rule is recorded as suppressed, and so is its closing.

The cooldown outlives the process: before its first alert a Notifier reads the delivery log's
entries of the last day plus the longest cooldown (at most RESTORE_LIMIT, newest first), and
each periodic pass reads those made since (by other workers too: after a rebalance, the new
owner of a charge point knows what the old one sent). An opening's verdict for its closing
is read from its entry in the log.

A digest channel gets nothing at once: the periodic pass of the owner of the key
``digest:<channel>`` sends it one message a day with the alerts opened the UTC day before,
claimed the same way (``digest|<channel>|<day>``); a day without alerts sends nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chargestream.domain.notifications import (
    CLOSED,
    DIGEST,
    OPENED,
    alert_message,
    day_bounds,
    digest_message,
    in_cooldown,
    opened_on,
    transition_of,
)
from chargestream.domain.records import (
    Alert,
    Notification,
    NotificationChannel,
    NotificationStatus,
)
from chargestream.storage.base import Store, StoreUnavailable
from chargestream.streams.backoff import Backoff
from chargestream.streams.control import Observed, Owns
from chargestream.streams.notification_senders import DeliveryError

log = logging.getLogger("chargestream.notifications")

Send = Callable[[NotificationChannel, dict[str, Any]], Awaitable[None]]
"""Sends one message to one channel; DeliveryError when the attempt failed."""

ATTEMPTS = 5
FIRST_RETRY = 2.0  # seconds before the second attempt, doubling
LAST_RETRY = 60.0
DIGEST_LIMIT = 1000  # alerts in one day's digest, the newest of the day if there were more
RESTORE_LIMIT = 10_000  # delivery log entries read for the cooldown at a start or a pass
FIRST_PAGE, LAST_PAGE = 50, 1000  # each page read four times the one before, up to the last
# Beyond the longest cooldown: alerts a worker derives late (a backlog after an outage)
# still meet the entries of the sends before them.
BACKLOG = timedelta(days=1)
OVERLAP = timedelta(minutes=1)  # re-read at each pass: entries of workers whose clocks lag

CooldownKey = tuple[str, str, str, str | None]  # channel, charge point, kind, rule


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Notifier:
    def __init__(
        self,
        store: Store,
        send: Send,
        *,
        attempts: int = ATTEMPTS,
        first_retry: float = FIRST_RETRY,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._store = store
        self._send = send
        self._attempts = attempts
        self._first_retry = first_retry
        self._clock = clock
        self._last_opened: dict[CooldownKey, datetime] = {}
        self._read_up_to: datetime | None = None  # when the delivery log was last read
        self._sending: set[asyncio.Task[None]] = set()
        self._digested: set[tuple[str, date]] = set()  # (channel, day) done in this process

    async def observe(self, batch: Sequence[Observed]) -> None:
        alerts = [r for item in batch for r in item.records if isinstance(r, Alert)]
        if not alerts:
            return
        channels = await self._store.notification_channels()
        if self._read_up_to is None:
            await self._read_log(channels)
        for alert in alerts:
            for channel in channels:
                if channel.wants(alert) and not channel.digest:
                    await self._notify(channel, alert)

    async def reconcile(self, now: datetime, owns: Owns) -> None:
        """Catch up on the delivery log; send the day before's digest to each digest
        channel this process owns."""
        channels = await self._store.notification_channels()
        await self._read_log(channels)
        await self._send_digests(now, owns, channels)

    async def _read_log(self, channels: Sequence[NotificationChannel]) -> None:
        """The cooldown from the delivery log: the sent openings logged since the last read
        (OVERLAP before it; the first read: since BACKLOG plus the longest cooldown ago),
        newest first, at most RESTORE_LIMIT entries."""
        now = self._clock()
        longest = timedelta(seconds=max((c.cooldown for c in channels), default=0))
        horizon = now - longest - BACKLOG
        since = horizon if self._read_up_to is None else self._read_up_to - OVERLAP
        entries: list[Notification] = []
        before: tuple[datetime, str] | None = None
        size = FIRST_PAGE
        while len(entries) < RESTORE_LIMIT:
            page = await self._store.notifications(size, before)
            entries += [n for n in page if n.created_at >= since]
            if len(page) < size or page[-1].created_at < since:
                break
            before = (page[-1].created_at, page[-1].notification_id)
            size = min(size * 4, LAST_PAGE)
        for entry in entries:
            if entry.transition == OPENED and entry.status is not NotificationStatus.SUPPRESSED:
                self._remember(entry)
        self._read_up_to = now
        self._last_opened = {k: v for k, v in self._last_opened.items() if v >= horizon}

    def _remember(self, entry: Notification) -> None:
        """A logged opening that was sent (or is being sent) starts its key's cooldown."""
        if entry.alert_kind is None or entry.alert_opened_at is None:
            return  # logged before the cooldown key was kept
        key = (entry.channel_id, entry.charge_point_id, entry.alert_kind.value, entry.rule_id)
        last = self._last_opened.get(key)
        if last is None or entry.alert_opened_at > last:
            self._last_opened[key] = entry.alert_opened_at

    async def _send_digests(
        self, now: datetime, owns: Owns, channels: Sequence[NotificationChannel]
    ) -> None:
        day = (now - timedelta(days=1)).date()
        due = [
            channel
            for channel in channels
            if channel.enabled
            and channel.digest
            and (channel.channel_id, day) not in self._digested
            and owns(f"digest:{channel.channel_id}")
        ]
        if not due:
            return
        _, end = day_bounds(day)
        alerts = opened_on(day, await self._store.alerts(False, DIGEST_LIMIT, end))
        for channel in due:
            chosen = [alert for alert in alerts if channel.wants(alert)]
            notification = Notification(
                notification_id=f"{DIGEST}|{channel.channel_id}|{day.isoformat()}",
                channel_id=channel.channel_id,
                alert_id=f"{DIGEST}:{day.isoformat()}",
                charge_point_id="",
                transition=DIGEST,
                created_at=self._clock(),
            )
            if chosen and await self._store.claim_notification(notification):
                self._start(channel, digest_message(day, chosen), notification)
            self._digested.add((channel.channel_id, day))

    async def _notify(self, channel: NotificationChannel, alert: Alert) -> None:
        transition = transition_of(alert)
        suppressed = await self._suppresses(channel, alert, transition)
        notification = Notification(
            notification_id=Notification.id_for(alert.alert_id, channel.channel_id, transition),
            channel_id=channel.channel_id,
            alert_id=alert.alert_id,
            charge_point_id=alert.charge_point_id,
            transition=transition,
            created_at=self._clock(),
            status=NotificationStatus.SUPPRESSED if suppressed else NotificationStatus.PENDING,
            alert_kind=alert.kind,
            rule_id=alert.rule_id,
            alert_opened_at=alert.opened_at,
        )
        if not await self._store.claim_notification(notification):
            return  # sent (or being sent) already, by this process or another
        if suppressed:
            return
        if transition == OPENED:
            self._remember(notification)
        self._start(channel, alert_message(alert, transition), notification)

    def _start(
        self, channel: NotificationChannel, message: dict[str, Any], notification: Notification
    ) -> None:
        task = asyncio.create_task(self._guarded(channel, message, notification))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _suppresses(
        self, channel: NotificationChannel, alert: Alert, transition: str
    ) -> bool:
        if transition == CLOSED:  # its opening's verdict, as the log keeps it
            opening_id = Notification.id_for(alert.alert_id, channel.channel_id, OPENED)
            opening = await self._store.notification(opening_id)
            return opening is not None and opening.status is NotificationStatus.SUPPRESSED
        last = self._last_opened.get(_cooldown_key(channel, alert))
        return in_cooldown(last, alert.opened_at, channel.cooldown)

    async def _guarded(
        self, channel: NotificationChannel, message: dict[str, Any], notification: Notification
    ) -> None:
        """A bug in one delivery is logged, and neither stops the others nor derivation."""
        try:
            await self._deliver(channel, message, notification)
        except asyncio.CancelledError:
            raise
        except Exception:
            fields = {"id": notification.notification_id}
            log.exception("notification_failed", extra={"fields": fields})

    async def _deliver(
        self, channel: NotificationChannel, message: dict[str, Any], notification: Notification
    ) -> None:
        backoff = Backoff(first=self._first_retry, most=LAST_RETRY)
        for attempt in range(1, self._attempts + 1):
            try:
                await self._send(channel, message)
            except DeliveryError as error:
                last = attempt == self._attempts
                status = NotificationStatus.FAILED if last else NotificationStatus.PENDING
                notification = replace(
                    notification, attempts=attempt, status=status, last_error=str(error)
                )
                await self._record(notification)
                if last:
                    return
                await backoff.wait()
            else:
                delivered = NotificationStatus.DELIVERED
                notification = replace(
                    notification, attempts=attempt, status=delivered, delivered_at=self._clock()
                )
                await self._record(notification)
                return

    async def _record(self, notification: Notification) -> None:
        try:
            await self._store.put_notification(notification)
        except StoreUnavailable as error:  # the delivery itself stands; only its log entry lags
            log.warning(
                "notification_log_unavailable",
                extra={"fields": {"id": notification.notification_id, "error": repr(error)}},
            )

    async def drain(self) -> None:
        """Wait until every delivery started so far has finished (tests, shutdown)."""
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)


def _cooldown_key(channel: NotificationChannel, alert: Alert) -> CooldownKey:
    return (channel.channel_id, alert.charge_point_id, alert.kind.value, alert.rule_id)
