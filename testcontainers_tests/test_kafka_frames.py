"""The stack's frame inspector: a charge point's newest events read back from real Kafka."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Producer, murmur2

from chargestream.domain.frames import FrameEvent, LoggedEvent
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.eventlog.kafka import KafkaEventLog
from chargestream.eventlog.kafka_clients import ensure_topics
from chargestream.eventlog.kafka_frames import KafkaFrames
from tests.unit.eventlog.test_sqlite import frame

PARTITIONS = 3


def heartbeat(charge_point_id: str, sequence: int) -> FrameEvent:
    """A Heartbeat exchange: the CALL with its answer, as the gateway logs it."""
    answer = f'[3,"m{sequence}",{{"currentTime":"2026-12-07T10:00:00Z"}}]'
    return replace(frame(charge_point_id, sequence), answer=answer)


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    name = f"frames-{uuid.uuid4().hex[:8]}"
    ensure_topics({"bootstrap.servers": kafka_bootstrap}, {name: PARTITIONS})
    return name


async def log_events(kafka_bootstrap: str, topic: str, events: list[FrameEvent]) -> None:
    """Appended as the gateway appends them."""
    event_log = KafkaEventLog({"bootstrap.servers": kafka_bootstrap}, topic, partitions=PARTITIONS)
    await event_log.open()
    try:
        for event in events:
            await event_log.append([event])
    finally:
        await event_log.close()


def produce(kafka_bootstrap: str, topic: str, events: list[tuple[FrameEvent, datetime]]) -> None:
    """Many at once, each stored at the time given, in the partition a gateway would use."""
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
    for event, at in events:
        producer.produce(
            topic,
            event.frame.encode(),
            event.charge_point_id.encode(),
            headers=event.headers(),
            timestamp=int(at.timestamp() * 1000),
        )
    assert producer.flush(30) == 0


def others_of_the_partition(charge_point_id: str, count: int) -> list[str]:
    """Charge point ids whose records share the partition of ``charge_point_id``."""
    wanted = murmur2(charge_point_id.encode(), PARTITIONS)
    ids = (f"OTHER-{n}" for n in range(10_000))
    return [cp for cp in ids if murmur2(cp.encode(), PARTITIONS) == wanted][:count]


async def test_the_newest_events_of_one_charge_point_come_back_newest_first_with_offsets(
    kafka_bootstrap: str, topic: str
) -> None:
    others = others_of_the_partition("CP-K", 3)
    events = [heartbeat(cp, n) for n in range(40) for cp in ("CP-K", *others)]
    await log_events(kafka_bootstrap, topic, events)
    frames = KafkaFrames({"bootstrap.servers": kafka_bootstrap}, topic, budget=10_000)
    try:
        newest = await frames.recent_for("CP-K", 5)
        everything = await frames.recent_for("CP-K", 100)
        unknown = await frames.recent_for("CP-NEVER-SEEN", 5)
    finally:
        await frames.close()

    assert [logged.event for logged in newest] == [heartbeat("CP-K", n) for n in range(39, 34, -1)]
    assert [logged.position for logged in newest] == [156, 152, 148, 144, 140]  # its offsets
    assert [logged.event.sequence for logged in everything] == list(range(39, -1, -1))
    assert unknown == []


async def test_a_scan_reads_at_most_its_budget_of_records(kafka_bootstrap: str, topic: str) -> None:
    """The charge point's events lie behind 3,000 others': a budget of 2,000 misses them."""
    others = others_of_the_partition("CP-OLD", 30)
    events = [heartbeat("CP-OLD", 0), *(heartbeat(cp, n) for n in range(100) for cp in others)]
    now = datetime.now(UTC)
    produce(kafka_bootstrap, topic, [(event, now) for event in events])
    client = {"bootstrap.servers": kafka_bootstrap}
    small, large = (
        KafkaFrames(client, topic, budget=2_000),
        KafkaFrames(client, topic, budget=3_001),
    )
    try:
        assert await small.recent_for("CP-OLD", 10) == []
        assert await large.recent_for("CP-OLD", 10) == [LoggedEvent(0, heartbeat("CP-OLD", 0))]
    finally:
        await small.close()
        await large.close()


async def test_a_scan_starts_where_the_charge_point_was_last_seen(
    kafka_bootstrap: str, topic: str
) -> None:
    """Records stored more than a minute after its last sign of life are not read: a silent
    charge point's frames are found behind any number of newer ones."""
    old = datetime.now(UTC) - timedelta(hours=2)
    others = others_of_the_partition("CP-SILENT", 1)
    stored = [("CP-SILENT", old), (others[0], old), ("CP-SILENT", datetime.now(UTC))]
    produce(kafka_bootstrap, topic, [(heartbeat(cp, n), at) for n, (cp, at) in enumerate(stored)])
    frames = KafkaFrames({"bootstrap.servers": kafka_bootstrap}, topic, budget=10_000)
    try:
        as_seen = await frames.recent_for("CP-SILENT", 10, last_seen=old)
        all_of_it = await frames.recent_for("CP-SILENT", 10)
    finally:
        await frames.close()
    assert [logged.event.sequence for logged in as_seen] == [0]
    assert [logged.event.sequence for logged in all_of_it] == [2, 0]


async def test_a_topic_not_created_yet_has_no_frames(kafka_bootstrap: str) -> None:
    frames = KafkaFrames({"bootstrap.servers": kafka_bootstrap}, "never-created", budget=100)
    try:
        assert await frames.recent_for("CP-1", 10) == []
    finally:
        await frames.close()


async def test_an_unreachable_kafka_fails_the_scan_within_its_timeout() -> None:
    client = {"bootstrap.servers": "127.0.0.1:1", "socket.connection.setup.timeout.ms": 1000}
    frames = KafkaFrames(client, "ocpp.frames", budget=100, timeout=2.0)
    started = time.monotonic()
    try:
        with pytest.raises(EventLogUnavailable, match="Kafka"):
            await frames.recent_for("CP-1", 10)
    finally:
        await frames.close()
    assert time.monotonic() - started < 15
