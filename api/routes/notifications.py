"""/api/v1/notification-channels and /api/v1/notifications (the delivery log)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from chargestream.api.dependencies import Services
from chargestream.api.responses import NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import NotificationChannelIn, NotificationChannelOut, UtcDateTime
from chargestream.domain.records import Notification

router = APIRouter(tags=["notifications"])

ChannelId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
]


@router.get("/notification-channels")
async def channels(services: Services) -> list[NotificationChannelOut]:
    return await services.notifications.channels()


@router.get("/notification-channels/{channel_id}", responses=NOT_FOUND)
async def channel(channel_id: ChannelId, services: Services) -> NotificationChannelOut:
    return await services.notifications.channel(channel_id)


@router.put("/notification-channels/{channel_id}", responses=UNREADABLE_BODY)
async def put_channel(
    channel_id: ChannelId, body: NotificationChannelIn, services: Services
) -> NotificationChannelOut:
    return await services.notifications.put_channel(channel_id, body)


@router.delete("/notification-channels/{channel_id}", status_code=204, responses=NOT_FOUND)
async def delete_channel(channel_id: ChannelId, services: Services) -> None:
    await services.notifications.delete_channel(channel_id)


@router.post(
    "/notification-channels/{channel_id}/test",
    responses={**NOT_FOUND, 502: {"description": "the receiver did not take the message"}},
)
async def send_test(channel_id: ChannelId, services: Services) -> dict[str, str]:
    await services.notifications.send_test(channel_id)
    return {"status": "delivered"}


@router.get("/notifications")
async def notifications(
    services: Services,
    limit: int = Query(100, ge=1, le=1000),
    before: UtcDateTime | None = None,
    before_id: str | None = Query(None, min_length=1, max_length=1000),
) -> list[Notification]:
    """The delivery log, newest first (by ``created_at``, then ``notification_id``); the
    next page: ``before`` and ``before_id`` of the last entry."""
    return await services.notifications.log(limit, before, before_id)
