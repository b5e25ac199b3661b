"""Consumer liveness: notice when a worker has input but has stopped fetching it.

Faust can leave an assigned partition unfetched after a rebalance (its issues 471 and
629): the worker stays up, answers its health check, and the partition's lag grows
forever. The worker feeds this watch every tick; a stalled partition makes the worker
exit, so its supervisor restarts it and the group rebalances (see docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StallWatch:
    """Decides from periodic observations which partitions stalled.

    A partition is stalled when its end offset is above the consumer's position and,
    for ``after`` seconds, neither that position nor the worker's processed count has
    moved while the worker was not busy writing (a store outage pauses consumption on
    purpose).
    """

    after: float
    _processed: int = -1
    _waiting: dict[int, tuple[int, float]] = field(default_factory=dict)  # -> (position, since)

    def observe(
        self,
        now: float,
        positions: dict[int, int],
        ends: dict[int, int],
        processed: int,
        writing: bool,
    ) -> list[int]:
        """The partitions stalled for ``after`` seconds as of ``now``, sorted."""
        if writing or processed != self._processed:
            self._processed = processed
            self._waiting.clear()
            if writing:
                return []
        stalled = []
        waiting: dict[int, tuple[int, float]] = {}
        for partition, position in positions.items():
            if ends.get(partition, 0) <= position:
                continue
            seen, since = self._waiting.get(partition, (position, now))
            if seen != position:
                since = now
            waiting[partition] = (position, since)
            if now - since >= self.after:
                stalled.append(partition)
        self._waiting = waiting
        return sorted(stalled)
