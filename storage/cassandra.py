"""CassandraStore: ``chargestream.storage.base.Store`` on Apache Cassandra (stack mode).

The tables are in ``chargestream.storage.cassandra_schema`` and explained in docs/cassandra.md.
Every statement is prepared once in ``open``; each runs through the driver's
``execute_async``. A read is awaited as an asyncio future, at most ``MAX_IN_FLIGHT``
at a time. The rows one call writes go in unlogged batches, one per set of replicas
their partitions live on (the driver's token map), bounded in rows and bytes: Cassandra's
cost and the driver's are per request, not per row (ADR 0011). The batches go out
``WRITE_WINDOW`` at a time, each window awaited as one future that the driver's thread
settles when its last request is done: one event loop wake-up per window, not per
request (that handoff was a fifth of the worker's time).

An upsert is not atomic: if it fails, some rows may be written. Every write is
idempotent, so the processors retry the whole upsert.

The driver's errors of an unreachable or struggling cluster (no host, timeouts, too few
replicas, lost connections) leave the store as ``StoreUnavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import ssl
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from cassandra import (
    ConsistencyLevel,
    OperationTimedOut,
    ProtocolVersion,
    RequestExecutionException,
    protocol,
)
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    ResponseFuture,
)
from cassandra.cluster import Session as DriverSession
from cassandra.connection import ConnectionException
from cassandra.io.libevreactor import LibevConnection
from cassandra.metadata import TokenMap
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from cassandra.pool import Host
from cassandra.query import (
    BatchStatement,
    BatchType,
    BoundStatement,
    PreparedStatement,
    SimpleStatement,
    Statement,
    tuple_factory,
)

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
from chargestream.storage import cassandra_schema as schema
from chargestream.storage.base import StoreUnavailable, by_start
from chargestream.storage.cassandra_schema import (
    ALERTS,
    ALERTS_BY_DAY,
    COMMANDS,
    COMMANDS_BY_CHARGE_POINT,
    COMMANDS_BY_DAY,
    DEVICE_VARIABLES,
    EXCLUSIONS,
    ID_TAGS,
    INTERVALS,
    LOCAL_LIST_ENTRIES,
    LOCAL_LIST_STATES,
    LOCAL_LISTS,
    METER_VALUES,
    NOTIFICATIONS_BY_DAY,
    OPEN_ALERTS,
    REGISTRATIONS,
    RESERVATIONS,
    RESERVATIONS_BY_CHARGE_POINT,
    RESERVATIONS_BY_DAY,
    SECURITY_EVENT_DOCS,
    SECURITY_EVENTS,
    SESSIONS,
    SESSIONS_BY_CHARGE_POINT,
    SESSIONS_BY_DAY,
    SITE_ALLOCATION_DELETE,
    SITE_ALLOCATIONS,
    SITES,
    STATES,
    TRANSFER_STATUSES,
    Listing,
    Table,
    bucket,
    ceil_ms,
    from_time,
    to_ms,
)
from chargestream.storage.cassandra_writes import ListedKeys, batches
from chargestream.storage.device_model import admitted

MAX_IN_FLIGHT = 256  # concurrent reads per store
WRITE_WINDOW = 32  # write requests of one call in flight at a time
BATCH_ROWS = 200  # rows per unlogged batch
# Estimated bytes per batch (the values bound, plus CELL_BYTES per value for the cell's
# timestamp and TTL; Cassandra counted up to 3% more), half its batch_size_fail_threshold.
BATCH_BYTES = 24 * 1024
CELL_BYTES = 16
LISTED_KEYS = 65536  # sessions whose listing key a store remembers (ListedKeys)
ID_BLOCK = 100  # transaction ids a process reserves at a time
REQUEST_TIMEOUT = 15.0  # seconds
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 4.0  # seconds between attempts to reach a node
SCHEMA_TIMEOUT = 60.0  # seconds, for DDL and TRUNCATE
CONNECT_TIMEOUT = 10.0  # seconds
BUCKETS_AT_ONCE = 4  # listing buckets read concurrently
IN_KEYS = 100  # keys per "key IN ?" query
MAX_TTL_DAYS = 7300  # Cassandra's TTL limit: 20 years

_KEYSPACE = re.compile(r"[a-z][a-z0-9_]{0,47}")
_DAY_SECONDS = 86400

# The driver's errors that mean the cluster cannot serve a request now; they share no
# base class. Errors of a statement itself (InvalidRequest, SyntaxException) are bugs.
_UNAVAILABLE = (
    NoHostAvailable,  # no node could be reached (refused, authentication failed, all down)
    OperationTimedOut,  # no answer within the client's timeout
    RequestExecutionException,  # Unavailable, ReadTimeout, WriteTimeout, Read/WriteFailure
    protocol.RequestExecutionException,  # the same left as server messages: TruncateError...
    protocol.ServerError,
    ConnectionException,  # the connection closed or broke mid-request
)


class _Write(NamedTuple):
    """One row to write: a prepared statement's text and its values.

    ``partition`` (table and partition key) is set where other rows of the same call may
    share the partition: without the driver's token map such rows are batched together.
    """

    cql: str
    values: tuple[Any, ...]
    partition: tuple[Any, ...] | None = None


# The table whose natural key identifies each kind of derived record.
_TABLE_OF: dict[type, Table] = {
    table.record: table
    for table in (
        STATES,
        INTERVALS,
        SESSIONS,
        METER_VALUES,
        ALERTS,
        SECURITY_EVENT_DOCS,
        TRANSFER_STATUSES,
        RESERVATIONS,
        schema.INSTALLED_PROFILES,
        LOCAL_LIST_STATES,
        LOCAL_LIST_ENTRIES,
        DEVICE_VARIABLES,
    )
}


def _latest(records: Sequence[DerivedRecord]) -> dict[type, dict[Any, Any]]:
    """The records by type and natural key; a later record replaces an earlier one."""
    latest: dict[type, dict[Any, Any]] = {kind: {} for kind in _TABLE_OF}
    for record in records:
        table = _TABLE_OF.get(type(record))
        if table is None:
            raise TypeError(f"not a derived record: {type(record).__name__}")
        same_kind = latest[type(record)]
        key = table.key_of(record)
        if isinstance(record, Session):
            record = record.keeping_start_of(same_kind.get(key))
        elif isinstance(record, DeviceVariable):
            record = record.keeping_report_of(same_kind.get(key))
        same_kind[key] = record
    return latest


def _acknowledged(alert: Alert, at: datetime, by: str) -> Alert:
    return dataclasses.replace(alert, acknowledged_at=at, acknowledged_by=by)


def _sort_time(session: Session) -> datetime | None:
    return session.start_time or session.stop_time


def _listing_key(session: Session) -> tuple[str, datetime | None]:
    """What a session's listing rows are keyed by, besides its id."""
    return session.charge_point_id, _sort_time(session)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _batch(rows: Sequence[BoundStatement]) -> Statement:
    """One bound statement, or an unlogged batch of several."""
    if len(rows) == 1:
        return rows[0]
    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    for row in rows:
        batch.add(row)
    return batch


