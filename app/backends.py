"""The one place that chooses the storage back end from the settings."""

from __future__ import annotations

from chargestream.domain.settings import Mode, Settings
from chargestream.storage.base import StackStore, Store


def create_store(settings: Settings) -> Store:
    if settings.mode == Mode.EMBEDDED:
        from chargestream.storage.sqlite import SqliteStore

        return SqliteStore(settings.store_path)
    return create_stack_store(settings)


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
        frames_ttl_hours=settings.cassandra_frames_ttl_hours,
    )
