"""Reading Kafka beside Faust: a group's committed offsets, a range of a partition."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer, TopicPartition

from chargestream.eventlog.kafka import read_range
from chargestream.eventlog.kafka_clients import GroupOffsets, ensure_topics


def test_committed_offsets_are_read_per_partition_and_zero_before_any_commit(
    kafka_bootstrap: str,
) -> None:
    client = {"bootstrap.servers": kafka_bootstrap}
    topic, group = f"offsets-{uuid.uuid4().hex[:8]}", f"offsets-group-{uuid.uuid4().hex[:8]}"
    ensure_topics(client, {topic: 2})
    producer = Producer(client)
    for _ in range(5):
        producer.produce(topic, b"event", partition=1)
    assert producer.flush(30) == 0
    offsets = GroupOffsets(client, group)
    try:
        assert offsets.committed(topic, [0, 1]) == {0: 0, 1: 0}

        member = Consumer({**client, "group.id": group, "enable.auto.commit": False})
        try:
            member.commit(offsets=[TopicPartition(topic, 1, 3)], asynchronous=False)
        finally:
            member.close()
        assert offsets.committed(topic, [0, 1]) == {0: 0, 1: 3}
    finally:
        offsets.close()


def test_a_range_of_a_partition_is_read_without_joining_a_group(kafka_bootstrap: str) -> None:
    client = {"bootstrap.servers": kafka_bootstrap}
    topic = f"range-{uuid.uuid4().hex[:8]}"
    ensure_topics(client, {topic: 2})
    producer = Producer(client)
    for n in range(6):
        producer.produce(topic, f"event-{n}".encode(), partition=1)
    assert producer.flush(30) == 0

    records = read_range(client, topic, 1, 2, 5)

    assert [(r.offset(), r.value()) for r in records] == [
        (2, b"event-2"),
        (3, b"event-3"),
        (4, b"event-4"),
    ]
