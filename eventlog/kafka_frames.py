"""The frame inspector in the stack mode: a charge point's newest events, read back from
its partition of ``ocpp.frames`` (ADR 0016).

Kafka has no index by key, so the reader scans the charge point's partition backwards, a
window at a time (each read forwards, each twice the one before), keeping the records with
its key, until it has ``limit`` events or has read ``budget`` records. The scan starts
where the charge point was last seen (Kafka's time index), so a silent charge point's
frames are found as cheaply as an active one's. One scan at a time per process, in a
thread: a scan is CPU work, never the event loop's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition, murmur2

from chargestream.domain.frames import LoggedEvent
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.eventlog.kafka import logged_event, partition_records
from chargestream.eventlog.kafka_clients import consumer

FIRST_WINDOW = 2_000  # records read by the first window of a scan
# the stored last_seen is re-emitted every 30 s (DerivationSettings.last_seen_resolution):
# the charge point's newest event may be that much later, or a little more
LAST_SEEN_SLACK = timedelta(seconds=60)
TIMEOUT = 10.0  # seconds a scan may take against Kafka before it fails (by default)


class KafkaFrames:
    def __init__(
        self, client: dict[str, Any], topic: str, *, budget: int, timeout: float = TIMEOUT
    ) -> None:
        """``budget``: records read at most per scan; ``timeout``: seconds a scan may take."""
        self._client = client
        self._topic = topic
        self._budget = budget
        self._timeout = timeout
        self._scans = asyncio.Lock()
        self._reader: Consumer | None = None  # made by the first scan, reused by the next
        self._reader_lock = threading.Lock()

    async def recent_for(
        self, charge_point_id: str, limit: int, last_seen: datetime | None = None
    ) -> list[LoggedEvent]:
        """Up to ``limit`` events of the charge point, newest first, from the ``budget``
        records before ``last_seen`` (before the log's end if unknown)."""
        async with self._scans:
            return await asyncio.to_thread(self._scan, charge_point_id.encode(), limit, last_seen)

    async def close(self) -> None:
        async with self._scans:
            with self._reader_lock:
                if self._reader is not None:
                    await asyncio.to_thread(self._reader.close)
                    self._reader = None

    def _scan(self, key: bytes, limit: int, last_seen: datetime | None) -> list[LoggedEvent]:
        deadline = time.monotonic() + self._timeout
        with self._reader_lock:
            try:
                reader = self._consumer()
                partition = self._partition_of(reader, key)
                if partition is None:  # no frame was ever logged
                    return []
                low, end = reader.get_watermark_offsets(partition, timeout=self._timeout)
                if last_seen is not None:
                    end = self._offset_after(reader, partition, last_seen, end)
                return self._collect(reader, partition, key, limit, low, end, deadline)
            except KafkaException as error:
                raise EventLogUnavailable(f"Kafka did not answer: {error}") from None

    def _collect(
        self,
        reader: Consumer,
        partition: TopicPartition,
        key: bytes,
        limit: int,
        low: int,
        end: int,
        deadline: float,
    ) -> list[LoggedEvent]:
        """Windows back from ``end`` until ``limit`` events, the budget or the log's start."""
        found: list[LoggedEvent] = []  # newest first
        window, left = FIRST_WINDOW, self._budget
        while len(found) < limit and left > 0 and end > low:
            start = max(low, end - window, end - left)
            found.extend(reversed(self._read(reader, partition, key, start, end, deadline)))
            left -= end - start
            end, window = start, window * 2
        return found[:limit]

    def _read(
        self,
        reader: Consumer,
        partition: TopicPartition,
        key: bytes,
        start: int,
        end: int,
        deadline: float,
    ) -> list[LoggedEvent]:
        """The charge point's events at offsets ``start`` to ``end`` (excluded), oldest first."""
        records = partition_records(
            reader, partition.topic, partition.partition, start, end, deadline
        )
        events: list[LoggedEvent] = []
        try:
            for record in records:
                if record.key() == key:  # a record not written by a gateway is not shown
                    with contextlib.suppress(KeyError, ValueError):
                        events.append(logged_event(record))
        except TimeoutError:
            raise EventLogUnavailable("Kafka did not return the frames in time") from None
        return events

    def _consumer(self) -> Consumer:
        if self._reader is None:  # a group it never joins: it assigns partitions itself
            group = f"chargestream-frames-{uuid.uuid4().hex}"
            self._reader = consumer(
                self._client,
                group,
                # a fetch waiting at the log's end would hold up the next window's for 0.5 s
                **{"enable.partition.eof": True, "fetch.wait.max.ms": 10},
            )
        return self._reader

    def _partition_of(self, reader: Consumer, key: bytes) -> TopicPartition | None:
        """The partition the gateways' producer (murmur2) puts the key's records in; None
        while the topic does not exist."""
        topic = reader.list_topics(self._topic, timeout=self._timeout).topics.get(self._topic)
        if topic is None or topic.error is not None or not topic.partitions:
            return None
        return TopicPartition(self._topic, murmur2(key, len(topic.partitions)))

    def _offset_after(
        self, reader: Consumer, partition: TopicPartition, at: datetime, end: int
    ) -> int:
        """The first offset of a record stored after ``at`` and the slack (``end`` if none)."""
        ms = int((at + LAST_SEEN_SLACK).timestamp() * 1000)
        wanted = TopicPartition(partition.topic, partition.partition, ms)
        [found] = reader.offsets_for_times([wanted], timeout=self._timeout)
        if found.error is not None:
            raise KafkaException(found.error)
        return found.offset if 0 <= found.offset < end else end
