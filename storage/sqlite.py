"""The embedded back end: one SQLite file in WAL mode.

One connection, used only from one worker thread, so the event loop never
blocks on disk and sqlite3's thread rules hold. WAL lets another process (the
Streamlit UI) read the file while the gateway writes it.

Tables mirror the record dataclasses of ``chargestream.domain.records``: column names are
field names. Datetimes are integer microseconds since the epoch (UTC), enums
their string value, dicts and connector lists JSON text. Alert
acknowledgements live in their own table, so they are operator data in fact:
they survive ``clear_derived`` and reattach when a replay re-creates the alert
under its deterministic id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from chargestream.domain.records import (
    Alert,
    AlertRule,
    ChargePointState,
    CommandRecord,
    ConnectorStatus,
    DerivedRecord,
    IdTag,
    MeterValue,
    Registration,
    Session,
    StatusInterval,
)
from chargestream.sqlite.connections import connect, write_transaction
from chargestream.storage.base import StoreUnavailable

SCHEMA_VERSION = 1
MAX_TRANSACTION_ID = 2**31 - 1

# Meter value key columns are NOT NULL, since SQLite treats NULLs as distinct
# in a key and a resent sample would be stored twice. A missing transaction is
# stored as this id, which no OCPP transactionId (an int32) can take; a missing
# phase, location or context as "".
_NO_TRANSACTION = -(2**31) - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS registrations (
    charge_point_id TEXT PRIMARY KEY,
    display_name TEXT,
    location TEXT,
    password_hash TEXT,
    lenient INTEGER NOT NULL,
    created_at INTEGER
);
CREATE TABLE IF NOT EXISTS id_tags (
    id_tag TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expiry_date INTEGER,
    parent_id_tag TEXT
);
CREATE TABLE IF NOT EXISTS alert_rules (
    rule_id TEXT PRIMARY KEY,
    measurand TEXT NOT NULL,
    operator TEXT NOT NULL,
    threshold REAL NOT NULL,
    severity TEXT NOT NULL,
    enabled INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    charge_point_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    outcome TEXT,
    response TEXT,
    error TEXT,
    completed_at INTEGER
);
CREATE INDEX IF NOT EXISTS commands_by_time ON commands (requested_at DESC, command_id DESC);
CREATE INDEX IF NOT EXISTS commands_by_charge_point
    ON commands (charge_point_id, requested_at DESC, command_id DESC);
CREATE TABLE IF NOT EXISTS transaction_ids (
    transaction_id INTEGER PRIMARY KEY AUTOINCREMENT,
    start_key TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS alert_acks (
    alert_id TEXT PRIMARY KEY,
    acknowledged_at INTEGER NOT NULL,
    acknowledged_by TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS charge_point_states (
    charge_point_id TEXT PRIMARY KEY,
    connected INTEGER NOT NULL,
    last_seen INTEGER,
    connected_since INTEGER,
    node TEXT,
    vendor TEXT,
    model TEXT,
    serial_number TEXT,
    charge_box_serial_number TEXT,
    firmware_version TEXT,
    iccid TEXT,
    imsi TEXT,
    meter_type TEXT,
    meter_serial_number TEXT,
    last_boot_at INTEGER,
    registration_status TEXT,
    connectors TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_intervals (
    charge_point_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    "start" INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT NOT NULL,
    "end" INTEGER,
    info TEXT,
    vendor_error_code TEXT,
    PRIMARY KEY (charge_point_id, "start", connector_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    transaction_id INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL,
    connector_id INTEGER,
    id_tag TEXT,
    start_time INTEGER,
    meter_start INTEGER,
    stop_time INTEGER,
    meter_stop INTEGER,
    energy_kwh REAL,
    stop_reason TEXT,
    stop_id_tag TEXT,
    peak_power_w REAL,
    soc_start REAL,
    soc_end REAL
);
CREATE INDEX IF NOT EXISTS sessions_by_time
    ON sessions (COALESCE(start_time, stop_time) DESC, transaction_id DESC);
CREATE INDEX IF NOT EXISTS sessions_by_charge_point
    ON sessions (charge_point_id, COALESCE(start_time, stop_time) DESC, transaction_id DESC);
CREATE TABLE IF NOT EXISTS meter_values (
    charge_point_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    measurand TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    transaction_id INTEGER NOT NULL,
    phase TEXT NOT NULL,
    location TEXT NOT NULL,
    context TEXT NOT NULL,
    PRIMARY KEY (transaction_id, timestamp, measurand, phase, location, context,
                 charge_point_id, connector_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    charge_point_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    message TEXT NOT NULL,
    severity TEXT NOT NULL,
    connector_id INTEGER,
    rule_id TEXT,
    value REAL,
    closed_at INTEGER
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (opened_at DESC, alert_id DESC);
CREATE INDEX IF NOT EXISTS open_alerts_by_time
    ON alerts (opened_at DESC, alert_id DESC) WHERE closed_at IS NULL;
"""

