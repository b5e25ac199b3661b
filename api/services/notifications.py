"""Notification channels (where alerts are sent), their test message, the delivery log."""

from datetime import datetime

from chargestream.api.schemas import NotificationChannelIn, NotificationChannelOut
from chargestream.api.services.errors import InvalidInput, NotFound, ServiceError
from chargestream.domain.notifications import TEST
from chargestream.domain.records import Notification, NotificationChannel
from chargestream.storage.base import Store
from chargestream.streams.notification_senders import DeliveryError, Senders


class DeliveryFailed(ServiceError):
    """The channel's receiver did not take the test message (502)."""


class NotificationService:
    def __init__(self, store: Store, senders: Senders) -> None:
        self._store = store
        self._senders = senders

    async def channels(self) -> list[NotificationChannelOut]:
        return [NotificationChannelOut.of(c) for c in await self._store.notification_channels()]

    async def channel(self, channel_id: str) -> NotificationChannelOut:
        return NotificationChannelOut.of(await self._channel(channel_id))

    async def _channel(self, channel_id: str) -> NotificationChannel:
        channel = await self._store.get_notification_channel(channel_id)
        if channel is None:
            raise NotFound(f"no notification channel {channel_id!r}")
        return channel

    async def put_channel(
        self, channel_id: str, definition: NotificationChannelIn
    ) -> NotificationChannelOut:
        """Create or replace; a webhook's secret is kept when a replacement names none."""
        secret = definition.secret
        if secret is None:
            current = await self._store.get_notification_channel(channel_id)
            secret = None if current is None else current.secret
        channel = NotificationChannel(
            channel_id=channel_id, **{**definition.model_dump(), "secret": secret}
        )
        await self._store.put_notification_channel(channel)
        return NotificationChannelOut.of(channel)

    async def delete_channel(self, channel_id: str) -> None:
        if not await self._store.delete_notification_channel(channel_id):
            raise NotFound(f"no notification channel {channel_id!r}")

    async def send_test(self, channel_id: str) -> None:
        """Send a test message now (not retried, not in the delivery log)."""
        channel = await self._channel(channel_id)
        message = {
            "event": f"alert.{TEST}",
            "charge_point_id": "-",
            "kind": TEST,
            "severity": "info",
            "message": "a test message from chargestream",
        }
        try:
            await self._senders.send(channel, message)
        except DeliveryError as error:
            raise DeliveryFailed(str(error)) from None

    async def log(
        self, limit: int, before: datetime | None = None, before_id: str | None = None
    ) -> list[Notification]:
        """A page of the delivery log; the next one is after its last entry's
        (``created_at``, ``notification_id``)."""
        if before is None:
            if before_id is not None:
                raise InvalidInput("before_id: give before too")
            return await self._store.notifications(limit)
        return await self._store.notifications(limit, (before, before_id or ""))
