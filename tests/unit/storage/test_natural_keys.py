"""Both back ends key every record by the natural key its type declares (``KEY``)."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chargestream.domain.records import DerivedRecord, MeterValue, SecurityEvent, TransferStatus
from chargestream.storage import cassandra_schema, sqlite_schema
from chargestream.storage.cassandra import _latest
from chargestream.storage.sqlite import SqliteStore
from tests.storage_contract import (
    T0,
    full_alert,
    full_interval,
    full_meter_value,
    full_session,
    full_state,
    installed_profile,
)

CASSANDRA_TABLES = [
    cassandra_schema.REGISTRATIONS,
    cassandra_schema.ID_TAGS,
    cassandra_schema.ALERT_RULES,
    cassandra_schema.COMMANDS,
    cassandra_schema.STATES,
    cassandra_schema.INTERVALS,
    cassandra_schema.SESSIONS,
    cassandra_schema.METER_VALUES,
    cassandra_schema.ALERTS,
    cassandra_schema.TRANSFER_STATUSES,
    cassandra_schema.CHARGING_PROFILES,
    cassandra_schema.INSTALLED_PROFILES,
]
DERIVED: list[DerivedRecord] = [
    full_state(),
    full_interval(),
    full_session(),
    full_meter_value(),
    full_alert(),
    SecurityEvent("CP-1", T0, "ResetOrReboot", T0, True, "info"),
    TransferStatus("CP-1", "log", "Uploaded", T0, 3),
    installed_profile("CP-1", 1, 5),
]


def other(value: Any) -> Any:
    """A different value of the same kind, different also at millisecond precision."""
    if isinstance(value, datetime):
        return value + timedelta(milliseconds=1)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "-other"
    raise AssertionError(f"no other value for {value!r}")


def changed(record: DerivedRecord, field: str) -> DerivedRecord:
    return dataclasses.replace(record, **{field: other(getattr(record, field))})  # type: ignore[arg-type]


async def test_sqlite_primary_keys_are_the_natural_keys(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    await store.close()
    with closing(sqlite3.connect(tmp_path / "store.db")) as conn:
        for table in sqlite_schema.TABLES:
            columns = conn.execute(f"PRAGMA table_info({table.name})").fetchall()
            primary_key = tuple(name for pk, name in sorted((c[5], c[1]) for c in columns) if pk)
            assert primary_key == table.record.KEY, table.name


@pytest.mark.parametrize("table", sqlite_schema.TABLES, ids=lambda t: t.name)
def test_sqlite_upserts_replace_by_the_natural_key(table: sqlite_schema.Table) -> None:
    target = re.search(r"ON CONFLICT \(([^)]*)\)", table.upsert_sql)
    assert target is not None
    assert tuple(name.strip('" ') for name in target[1].split(",")) == table.record.KEY


@pytest.mark.parametrize("table", CASSANDRA_TABLES, ids=lambda t: t.name)
def test_cassandra_primary_keys_are_the_natural_keys(table: cassandra_schema.Table) -> None:
    primary_key = re.search(r"PRIMARY KEY \(\(([^)]*)\)((?:, [^,)]+)*)\)", table.create)
    assert primary_key is not None
    names = [*primary_key[1].split(", "), *primary_key[2].split(", ")[1:]]
    assert sorted(name.strip('"') for name in names) == sorted(table.record.KEY)


@pytest.mark.parametrize("field", MeterValue.KEY)
def test_cassandra_sample_groups_keep_every_key_field(field: str) -> None:
    """A meter value's row is keyed by its group and the digest of its group's value keys:
    a value differing in any key field lands in another row, or in the same row as
    another value (a group holds values of one meterValue element)."""
    value = full_meter_value()
    moved = changed(value, field)
    group = cassandra_schema.sample_group

    def sampled(values: list[MeterValue]) -> str:
        return cassandra_schema.encode_samples(values)[0]

    assert (group(moved), sampled([moved])) != (group(value), sampled([value]))
    assert group(moved) != group(value) or sampled([value, moved]) != sampled([value])


def test_cassandra_sample_rows_are_replaced_by_a_correction() -> None:
    value = full_meter_value()
    corrected = dataclasses.replace(value, value=230.0, unit="kV")
    encode = cassandra_schema.encode_samples
    assert encode([corrected])[0] == encode([value])[0]
    assert encode([corrected])[1] != encode([value])[1]


def test_cassandra_security_events_are_listed_by_their_natural_key() -> None:
    listing = cassandra_schema.SECURITY_EVENTS
    assert (listing.scope, listing.time, listing.id) == SecurityEvent.KEY


def test_a_cassandra_partition_outside_the_key_is_refused() -> None:
    with pytest.raises(ValueError, match="not part of the key"):
        cassandra_schema.Table.of("broken", MeterValue, ("unit",))


@pytest.mark.parametrize("record", DERIVED, ids=lambda r: type(r).__name__)
def test_cassandra_upserts_merge_records_by_the_natural_key(record: DerivedRecord) -> None:
    key = type(record).KEY
    for field in (f.name for f in dataclasses.fields(record)):
        if field in key:
            assert len(_latest([record, changed(record, field)])[type(record)]) == 2, field
        elif isinstance(getattr(record, field), str | int | datetime):
            latest = _latest([record, changed(record, field)])[type(record)]
            assert list(latest.values()) == [changed(record, field)], field