_DERIVED_TABLES = ("charge_point_states", "status_intervals", "sessions", "meter_values", "alerts")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# What SQLite raises for a statement of ours it refuses (a bug, not an outage); every
# other sqlite3.DatabaseError (I/O, locks, a full disk, a file that is no database) and
# every OSError (a directory that cannot be made) means the file cannot be used.
_REFUSED_STATEMENT = (
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    sqlite3.NotSupportedError,
)

_Codec = Callable[[Any], Any]
_R = TypeVar("_R")


def _to_us(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // _MICROSECOND


def _from_us(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def _to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _encode_connectors(connectors: tuple[ConnectorStatus, ...]) -> str:
    return _to_json([{**dataclasses.asdict(c), "since": _to_us(c.since)} for c in connectors])


def _decode_connectors(text: str) -> tuple[ConnectorStatus, ...]:
    items = [
        ConnectorStatus(**{**item, "since": _from_us(item["since"])}) for item in json.loads(text)
    ]
    return tuple(sorted(items, key=lambda c: c.connector_id))


def _optional(encode: _Codec) -> _Codec:
    return lambda value: None if value is None else encode(value)


def _codecs(hint: Any) -> tuple[_Codec | None, _Codec | None]:
    """(encode, decode) for a field's type hint; None where sqlite3 maps it as is."""
    if isinstance(hint, types.UnionType):  # X | None
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    origin = get_origin(hint) or hint
    if origin is datetime:
        return _to_us, _from_us
    if origin is bool:
        return None, bool
    if origin is dict:
        return _optional(_to_json), _optional(json.loads)
    if origin is tuple:
        return _encode_connectors, _decode_connectors
    if isinstance(origin, type) and issubclass(origin, Enum):
        return _optional(lambda member: member.value), _optional(origin)
    return None, None


@dataclasses.dataclass(frozen=True)
class _Table:
    """How one record type maps to one table; built once per type."""

    name: str
    record: type
    key: tuple[str, ...]
    columns: tuple[str, ...]
    encoders: tuple[_Codec | None, ...]
    decoders: tuple[_Codec | None, ...]

    @classmethod
    def of(
        cls,
        name: str,
        record: type,
        key: tuple[str, ...],
        exclude: tuple[str, ...] = (),
        overrides: dict[str, tuple[_Codec, _Codec]] | None = None,
    ) -> _Table:
        hints = get_type_hints(record)
        columns = tuple(f.name for f in dataclasses.fields(record) if f.name not in exclude)
        codecs = [(overrides or {}).get(c) or _codecs(hints[c]) for c in columns]
        return cls(
            name, record, key, columns, tuple(e for e, _ in codecs), tuple(d for _, d in codecs)
        )

    @property
    def select(self) -> str:
        return ", ".join(f'{self.name}."{c}"' for c in self.columns)

    @property
    def upsert_sql(self) -> str:
        names = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        target = ", ".join(f'"{c}"' for c in self.key)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in self.columns if c not in self.key)
        return (
            f"INSERT INTO {self.name} ({names}) VALUES ({marks}) "
            f"ON CONFLICT ({target}) DO UPDATE SET {updates}"
        )

    def encode(self, record: Any) -> tuple[Any, ...]:
        values = (getattr(record, column) for column in self.columns)
        return tuple(
            value if encode is None else encode(value)
            for encode, value in zip(self.encoders, values, strict=True)
        )

    def decode(self, row: Sequence[Any], **extra: Any) -> Any:
        values = {
            column: value if decode is None else decode(value)
            for column, decode, value in zip(self.columns, self.decoders, row, strict=True)
        }
        return self.record(**values, **extra)


_REGISTRATIONS = _Table.of("registrations", Registration, ("charge_point_id",))
_ID_TAGS = _Table.of("id_tags", IdTag, ("id_tag",))
_ALERT_RULES = _Table.of("alert_rules", AlertRule, ("rule_id",))
_COMMANDS = _Table.of("commands", CommandRecord, ("command_id",))
_STATES = _Table.of("charge_point_states", ChargePointState, ("charge_point_id",))
_INTERVALS = _Table.of(
    "status_intervals", StatusInterval, ("charge_point_id", "start", "connector_id")
)
_SESSIONS = _Table.of("sessions", Session, ("transaction_id",))
_METER_VALUES = _Table.of(
    "meter_values",
    MeterValue,
    (
        "transaction_id",
        "timestamp",
        "measurand",
        "phase",
        "location",
        "context",
        "charge_point_id",
        "connector_id",
    ),
    overrides={
        "transaction_id": (
            lambda tx: _NO_TRANSACTION if tx is None else tx,
            lambda tx: None if tx == _NO_TRANSACTION else tx,
        ),
        **dict.fromkeys(("phase", "location", "context"), (lambda v: v or "", lambda v: v or None)),
    },
)
_ALERTS = _Table.of("alerts", Alert, ("alert_id",), exclude=("acknowledged_at", "acknowledged_by"))

_DERIVED: dict[type, _Table] = {
    t.record: t for t in (_STATES, _INTERVALS, _SESSIONS, _METER_VALUES, _ALERTS)
}

# Fills an acknowledgement carried by an upserted Alert, never replaces one.
_ACK_IF_NONE = (
    "INSERT INTO alert_acks (alert_id, acknowledged_at, acknowledged_by) VALUES (?, ?, ?) "
    "ON CONFLICT (alert_id) DO NOTHING"
)
_ALERT_SELECT = (
    f"SELECT {_ALERTS.select}, alert_acks.acknowledged_at, alert_acks.acknowledged_by "
    "FROM alerts LEFT JOIN alert_acks USING (alert_id)"
)
_SESSION_TIME = "COALESCE(start_time, stop_time)"


def _alert(row: Sequence[Any]) -> Alert:
    acknowledged_at, acknowledged_by = row[-2:]
    return _ALERTS.decode(
        row[:-2], acknowledged_at=_from_us(acknowledged_at), acknowledged_by=acknowledged_by
    )


class SqliteStore:
    """``chargestream.storage.base.Store`` on a SQLite file; safe to share with reader processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # -- plumbing

    async def _run(self, fn: Callable[..., _R], *args: Any) -> _R:
        """Run ``fn`` on the store's thread; the file's failures become ``StoreUnavailable``."""
        if self._executor is None:
            raise StoreUnavailable(f"{self!r} is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except _REFUSED_STATEMENT:
            raise
        except (OSError, sqlite3.DatabaseError) as error:
            raise StoreUnavailable(f"{self!r}: {error}") from error

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:  # closed while this call waited for the thread
            raise StoreUnavailable(f"{self!r} is not open")
        return self._conn

    def _fetch(self, sql: str, *params: Any) -> list[Any]:
        return self._db.execute(sql, params).fetchall()

    def _write(self, sql: str, *params: Any) -> int:
        """One statement (autocommitted outside ``write_transaction``); the rows it changed."""
        return self._db.execute(sql, params).rowcount

    def _get(self, table: _Table, key: Any) -> Any:
        rows = self._fetch(
            f'SELECT {table.select} FROM {table.name} WHERE "{table.key[0]}" = ?', key
        )
        return table.decode(rows[0]) if rows else None

    def _list(self, table: _Table, limit: int = -1) -> list[Any]:
        rows = self._fetch(
            f'SELECT {table.select} FROM {table.name} ORDER BY "{table.key[0]}" LIMIT ?', limit
        )
        return [table.decode(row) for row in rows]

    def _put(self, table: _Table, record: Any) -> None:
        self._write(table.upsert_sql, *table.encode(record))

    def _delete(self, table: _Table, key: Any) -> bool:
        return self._write(f'DELETE FROM {table.name} WHERE "{table.key[0]}" = ?', key) > 0

    # -- lifecycle

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        try:
            await self._run(self._connect)
        except BaseException:
            self._executor.shutdown()
            self._executor = None
            raise

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path, writer=True)
        try:
            with write_transaction(conn):
                (version,) = conn.execute("PRAGMA user_version").fetchone()
                if version > SCHEMA_VERSION:
                    raise StoreUnavailable(
                        f"{self.path}: schema version {version} is newer than this code's "
                        f"({SCHEMA_VERSION})"
                    )
                for statement in _SCHEMA.split(";"):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    async def close(self) -> None:
        if self._executor is None:
            return
        try:
            await self._run(self._disconnect)
        finally:
            self._executor.shutdown()
            self._executor = None

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- derived records

    async def upsert(self, records: Sequence[DerivedRecord]) -> None:
        await self._run(self._upsert, records)

    def _upsert(self, records: Sequence[DerivedRecord]) -> None:
        batches: dict[type, list[DerivedRecord]] = {}
        for record in records:
            if type(record) not in _DERIVED:
                raise TypeError(f"not a derived record: {type(record).__name__}")
            batches.setdefault(type(record), []).append(record)
        with write_transaction(self._db):
            if Session in batches:
                batches[Session] = self._keeping_start(batches[Session])  # type: ignore[arg-type]
            for kind, batch in batches.items():
                table = _DERIVED[kind]
                self._db.executemany(table.upsert_sql, map(table.encode, batch))
            acks = [
                (record.alert_id, _to_us(record.acknowledged_at), record.acknowledged_by)
                for record in records
                if isinstance(record, Alert) and record.acknowledged_at is not None
            ]
            if acks:
                self._db.executemany(_ACK_IF_NONE, acks)

    def _keeping_start(self, sessions: list[Session]) -> list[DerivedRecord]:
        """See ``Session.keeping_start_of``; an earlier version in the batch counts as stored."""
        latest: dict[int, Session] = {}
        for session in sessions:
            if session.start_time is None:
                stored = latest.get(session.transaction_id) or self._get(
                    _SESSIONS, session.transaction_id
                )
                session = session.keeping_start_of(stored)
            latest[session.transaction_id] = session
        return list(latest.values())

    async def clear_derived(self) -> None:
        await self._run(self._clear_derived)

    def _clear_derived(self) -> None:
        with write_transaction(self._db):
            for table in _DERIVED_TABLES:
                self._db.execute(f"DELETE FROM {table}")

    # -- charge points

    async def get_registration(self, charge_point_id: str) -> Registration | None:
        return await self._run(self._get, _REGISTRATIONS, charge_point_id)

    async def list_registrations(self) -> list[Registration]:
        return await self._run(self._list, _REGISTRATIONS)

    async def put_registration(self, registration: Registration) -> None:
        await self._run(self._put, _REGISTRATIONS, registration)

    async def delete_registration(self, charge_point_id: str) -> bool:
        return await self._run(self._delete, _REGISTRATIONS, charge_point_id)

    async def get_charge_point_state(self, charge_point_id: str) -> ChargePointState | None:
        return await self._run(self._get, _STATES, charge_point_id)

    async def list_charge_point_states(self, limit: int = 1000) -> list[ChargePointState]:
        return await self._run(self._list, _STATES, limit)

    async def status_history(
        self, charge_point_id: str, start: datetime, end: datetime
    ) -> list[StatusInterval]:
        return await self._run(self._status_history, charge_point_id, start, end)

    def _status_history(
        self, charge_point_id: str, start: datetime, end: datetime
    ) -> list[StatusInterval]:
        rows = self._fetch(
            f"SELECT {_INTERVALS.select} FROM status_intervals "
            'WHERE charge_point_id = ? AND "start" < ? AND ("end" IS NULL OR "end" > ?) '
            'ORDER BY "start", connector_id',
            charge_point_id,
            _to_us(end),
            _to_us(start),
        )
        return [_INTERVALS.decode(row) for row in rows]

    # -- sessions and meter values

    async def get_session(self, transaction_id: int) -> Session | None:
        return await self._run(self._get, _SESSIONS, transaction_id)

    async def sessions_for_charge_point(
        self, charge_point_id: str, limit: int = 100, before: datetime | None = None
    ) -> list[Session]:
        return await self._run(self._sessions, charge_point_id, limit, before)

    async def recent_sessions(
        self, limit: int = 100, before: datetime | None = None
    ) -> list[Session]:
        return await self._run(self._sessions, None, limit, before)

    def _sessions(
        self, charge_point_id: str | None, limit: int, before: datetime | None
    ) -> list[Session]:
        where, params = [], []
        if charge_point_id is not None:
            where.append("charge_point_id = ?")
            params.append(charge_point_id)
        if before is not None:
            where.append(f"{_SESSION_TIME} < ?")
            params.append(_to_us(before))
        rows = self._fetch(
            f"SELECT {_SESSIONS.select} FROM sessions "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY {_SESSION_TIME} DESC, transaction_id DESC LIMIT ?",
            *params,
            limit,
        )
        return [_SESSIONS.decode(row) for row in rows]

    async def meter_values(self, transaction_id: int, limit: int = 10000) -> list[MeterValue]:
        return await self._run(self._meter_values, transaction_id, limit)

    def _meter_values(self, transaction_id: int, limit: int) -> list[MeterValue]:
        rows = self._fetch(
            f"SELECT {_METER_VALUES.select} FROM meter_values WHERE transaction_id = ? "
            "ORDER BY timestamp, measurand, phase LIMIT ?",
            transaction_id,
            limit,
        )
        return [_METER_VALUES.decode(row) for row in rows]

    async def allocate_transaction_id(self, start_key: str) -> int:
        return await self._run(self._allocate_transaction_id, start_key)

    def _allocate_transaction_id(self, start_key: str) -> int:
        # IMMEDIATE: another process allocating from the same file waits for us.
        with write_transaction(self._db):
            rows = self._fetch(
                "SELECT transaction_id FROM transaction_ids WHERE start_key = ?", start_key
            )
            if rows:
                return int(rows[0][0])
            cursor = self._db.execute(
                "INSERT INTO transaction_ids (start_key) VALUES (?)", (start_key,)
            )
            transaction_id = cursor.lastrowid
            if transaction_id is None or transaction_id > MAX_TRANSACTION_ID:
                raise RuntimeError("transaction ids exhausted (all 2**31-1 allocated)")
            return transaction_id

    # -- alerts

    async def alerts(
        self, open_only: bool = False, limit: int = 100, before: datetime | None = None
    ) -> list[Alert]:
        return await self._run(self._alerts, open_only, limit, before)

    def _alerts(self, open_only: bool, limit: int, before: datetime | None) -> list[Alert]:
        where, params = [], []
        if open_only:
            where.append("closed_at IS NULL")
        if before is not None:
            where.append("opened_at < ?")
            params.append(_to_us(before))
        rows = self._fetch(
            f"{_ALERT_SELECT} {'WHERE ' + ' AND '.join(where) if where else ''} "
            "ORDER BY opened_at DESC, alert_id DESC LIMIT ?",
            *params,
            limit,
        )
        return [_alert(row) for row in rows]

    async def acknowledge_alert(self, alert_id: str, by: str, at: datetime) -> bool:
        return await self._run(self._acknowledge_alert, alert_id, by, at)

    def _acknowledge_alert(self, alert_id: str, by: str, at: datetime) -> bool:
        with write_transaction(self._db):
            if not self._fetch("SELECT 1 FROM alerts WHERE alert_id = ?", alert_id):
                return False
            self._write(
                "INSERT INTO alert_acks (alert_id, acknowledged_at, acknowledged_by) "
                "VALUES (?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET "
                "acknowledged_at = excluded.acknowledged_at, "
                "acknowledged_by = excluded.acknowledged_by",
                alert_id,
                _to_us(at),
                by,
            )
            return True

    async def list_alert_rules(self) -> list[AlertRule]:
        return await self._run(self._list, _ALERT_RULES)

    async def put_alert_rule(self, rule: AlertRule) -> None:
        await self._run(self._put, _ALERT_RULES, rule)

    async def delete_alert_rule(self, rule_id: str) -> bool:
        return await self._run(self._delete, _ALERT_RULES, rule_id)

    # -- id tags

    async def get_id_tag(self, id_tag: str) -> IdTag | None:
        return await self._run(self._get, _ID_TAGS, id_tag)

    async def list_id_tags(self, limit: int = 1000) -> list[IdTag]:
        return await self._run(self._list, _ID_TAGS, limit)

    async def put_id_tag(self, tag: IdTag) -> None:
        await self._run(self._put, _ID_TAGS, tag)

    async def delete_id_tag(self, id_tag: str) -> bool:
        return await self._run(self._delete, _ID_TAGS, id_tag)

    # -- command log

    async def record_command(self, command: CommandRecord) -> None:
        await self._run(self._put, _COMMANDS, command)

    async def commands(
        self, charge_point_id: str | None = None, limit: int = 100
    ) -> list[CommandRecord]:
        return await self._run(self._commands, charge_point_id, limit)

    def _commands(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
        where = "WHERE charge_point_id = ?" if charge_point_id is not None else ""
        params = [charge_point_id] if charge_point_id is not None else []
        rows = self._fetch(
            f"SELECT {_COMMANDS.select} FROM commands {where} "
            "ORDER BY requested_at DESC, command_id DESC LIMIT ?",
            *params,
            limit,
        )
        return [_COMMANDS.decode(row) for row in rows]
