"""Apply a partition's events in offset order, with none missing.

The frames topic is written without transactions and never compacted, so a partition's
offsets are contiguous: an event whose offset is past the next one expected means the
events between were fetched but never reached the worker's stream (Faust's recovery
clears the stream queues after fetching into them, faust-streaming issue 596). Applying
it would move its charge point's state past events it never saw (a session would lose
its start), and a later delivery of those events would be skipped as old. So the worker
applies nothing past a gap before it has read the missing events straight from Kafka.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    admitted: list[int]
    """Indexes of the events to apply, in their order."""
    next_offsets: dict[int, int]
    """Per partition, the next offset to apply after them."""
    gaps: dict[int, int]
    """Partitions with events past a gap: the first offset missing."""


def admit(events: Sequence[tuple[int, int]], next_offsets: Mapping[int, int]) -> Admission:
    """Which of ``events`` ((partition, offset), in delivery order) may be applied now.

    Per partition: the event at the next offset is admitted; one below it was applied
    already (a duplicate delivery) and is left out; one above it opens a gap, and it and
    every later event of its partition in this batch are left out.
    """
    following = dict(next_offsets)
    admitted: list[int] = []
    gaps: dict[int, int] = {}
    for index, (partition, offset) in enumerate(events):
        if partition in gaps:
            continue
        expected = following[partition]
        if offset == expected:
            admitted.append(index)
            following[partition] = offset + 1
        elif offset > expected:
            gaps[partition] = expected
    return Admission(admitted, following, gaps)
