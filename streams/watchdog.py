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
    and that offset has not moved for ``after`` seconds while the worker was not busy
    writing (a store outage pauses consumption on purpose). Per partition: progress on
    the others says nothing of this one.
    """

    after: float
    _waiting: dict[int, tuple[int, float]] = field(default_factory=dict)  # -> (committed, since)
    _reseeked: set[int] = field(default_factory=set)  # sought back, no progress since

    def observe(
        self,
        now: float,
        committed: dict[int, int],
        ends: dict[int, int],
        writing: bool,
    ) -> Stall | None:
        """The partitions stalled for ``after`` seconds as of ``now``, with the remedy."""
        if writing:
            self._waiting.clear()
            self._reseeked.clear()
            return None
        stalled = []
        waiting: dict[int, tuple[int, float]] = {}
        for partition, offset in committed.items():
            if ends.get(partition, 0) <= offset:
                self._reseeked.discard(partition)
                continue
            seen, since = self._waiting.get(partition, (offset, now))
            if seen != offset:
                since = now
                self._reseeked.discard(partition)
            waiting[partition] = (offset, since)
            if now - since >= self.after:
                stalled.append(partition)
        self._waiting = waiting
        if not stalled:
            return None
        if self._reseeked.intersection(stalled):
            return Stall(Remedy.EXIT, sorted(stalled))
        self._reseeked.update(stalled)
        for partition in stalled:  # the seek gets ``after`` seconds to show progress
            self._waiting[partition] = (committed[partition], now)
        return Stall(Remedy.RESEEK, sorted(stalled))
