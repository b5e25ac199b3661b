"""Reading records back from Kafka: a charge point's frame events, a partition's records."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Message, TopicPartition

from chargestream.domain.frames import FrameEvent
from chargestream.domain.settings import Settings
from chargestream.eventlog.kafka import logged_event, read_range


def frames_of(settings: Settings, charge_point_id: str) -> list[FrameEvent]:
    """Every frame event of the charge point in ``settings.frames_topic``, in log order (its
    events are in one partition)."""
    key = charge_point_id.encode()
    return [
        logged_event(record).event
        for partition in range(settings.frames_partitions)
        for record in read_all(settings.kafka_bootstrap, settings.frames_topic, partition)
        if record.key() == key
    ]


def read_all(bootstrap: str, topic: str, partition: int) -> list[Message]:
    """Every record of one partition, in order."""
    client = {"bootstrap.servers": bootstrap}
    reader = Consumer({**client, "group.id": f"read-{uuid.uuid4().hex}"})
    try:
        end = reader.get_watermark_offsets(TopicPartition(topic, partition), 10)[1]
    finally:
        reader.close()
    return read_range(client, topic, partition, 0, end) if end else []
