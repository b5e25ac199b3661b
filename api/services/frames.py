"""The frame inspector: the newest raw OCPP frames of one charge point, within a byte budget.

A CALL logged with its answer as one exchange event is shown as the two frames it holds
(the answer first, newest first, with the exchange's position), as before exchanges.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chargestream.api.schemas import FrameOut
from chargestream.api.services.errors import NotAvailable
from chargestream.domain.frames import LoggedEvent

RecentFrames = Callable[[str, int], Awaitable[list[LoggedEvent]]]

DEFAULT_MAX_BYTES = 1_048_576  # CHARGESTREAM_FRAMES_RESPONSE_BYTES's default


@dataclass(frozen=True)
class FramePage:
    frames: list[FrameOut]  # newest first
    truncated: bool  # the byte budget ended it before ``limit`` frames


class FrameService:
    def __init__(
        self, recent_frames: RecentFrames | None, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        """``recent_frames`` is None where no frames are kept for reading back; at most
        ``max_bytes`` of frame text (UTF-8) go into one answer."""
        self._recent_frames = recent_frames
        self._max_bytes = max_bytes

    async def recent(self, charge_point_id: str, limit: int) -> list[FrameOut]:
        """Newest first."""
        return (await self.page(charge_point_id, limit)).frames

    async def page(self, charge_point_id: str, limit: int) -> FramePage:
        """Up to ``limit`` frames, newest first, while their text fits in the byte budget
        (the newest frame always does, so an answer is never empty for lack of room)."""
        if self._recent_frames is None:
            raise NotAvailable("the frame inspector is not available in this mode")
        frames: list[FrameOut] = []
        used = 0
        for logged in await self._recent_frames(charge_point_id, limit):
            for event in reversed(logged.event.split()):
                if len(frames) == limit:
                    return FramePage(frames, truncated=False)
                size = len(event.frame.encode())
                if frames and used + size > self._max_bytes:
                    return FramePage(frames, truncated=True)
                used += size
                frames.append(FrameOut.build(LoggedEvent(logged.position, event)))
        return FramePage(frames, truncated=False)
