"""The one place that builds the event log and the store a deployment's settings name.

The stack's back ends are imported only when asked for, so the embedded mode runs without
the Kafka and Cassandra drivers installed.
"""

from __future__ import annotations

from chargestream.domain.settings import Mode, Settings
from chargestream.eventlog.base import EventLog
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.storage.base import StackStore, Store
from chargestream.storage.sqlite import SqliteStore


def create_store(settings: Settings) -> Store:
    """The store of the settings' mode (not yet opened)."""
    if settings.mode == Mode.EMBEDDED:
        return create_embedded_store(settings)
    return create_stack_store(settings)


def create_embedded_store(settings: Settings) -> SqliteStore:
    return SqliteStore(settings.store_path)


def create_embedded_event_log(settings: Settings) -> SqliteEventLog:
    return SqliteEventLog(
        settings.event_log_path,
        sync=settings.log_sync,
        retention_days=settings.log_retention_days,
    )


def create_stack_store(settings: Settings) -> StackStore:
    from chargestream.storage.cassandra import CassandraStore

    return CassandraStore(
        [host.strip() for host in settings.cassandra_hosts.split(",") if host.strip()],
        settings.cassandra_port,
        settings.cassandra_keyspace,
        replication=settings.cassandra_replication,
        username=settings.cassandra_username,
        password=settings.cassandra_password,
        local_dc=settings.cassandra_local_dc,
        ca_file=settings.cassandra_ca_file,
        status_ttl_days=settings.cassandra_status_ttl_days,
        meter_ttl_days=settings.cassandra_meter_ttl_days,
    )


def create_stack_event_log(settings: Settings) -> EventLog:
    from chargestream.eventlog.kafka import KafkaEventLog
    from chargestream.eventlog.kafka_clients import client_config

    return KafkaEventLog(
        client_config(settings),
        settings.frames_topic,
        partitions=settings.frames_partitions,
        delivery_timeout=settings.kafka_delivery_timeout,
        linger_ms=settings.kafka_linger_ms,
    )