def _settle(future: asyncio.Future[Any], rows: list[Any], error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if error is None:
        future.set_result(rows)
    else:
        future.set_exception(error)


def _rows_of(response: ResponseFuture) -> asyncio.Future[list[Any]]:
    """Every row of ``response`` (all pages), as a future of the running event loop."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[list[Any]] = loop.create_future()
    rows: list[Any] = []

    def on_page(page: list[Any] | None) -> None:  # runs on the driver's event thread
        rows.extend(page or ())
        if response.has_more_pages:
            response.start_fetching_next_page()
        else:
            loop.call_soon_threadsafe(_settle, done, rows, None)

    def on_error(error: BaseException) -> None:
        loop.call_soon_threadsafe(_settle, done, rows, error)

    response.add_callbacks(on_page, on_error)
    return done


def _all_done(
    session: DriverSession, statements: Sequence[Statement], timeout: float
) -> asyncio.Future[list[Any]]:
    """Send every statement; one future, settled when the last is done (first error wins)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[list[Any]] = loop.create_future()
    pending = len(statements)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one_done(error: BaseException | None) -> None:  # on the driver's event thread
        nonlocal pending
        with lock:
            if error is not None:
                errors.append(error)
            pending -= 1
            if pending:
                return
        loop.call_soon_threadsafe(_settle, done, [], errors[0] if errors else None)

    for statement in statements:
        response = session.execute_async(statement, timeout=timeout)
        response.add_callbacks(lambda _rows: one_done(None), one_done)
    return done


class CassandraStore:
    """``Store`` on a Cassandra keyspace; any number of processes may share it."""

    def __init__(
        self,
        contact_points: list[str],
        port: int = 9042,
        keyspace: str = "chargestream",
        *,
        replication: str = "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        username: str | None = None,
        password: str | None = None,
        local_dc: str | None = None,
        status_ttl_days: int = 400,
        meter_ttl_days: int = 400,
        ca_file: Path | None = None,
    ) -> None:
        if not _KEYSPACE.fullmatch(keyspace):
            raise ValueError(f"keyspace {keyspace!r}: use lowercase letters, digits and _")
        for name, days in (
            ("status_ttl_days", status_ttl_days),
            ("meter_ttl_days", meter_ttl_days),
        ):
            if not 0 <= days <= MAX_TTL_DAYS:
                raise ValueError(f"{name}={days}: use 0 (keep) to {MAX_TTL_DAYS} days")
        self.contact_points = list(contact_points)
        self.port = port
        self.keyspace = keyspace
        self.replication = replication
        self.local_dc = local_dc
        self._credentials = (username, password)
        self._ca_file = ca_file
        self._status_ttl = status_ttl_days * _DAY_SECONDS
        self._meter_ttl = meter_ttl_days * _DAY_SECONDS
        self._cluster: Cluster | None = None
        self._session: DriverSession | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._legacy_tables: tuple[str, ...] = ()  # the keyspace's tables of schema <= 7
        self._session_keys = ListedKeys(LISTED_KEYS)  # the sessions' listing keys, see upsert
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._id_lock = asyncio.Lock()
        self._ids = range(1, 1)  # the unused rest of this process's reserved block

    def __repr__(self) -> str:
        return f"CassandraStore({self.contact_points!r}, {self.port}, {self.keyspace!r})"

    # -- lifecycle

    async def open(self) -> None:
        if self._session is not None:
            return
        cluster = self._new_cluster()
        try:
            with self._unavailable_on_driver_errors():
                connected = await asyncio.to_thread(self._connect, cluster)
                self._session, self._prepared, self._legacy_tables = connected
        except BaseException:
            await asyncio.to_thread(cluster.shutdown)
            raise
        self._cluster = cluster

    async def close(self) -> None:
        cluster, self._cluster, self._session = self._cluster, None, None
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)

    def _new_cluster(self) -> Cluster:
        username, password = self._credentials
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(self.local_dc or "")),
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
            request_timeout=REQUEST_TIMEOUT,
            row_factory=tuple_factory,
        )
        return Cluster(
            self.contact_points,
            port=self.port,
            protocol_version=ProtocolVersion.V5,  # Cassandra 4.0 and later
            connection_class=LibevConnection,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            auth_provider=None
            if username is None
            else PlainTextAuthProvider(username=username, password=password),
            connect_timeout=CONNECT_TIMEOUT,
            control_connection_timeout=CONNECT_TIMEOUT,
            # the default grows to 10 minutes between attempts; a node back from a restart
            # should be written to again within seconds
            reconnection_policy=ExponentialReconnectionPolicy(
                RECONNECT_FIRST, RECONNECT_MAX, max_attempts=None
            ),
            ssl_context=None
            if self._ca_file is None
            else ssl.create_default_context(cafile=str(self._ca_file)),
        )

    def _connect(
        self, cluster: Cluster
    ) -> tuple[DriverSession, dict[str, PreparedStatement], tuple[str, ...]]:
        """Connect, create or check the schema, prepare every statement (blocking); the
        session, the statements and the tables of older schema versions the keyspace has.

        Statements name their tables with the keyspace: no ``USE``, which Cassandra 5
        warns about for prepared statements.
        """
        session = cluster.connect()
        version = self._schema_version(cluster, session)
        if version is not None and version > schema.SCHEMA_VERSION:
            raise StoreUnavailable(
                f"keyspace {self.keyspace}: schema version {version} is newer than this "
                f"code's ({schema.SCHEMA_VERSION})"
            )
        if version != schema.SCHEMA_VERSION:
            self._create_schema(session)
        tables = cluster.metadata.keyspaces[self.keyspace].tables
        legacy = tuple(name for name in schema.LEGACY_METER_TABLES if name in tables)
        statements = (
            *schema.STATEMENTS,
            *(schema.LEGACY_STATEMENTS if schema.METER_VALUES.name in legacy else ()),
        )
        prepared = {cql: session.prepare(self._qualified(cql)) for cql in statements}
        return session, prepared, legacy

    def _schema_version(self, cluster: Cluster, session: DriverSession) -> int | None:
        keyspace = cluster.metadata.keyspaces.get(self.keyspace)
        if keyspace is None or "schema_version" not in keyspace.tables:
            return None
        row = session.execute(self._qualified(schema.SCHEMA_VERSION_OF)).one()
        return None if row is None else row[0]

    def _create_schema(self, session: DriverSession) -> None:
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {self.keyspace} WITH replication = {self.replication}",
            timeout=SCHEMA_TIMEOUT,
        )
        for statement in (*schema.DDL, schema.SCHEMA_VERSION_SET):
            session.execute(self._qualified(statement), timeout=SCHEMA_TIMEOUT)

    def _qualified(self, cql: str) -> str:
        """A statement of ``schema`` with its tables in this store's keyspace."""
        return cql.format(ks=self.keyspace)

    # -- plumbing

    @contextlib.contextmanager
    def _unavailable_on_driver_errors(self) -> Iterator[None]:
        """The driver's outage errors as ``StoreUnavailable``, the original as its cause.

        The driver's messages name hosts and at most a username, never a password.
        """
        try:
            yield
        except _UNAVAILABLE as error:
            raise StoreUnavailable(f"{self!r}: {type(error).__name__}: {error}") from error

    def _live(self) -> DriverSession:
        if self._session is None:
            raise StoreUnavailable(f"{self!r} is not open")
        return self._session

    async def _execute(
        self,
        statement: Statement,
        values: Sequence[Any] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> list[Any]:
        session = self._live()
        async with self._in_flight:
            with self._unavailable_on_driver_errors():
                return await _rows_of(session.execute_async(statement, values, timeout=timeout))

    async def _rows(self, cql: str, values: Sequence[Any] = ()) -> list[Any]:
        """The rows of one prepared statement."""
        self._live()  # before the lookup: a store never opened has no statements
        return await self._execute(self._prepared[cql], values)

    async def _first(self, cql: str, values: Sequence[Any] = ()) -> Any | None:
        rows = await self._rows(cql, values)
        return rows[0] if rows else None

    async def _conditional(self, cql: str, values: Sequence[Any]) -> tuple[Any, ...]:
        """The one row a conditional statement returns: [applied], then the current values."""
        (row,) = await self._rows(cql, values)
        return tuple(row)

    async def _write_all(self, writes: Iterable[_Write]) -> None:
        """Write the rows in unlogged batches by replica set, ``WRITE_WINDOW`` requests at a
        time; identical rows once.

        The rows of a batch belong to partitions with the same replicas, so its coordinator
        (the token-aware policy picks a replica of the first row) is a replica of every row:
        no row takes an extra hop.
        Such a batch is not atomic, which no caller needs: every row is an idempotent upsert.
        A conditional statement goes alone, as Cassandra requires.
        """
        session = self._live()  # before the lookups: a store never opened has no statements
        token_map = None if self._cluster is None else self._cluster.metadata.token_map
        rows = []
        for write in dict.fromkeys(writes):
            bound = self._prepared[write.cql].bind(write.values)
            if write.cql in schema.CONDITIONAL:
                group: Any = write
            else:
                group = self._replicas(token_map, bound) or write.partition or write
            size = sum(len(value) for value in bound.values if isinstance(value, bytes))
            rows.append((group, size + CELL_BYTES * len(bound.values), bound))
        statements = [_batch(rows) for rows in batches(rows, BATCH_ROWS, BATCH_BYTES)]
        with self._unavailable_on_driver_errors():
            for window in _chunks(statements, WRITE_WINDOW):
                await _all_done(session, window, REQUEST_TIMEOUT)

    def _replicas(self, token_map: TokenMap | None, bound: BoundStatement) -> frozenset[Host]:
        """The nodes holding the row's partition; none if the driver has no token map."""
        key = bound.routing_key
        if token_map is None or key is None:
            return frozenset()
        token = token_map.token_class.from_key(key)
        return frozenset(token_map.get_replicas(self.keyspace, token))

    async def _get(self, table: Table, key: Any) -> Any | None:
        row = await self._first(table.get, (key,))
        return None if row is None else table.decode(row)

    async def _scan(self, table: Table) -> list[Any]:
        """The whole table, ordered by key in the client (Cassandra orders by token)."""
        records = [table.decode(row) for row in await self._rows(table.scan)]
        return sorted(records, key=attrgetter(table.partition[0]))

    async def _lowest(self, table: Table, limit: int) -> list[Any]:
        """The ``limit`` records with the smallest keys: every key is read, then those rows."""
        keys = sorted(key for (key,) in await self._rows(table.keys))[:limit]
        found = await asyncio.gather(
            *(self._rows(table.get_many, (list(chunk),)) for chunk in _chunks(keys, IN_KEYS))
        )
        records = [table.decode(row) for rows in found for row in rows]
        return sorted(records, key=attrgetter(table.partition[0]))

    async def _put(self, table: Table, record: Any) -> None:
        await self._rows(table.insert(), table.encode(record))

    async def _delete(self, table: Table, key: Any) -> bool:
        (applied, *_) = await self._conditional(table.delete, (key,))
        return bool(applied)

    # -- listings

    def _list(
        self,
        listing: Listing,
        scope: str | None,
        time: datetime | None,
        id_: Any,
        doc: str,
        ttl: int = 0,
    ) -> Iterator[_Write]:
        """``ttl`` (seconds, 0: none) only for a listing written with one."""
        using = (ttl,) if listing.ttl else ()
        key = listing.key(scope, time, id_)
        yield _Write(listing.insert, (*key, doc, *using), (listing.name, *key[:-2]))
        if listing.index:
            series = listing.series(scope)
            yield _Write(
                listing.index_insert,
                (series, bucket(listing.unit, time), *using),
                (listing.index, series),
            )

    def _unlist(
        self, listing: Listing, scope: str | None, time: datetime | None, id_: Any
    ) -> _Write:
        key = listing.key(scope, time, id_)
        return _Write(listing.delete, key, (listing.name, *key[:-2]))

    async def _listed(
        self, listing: Listing, scope: str | None, limit: int, before: datetime | None
    ) -> list[str]:
        """The JSON copies in ``listing``, newest first, older than ``before``."""
        upper = schema.FAR_FUTURE_MS if before is None else ceil_ms(before)
        scoped = (scope,) if listing.scope else ()
        docs: list[str] = []
        for buckets in _chunks(await self._buckets(listing, scope, before), BUCKETS_AT_ONCE):
            if len(docs) >= limit:
                break
            wanted = limit - len(docs)
            pages = await asyncio.gather(
                *(self._rows(listing.page, (*scoped, b, upper, wanted)) for b in buckets)
            )
            docs += [doc for page in pages for (doc,) in page]
        return docs[:limit]

    async def _buckets(
        self, listing: Listing, scope: str | None, before: datetime | None
    ) -> list[int]:
        """The listing's buckets that may hold rows older than ``before``, newest first."""
        if listing.index is None:
            return [0]
        top = schema.MAX_BUCKET if before is None else bucket(listing.unit, before)
        rows = await self._rows(listing.index_read, (listing.series(scope), top))
        return [b for (b,) in rows if before is None or b != schema.UNTIMED]

    # -- derived records

    async def upsert(self, records: Sequence[DerivedRecord]) -> None:
        """The stored sessions are read only where the listing rows may move (see
        ``ListedKeys``) or an incoming session lacks its start (``keeping_start_of``)."""
        latest = _latest(records)
        sessions = list(latest[Session].values())
        stored = await self._stored_sessions(
            [
                s.transaction_id
                for s in sessions
                if s.start_time is None
                or not self._session_keys.unchanged(s.transaction_id, _listing_key(s))
            ]
        )
        reservations = list(latest[Reservation].values())
        stored_reservations = await self._stored_reservations(
            [r.reservation_id for r in reservations]
        )
        variables = await self._admitted(list(latest[DeviceVariable].values()))
        sessions = [s.keeping_start_of(stored.get(s.transaction_id)) for s in sessions]
        await self._write_all(
            [
                *self._state_writes(latest[ChargePointState].values()),
                *self._interval_writes(latest[StatusInterval].values()),
                *self._session_writes(sessions, stored),
                *self._meter_value_writes(latest[MeterValue].values()),
                *self._alert_writes(latest[Alert].values()),
                *self._security_writes(latest[SecurityEvent].values()),
                *self._rows_of(TRANSFER_STATUSES, latest[TransferStatus].values()),
                *self._reservation_writes(reservations, stored_reservations),
                *(
                    _Write(schema.INSTALLED_PROFILES.insert(), schema.INSTALLED_PROFILES.encode(p))
                    for p in latest[InstalledChargingProfile].values()
                ),
                *self._rows_of(LOCAL_LIST_STATES, latest[LocalListState].values()),
                *self._entry_writes(latest[LocalListEntry].values()),
                *(
                    _Write(
                        DEVICE_VARIABLES.insert(),
                        DEVICE_VARIABLES.encode(variable),
                        (DEVICE_VARIABLES.name, variable.charge_point_id),
                    )
                    for variable in variables
                ),
            ]
        )
        self._session_keys.written((s.transaction_id, _listing_key(s)) for s in sessions)

    async def _admitted(self, variables: list[DeviceVariable]) -> list[DeviceVariable]:
        """See ``storage.device_model.admitted``: each charge point's partition is read."""
        cps = sorted({variable.charge_point_id for variable in variables})
        partitions = await asyncio.gather(*(self._variables_of(cp) for cp in cps))
        stored = {
            cp: {v.sort_key: v for v in found} for cp, found in zip(cps, partitions, strict=True)
        }
        return admitted(variables, stored)

    async def _variables_of(self, charge_point_id: str) -> list[DeviceVariable]:
        """The charge point's variables in key order (its partition's clustering order)."""
        rows = await self._rows(DEVICE_VARIABLES.get, (charge_point_id,))
        return [DEVICE_VARIABLES.decode(row) for row in rows]

    async def _stored_sessions(self, transaction_ids: list[int]) -> dict[int, Session]:
        found = await asyncio.gather(*(self._get(SESSIONS, tx) for tx in transaction_ids))
        return {session.transaction_id: session for session in found if session is not None}

    async def _stored_reservations(self, reservation_ids: list[int]) -> dict[int, Reservation]:
        found = await asyncio.gather(*(self._get(RESERVATIONS, rid) for rid in reservation_ids))
        return {r.reservation_id: r for r in found if r is not None}

    def _reservation_writes(
        self, reservations: list[Reservation], stored: dict[int, Reservation]
    ) -> Iterator[_Write]:
        """The record and its listing rows; a listing row of the stored version that the new
        one does not overwrite (another charge point or time: an id a command reused) goes."""
        for reservation in reservations:
            rid, cp = reservation.reservation_id, reservation.charge_point_id
            yield _Write(RESERVATIONS.insert(), RESERVATIONS.encode(reservation))
            doc = RESERVATIONS.to_doc(reservation)
            yield from self._list(
                RESERVATIONS_BY_CHARGE_POINT, cp, reservation.requested_at, rid, doc
            )
            yield from self._list(RESERVATIONS_BY_DAY, None, reservation.requested_at, rid, doc)
            old = stored.get(rid)
            if old is None:
                continue
            for listing, scope, old_scope in (
                (RESERVATIONS_BY_CHARGE_POINT, cp, old.charge_point_id),
                (RESERVATIONS_BY_DAY, None, None),
            ):
                stale = self._unlist(listing, old_scope, old.requested_at, rid)
                if stale.values != listing.key(scope, reservation.requested_at, rid):
                    yield stale

    def _state_writes(self, states: Iterable[ChargePointState]) -> Iterator[_Write]:
        for state in states:
            yield _Write(STATES.insert(), STATES.encode(state))

    def _interval_writes(self, intervals: Iterable[StatusInterval]) -> Iterator[_Write]:
        for interval in intervals:
            cp, connector = interval.charge_point_id, interval.connector_id
            yield _Write(
                schema.INTERVAL_INSERT,
                (*INTERVALS.encode(interval), self._status_ttl),
                (INTERVALS.name, cp, connector),
            )
            yield _Write(schema.CONNECTOR_INSERT, (cp, connector), ("status_connectors", cp))

    def _session_writes(
        self, sessions: list[Session], stored: dict[int, Session]
    ) -> Iterator[_Write]:
        """The sessions (their starts kept) and their listing rows; where the stored version
        was read, its listing rows that the new ones do not overwrite go."""
        for session in sessions:
            old = stored.get(session.transaction_id)
            yield _Write(SESSIONS.insert(), SESSIONS.encode(session))
            doc, tx, cp = SESSIONS.to_doc(session), session.transaction_id, session.charge_point_id
            yield from self._list(SESSIONS_BY_CHARGE_POINT, cp, _sort_time(session), tx, doc)
            yield from self._list(SESSIONS_BY_DAY, None, _sort_time(session), tx, doc)
            if old is None:
                continue
            for listing, scope, old_scope in (
                (SESSIONS_BY_CHARGE_POINT, cp, old.charge_point_id),
                (SESSIONS_BY_DAY, None, None),
            ):
                stale = self._unlist(listing, old_scope, _sort_time(old), tx)
                if stale.values != listing.key(scope, _sort_time(session), tx):
                    yield stale

    def _alert_writes(self, alerts: Iterable[Alert]) -> Iterator[_Write]:
        for alert in alerts:
            yield _Write(ALERTS.insert(), ALERTS.encode(alert))
            doc = ALERTS.to_doc(alert)
            yield from self._list(ALERTS_BY_DAY, None, alert.opened_at, alert.alert_id, doc)
            if alert.open:
                yield from self._list(OPEN_ALERTS, None, alert.opened_at, alert.alert_id, doc)
            else:
                yield self._unlist(OPEN_ALERTS, None, alert.opened_at, alert.alert_id)
            if alert.acknowledged_at is not None:
                ack = (alert.alert_id, to_ms(alert.acknowledged_at), alert.acknowledged_by)
                yield _Write(schema.ACK_IF_NONE, ack)

    def _security_writes(self, events: Iterable[SecurityEvent]) -> Iterator[_Write]:
        for event in events:
            doc = SECURITY_EVENT_DOCS.to_doc(event)
            yield from self._list(
                SECURITY_EVENTS,
                event.charge_point_id,
                event.timestamp,
                event.event_type,
                doc,
                self._status_ttl,
            )

    def _entry_writes(self, entries: Iterable[LocalListEntry]) -> Iterator[_Write]:
        """A list's entries: one partition per charge point, batched."""
        for entry in entries:
            partition = (LOCAL_LIST_ENTRIES.name, entry.charge_point_id)
            yield _Write(LOCAL_LIST_ENTRIES.insert(), LOCAL_LIST_ENTRIES.encode(entry), partition)

    @staticmethod
    def _rows_of(table: Table, records: Iterable[Any]) -> Iterator[_Write]:
        """One row per record of a table without listings."""
        for record in records:
            yield _Write(table.insert(), table.encode(record))

    def _meter_value_writes(self, values: Iterable[MeterValue]) -> Iterator[_Write]:
        """A row per sample group (see ``cassandra_schema.sample_group``)."""
        groups: dict[schema.SampleGroup, list[MeterValue]] = {}
        for value in values:
            groups.setdefault(schema.sample_group(value), []).append(value)
        for (tx, time, cp, connector), group in groups.items():
            sampled, data = schema.encode_samples(group)
            if tx is not None:
                yield _Write(
                    schema.SAMPLE_INSERT,
                    (tx, to_ms(time), cp, connector, sampled, data),
                    ("meter_samples", tx),
                )
            else:
                day = bucket("day", time)
                yield _Write(
                    schema.LOOSE_SAMPLE_INSERT,
                    (cp, day, to_ms(time), connector, sampled, data, self._meter_ttl),
                    ("meter_samples_without_transaction", cp, day),
                )

    async def clear_derived(self) -> None:
        self._session_keys.forget()
        for table in (*schema.DERIVED_TABLES, *self._legacy_tables):
            truncate = SimpleStatement(f"TRUNCATE {self.keyspace}.{table}")
            await self._execute(truncate, timeout=SCHEMA_TIMEOUT)

    # -- charge points

    async def get_registration(self, charge_point_id: str) -> Registration | None:
        return await self._get(REGISTRATIONS, charge_point_id)

    async def list_registrations(self) -> list[Registration]:
        return await self._scan(REGISTRATIONS)

    async def put_registration(self, registration: Registration) -> None:
        await self._put(REGISTRATIONS, registration)

    async def delete_registration(self, charge_point_id: str) -> bool:
        return await self._delete(REGISTRATIONS, charge_point_id)

    async def get_charge_point_state(self, charge_point_id: str) -> ChargePointState | None:
        return await self._get(STATES, charge_point_id)

    async def list_charge_point_states(self, limit: int = 1000) -> list[ChargePointState]:
        return await self._lowest(STATES, limit)

    async def status_history(
        self, charge_point_id: str, start: datetime, end: datetime
    ) -> list[StatusInterval]:
        connectors = [c for (c,) in await self._rows(schema.CONNECTORS_OF, (charge_point_id,))]
        window = (ceil_ms(start), ceil_ms(end))
        found = await asyncio.gather(
            *(self._intervals_of(charge_point_id, c, window) for c in connectors)
        )
        overlapping = [
            interval
            for intervals in found
            for interval in intervals
            if interval.end is None or interval.end > start
        ]
        return sorted(overlapping, key=lambda i: (i.start, i.connector_id))

    async def _intervals_of(
        self, charge_point_id: str, connector_id: int, window: tuple[int, int]
    ) -> list[StatusInterval]:
        """A connector's intervals starting in the window, and the last one before it.

        A connector's intervals follow one another, so of those starting before the
        window only the last can overlap it.
        """
        key = (charge_point_id, connector_id)
        inside, before = await asyncio.gather(
            self._rows(schema.INTERVALS_FROM, (*key, *window)),
            self._rows(schema.INTERVAL_BEFORE, (*key, window[0])),
        )
        return [INTERVALS.decode(row) for row in (*inside, *before)]

    # -- security events and transfer statuses

    async def security_events(
        self, charge_point_id: str, limit: int = 100, before: datetime | None = None
    ) -> list[SecurityEvent]:
        docs = await self._listed(SECURITY_EVENTS, charge_point_id, limit, before)
        return [SECURITY_EVENT_DOCS.from_doc(doc) for doc in docs]

    async def transfer_statuses(self, charge_point_id: str) -> list[TransferStatus]:
        rows = await self._rows(TRANSFER_STATUSES.get, (charge_point_id,))
        return [TRANSFER_STATUSES.decode(row) for row in rows]

    # -- sessions and meter values

    async def get_session(self, transaction_id: int) -> Session | None:
        return await self._get(SESSIONS, transaction_id)

    async def sessions_for_charge_point(
        self, charge_point_id: str, limit: int = 100, before: datetime | None = None
    ) -> list[Session]:
        docs = await self._listed(SESSIONS_BY_CHARGE_POINT, charge_point_id, limit, before)
        return [SESSIONS.from_doc(doc) for doc in docs]

    async def recent_sessions(
        self, limit: int = 100, before: datetime | None = None
    ) -> list[Session]:
        docs = await self._listed(SESSIONS_BY_DAY, None, limit, before)
        return [SESSIONS.from_doc(doc) for doc in docs]

    async def meter_values(
        self, transaction_id: int, limit: int = 10000, *, newest: bool = False
    ) -> list[MeterValue]:
        """The sample groups' values, merged with the per-value table's where the keyspace
        has one (written before schema version 8; the groups' win a tie)."""
        found: dict[tuple[Any, ...], MeterValue] = {}
        if METER_VALUES.name in self._legacy_tables:
            statement = schema.METER_VALUES_NEWEST if newest else schema.METER_VALUES_OF
            for row in await self._rows(statement, (transaction_id, limit)):
                value = METER_VALUES.decode(row)
                found[METER_VALUES.key_of(value)] = value
        for value in await self._samples(transaction_id, limit, newest):
            found[METER_VALUES.key_of(value)] = value
        values = sorted(found.values(), key=schema.meter_order)
        return values[-limit:] if newest else values[:limit]

    async def _samples(self, transaction_id: int, limit: int, newest: bool) -> list[MeterValue]:
        """At least the first (or last) ``limit`` values of the transaction's sample groups,
        if it has as many, in whole timestamps: a time's groups are read together, so a
        value written again in another group (a replay that grouped differently) counts once,
        its latest write."""
        statement = schema.SAMPLES_BEFORE if newest else schema.SAMPLES_AFTER
        bound = schema.FAR_FUTURE_MS if newest else -schema.FAR_FUTURE_MS
        values: list[MeterValue] = []
        while len(values) < limit:
            rows = await self._rows(statement, (transaction_id, bound, limit))
            if not rows:
                break
            last, more = rows[-1][0], len(rows) == limit
            bound = to_ms(from_time(last))
            if more:  # the last time may have more groups than were read
                rows = [row for row in rows if row[0] != last]
                rows += await self._rows(schema.SAMPLES_AT, (transaction_id, bound))
            latest: dict[tuple[Any, ...], MeterValue] = {}
            for time, cp, connector, data, _ in sorted(rows, key=itemgetter(-1)):  # by write
                for value in schema.decode_samples(transaction_id, time, cp, connector, data):
                    latest[METER_VALUES.key_of(value)] = value
            values += latest.values()
            if not more:
                break
        return values

    async def allocate_transaction_id(self, start_key: str) -> int:
        """The id stored for ``start_key``, else a new one claimed with IF NOT EXISTS.

        Ids come from a block this process reserved with a compare-and-set on the
        allocator row; an id whose claim lost to another process's is skipped.
        """
        known = await self._first(schema.TRANSACTION_ID_OF, (start_key,))
        if known is not None:
            return int(known[0])
        candidate = await self._next_transaction_id()
        claim = (start_key, candidate)
        applied, *stored = await self._conditional(schema.TRANSACTION_ID_CLAIM, claim)
        return candidate if applied else int(stored[-1])

    async def _next_transaction_id(self) -> int:
        async with self._id_lock:
            if not self._ids:
                self._ids = await self._reserve_ids(self._ids.stop)
            taken, self._ids = self._ids[0], self._ids[1:]
            return taken

    async def _reserve_ids(self, expected: int) -> range:
        """Move the allocator row from ``expected`` (a guess) on by a block; the block."""
        while True:
            if expected > schema.MAX_TRANSACTION_ID:
                raise RuntimeError("transaction ids exhausted (all 2**31-1 allocated)")
            stop = min(expected + ID_BLOCK, schema.MAX_TRANSACTION_ID + 1)
            applied, *current = await self._conditional(
                schema.ALLOCATOR_ADVANCE, (stop, schema.ALLOCATOR, expected)
            )
            if applied:
                return range(expected, stop)
            if not current or current[0] is None:  # no allocator row yet
                await self._rows(schema.ALLOCATOR_INIT, (schema.ALLOCATOR, 1))
                expected = 1
            else:
                expected = current[0]

    # -- reservations

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        return await self._get(RESERVATIONS, reservation_id)

    async def reservations(
        self, charge_point_id: str | None = None, limit: int = 100, before: datetime | None = None
    ) -> list[Reservation]:
        if charge_point_id is None:
            docs = await self._listed(RESERVATIONS_BY_DAY, None, limit, before)
        else:
            docs = await self._listed(RESERVATIONS_BY_CHARGE_POINT, charge_point_id, limit, before)
        return [RESERVATIONS.from_doc(doc) for doc in docs]

    async def allocate_reservation_id(self) -> int:
        """One id, by a compare-and-set on its allocator row (reservations are rare)."""
        return await self._allocate(
            schema.RESERVATION_ALLOCATOR, schema.MAX_TRANSACTION_ID, "reservation ids"
        )

    async def _allocate(self, name: str, maximum: int, what: str) -> int:
        """The next id of the allocator row ``name``, by a compare-and-set on it."""
        expected = 1
        while True:
            if expected > maximum:
                raise RuntimeError(f"{what} exhausted (all {maximum} allocated)")
            applied, *current = await self._conditional(
                schema.ALLOCATOR_ADVANCE, (expected + 1, name, expected)
            )
            if applied:
                return expected
            if not current or current[0] is None:  # no allocator row yet
                await self._rows(schema.ALLOCATOR_INIT, (name, 1))
                expected = 1
            else:
                expected = current[0]

    # -- charging profiles

    async def get_charging_profile(self, profile_id: int) -> ChargingProfile | None:
        return await self._get(schema.CHARGING_PROFILES, profile_id)

    async def charging_profiles(self, limit: int = 1000) -> list[ChargingProfile]:
        return (await self._scan(schema.CHARGING_PROFILES))[:limit]

    async def put_charging_profile(self, profile: ChargingProfile) -> None:
        await self._put(schema.CHARGING_PROFILES, profile)

    async def delete_charging_profile(self, profile_id: int) -> bool:
        return await self._delete(schema.CHARGING_PROFILES, profile_id)

    async def allocate_charging_profile_id(self) -> int:
        """One id, by a compare-and-set on its allocator row (profiles are defined rarely)."""
        return await self._allocate(
            schema.PROFILE_ALLOCATOR, MAX_PROFILE_ID, "charging profile ids"
        )

    async def installed_charging_profiles(
        self, charge_point_id: str, limit: int = 1000
    ) -> list[InstalledChargingProfile]:
        rows = await self._rows(schema.INSTALLED_PROFILES_OF, (charge_point_id, limit))
        return [schema.INSTALLED_PROFILES.decode(row) for row in rows]

    # -- connection registry (stack mode)

    async def node_alive(self, node: str, ttl: int) -> None:
        await self._rows(schema.NODE_ALIVE, (node, datetime.now(UTC), ttl))

    async def connection_opened(self, charge_point_id: str, node: str) -> None:
        await self._rows(schema.CONNECTION_OPENED, (charge_point_id, node))

    async def connection_closed(self, charge_point_id: str, node: str) -> None:
        await self._rows(schema.CONNECTION_CLOSED, (charge_point_id, node))

    async def node_for(self, charge_point_id: str) -> str | None:
        row = await self._first(schema.CONNECTION_OF, (charge_point_id,))
        if row is None or await self._first(schema.NODE_OF, (row[0],)) is None:
            return None
        return str(row[0])

    # -- local authorization lists

    async def get_local_list(self, charge_point_id: str) -> LocalListAssignment | None:
        return await self._get(LOCAL_LISTS, charge_point_id)

    async def local_lists(self) -> list[LocalListAssignment]:
        return await self._scan(LOCAL_LISTS)

    async def put_local_list(self, assignment: LocalListAssignment) -> None:
        await self._put(LOCAL_LISTS, assignment)

    async def local_list_state(self, charge_point_id: str) -> LocalListState | None:
        return await self._get(LOCAL_LIST_STATES, charge_point_id)

    async def local_list_entries(self, charge_point_id: str) -> list[LocalListEntry]:
        rows = await self._rows(LOCAL_LIST_ENTRIES.get, (charge_point_id,))
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
        """Filtered and paged in the client: the partition is bounded (MAX_DEVICE_VARIABLES)."""
        found = [
            v
            for v in await self._variables_of(charge_point_id)
            if component in (None, v.component)
            and variable in (None, v.variable)
            and (after is None or v.sort_key > after)
        ]
        return found[:limit]

    # -- alerts

    async def alerts(
        self, open_only: bool = False, limit: int = 100, before: datetime | None = None
    ) -> list[Alert]:
        listing = OPEN_ALERTS if open_only else ALERTS_BY_DAY
        alerts = [ALERTS.from_doc(doc) for doc in await self._listed(listing, None, limit, before)]
        acks = await self._acks([alert.alert_id for alert in alerts])
        return [
            _acknowledged(alert, *acks[alert.alert_id]) if alert.alert_id in acks else alert
            for alert in alerts
        ]

    async def _acks(self, alert_ids: list[str]) -> dict[str, tuple[datetime, str]]:
        found = await asyncio.gather(
            *(self._rows(schema.ACKS_OF, (list(ids),)) for ids in _chunks(alert_ids, IN_KEYS))
        )
        return {alert_id: (from_time(at), by) for rows in found for alert_id, at, by in rows}

    async def acknowledge_alert(self, alert_id: str, by: str, at: datetime) -> bool:
        if await self._first(ALERTS.get, (alert_id,)) is None:
            return False
        await self._rows(schema.ACK_PUT, (alert_id, to_ms(at), by))
        return True

    # -- firmware campaigns

    async def get_firmware_campaign(self, campaign_id: str) -> FirmwareCampaign | None:
        return await self._get(schema.FIRMWARE_CAMPAIGNS, campaign_id)

    async def firmware_campaigns(self) -> list[FirmwareCampaign]:
        return await self._scan(schema.FIRMWARE_CAMPAIGNS)

    async def put_firmware_campaign(self, campaign: FirmwareCampaign) -> None:
        await self._put(schema.FIRMWARE_CAMPAIGNS, campaign)

    async def list_alert_rules(self) -> list[AlertRule]:
        return await self._scan(schema.ALERT_RULES)

    async def put_alert_rule(self, rule: AlertRule) -> None:
        await self._put(schema.ALERT_RULES, rule)

    async def delete_alert_rule(self, rule_id: str) -> bool:
        return await self._delete(schema.ALERT_RULES, rule_id)

    # -- alert notifications

    async def get_notification_channel(self, channel_id: str) -> NotificationChannel | None:
        return await self._get(schema.NOTIFICATION_CHANNELS, channel_id)

    async def notification_channels(self) -> list[NotificationChannel]:
        return await self._scan(schema.NOTIFICATION_CHANNELS)

    async def put_notification_channel(self, channel: NotificationChannel) -> None:
        await self._put(schema.NOTIFICATION_CHANNELS, channel)

    async def delete_notification_channel(self, channel_id: str) -> bool:
        return await self._delete(schema.NOTIFICATION_CHANNELS, channel_id)

    async def claim_notification(self, notification: Notification) -> bool:
        """A lightweight transaction: one claimant across every worker, which lists it."""
        values = schema.NOTIFICATIONS.encode(notification)
        (applied, *_) = await self._conditional(schema.NOTIFICATION_CLAIM, values)
        if applied:
            await self._write_all(self._list_notification(notification))
        return bool(applied)

    async def put_notification(self, notification: Notification) -> None:
        """The row and its listing row (``created_at``, part of its key, never changes)."""
        row = _Write(schema.NOTIFICATIONS.insert(), schema.NOTIFICATIONS.encode(notification))
        await self._write_all([row, *self._list_notification(notification)])

    async def notification(self, notification_id: str) -> Notification | None:
        return await self._get(schema.NOTIFICATIONS, notification_id)

    def _list_notification(self, notification: Notification) -> Iterator[_Write]:
        doc = schema.NOTIFICATIONS.to_doc(notification)
        at, id_ = notification.created_at, notification.notification_id
        return self._list(NOTIFICATIONS_BY_DAY, None, at, id_, doc)

    async def notifications(
        self, limit: int = 100, before: tuple[datetime, str] | None = None
    ) -> list[Notification]:
        """Newest first, a day's partition at a time, reading only the rows asked for."""
        listing = NOTIFICATIONS_BY_DAY
        at = None if before is None else before[0]
        first = None if at is None else bucket(listing.unit, at)
        docs: list[str] = []
        for day in await self._buckets(listing, None, at):
            wanted = limit - len(docs)
            if wanted <= 0:
                break
            if before is not None and day == first:
                bound = (to_ms(before[0]), before[1])
                rows = await self._rows(listing.page_before_key, (day, *bound, wanted))
            else:
                rows = await self._rows(listing.page, (day, schema.FAR_FUTURE_MS, wanted))
            docs += [doc for (doc,) in rows]
        return [schema.NOTIFICATIONS.from_doc(doc) for doc in docs]

    # -- id tags

    async def get_id_tag(self, id_tag: str) -> IdTag | None:
        return await self._get(ID_TAGS, id_tag)

    async def list_id_tags(self, limit: int = 1000) -> list[IdTag]:
        return await self._lowest(ID_TAGS, limit)

    async def put_id_tag(self, tag: IdTag) -> None:
        await self._put(ID_TAGS, tag)

    async def delete_id_tag(self, id_tag: str) -> bool:
        return await self._delete(ID_TAGS, id_tag)

    # -- command log

    # -- sites

    async def get_site(self, site_id: str) -> Site | None:
        return await self._get(SITES, site_id)

    async def list_sites(self) -> list[Site]:
        return await self._scan(SITES)

    async def put_site(self, site: Site) -> None:
        await self._put(SITES, site)

    async def delete_site(self, site_id: str) -> bool:
        return await self._delete(SITES, site_id)

    # -- availability exclusions

    async def list_exclusions(self) -> list[AvailabilityExclusion]:
        return by_start(await self._scan(EXCLUSIONS))

    async def put_exclusion(self, exclusion: AvailabilityExclusion) -> None:
        await self._put(EXCLUSIONS, exclusion)

    async def delete_exclusion(self, exclusion_id: str) -> bool:
        return await self._delete(EXCLUSIONS, exclusion_id)

    async def site_allocations(self, site_id: str | None = None) -> list[SiteAllocation]:
        if site_id is None:
            rows = await self._rows(SITE_ALLOCATIONS.scan)
        else:
            rows = await self._rows(SITE_ALLOCATIONS.get, (site_id,))
        records = [SITE_ALLOCATIONS.decode(row) for row in rows]
        return sorted(records, key=attrgetter(*SiteAllocation.KEY))

    async def put_site_allocation(self, allocation: SiteAllocation) -> None:
        await self._put(SITE_ALLOCATIONS, allocation)

    async def delete_site_allocation(self, allocation: SiteAllocation) -> None:
        await self._rows(SITE_ALLOCATION_DELETE, SITE_ALLOCATIONS.key_of(allocation))

    async def record_command(self, command: CommandRecord) -> None:
        """The command row and its two listing rows (``requested_at`` never changes)."""
        doc, cp, at = COMMANDS.to_doc(command), command.charge_point_id, command.requested_at
        await self._write_all(
            [
                _Write(COMMANDS.insert(), COMMANDS.encode(command)),
                *self._list(COMMANDS_BY_CHARGE_POINT, cp, at, command.command_id, doc),
                *self._list(COMMANDS_BY_DAY, None, at, command.command_id, doc),
            ]
        )

    async def commands(
        self, charge_point_id: str | None = None, limit: int = 100
    ) -> list[CommandRecord]:
        if charge_point_id is None:
            docs = await self._listed(COMMANDS_BY_DAY, None, limit, None)
        else:
            docs = await self._listed(COMMANDS_BY_CHARGE_POINT, charge_point_id, limit, None)
        return [COMMANDS.from_doc(doc) for doc in docs]
