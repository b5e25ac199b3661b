"""confluent-kafka plumbing shared by the event log, commands and replay.

Clients are created from settings here and nowhere else, so every producer
agrees on partitioning (murmur2, like the Java client and Faust) and
durability (acks=all, idempotent).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from chargestream.domain.settings import Settings


def client_config(settings: Settings) -> dict[str, Any]:
    """Connection and security options shared by every Kafka client."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "security.protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_sasl_mechanism:
        config["sasl.mechanism"] = settings.kafka_sasl_mechanism
    if settings.kafka_sasl_username is not None:
        config["sasl.username"] = settings.kafka_sasl_username
        config["sasl.password"] = settings.kafka_sasl_password or ""
    if settings.kafka_ca_file is not None:
        config["ssl.ca.location"] = str(settings.kafka_ca_file)
    return config


def producer_config(client: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        **client,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "partitioner": "murmur2_random",
        "compression.type": "lz4",
        "message.timeout.ms": 30000,
        **extra,
    }


def ensure_topics(client: dict[str, Any], topics: dict[str, int], timeout: float = 30.0) -> None:
    """Create missing topics (name -> partitions); existing ones are left alone."""
    admin = AdminClient(client)
    existing = admin.list_topics(timeout=timeout).topics
    wanted = [
        NewTopic(name, num_partitions=partitions, replication_factor=-1)
        for name, partitions in topics.items()
        if name not in existing
    ]
    if not wanted:
        return
    for future in admin.create_topics(wanted, request_timeout=timeout).values():
        try:
            future.result(timeout)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


class PollingThread:
    """Calls ``poll`` in a daemon thread until stopped (delivery reports, messages)."""

    def __init__(self, name: str, poll: Callable[[float], object]) -> None:
        self._poll = poll
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._poll(0.05)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


class AsyncProducer:
    """A Producer whose ``produce`` returns an awaitable delivery report.

    Delivery reports arrive on the polling thread; those of one ``poll`` reach the event
    loop in one hand-over (one wake-up), not one each: at a thousand frames a second a
    wake-up per message was a measurable share of the gateway's CPU.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self._producer = Producer(config)
        self._poller = PollingThread("kafka-producer-poll", self._poll)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reports: list[_Report] = []  # filled and handed over by the polling thread

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._poller.start()

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> asyncio.Future[Message]:
        assert self._loop is not None, "start() first"
        future: asyncio.Future[Message] = self._loop.create_future()
        reports = self._reports

        def delivered(error: KafkaError | None, message: Message) -> None:
            reports.append((future, error, message))  # on the polling thread, inside poll()

        kafka_headers: list[tuple[str, str | bytes | None]] = list(headers)
        self._producer.produce(topic, value, key, headers=kafka_headers, on_delivery=delivered)
        return future

    def _poll(self, timeout: float) -> None:
        self._producer.poll(timeout)
        if self._reports and self._loop is not None:
            handed = self._reports.copy()  # the same list object stays (closures hold it)
            self._reports.clear()
            self._loop.call_soon_threadsafe(_settle_all, handed)

    async def stop(self, timeout: float = 10.0) -> int:
        """Flush; returns how many messages were still undelivered."""
        self._poller.stop()  # flush serves the remaining reports on this thread
        return await asyncio.to_thread(self._flush, timeout)

    def _flush(self, timeout: float) -> int:
        remaining = int(self._producer.flush(timeout))
        self._poll(0)
        return remaining


_Report = tuple[asyncio.Future[Message], KafkaError | None, Message]


def _settle_all(reports: list[_Report]) -> None:
    for future, error, message in reports:
        if future.done():
            continue
        if error is not None:
            future.set_exception(KafkaException(error))
        else:
            future.set_result(message)


def consumer(client: dict[str, Any], group_id: str, **extra: Any) -> Consumer:
    return Consumer(
        {
            **client,
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            **extra,
        }
    )


class GroupOffsets:
    """What a consumer group has committed, as Kafka itself reports it (blocking calls).

    A consumer of the group that never subscribes: it reads the group's offsets without
    joining it. (The admin client's ListConsumerGroupOffsets crashed the process on a
    broker whose group coordinator was still loading, confluent-kafka 2.16.)
    """

    def __init__(self, client: dict[str, Any], group_id: str) -> None:
        self._consumer = consumer(client, group_id)

    def committed(
        self, topic: str, partitions: Sequence[int], timeout: float = 10.0
    ) -> dict[int, int]:
        """The group's committed offset (the next to consume) per partition; 0 if none yet.

        A group coordinator still loading (a fresh broker) or moving is asked again until
        ``timeout``.
        """
        wanted = [TopicPartition(topic, partition) for partition in partitions]
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self._consumer.committed(wanted, timeout=timeout)
            except KafkaException as error:
                if not _coordinator_busy(error.args[0]) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                continue
            return {tp.partition: max(tp.offset, 0) for tp in answer}

    def ends(self, topic: str, partitions: Sequence[int], timeout: float = 10.0) -> dict[int, int]:
        """Each partition's end offset (the next to be written), asked of the broker."""
        return {
            partition: self._consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout
            )[1]
            for partition in partitions
        }

    def close(self) -> None:
        self._consumer.close()


_COORDINATOR_BUSY = {
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
}


def _coordinator_busy(error: KafkaError) -> bool:
    return bool(error.retriable()) or error.code() in _COORDINATOR_BUSY
