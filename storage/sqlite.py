"""The embedded back end: one SQLite file in WAL mode.

One connection, used only from one worker thread, so the event loop never
blocks on disk and sqlite3's thread rules hold. WAL lets another process (the
Streamlit UI) read the file while the gateway writes it. The tables are in
``chargestream.storage.sqlite_schema``.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from chargestream.domain.charging_profiles import MAX_PROFILE_ID
from chargestream.domain.records import (
    Alert,
    AlertRule,
    AvailabilityExclusion,
    ChargePointState,
    ChargingProfile,
    CommandRecord,
    DerivedRecord,
    DeviceVariable,
    FirmwareCampaign,
    IdTag,
    InstalledChargingProfile,
    LocalListAssignment,
    LocalListEntry,
    LocalListState,
    MeterValue,
    Notification,
    NotificationChannel,
    Registration,
    Reservation,
    SecurityEvent,
    Session,
    Site,
    SiteAllocation,
    StatusInterval,
    TransferStatus,
    VariableKey,
)
from chargestream.sqlite.connections import connect, write_transaction
from chargestream.storage.base import StoreUnavailable, by_start
from chargestream.storage.device_model import admitted
from chargestream.storage.sqlite_schema import (
    ALERT_RULES,
    ALERTS,
    CHARGING_PROFILES,
    COMMANDS,
    DERIVED,
    DERIVED_TABLES,
    DEVICE_VARIABLES,
    EXCLUSIONS,
    FIRMWARE_CAMPAIGNS,
    ID_TAGS,
    INSTALLED_PROFILES,
    INTERVALS,
    LOCAL_LIST_ENTRIES,
    LOCAL_LIST_STATES,
    LOCAL_LISTS,
    METER_VALUES,
    MIGRATIONS,
    NOTIFICATION_CHANNELS,
    NOTIFICATIONS,
    REGISTRATIONS,
    RESERVATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    SECURITY_EVENTS,
    SESSIONS,
    SITE_ALLOCATIONS,
    SITES,
    STATES,
    TRANSFER_STATUSES,
    Table,
    from_us,
    to_us,
)

MAX_TRANSACTION_ID = 2**31 - 1
PARAMETERS_PER_STATEMENT = 1000  # a multi-row upsert's, well below SQLite's limit

# What SQLite raises for a statement of ours it refuses (a bug, not an outage); every
# other sqlite3.DatabaseError (I/O, locks, a full disk, a file that is no database) and
# every OSError (a directory that cannot be made) means the file cannot be used.
_REFUSED_STATEMENT = (
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    sqlite3.NotSupportedError,
)

_R = TypeVar("_R")

# Fills an acknowledgement carried by an upserted Alert, never replaces one.
_ACK_IF_NONE = (
    "INSERT INTO alert_acks (alert_id, acknowledged_at, acknowledged_by) VALUES (?, ?, ?) "
    "ON CONFLICT (alert_id) DO NOTHING"
)
_ALERT_SELECT = (
    f"SELECT {ALERTS.select}, alert_acks.acknowledged_at, alert_acks.acknowledged_by "
    "FROM alerts LEFT JOIN alert_acks USING (alert_id)"
)
_SESSION_TIME = "COALESCE(start_time, stop_time)"
_VARIABLE_ORDER = ", ".join(DEVICE_VARIABLES.key[1:])  # the key after the charge point


@functools.lru_cache(maxsize=256)
def _upsert_sql(table: Table, rows: int) -> str:
    return table.upsert_rows_sql(rows)


def _alert(row: Sequence[Any]) -> Alert:
    acknowledged_at, acknowledged_by = row[-2:]
    alert: Alert = ALERTS.decode(
        row[:-2], acknowledged_at=from_us(acknowledged_at), acknowledged_by=acknowledged_by
    )
    return alert


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

    def _get(self, table: Table, key: Any) -> Any:
        rows = self._fetch(
            f'SELECT {table.select} FROM {table.name} WHERE "{table.key[0]}" = ?', key
        )
        return table.decode(rows[0]) if rows else None

    def _list(self, table: Table, limit: int = -1) -> list[Any]:
        rows = self._fetch(
            f'SELECT {table.select} FROM {table.name} ORDER BY "{table.key[0]}" LIMIT ?', limit
        )
        return [table.decode(row) for row in rows]

    def _put(self, table: Table, record: Any) -> None:
        self._write(table.upsert_sql, *table.encode(record))

    def _delete(self, table: Table, key: Any) -> bool:
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
        conn = connect(self.path, writer=True)  # creates the file and its directory, private
        try:
            with write_transaction(conn):
                (version,) = conn.execute("PRAGMA user_version").fetchone()
                if version > SCHEMA_VERSION:
                    raise StoreUnavailable(
                        f"{self.path}: schema version {version} is newer than this code's "
                        f"({SCHEMA_VERSION})"
                    )
                if version > 0:  # an existing file: bring it to this version first
                    for step in range(version + 1, SCHEMA_VERSION + 1):
                        for statement in MIGRATIONS.get(step, ()):
                            conn.execute(statement)
                for statement in SCHEMA:
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
            if type(record) not in DERIVED:
                raise TypeError(f"not a derived record: {type(record).__name__}")
            batches.setdefault(type(record), []).append(record)
        with write_transaction(self._db):
            if Session in batches:
                batches[Session] = self._keeping_start(batches[Session])  # type: ignore[arg-type]
            if DeviceVariable in batches:
                batches[DeviceVariable] = self._admitted(batches[DeviceVariable])  # type: ignore[arg-type]
            for kind, batch in batches.items():
                self._upsert_rows(DERIVED[kind], batch)
            acks = [
                (record.alert_id, to_us(record.acknowledged_at), record.acknowledged_by)
                for record in records
                if isinstance(record, Alert) and record.acknowledged_at is not None
            ]
            if acks:
                self._db.executemany(_ACK_IF_NONE, acks)

    def _upsert_rows(self, table: Table, records: Sequence[DerivedRecord]) -> None:
        """Many records to a statement: ``executemany`` takes the GIL back for every row,
        and waits for it while the event loop is busy (as the event log's appends did)."""
        per = max(1, PARAMETERS_PER_STATEMENT // len(table.columns))
        for start in range(0, len(records), per):
            rows = [table.encode(record) for record in records[start : start + per]]
            self._db.execute(_upsert_sql(table, len(rows)), list(chain.from_iterable(rows)))

    def _keeping_start(self, sessions: list[Session]) -> list[DerivedRecord]:
        """See ``Session.keeping_start_of``; an earlier version in the batch counts as stored."""
        latest: dict[int, Session] = {}
        for session in sessions:
            if session.start_time is None:
                stored = latest.get(session.transaction_id) or self._get(
                    SESSIONS, session.transaction_id
                )
                session = session.keeping_start_of(stored)
            latest[session.transaction_id] = session
        return list(latest.values())

    async def clear_derived(self) -> None:
        await self._run(self._clear_derived)

    def _clear_derived(self) -> None:
        with write_transaction(self._db):
            for table in DERIVED_TABLES:
                self._db.execute(f"DELETE FROM {table}")

    # -- charge points

    async def get_registration(self, charge_point_id: str) -> Registration | None:
        return await self._run(self._get, REGISTRATIONS, charge_point_id)

    async def list_registrations(self) -> list[Registration]:
        return await self._run(self._list, REGISTRATIONS)

    async def put_registration(self, registration: Registration) -> None:
        await self._run(self._put, REGISTRATIONS, registration)

    async def delete_registration(self, charge_point_id: str) -> bool:
        return await self._run(self._delete, REGISTRATIONS, charge_point_id)

    async def get_charge_point_state(self, charge_point_id: str) -> ChargePointState | None:
        return await self._run(self._get, STATES, charge_point_id)

    async def list_charge_point_states(self, limit: int = 1000) -> list[ChargePointState]:
        return await self._run(self._list, STATES, limit)

    async def status_history(
        self, charge_point_id: str, start: datetime, end: datetime
    ) -> list[StatusInterval]:
        return await self._run(self._status_history, charge_point_id, start, end)

    def _status_history(
        self, charge_point_id: str, start: datetime, end: datetime
    ) -> list[StatusInterval]:
        rows = self._fetch(
            f"SELECT {INTERVALS.select} FROM status_intervals "
            'WHERE charge_point_id = ? AND "start" < ? AND ("end" IS NULL OR "end" > ?) '
            'ORDER BY "start", connector_id',
            charge_point_id,
            to_us(end),
            to_us(start),
        )
        return [INTERVALS.decode(row) for row in rows]

    # -- security events and transfer statuses

    async def security_events(
        self, charge_point_id: str, limit: int = 100, before: datetime | None = None
    ) -> list[SecurityEvent]:
        return await self._run(self._security_events, charge_point_id, limit, before)

    def _security_events(
        self, charge_point_id: str, limit: int, before: datetime | None
    ) -> list[SecurityEvent]:
        bound = "AND timestamp < ? " if before is not None else ""
        params = [to_us(before)] if before is not None else []
        rows = self._fetch(
            f"SELECT {SECURITY_EVENTS.select} FROM security_events WHERE charge_point_id = ? "
            f"{bound}ORDER BY timestamp DESC, event_type DESC LIMIT ?",
            charge_point_id,
            *params,
            limit,
        )
        return [SECURITY_EVENTS.decode(row) for row in rows]

    async def transfer_statuses(self, charge_point_id: str) -> list[TransferStatus]:
        return await self._run(self._transfer_statuses, charge_point_id)

    def _transfer_statuses(self, charge_point_id: str) -> list[TransferStatus]:
        rows = self._fetch(
            f"SELECT {TRANSFER_STATUSES.select} FROM transfer_statuses "
            "WHERE charge_point_id = ? ORDER BY transfer",
            charge_point_id,
        )
        return [TRANSFER_STATUSES.decode(row) for row in rows]

    # -- sessions and meter values

    async def get_session(self, transaction_id: int) -> Session | None:
        return await self._run(self._get, SESSIONS, transaction_id)

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
        return self._newest_first(
            SESSIONS, _SESSION_TIME, "transaction_id", charge_point_id, limit, before
        )

    def _newest_first(
        self,
        table: Table,
        time: str,
        tie: str,
        charge_point_id: str | None,
        limit: int,
        before: datetime | None,
    ) -> list[Any]:
        """A page of ``table``, newest ``time`` first (``tie`` orders equal times): of one
        charge point or of all, older than ``before``."""
        where: list[str] = []
        params: list[str | int | None] = []
        if charge_point_id is not None:
            where.append("charge_point_id = ?")
            params.append(charge_point_id)
        if before is not None:
            where.append(f"{time} < ?")
            params.append(to_us(before))
        rows = self._fetch(
            f"SELECT {table.select} FROM {table.name} "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY {time} DESC, {tie} DESC LIMIT ?",
            *params,
            limit,
        )
        return [table.decode(row) for row in rows]

    async def meter_values(
        self, transaction_id: int, limit: int = 10000, *, newest: bool = False
    ) -> list[MeterValue]:
        return await self._run(self._meter_values, transaction_id, limit, newest)

    def _meter_values(self, transaction_id: int, limit: int, newest: bool) -> list[MeterValue]:
        order = "DESC" if newest else "ASC"
        rows = self._fetch(
            f"SELECT {METER_VALUES.select} FROM meter_values WHERE transaction_id = ? "
            f"ORDER BY timestamp {order}, measurand {order}, phase {order} LIMIT ?",
            transaction_id,
            limit,
        )
        values = [METER_VALUES.decode(row) for row in rows]
        return values[::-1] if newest else values

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

    # -- reservations

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        return await self._run(self._get, RESERVATIONS, reservation_id)

    async def reservations(
        self, charge_point_id: str | None = None, limit: int = 100, before: datetime | None = None
    ) -> list[Reservation]:
        return await self._run(self._reservations, charge_point_id, limit, before)

    def _reservations(
        self, charge_point_id: str | None, limit: int, before: datetime | None
    ) -> list[Reservation]:
        return self._newest_first(
            RESERVATIONS, "requested_at", "reservation_id", charge_point_id, limit, before
        )

    async def allocate_reservation_id(self) -> int:
        return await self._run(self._allocate_reservation_id)

    def _allocate_reservation_id(self) -> int:
        return self._allocate("reservation_ids", MAX_TRANSACTION_ID, "reservation ids")

    def _allocate(self, table: str, maximum: int, what: str) -> int:
        """The next id of an AUTOINCREMENT table: never handed out twice, never reused."""
        with write_transaction(self._db):
            cursor = self._db.execute(
                f"INSERT INTO {table} (allocated_at) VALUES (?)", (to_us(datetime.now(UTC)),)
            )
            allocated = cursor.lastrowid
            if allocated is None or allocated > maximum:
                raise RuntimeError(f"{what} exhausted (all {maximum} allocated)")
            return allocated

    # -- charging profiles

    async def get_charging_profile(self, profile_id: int) -> ChargingProfile | None:
        return await self._run(self._get, CHARGING_PROFILES, profile_id)

    async def charging_profiles(self, limit: int = 1000) -> list[ChargingProfile]:
        return await self._run(self._list, CHARGING_PROFILES, limit)

    async def put_charging_profile(self, profile: ChargingProfile) -> None:
        await self._run(self._put, CHARGING_PROFILES, profile)

    async def delete_charging_profile(self, profile_id: int) -> bool:
        return await self._run(self._delete, CHARGING_PROFILES, profile_id)

    async def allocate_charging_profile_id(self) -> int:
        return await self._run(
            self._allocate, "charging_profile_ids", MAX_PROFILE_ID, "charging profile ids"
        )

    async def installed_charging_profiles(
        self, charge_point_id: str, limit: int = 1000
    ) -> list[InstalledChargingProfile]:
        return await self._run(self._installed_profiles, charge_point_id, limit)

    def _installed_profiles(
        self, charge_point_id: str, limit: int
    ) -> list[InstalledChargingProfile]:
        rows = self._fetch(
            f"SELECT {INSTALLED_PROFILES.select} FROM {INSTALLED_PROFILES.name} "
            "WHERE charge_point_id = ? ORDER BY connector_id, charging_profile_id LIMIT ?",
            charge_point_id,
            limit,
        )
        return [INSTALLED_PROFILES.decode(row) for row in rows]

    # -- local authorization lists

    async def get_local_list(self, charge_point_id: str) -> LocalListAssignment | None:
        return await self._run(self._get, LOCAL_LISTS, charge_point_id)

    async def local_lists(self) -> list[LocalListAssignment]:
        return await self._run(self._list, LOCAL_LISTS)

    async def put_local_list(self, assignment: LocalListAssignment) -> None:
        await self._run(self._put, LOCAL_LISTS, assignment)

    async def local_list_state(self, charge_point_id: str) -> LocalListState | None:
        return await self._run(self._get, LOCAL_LIST_STATES, charge_point_id)

    async def local_list_entries(self, charge_point_id: str) -> list[LocalListEntry]:
        return await self._run(self._local_list_entries, charge_point_id)

    def _local_list_entries(self, charge_point_id: str) -> list[LocalListEntry]:
        rows = self._fetch(
            f"SELECT {LOCAL_LIST_ENTRIES.select} FROM local_list_entries "
            "WHERE charge_point_id = ? ORDER BY id_tag",
            charge_point_id,
        )
        return [LOCAL_LIST_ENTRIES.decode(row) for row in rows]

    # -- device model (OCPP 2.0.1)

    async def device_variables(
        self,
        charge_point_id: str,
        component: str | None = None,
        variable: str | None = None,
        limit: int = 100,
        after: VariableKey | None = None,
    ) -> list[DeviceVariable]:
        return await self._run(
            self._device_variables, charge_point_id, component, variable, limit, after
        )

    def _device_variables(
        self,
        charge_point_id: str,
        component: str | None,
        variable: str | None,
        limit: int,
        after: VariableKey | None,
    ) -> list[DeviceVariable]:
        where, params = ["charge_point_id = ?"], list[Any]([charge_point_id])
        for name, value in (("component", component), ("variable", variable)):
            if value is not None:
                where.append(f"{name} = ?")
                params.append(value)
        if after is not None:
            where.append(f"({_VARIABLE_ORDER}) > ({', '.join('?' * len(after))})")
            params.extend(after)
        rows = self._fetch(
            f"SELECT {DEVICE_VARIABLES.select} FROM {DEVICE_VARIABLES.name} "
            f"WHERE {' AND '.join(where)} ORDER BY {_VARIABLE_ORDER} LIMIT ?",
            *params,
            limit,
        )
        return [DEVICE_VARIABLES.decode(row) for row in rows]

    def _admitted(self, variables: list[DeviceVariable]) -> list[DerivedRecord]:
        """See ``storage.device_model.admitted``."""
        stored = {
            cp: {v.sort_key: v for v in self._device_variables(cp, None, None, -1, None)}
            for cp in {variable.charge_point_id for variable in variables}
        }
        return list(admitted(variables, stored))

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
            params.append(to_us(before))
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
                to_us(at),
                by,
            )
            return True

    # -- firmware campaigns

    async def get_firmware_campaign(self, campaign_id: str) -> FirmwareCampaign | None:
        return await self._run(self._get, FIRMWARE_CAMPAIGNS, campaign_id)

    async def firmware_campaigns(self) -> list[FirmwareCampaign]:
        return await self._run(self._list, FIRMWARE_CAMPAIGNS)

    async def put_firmware_campaign(self, campaign: FirmwareCampaign) -> None:
        await self._run(self._put, FIRMWARE_CAMPAIGNS, campaign)

    async def list_alert_rules(self) -> list[AlertRule]:
        return await self._run(self._list, ALERT_RULES)

    async def put_alert_rule(self, rule: AlertRule) -> None:
        await self._run(self._put, ALERT_RULES, rule)

    async def delete_alert_rule(self, rule_id: str) -> bool:
        return await self._run(self._delete, ALERT_RULES, rule_id)

    # -- alert notifications

    async def get_notification_channel(self, channel_id: str) -> NotificationChannel | None:
        return await self._run(self._get, NOTIFICATION_CHANNELS, channel_id)

    async def notification_channels(self) -> list[NotificationChannel]:
        return await self._run(self._list, NOTIFICATION_CHANNELS)

    async def put_notification_channel(self, channel: NotificationChannel) -> None:
        await self._run(self._put, NOTIFICATION_CHANNELS, channel)

    async def delete_notification_channel(self, channel_id: str) -> bool:
        return await self._run(self._delete, NOTIFICATION_CHANNELS, channel_id)

    async def claim_notification(self, notification: Notification) -> bool:
        return await self._run(self._claim_notification, notification)

    def _claim_notification(self, notification: Notification) -> bool:
        names = ", ".join(f'"{c.name}"' for c in NOTIFICATIONS.columns)
        marks = ", ".join("?" for _ in NOTIFICATIONS.columns)
        sql = f"INSERT OR IGNORE INTO {NOTIFICATIONS.name} ({names}) VALUES ({marks})"
        return self._write(sql, *NOTIFICATIONS.encode(notification)) > 0

    async def put_notification(self, notification: Notification) -> None:
        await self._run(self._put, NOTIFICATIONS, notification)

    async def notification(self, notification_id: str) -> Notification | None:
        return await self._run(self._get, NOTIFICATIONS, notification_id)

    async def notifications(
        self, limit: int = 100, before: tuple[datetime, str] | None = None
    ) -> list[Notification]:
        return await self._run(self._notifications, limit, before)

    def _notifications(self, limit: int, before: tuple[datetime, str] | None) -> list[Notification]:
        after, params = "", []
        if before is not None:
            after = "WHERE (created_at, notification_id) < (?, ?) "
            params = [to_us(before[0]), before[1]]
        rows = self._fetch(
            f"SELECT {NOTIFICATIONS.select} FROM {NOTIFICATIONS.name} {after}"
            "ORDER BY created_at DESC, notification_id DESC LIMIT ?",
            *params,
            limit,
        )
        return [NOTIFICATIONS.decode(row) for row in rows]

    # -- id tags

    async def get_id_tag(self, id_tag: str) -> IdTag | None:
        return await self._run(self._get, ID_TAGS, id_tag)

    async def list_id_tags(self, limit: int = 1000) -> list[IdTag]:
        return await self._run(self._list, ID_TAGS, limit)

    async def put_id_tag(self, tag: IdTag) -> None:
        await self._run(self._put, ID_TAGS, tag)

    async def delete_id_tag(self, id_tag: str) -> bool:
        return await self._run(self._delete, ID_TAGS, id_tag)

    # -- sites

    async def get_site(self, site_id: str) -> Site | None:
        return await self._run(self._get, SITES, site_id)

    async def list_sites(self) -> list[Site]:
        return await self._run(self._list, SITES)

    async def put_site(self, site: Site) -> None:
        await self._run(self._put, SITES, site)

    async def delete_site(self, site_id: str) -> bool:
        return await self._run(self._delete, SITES, site_id)

    # -- availability exclusions

    async def list_exclusions(self) -> list[AvailabilityExclusion]:
        return by_start(await self._run(self._list, EXCLUSIONS))

    async def put_exclusion(self, exclusion: AvailabilityExclusion) -> None:
        await self._run(self._put, EXCLUSIONS, exclusion)

    async def delete_exclusion(self, exclusion_id: str) -> bool:
        return await self._run(self._delete, EXCLUSIONS, exclusion_id)

    async def site_allocations(self, site_id: str | None = None) -> list[SiteAllocation]:
        return await self._run(self._site_allocations, site_id)

    def _site_allocations(self, site_id: str | None) -> list[SiteAllocation]:
        where = "WHERE site_id = ?" if site_id is not None else ""
        rows = self._fetch(
            f"SELECT {SITE_ALLOCATIONS.select} FROM site_allocations {where} "
            "ORDER BY site_id, charge_point_id, connector_id",
            *([site_id] if site_id is not None else []),
        )
        return [SITE_ALLOCATIONS.decode(row) for row in rows]

    async def put_site_allocation(self, allocation: SiteAllocation) -> None:
        await self._run(self._put, SITE_ALLOCATIONS, allocation)

    async def delete_site_allocation(self, allocation: SiteAllocation) -> None:
        await self._run(
            self._write,
            "DELETE FROM site_allocations "
            "WHERE site_id = ? AND charge_point_id = ? AND connector_id = ?",
            allocation.site_id,
            allocation.charge_point_id,
            allocation.connector_id,
        )

    # -- command log

    async def record_command(self, command: CommandRecord) -> None:
        await self._run(self._put, COMMANDS, command)

    async def commands(
        self, charge_point_id: str | None = None, limit: int = 100
    ) -> list[CommandRecord]:
        return await self._run(self._commands, charge_point_id, limit)

    def _commands(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
        where = "WHERE charge_point_id = ?" if charge_point_id is not None else ""
        params = [charge_point_id] if charge_point_id is not None else []
        rows = self._fetch(
            f"SELECT {COMMANDS.select} FROM commands {where} "
            "ORDER BY requested_at DESC, command_id DESC LIMIT ?",
            *params,
            limit,
        )
        return [COMMANDS.decode(row) for row in rows]
