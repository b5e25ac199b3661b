"""The stack mode's event log: the Kafka topic ``ocpp.frames``, key = charge point id.

``append`` returns after the broker acknowledged every event (acks=all,
idempotent producer): only then may the gateway answer the charge point. The gateway
appends one event at a time (a CALL with its answer is one event, ADR 0010).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from chargestream.domain.frames import FrameEvent, LoggedEvent
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.eventlog.kafka_clients import (
    AsyncProducer,
    consumer,
    ensure_topics,
    producer_config,
)

CONSUME_BATCH = 1_000  # records per consume call of a reader


class KafkaEventLog:
    def __init__(
        self,
        client: dict[str, Any],
        topic: str,
        *,
        partitions: int = 12,
        delivery_timeout: float = 30.0,
        linger_ms: int = 10,
    ) -> None:
        """``linger_ms``: how long the producer holds a frame for others to the same partition;
        a produce request costs the gateway and the broker far more than a frame in it."""
        self._client = client
        self._topic = topic
        self._partitions = partitions
        self._delivery_timeout_ms = int(delivery_timeout * 1000)
        self._linger_ms = linger_ms
        self._producer: AsyncProducer | None = None

    async def open(self) -> None:
        await asyncio.to_thread(ensure_topics, self._client, {self._topic: self._partitions})
        config = producer_config(
            self._client,
            **{"message.timeout.ms": self._delivery_timeout_ms, "linger.ms": self._linger_ms},
        )
        self._producer = AsyncProducer(config)
        self._producer.start()

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def append(self, events: Sequence[FrameEvent]) -> None:
        if self._producer is None:
            raise EventLogUnavailable("event log is closed")
        try:
            deliveries = [
                self._producer.produce(
                    self._topic,
                    event.charge_point_id.encode(),
                    event.frame.encode(),
                    event.headers(),
                )
                for event in events
            ]
        except BufferError as error:
            raise EventLogUnavailable(f"producer queue full: {error}") from None
        try:
            if len(deliveries) == 1:  # every append of the gateway: no gather, a loop turn less
                await deliveries[0]
            else:
                await asyncio.gather(*deliveries)
        except KafkaException as error:
            raise EventLogUnavailable(f"Kafka did not store the frames: {error}") from None


def logged_event(message: Message) -> LoggedEvent:
    """A consumed record of the frames topic as the event it holds, at its offset."""
    key, value, offset = message.key(), message.value(), message.offset()
    if not isinstance(key, bytes) or not isinstance(value, bytes) or offset is None:
        raise ValueError("not a frame event: a record without key, value or offset")
    headers = message.headers()
    pairs = (
        [(n, raw) for n, raw in headers if isinstance(raw, bytes)]
        if isinstance(headers, list)
        else []
    )
    return LoggedEvent(offset, FrameEvent.from_headers(key, value, pairs))


def read_range(
    client: dict[str, Any], topic: str, partition: int, start: int, end: int, timeout: float = 30.0
) -> list[Message]:
    """The records of ``partition`` from offset ``start`` up to ``end`` (excluded), as the
    log still holds them, or those that came within ``timeout`` (blocking; no consumer group
    joined, nothing committed)."""
    reader = consumer(client, f"chargestream-range-{uuid.uuid4().hex}")
    records: list[Message] = []
    try:
        for record in partition_records(
            reader, topic, partition, start, end, time.monotonic() + timeout
        ):
            records.append(record)
    except TimeoutError:
        pass  # the caller sees fewer
    finally:
        reader.close()
    return records


def partition_records(
    reader: Consumer, topic: str, partition: int, start: int, end: int, deadline: float
) -> Iterator[Message]:
    """The records of ``partition`` from offset ``start`` up to ``end`` (excluded), as the log
    still holds them, read by ``reader`` (assigned here, unassigned after; blocking);
    ``TimeoutError`` once ``deadline`` (``time.monotonic()``) passes before the last."""
    reader.assign([TopicPartition(topic, partition, start)])
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}[{partition}] not read up to {end} in time")
            for message in reader.consume(CONSUME_BATCH, timeout=0.05):
                if (error := message.error()) is not None:
                    if error.code() == KafkaError._PARTITION_EOF:  # nothing after
                        return
                    raise KafkaException(error)
                offset = message.offset()
                if offset is None or offset >= end:
                    return
                yield message
                if offset == end - 1:
                    return
    finally:
        reader.unassign()
