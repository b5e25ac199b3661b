from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chargestream.domain.frames import FrameEvent


class EventLog(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None:
        """Flush what was appended, then release resources."""

    async def append(self, events: Sequence[FrameEvent]) -> None:
        """Return once every event is durably stored, in order.

        Raises ``EventLogUnavailable`` when it cannot store them; the caller
        must then not acknowledge the frames to the charge point.
        """


class EventLogUnavailable(RuntimeError):
    """The log could not durably store the events."""
