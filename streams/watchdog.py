"""Consumer liveness: notice when a worker has input it no longer works off.

Faust can leave a partition's events unprocessed while the worker stays up and healthy:
recovery after a rebalance clears the streams' queues after events were fetched into
them (faust-streaming issue 596; the fetch position is then past events no agent will
see), and it can leave an assigned partition unfetched (issues 471 and 629). Either way
the group's committed offset stays below the partition's end and the lag grows forever.

The worker feeds this watch every tick with the committed offsets Kafka reports. The
first remedy is to seek the stalled partitions back to their committed offsets (their
events are fetched again; derivation skips what a state already holds). If they stall
again with no progress in between, the worker exits, so its supervisor restarts it and
the group rebalances (see docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Remedy(Enum):
    RESEEK = "reseek"
    EXIT = "exit"


@dataclass(frozen=True)
class Stall:
    remedy: Remedy
    partitions: list[int]


@dataclass
class StallWatch:
    """Decides from periodic observations which partitions stalled, and what to do.

    A partition is stalled when its end offset is above the group's committed offset
    and, for ``after`` seconds, neither that offset nor the worker's processed count has
    moved while the worker was not busy writing (a store outage pauses consumption on
    purpose).
    """

    after: float
    _processed: int = -1
    _waiting: dict[int, tuple[int, float]] = field(default_factory=dict)  # -> (committed, since)
    _reseeked: bool = False

    def observe(
        self,
        now: float,
        committed: dict[int, int],
        ends: dict[int, int],
        processed: int,
        writing: bool,
    ) -> Stall | None:
        """The partitions stalled for ``after`` seconds as of ``now``, with the remedy."""
        if writing or processed != self._processed:
            self._processed = processed
            self._waiting.clear()
            self._reseeked = False
            if writing:
                return None
        stalled = []
        waiting: dict[int, tuple[int, float]] = {}
        for partition, offset in committed.items():
            if ends.get(partition, 0) <= offset:
                continue
            seen, since = self._waiting.get(partition, (offset, now))
            if seen != offset:
                since = now
                self._reseeked = False
            waiting[partition] = (offset, since)
            if now - since >= self.after:
                stalled.append(partition)
        self._waiting = waiting
        if not stalled:
            return None
        if self._reseeked:
            return Stall(Remedy.EXIT, sorted(stalled))
        self._reseeked = True
        self._waiting.clear()  # the seek gets ``after`` seconds to show progress
        return Stall(Remedy.RESEEK, sorted(stalled))
