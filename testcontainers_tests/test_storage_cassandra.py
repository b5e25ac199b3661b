"""CassandraStore: the storage contract, plus what only the Cassandra data model has.

Creating a table takes about half a second on a small node, so the module creates one
keyspace and each test starts from its tables emptied (only those holding rows are
truncated).
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy

from chargestream.domain.records import (
    ChargePointState,
    MeterValue,
    Registration,
    SecurityEvent,
    Session,
    StatusInterval,
)
from chargestream.storage import cassandra_schema as schema
from chargestream.storage.base import StoreUnavailable
from chargestream.storage.cassandra import CassandraStore
from tests.storage_contract import StoreContract, at, command, full_meter_value, minimal_alert

Contact = tuple[str, int]
PASSWORD = "s3cret-never-shown"


def new_store(contact: Contact, keyspace: str) -> CassandraStore:
    host, port = contact
    return CassandraStore([host], port, keyspace)


def plain_cluster(contact: Contact) -> Cluster:
    """A driver cluster for raw statements, as an operator's cqlsh would run them."""
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=120)
    return Cluster(
        [contact[0]],
        port=contact[1],
        protocol_version=5,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
    )


@pytest.fixture(scope="module")
def keyspace(cassandra_contact: Contact) -> Iterator[str]:
    """A keyspace with the store's schema, created once for this module."""
    name = f"test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        store = new_store(cassandra_contact, name)
        await store.open()
        await store.close()

    asyncio.run(create())
    yield name
    cluster = plain_cluster(cassandra_contact)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {name}")
    finally:
        cluster.shutdown()


Cql = Callable[..., list[Any]]


@pytest.fixture(scope="module")
def cql(cassandra_contact: Contact, keyspace: str) -> Iterator[Cql]:
    """Runs one raw statement whose tables are written ``{ks}.table``; its rows."""
    cluster = plain_cluster(cassandra_contact)
    session = cluster.connect()

    def run(statement: str, *values: Any) -> list[Any]:
        return session.execute(statement.format(ks=keyspace), values).all()

    try:
        yield run
    finally:
        cluster.shutdown()


def empty_tables(cql: Cql) -> None:
    for table in schema.TABLES:
        if table != "schema_version" and cql(f"SELECT * FROM {{ks}}.{table} LIMIT 1"):
            cql(f"TRUNCATE {{ks}}.{table}")


