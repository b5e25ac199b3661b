"""SqliteStore: the storage contract, plus what only a file-backed store has."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    AlertKind,
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    MeterValue,
    Registration,
    SecurityEvent,
    Session,
    Site,
    StatusInterval,
)
from chargestream.storage.base import StoreUnavailable
from chargestream.storage.sqlite import MAX_TRANSACTION_ID, PARAMETERS_PER_STATEMENT, SqliteStore
from chargestream.storage.sqlite_schema import (
    COMMANDS,
    INTERVALS,
    METER_VALUES,
    NOTIFICATIONS,
    REGISTRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    SECURITY_EVENTS,
    SESSIONS,
    SITE_ALLOCATIONS,
    SITES,
    STATES,
    TRANSFER_STATUSES,
    to_us,
)
from tests.storage_contract import StoreContract, at, full_session, notification


@pytest.fixture
def unreachable_store(tmp_path: Path) -> SqliteStore:
    (tmp_path / "a-file").write_text("")
    return SqliteStore(tmp_path / "a-file" / "store.db")  # its directory cannot be made


class TestSqliteStore(StoreContract):
    pass


def raw(path: Path, sql: str, *params: Any) -> list[Any]:
    """Run one statement on a connection of its own, as another process would."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        return conn.execute(sql, params).fetchall()


async def test_an_upsert_of_more_records_than_a_statement_holds_keeps_the_last_of_each_key(
    tmp_path: Path,
) -> None:
    """Records go many to a statement; a later record with an earlier one's key wins."""
    per_statement = PARAMETERS_PER_STATEMENT // len(METER_VALUES.columns)
    count = 2 * per_statement + 7

    def sample(n: int, value: float) -> MeterValue:
        return MeterValue("CP-1", 1, at(0, ms=n), "Voltage", value, "V", transaction_id=1)

    records = [sample(n, 230.0) for n in range(count)]
    records[per_statement + 1] = sample(3, 231.0)  # the same key as records[3], later
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    try:
        await store.upsert(records)
        stored = await store.meter_values(1)
    finally:
        await store.close()
    assert len(stored) == count - 1
    assert [v.value for v in stored if v.timestamp == at(0, ms=3)] == [231.0]


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = SqliteStore(path)
    await first.open()
    await first.put_registration(Registration("CP-1", created_at=at(0)))
    await first.upsert([full_session(1)])
    await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.get_registration("CP-1") == Registration("CP-1", created_at=at(0))
        assert await second.get_session(1) == full_session(1)
    finally:
        await second.close()


