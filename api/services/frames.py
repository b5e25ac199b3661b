"""The frame inspector: the newest raw OCPP frames of one charge point."""

from collections.abc import Awaitable, Callable

from chargestream.api.schemas import FrameOut
from chargestream.api.services.errors import NotAvailable
from chargestream.domain.frames import LoggedEvent

RecentFrames = Callable[[str, int], Awaitable[list[LoggedEvent]]]


class FrameService:
    def __init__(self, recent_frames: RecentFrames | None) -> None:
        """``recent_frames`` is None where no frames are kept for reading back."""
        self._recent_frames = recent_frames

    async def recent(self, charge_point_id: str, limit: int) -> list[FrameOut]:
        """Newest first."""
        if self._recent_frames is None:
            raise NotAvailable("the frame inspector is not available in this mode")
        return [
            FrameOut.build(logged) for logged in await self._recent_frames(charge_point_id, limit)
        ]