@pytest.fixture
async def store(
    cassandra_contact: Contact, keyspace: str, cql: Cql
) -> AsyncIterator[CassandraStore]:
    empty_tables(cql)
    store = new_store(cassandra_contact, keyspace)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def unreachable_store() -> Iterator[CassandraStore]:
    """A store whose port refuses connections: bound, nothing listening."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        yield CassandraStore(["127.0.0.1"], port, username="operator", password=PASSWORD)


class TestCassandraStore(StoreContract):
    pass


# ----------------------------------------------------------------- lifecycle


async def test_use_after_close_raises(store: CassandraStore) -> None:
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_session(1)
    await store.close()  # closing twice is harmless


async def test_an_unavailable_store_names_no_password(unreachable_store: CassandraStore) -> None:
    with pytest.raises(StoreUnavailable, match="NoHostAvailable") as failure:
        await unreachable_store.open()
    assert PASSWORD not in str(failure.value)
    assert PASSWORD not in repr(failure.value)


async def test_open_refuses_a_newer_schema(
    cassandra_contact: Contact, keyspace: str, cql: Cql
) -> None:
    cql("UPDATE {ks}.schema_version SET version = %s WHERE name = %s", 99, schema.SCHEMA_NAME)
    try:
        store = new_store(cassandra_contact, keyspace)
        with pytest.raises(RuntimeError, match="newer"):
            await store.open()
        with pytest.raises(RuntimeError, match="not open"):
            await store.list_registrations()
    finally:
        cql(schema.SCHEMA_VERSION_SET)


async def test_a_registration_stored_before_next_passwords_reads_without_one(
    store: CassandraStore, cql: Cql
) -> None:
    """Registrations are JSON documents: next_password_hash needed no schema change."""
    document = '{"charge_point_id": "CP-M", "password_hash": "h", "lenient": false}'
    cql("INSERT INTO {ks}.registrations (charge_point_id, data) VALUES (%s, %s)", "CP-M", document)
    assert await store.get_registration("CP-M") == Registration("CP-M", password_hash="h")


async def test_a_schema_8_keyspace_moves_to_9_and_keeps_its_frame_archive_for_old_workers(
    cassandra_contact: Contact, keyspace: str, cql: Cql
) -> None:
    """The frame inspector reads Kafka now; an older keyspace's ``recent_frames`` stays while
    workers of the version before may still write it (it expires; operators drop it)."""
    cql(
        "CREATE TABLE IF NOT EXISTS {ks}.recent_frames (charge_point_id text, position bigint, "
        "frame text, PRIMARY KEY ((charge_point_id), position))"
    )
    cql(
        "INSERT INTO {ks}.recent_frames (charge_point_id, position, frame) VALUES (%s, %s, %s)",
        "CP-F",
        1,
        "[]",
    )
    cql("UPDATE {ks}.schema_version SET version = %s WHERE name = %s", 8, schema.SCHEMA_NAME)
    store = new_store(cassandra_contact, keyspace)
    await store.open()
    try:
        await store.put_registration(Registration("CP-F"))
    finally:
        await store.close()
    assert cql("SELECT version FROM {ks}.schema_version") == [(9,)] == [(schema.SCHEMA_VERSION,)]
    assert cql("SELECT charge_point_id, position FROM {ks}.recent_frames") == [("CP-F", 1)]
    cql("DROP TABLE {ks}.recent_frames")


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="keyspace"):
        CassandraStore(["127.0.0.1"], keyspace="drop table x")
    with pytest.raises(ValueError, match="status_ttl_days"):
        CassandraStore(["127.0.0.1"], status_ttl_days=-1)


async def test_upsert_rejects_operator_data(store: CassandraStore) -> None:
    with pytest.raises(TypeError, match="Registration"):
        await store.upsert([Registration("CP-1")])  # type: ignore[list-item]


# ------------------------------------------------------------ transaction ids


async def test_concurrent_allocation_from_two_stores(
    store: CassandraStore, cassandra_contact: Contact, keyspace: str
) -> None:
    other = new_store(cassandra_contact, keyspace)
    await other.open()
    try:
        own = [f"own-{i}" for i in range(250)]
        theirs = [f"theirs-{i}" for i in range(250)]
        shared = [f"shared-{i}" for i in range(50)]
        mine, yours = await asyncio.gather(
            asyncio.gather(*map(store.allocate_transaction_id, [*own, *shared])),
            asyncio.gather(*map(other.allocate_transaction_id, [*theirs, *shared])),
        )
    finally:
        await other.close()
    assert mine[len(own) :] == yours[len(theirs) :]  # the same key got the same id
    distinct = [*mine, *yours[: len(theirs)]]
    assert len(set(distinct)) == len(own) + len(theirs) + len(shared)
    assert all(0 < tx <= schema.MAX_TRANSACTION_ID for tx in distinct)


async def test_transaction_ids_stop_at_int32_max(
    store: CassandraStore, cassandra_contact: Contact, keyspace: str, cql: Cql
) -> None:
    assert await store.allocate_transaction_id("first") == 1
    cql(
        "UPDATE {ks}.id_allocator SET next_id = %s WHERE name = %s",
        schema.MAX_TRANSACTION_ID - 1,
        schema.ALLOCATOR,
    )
    fresh = new_store(cassandra_contact, keyspace)  # no block reserved yet
    await fresh.open()
    try:
        assert await fresh.allocate_transaction_id("last") == schema.MAX_TRANSACTION_ID - 1
        assert await fresh.allocate_transaction_id("very last") == schema.MAX_TRANSACTION_ID
        with pytest.raises(RuntimeError, match="exhausted"):
            await fresh.allocate_transaction_id("one too many")
        assert await fresh.allocate_transaction_id("first") == 1
    finally:
        await fresh.close()


# ----------------------------------------------------------------- sessions

YEAR_END = datetime(2023, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)


async def test_session_listings_walk_year_and_day_buckets(store: CassandraStore) -> None:
    times = [
        YEAR_END - timedelta(days=400),
        YEAR_END - timedelta(days=1),
        YEAR_END,
        YEAR_END + timedelta(milliseconds=1),  # the next day and year
        YEAR_END + timedelta(days=3),
        YEAR_END + timedelta(days=500),
    ]
    sessions = [Session(i, "CP-1", start_time=t) for i, t in enumerate(times, start=1)]
    await store.upsert([*sessions, Session(7, "CP-2", stop_time=YEAR_END)])
    everything = [6, 5, 4, 7, 3, 2, 1]  # a tie on time: the higher transaction id first
    assert [s.transaction_id for s in await store.recent_sessions()] == everything
    assert [s.transaction_id for s in await store.recent_sessions(limit=4)] == everything[:4]
    page = await store.recent_sessions(limit=3, before=YEAR_END + timedelta(milliseconds=1))
    assert [s.transaction_id for s in page] == [7, 3, 2]
    for_cp1 = await store.sessions_for_charge_point("CP-1", limit=2, before=times[4])
    assert [s.transaction_id for s in for_cp1] == [4, 3]
    assert await store.recent_sessions(before=times[0]) == []


async def test_commands_and_alerts_across_day_and_year_buckets(store: CassandraStore) -> None:
    times = [YEAR_END - timedelta(days=2), YEAR_END, YEAR_END + timedelta(days=1, milliseconds=1)]
    for i, time in enumerate(times):
        await store.record_command(command(f"C-{i}", time, "CP-1"))
    await store.record_command(command("C-9", YEAR_END - timedelta(hours=1), "CP-2"))
    assert [c.command_id for c in await store.commands()] == ["C-2", "C-1", "C-9", "C-0"]
    assert [c.command_id for c in await store.commands("CP-1", limit=2)] == ["C-2", "C-1"]
    await store.upsert(
        [minimal_alert(f"A-{i}", time, closed=i == 1) for i, time in enumerate(times)]
    )
    assert [a.alert_id for a in await store.alerts(before=times[2])] == ["A-1", "A-0"]
    assert [a.alert_id for a in await store.alerts(open_only=True)] == ["A-2", "A-0"]


async def test_sessions_without_any_time_come_last(store: CassandraStore) -> None:
    await store.upsert([Session(1, "CP-1"), Session(2, "CP-1", start_time=at(0))])
    assert [s.transaction_id for s in await store.recent_sessions()] == [2, 1]
    assert [s.transaction_id for s in await store.recent_sessions(before=at(1))] == [2]


async def test_a_session_moved_in_time_keeps_one_listing_row(store: CassandraStore) -> None:
    stop_only = Session(5, "CP-1", stop_time=at(30))
    await store.upsert([stop_only])
    started = dataclasses.replace(stop_only, start_time=at(-400 * 24 * 60))  # another year
    await store.upsert([started])
    assert await store.recent_sessions() == [started]
    assert await store.sessions_for_charge_point("CP-1") == [started]


async def test_a_session_moved_in_time_by_another_store_keeps_one_listing_row(
    store: CassandraStore, cassandra_contact: Contact, keyspace: str
) -> None:
    """The case that makes an upsert read the stored session: a store that did not write
    the stop-only version (another worker, a restart) still moves its listing rows."""
    stop_only = Session(6, "CP-1", stop_time=at(30))
    await store.upsert([stop_only])
    other = new_store(cassandra_contact, keyspace)
    await other.open()
    try:
        started = dataclasses.replace(stop_only, start_time=at(-400 * 24 * 60))
        await other.upsert([started])
        refreshed = dataclasses.replace(started, peak_power_w=7400.0)
        await other.upsert([refreshed])  # the same listing key: not read again
    finally:
        await other.close()
    assert await store.recent_sessions() == [refreshed]
    assert await store.sessions_for_charge_point("CP-1") == [refreshed]


# ---------------------------------------------------------------- meter values


async def test_meter_values_of_one_time_in_several_groups(store: CassandraStore) -> None:
    """A frame per measurand, a clock-aligned and a periodic MeterValues at the same time:
    a row each, none replacing another; a value grouped anew (a replay) counts once."""
    voltage = full_meter_value(at(1), "Voltage")
    clock = dataclasses.replace(voltage, context="Sample.Clock")
    power = full_meter_value(at(1), "Power.Active.Import")
    await store.upsert([voltage])
    await store.upsert([clock])
    await store.upsert([power, voltage])
    corrected = dataclasses.replace(power, value=7100.0)
    await store.upsert([corrected])
    assert await store.meter_values(7) == [corrected, clock, voltage]


async def test_meter_values_limited_inside_a_time_of_several_groups(
    store: CassandraStore,
) -> None:
    times = [at(i) for i in range(4)]
    values = [
        full_meter_value(time, measurand)
        for time in times
        for measurand in ("Voltage", "Current.Import", "Power.Active.Import")
    ]
    for time in times:  # each time in two groups, by separate upserts
        same_time = [v for v in values if v.timestamp == time]
        await store.upsert(same_time[:1])
        await store.upsert(same_time[1:])
    ordered = sorted(values, key=schema.meter_order)
    for limit in (1, 2, 4, 5, 11, 12, 100):
        assert await store.meter_values(7, limit) == ordered[:limit]
        assert await store.meter_values(7, limit, newest=True) == ordered[-limit:]


async def test_a_keyspace_of_schema_7_reads_its_per_value_meter_rows(
    store: CassandraStore, cql: Cql, cassandra_contact: Contact, keyspace: str
) -> None:
    """Meter values written before schema version 8, a row per value, read with the new
    sample groups until a replay empties the old table (which an operator may then drop)."""
    old = full_meter_value(at(1), "Voltage")
    both = full_meter_value(at(2), "Voltage")
    cql(schema.METER_VALUES.create)
    try:
        insert = schema.METER_VALUES.insert().replace("?", "%s")  # as version 7 wrote
        for value in (old, both):
            cql(insert, *schema.METER_VALUES.encode(value))
        upgraded = new_store(cassandra_contact, keyspace)
        await upgraded.open()
        try:
            rewritten = dataclasses.replace(both, value=0.5)
            new = full_meter_value(at(3), "Voltage")
            await upgraded.upsert([rewritten, new])
            assert await upgraded.meter_values(7) == [old, rewritten, new]
            assert await upgraded.meter_values(7, 2, newest=True) == [rewritten, new]
            await upgraded.clear_derived()
            assert cql("SELECT * FROM {ks}.meter_values") == []
        finally:
            await upgraded.close()
    finally:
        cql("DROP TABLE IF EXISTS {ks}.meter_values")


# ---------------------------------------------------------- status intervals


async def test_open_interval_started_long_before_the_window(store: CassandraStore) -> None:
    day = 24 * 60
    old_closed = StatusInterval("CP-1", 1, at(-40 * day), "Charging", end=at(-35 * day))
    open_since = StatusInterval("CP-1", 1, at(-30 * day), "Available")
    other_connector = StatusInterval("CP-1", 2, at(5), "Charging", end=at(6))
    await store.upsert([old_closed, open_since, other_connector])
    assert await store.status_history("CP-1", at(0), at(60)) == [open_since, other_connector]
    assert await store.status_history("CP-1", at(-38 * day), at(-37 * day)) == [old_closed]


async def test_intervals_and_loose_meter_values_expire(store: CassandraStore, cql: Cql) -> None:
    loose = MeterValue("CP-1", 0, at(0), "Voltage", 230.0, "V")
    await store.upsert([StatusInterval("CP-1", 1, at(0), "Available"), loose])
    [(interval_ttl,)] = cql("SELECT TTL(data) FROM {ks}.status_intervals")
    [(meter_ttl,)] = cql("SELECT TTL(data) FROM {ks}.meter_samples_without_transaction")
    assert 399 * 86400 < interval_ttl <= 400 * 86400
    assert 399 * 86400 < meter_ttl <= 400 * 86400
    assert cql("SELECT * FROM {ks}.meter_samples LIMIT 1") == []


async def test_security_events_walk_day_buckets_and_expire(store: CassandraStore, cql: Cql) -> None:
    day = 24 * 60
    events = [SecurityEvent("CP-1", at(i * day), f"T{i}", at(i * day)) for i in (-3, 0, 1)]
    await store.upsert(events)
    assert [e.event_type for e in await store.security_events("CP-1")] == ["T1", "T0", "T-3"]
    page = await store.security_events("CP-1", limit=1, before=at(1))
    assert [e.event_type for e in page] == ["T0"]
    ttls = cql("SELECT TTL(data) FROM {ks}.security_events")
    assert len(ttls) == 3 and all(399 * 86400 < ttl <= 400 * 86400 for (ttl,) in ttls)


# -------------------------------------------------------------------- bulk


async def test_large_upserts(store: CassandraStore) -> None:
    """Thousands of rows, many sharing a partition (batched), more than a result page."""
    values = [
        MeterValue("CP-1", 1, at(ms=i), "Energy.Active.Import.Register", float(i), "Wh", 9)
        for i in range(10_000)
    ]
    states = [ChargePointState(f"CP-{i:04}") for i in range(1500)]
    sessions = [Session(i, f"CP-{i:04}", start_time=at(i % 7, ms=i)) for i in range(1, 301)]
    alerts = [minimal_alert(f"A-{i:03}", at(ms=i), closed=i % 3 == 0) for i in range(300)]
    await store.upsert([*values, *states, *sessions, *alerts])
    assert await store.meter_values(9) == values
    assert len(await store.list_charge_point_states(limit=10_000)) == 1500
    listed = await store.list_charge_point_states(limit=3)
    assert [s.charge_point_id for s in listed] == ["CP-0000", "CP-0001", "CP-0002"]
    newest_first = sorted(sessions, key=lambda s: (s.start_time, s.transaction_id), reverse=True)
    assert await store.recent_sessions(limit=1000) == newest_first
    open_alerts = [a for a in reversed(alerts) if a.open]
    assert await store.alerts(open_only=True, limit=1000) == open_alerts


async def test_commands_written_before_senders_were_kept_read_as_unattributed(
    store: CassandraStore, cql: Cql, cassandra_contact: Contact, keyspace: str
) -> None:
    """Records are JSON documents: a field added to CommandRecord (``sent_by``) needs no
    ALTER TABLE; a document an older version wrote, without it, reads with its default."""
    old = command("C-OLD", at(1))
    await store.record_command(dataclasses.replace(old, sent_by="to be removed"))
    legacy = schema.COMMANDS.to_doc(old).replace(',"sent_by":null', "")
    assert "sent_by" not in legacy
    cql("UPDATE {ks}.commands SET data = %s WHERE command_id = %s", legacy, "C-OLD")
    for listing, scope in (
        (schema.COMMANDS_BY_CHARGE_POINT, "CP-1"),
        (schema.COMMANDS_BY_DAY, None),
    ):
        insert = listing.insert.replace("?", "%s")  # what the version before wrote, row by row
        cql(insert, *listing.key(scope, old.requested_at, old.command_id), legacy)

    reopened = new_store(cassandra_contact, keyspace)  # a store of this version, opened anew
    await reopened.open()
    try:
        assert await reopened.commands() == [old]
        assert await reopened.commands("CP-1") == [old]
        assert (await reopened.commands())[0].sent_by is None
        new = dataclasses.replace(command("C-NEW", at(2)), sent_by="operator:alice")
        await reopened.record_command(new)
        assert await reopened.commands() == [new, old]
    finally:
        await reopened.close()