async def test_second_connection_sees_committed_data(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    writer, reader = SqliteStore(path), SqliteStore(path)
    await writer.open()
    await reader.open()
    try:
        assert await reader.recent_sessions() == []
        await writer.upsert([full_session(1)])
        assert await reader.recent_sessions() == [full_session(1)]
        await reader.put_registration(Registration("CP-1"))
        assert await writer.list_registrations() == [Registration("CP-1")]
    finally:
        await reader.close()
        await writer.close()


async def test_open_creates_directories_and_records_schema(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.db"
    store = SqliteStore(path)
    await store.open()
    await store.close()
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert raw(path, "PRAGMA journal_mode") == [("wal",)]


# The command log as schema version 1 wrote it: before CommandRecord.sent_by.
_COMMANDS_V1 = (
    'CREATE TABLE IF NOT EXISTS commands ("command_id" TEXT PRIMARY KEY, '
    '"charge_point_id" TEXT NOT NULL, "action" TEXT NOT NULL, "payload" TEXT NOT NULL, '
    '"requested_at" INTEGER NOT NULL, "outcome" TEXT, "response" TEXT, "error" TEXT, '
    '"completed_at" INTEGER)'
)
# Registrations as schema versions 1 and 2 wrote them: before Registration.security_profile.
_REGISTRATIONS_V2 = (
    'CREATE TABLE IF NOT EXISTS registrations ("charge_point_id" TEXT PRIMARY KEY, '
    '"display_name" TEXT, "location" TEXT, "password_hash" TEXT, "lenient" INTEGER NOT NULL, '
    '"created_at" INTEGER)'
)
# The delivery log and its index as schema versions before 9 made them: before the
# alert's cooldown key and the (created_at, notification_id) index.
_NOTIFICATIONS_INDEX = next(
    statement for statement in SCHEMA if "notifications_by_time" in statement
)
_BEFORE_V9 = {
    NOTIFICATIONS.create: NOTIFICATIONS.create.replace(
        ', "alert_kind" TEXT, "rule_id" TEXT, "alert_opened_at" INTEGER', ""
    ),
    _NOTIFICATIONS_INDEX: "CREATE INDEX IF NOT EXISTS notifications_newest "
    "ON notifications (created_at)",
}
# The derived tables as schema versions before 8 wrote them: before OCPP 2.0.1's columns.
_BEFORE_V8 = {
    **_BEFORE_V9,
    SESSIONS.create: SESSIONS.create.replace(
        ', "station_transaction_id" TEXT, "evse_id" INTEGER', ""
    ),
    INTERVALS.create: INTERVALS.create.replace(', "evse_id" INTEGER', ""),
    STATES.create: STATES.create.replace(', "ocpp_version" TEXT', ""),
}
_OLD_TABLES = {
    COMMANDS.create: _COMMANDS_V1,
    REGISTRATIONS.create: _REGISTRATIONS_V2,
    **_BEFORE_V8,
}


# Registrations as schema version 6 wrote them: before Registration.ocpp_version.
_REGISTRATIONS_V6 = REGISTRATIONS.create.replace(', "ocpp_version" TEXT', "")
# Registrations as schema version 5 wrote them: before the connector capacity.
_REGISTRATIONS_V5 = _REGISTRATIONS_V6.replace(', "max_current_a" REAL, "phases" INTEGER', "")
# Registrations as schema versions 3 and 4 wrote them: before Registration.next_password_hash.
_REGISTRATIONS_V4 = _REGISTRATIONS_V5.replace(', "next_password_hash" TEXT', "")


def _old(statement: str, registrations: str) -> str:
    """A statement of SCHEMA as a file before version 8 had it, with these registrations."""
    return (
        registrations if statement == REGISTRATIONS.create else _BEFORE_V8.get(statement, statement)
    )


async def test_open_migrates_a_version_6_file_to_ocpp_201_columns(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    for statement in SCHEMA:
        raw(path, _old(statement, _REGISTRATIONS_V6))
    old_session = full_session()
    raw(path, "PRAGMA user_version = 6")
    store = SqliteStore(path)
    await store.open()
    try:
        await store.upsert([old_session])
        assert await store.get_session(old_session.transaction_id) == old_session
        new = dataclasses.replace(
            old_session, transaction_id=2**40, station_transaction_id="tx-1", evse_id=1
        )
        state = ChargePointState("CP-9", ocpp_version=OcppVersion.V201)
        interval = StatusInterval("CP-9", 1, at(1), "Occupied", evse_id=1)
        await store.upsert([new, state, interval])
        assert await store.get_session(2**40) == new
        assert await store.get_charge_point_state("CP-9") == state
        assert await store.status_history("CP-9", at(0), at(2)) == [interval]
    finally:
        await store.close()
    assert raw(path, "PRAGMA user_version") == [(9,)]


async def test_open_migrates_a_version_1_file_keeping_its_command_log_and_registrations(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    for statement in SCHEMA:
        raw(path, _OLD_TABLES.get(statement, statement))
    raw(path, "INSERT INTO registrations VALUES ('CP-1', NULL, NULL, NULL, 0, NULL)")
    raw(
        path,
        "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        *("C-OLD", "CP-1", "Reset", '{"type":"Soft"}', to_us(at(1)), "answered", "{}"),
        *(None, to_us(at(2))),
    )
    raw(path, "PRAGMA user_version = 1")
    assert "sent_by" not in {row[1] for row in raw(path, "PRAGMA table_info(commands)")}

    store = SqliteStore(path)
    await store.open()
    try:
        (old,) = await store.commands()
        assert old == CommandRecord(
            command_id="C-OLD",
            charge_point_id="CP-1",
            action="Reset",
            payload={"type": "Soft"},
            requested_at=at(1),
            outcome=CommandOutcome.ANSWERED,
            response={},
            completed_at=at(2),
            sent_by=None,
        )
        new = CommandRecord("C-NEW", "CP-1", "ClearCache", {}, at(3), sent_by="operator:alice")
        await store.record_command(new)
        assert await store.commands() == [new, old]
        assert await store.get_registration("CP-1") == Registration("CP-1")
        await store.put_registration(Registration("CP-1", security_profile=2))
        assert (await store.get_registration("CP-1")) == Registration("CP-1", security_profile=2)
    finally:
        await store.close()
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(9,)]
    reopened = SqliteStore(path)  # a migrated file opens as it is
    await reopened.open()
    try:
        assert [c.command_id for c in await reopened.commands()] == ["C-NEW", "C-OLD"]
    finally:
        await reopened.close()


async def test_open_adds_the_security_tables_to_a_version_3_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    new_tables = (SECURITY_EVENTS.create, TRANSFER_STATUSES.create)
    for statement in SCHEMA:
        if statement not in new_tables:
            raw(path, _old(statement, _REGISTRATIONS_V4))
    raw(path, "PRAGMA user_version = 3")  # version 5's tables but the two of version 4
    store = SqliteStore(path)
    await store.open()
    try:
        event = SecurityEvent("CP-1", at(0), "ResetOrReboot", at(0), critical=True)
        await store.upsert([event])
        assert await store.security_events("CP-1") == [event]
    finally:
        await store.close()
    assert raw(path, "PRAGMA user_version") == [(9,)]


async def test_open_migrates_a_version_4_file_keeping_its_registrations(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    for statement in SCHEMA:
        raw(path, _old(statement, _REGISTRATIONS_V4))
    raw(
        path,
        "INSERT INTO registrations VALUES (?, ?, ?, ?, ?, ?, ?)",
        "CP-1",
        *(None,) * 2,
        "h",
        0,
        None,
        2,
    )
    raw(path, "PRAGMA user_version = 4")
    store = SqliteStore(path)
    await store.open()
    try:
        kept = Registration("CP-1", password_hash="h", security_profile=2)
        assert await store.get_registration("CP-1") == kept
        rotated = Registration(
            "CP-1", password_hash="h", security_profile=2, next_password_hash="n"
        )
        await store.put_registration(rotated)
        assert await store.get_registration("CP-1") == rotated
    finally:
        await store.close()


async def test_open_migrates_a_version_5_file_to_connector_capacity_and_sites(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    new_tables = (SITES.create, SITE_ALLOCATIONS.create)
    for statement in SCHEMA:
        if statement not in new_tables:
            raw(path, _old(statement, _REGISTRATIONS_V5))
    raw(path, "INSERT INTO registrations VALUES ('CP-1', NULL, NULL, 'h', 0, NULL, 2, NULL)")
    raw(path, "PRAGMA user_version = 5")
    store = SqliteStore(path)
    await store.open()
    try:
        kept = Registration("CP-1", password_hash="h", security_profile=2)
        assert await store.get_registration("CP-1") == kept
        capable = dataclasses.replace(kept, max_current_a=16.0, phases=1)
        await store.put_registration(capable)
        assert await store.get_registration("CP-1") == capable
        site = Site("depot", ("CP-1",), at(1), max_current_a=32.0)
        await store.put_site(site)
        assert await store.list_sites() == [site]
    finally:
        await store.close()
    assert raw(path, "PRAGMA user_version") == [(9,)]


async def test_open_migrates_a_version_6_file_to_pinned_ocpp_versions(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    for statement in SCHEMA:
        raw(path, _old(statement, _REGISTRATIONS_V6))
    raw(
        path, "INSERT INTO registrations VALUES ('CP-1', NULL, NULL, NULL, 0, NULL, 2, NULL, 16, 3)"
    )
    raw(path, "PRAGMA user_version = 6")
    store = SqliteStore(path)
    await store.open()
    try:
        kept = Registration("CP-1", security_profile=2, max_current_a=16.0, phases=3)
        assert await store.get_registration("CP-1") == kept
        pinned = dataclasses.replace(kept, ocpp_version=OcppVersion.V201)
        await store.put_registration(pinned)
        assert await store.get_registration("CP-1") == pinned
    finally:
        await store.close()
    assert raw(path, "PRAGMA user_version") == [(9,)]


async def test_open_migrates_a_version_8_file_to_the_paged_keyed_delivery_log(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    for statement in SCHEMA:
        raw(path, _BEFORE_V9.get(statement, statement))
    old = notification("A-1", at(0))
    raw(
        path,
        "INSERT INTO notifications (notification_id, channel_id, alert_id, charge_point_id, "
        "transition, created_at, status, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        *(old.notification_id, "hook", "A-1", "CP-1", "opened", to_us(at(0)), "pending", 0),
    )
    raw(path, "PRAGMA user_version = 8")
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.notifications(before=(at(1), "")) == [old]  # no cooldown key
        keyed = dataclasses.replace(
            notification("A-2", at(2)),
            alert_kind=AlertKind.FAULTED,
            rule_id="R-1",
            alert_opened_at=at(1),
        )
        await store.claim_notification(keyed)
        assert await store.notification(keyed.notification_id) == keyed
    finally:
        await store.close()
    indexes = {name for (name,) in raw(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "notifications_by_time" in indexes and "notifications_newest" not in indexes
    assert raw(path, "PRAGMA user_version") == [(9,)]


async def test_open_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    raw(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = SqliteStore(path)
    with pytest.raises(RuntimeError, match="newer"):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):
        await store.list_registrations()


async def test_a_file_that_is_no_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"not a database, but 512 bytes of something else\n" * 10)
    with pytest.raises(StoreUnavailable, match="not a database") as failure:
        await SqliteStore(path).open()
    assert isinstance(failure.value.__cause__, sqlite3.DatabaseError)


async def test_use_after_close_raises(store: SqliteStore) -> None:
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_session(1)
    await store.close()  # closing twice is harmless


async def test_transaction_ids_stop_at_int32_max(store: SqliteStore) -> None:
    assert await store.allocate_transaction_id("first") == 1
    raw(
        store.path,
        "UPDATE sqlite_sequence SET seq = ? WHERE name = 'transaction_ids'",
        MAX_TRANSACTION_ID - 1,
    )
    assert await store.allocate_transaction_id("last") == MAX_TRANSACTION_ID
    with pytest.raises(RuntimeError, match="exhausted"):
        await store.allocate_transaction_id("one too many")
    assert await store.allocate_transaction_id("first") == 1
    assert await store.allocate_transaction_id("last") == MAX_TRANSACTION_ID


async def test_upsert_is_one_transaction(store: SqliteStore) -> None:
    broken = Session(2, charge_point_id=None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        await store.upsert([ChargePointState("CP-1"), full_session(1), broken])
    assert await store.list_charge_point_states() == []
    assert await store.get_session(1) is None


async def test_upsert_rejects_operator_data(store: SqliteStore) -> None:
    with pytest.raises(TypeError, match="Registration"):
        await store.upsert([Registration("CP-1")])  # type: ignore[list-item]
