"""Reading records back from Kafka: a charge point's frame events, a partition's records."""

from __future__ import annotations

import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from chargestream.domain.frames import FrameEvent
from chargestream.domain.settings import Settings
from chargestream.eventlog.kafka import logged_event


def frames_of(settings: Settings, charge_point_id: str) -> list[FrameEvent]:
    """Every frame event of the charge point in ``settings.frames_topic``, in log order."""
    reader = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"read-{uuid.uuid4().hex}"}
    )
    try:
        topic = settings.frames_topic
        ends = {
            p: reader.get_watermark_offsets(TopicPartition(topic, p), 10)[1]
            for p in range(settings.frames_partitions)
        }
        reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends if ends[p]])
        left, events = sum(ends.values()), []
        while left > 0:
            for message in reader.consume(500, 5):
                left -= 1
                if message.key() == charge_point_id.encode():
                    events.append(logged_event(message).event)
        return events
    finally:
        reader.close()


def read_all(bootstrap: str, topic: str, partition: int) -> list[Message]:
    """Every record of one partition, in order."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}"})
    try:
        end = reader.get_watermark_offsets(TopicPartition(topic, partition), 10)[1]
        reader.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        records: list[Message] = []
        while end and (not records or (records[-1].offset() or 0) < end - 1):
            records.extend(m for m in reader.consume(500, 5) if m.error() is None)
        return records
    finally:
        reader.close()
