"""GroupOffsets: a consumer group's committed offsets, as the worker reads them."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer, TopicPartition

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
