"""What the Cassandra store decides before it writes (pure code, no driver).

``batches``: Cassandra's cost is per request, not per row (ADR 0011), so rows whose
partitions live on the same replicas go in one unlogged batch, bounded in rows and in
bytes to stay well under the server's ``batch_size_fail_threshold``.

``ListedKeys``: the listing key each session was last written under, so
an upsert reads the stored record only when its listing rows may have to move.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclasses.dataclass
class _Open(Generic[Item]):
    items: list[Item]
    size: int


def batches(
    rows: Iterable[tuple[Hashable, int, Item]], max_rows: int, max_bytes: int
) -> list[list[Item]]:
    """``rows`` as ``(group, size in bytes, item)`` grouped by ``group``, in order of first
    appearance, into batches of at most ``max_rows`` items and ``max_bytes`` bytes (a row
    larger than ``max_bytes`` alone)."""
    full: list[list[Item]] = []
    open_: dict[Hashable, _Open[Item]] = {}
    for group, size, item in rows:
        batch = open_.get(group)
        if batch is not None and (len(batch.items) >= max_rows or batch.size + size > max_bytes):
            full.append(batch.items)
            batch = None
        if batch is None:
            batch = open_[group] = _Open([], 0)
        batch.items.append(item)
        batch.size += size
    return [*full, *(batch.items for batch in open_.values())]


class ListedKeys:
    """The listing key each record id was last written under, for the ``size`` ids
    written most recently.

    A record's listing rows are keyed by fields that may change (a session's sort time);
    when they do, the rows under the old key must be deleted, so the store reads the
    stored record first. When this store wrote the id under the same key last, nothing
    can have moved and the read is skipped: an open session re-stored for a refresh keeps
    its start time. Another process's writes cannot fool it, as a record's listing key
    only ever moves on (a start time once known stays), never back to one this store saw.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._keys: dict[Hashable, Hashable] = {}

    def unchanged(self, record_id: Hashable, key: Hashable) -> bool:
        return self._keys.get(record_id) == key

    def written(self, keys: Iterable[tuple[Hashable, Hashable]]) -> None:
        """Remember ``(record id, listing key)`` pairs just written."""
        for record_id, key in keys:
            self._keys.pop(record_id, None)  # re-inserted: the most recent is last
            self._keys[record_id] = key
        while len(self._keys) > self._size:
            del self._keys[next(iter(self._keys))]

    def forget(self) -> None:
        self._keys.clear()
