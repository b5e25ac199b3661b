"""Reading a charge point's frame events back from the frames topic."""

from __future__ import annotations

import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

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
