"""``chargestream replay`` in stack mode: rebuild the views from the Kafka log.

Reads every partition of ``ocpp.frames`` from the beginning up to the end
offsets seen at start, derives with fresh states (the same ``derive`` the
workers run) and writes the records. A full replay first clears the derived
tables; ``since`` keeps them and rewrites only what events from that time
on derive (the states are still built from the beginning, so a session that
started earlier is complete).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from chargestream.domain.records import DerivedRecord
from chargestream.domain.settings import Settings
from chargestream.eventlog.kafka import logged_event
from chargestream.eventlog.kafka_clients import client_config, consumer
from chargestream.storage.base import Store
from chargestream.streams.derive import ChargePointDerivation, DerivationSettings, derive

BATCH = 5000


async def rebuild_from_kafka(
    settings: Settings,
    store: Store,
    *,
    since_us: int | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    await store.open()
    try:
        if since_us is None:
            await store.clear_derived()
        rules = tuple(r for r in await store.list_alert_rules() if r.enabled)
        derivation = DerivationSettings.of(settings, rules)
        return await _replay(settings, store, derivation, since_us, progress)
    finally:
        await store.close()


async def _replay(
    settings: Settings,
    store: Store,
    derivation: DerivationSettings,
    since_us: int | None,
    progress: Callable[[int], None],
) -> int:
    reader = consumer(client_config(settings), f"chargestream-replay-{uuid.uuid4().hex[:8]}")
    try:
        ends = await asyncio.to_thread(_end_offsets, reader, settings.frames_topic)
        reader.assign(
            [TopicPartition(settings.frames_topic, p, OFFSET_BEGINNING) for p in ends if ends[p]]
        )
        pending = {p for p, end in ends.items() if end > 0}
        states: dict[str, ChargePointDerivation] = {}
        total = 0
        while pending:
            messages = await asyncio.to_thread(reader.consume, BATCH, 1.0)
            records: list[DerivedRecord] = []
            for message in messages:
                partition = message.partition()
                if message.error() is not None or partition is None or partition not in pending:
                    continue
                logged = logged_event(message)
                cp = logged.event.charge_point_id
                states[cp], derived = derive(states.get(cp), logged, derivation)
                if since_us is None or logged.event.received_us >= since_us:
                    records.extend(derived)
                total += 1
                if logged.position + 1 >= ends[partition]:
                    pending.discard(partition)
            await store.upsert(records)
            progress(total)
        return total
    finally:
        reader.close()


def _end_offsets(reader, topic: str) -> dict[int, int]:  # type: ignore[no-untyped-def]
    metadata = reader.list_topics(topic, timeout=30)
    partitions = metadata.topics[topic].partitions
    return {
        p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions
    }
