"""The real Kafka and Cassandra answer the way chargestream relies on."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import RoundRobinPolicy
from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

DEADLINE = 60.0  # seconds; generous for a cold broker on a 2-core machine


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, list]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for key, value, headers in records:
        producer.produce(topic, key=key, value=value, headers=headers)
    assert producer.flush(DEADLINE) == 0, "messages still undelivered"


def consume(bootstrap: str, topic: str, count: int) -> list[Message]:
    """The first ``count`` messages of ``topic``, read by a new consumer group."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique("test"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + DEADLINE
    try:
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                messages.append(message)
    finally:
        consumer.close()
    assert len(messages) == count, f"got {len(messages)} of {count} messages in {DEADLINE} s"
    return messages


def test_kafka_returns_a_message_with_its_key_and_headers(kafka_bootstrap: str) -> None:
    topic = unique("roundtrip")
    headers = [("schema", b"frame/1"), ("station", b"CP-1")]
    produce(kafka_bootstrap, topic, [(b"CP-1", b'{"action":"Heartbeat"}', headers)])

    [message] = consume(kafka_bootstrap, topic, 1)

    assert message.key() == b"CP-1"
    assert message.value() == b'{"action":"Heartbeat"}'
    assert message.headers() == headers


def test_kafka_keeps_order_within_a_key(kafka_bootstrap: str) -> None:
    topic = unique("ordering")
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic].result(
        timeout=DEADLINE
    )
    keys = [f"CP-{n}".encode() for n in range(8)]
    records = [(key, str(seq).encode(), []) for seq in range(25) for key in keys]
    produce(kafka_bootstrap, topic, records)

    messages = consume(kafka_bootstrap, topic, len(records))

    for key in keys:
        mine = [m for m in messages if m.key() == key]
        assert [int(m.value()) for m in mine] == list(range(25))
        assert len({m.partition() for m in mine}) == 1
    assert len({m.partition() for m in messages}) > 1, "all keys landed in one partition"


@pytest.fixture(scope="module")
def cassandra(cassandra_contact: tuple[str, int]) -> Iterator[Session]:
    host, port = cassandra_contact
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=30)
    cluster = Cluster([host], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()


def test_cassandra_answers_system_local(cassandra: Session) -> None:
    row = cassandra.execute("SELECT release_version, cluster_name FROM system.local").one()

    assert row.release_version.split(".")[0].isdigit()
    assert row.cluster_name


def test_cassandra_round_trips_a_row(cassandra: Session) -> None:
    keyspace = unique("test")
    cassandra.execute(
        f"CREATE KEYSPACE {keyspace} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    try:
        cassandra.execute(
            f"CREATE TABLE {keyspace}.stations (id text PRIMARY KEY, vendor text, connectors int)"
        )
        insert = cassandra.prepare(
            f"INSERT INTO {keyspace}.stations (id, vendor, connectors) VALUES (?, ?, ?)"
        )
        cassandra.execute(insert, ("CP-1", "ACME", 2))

        row = cassandra.execute(
            f"SELECT vendor, connectors FROM {keyspace}.stations WHERE id = %s", ("CP-1",)
        ).one()

        assert (row.vendor, row.connectors) == ("ACME", 2)
    finally:
        cassandra.execute(f"DROP KEYSPACE {keyspace}")
