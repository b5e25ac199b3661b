"""The Cassandra data model: tables designed per query, and how records map to rows.

No driver types here, only CQL text, column codecs and the bucketing rule; the
reasoning behind every table is in docs/cassandra.md.

Record tables have typed key columns and the record as one JSON text cell
(``data``): binding None to a typed column writes a tombstone cell, and scans
would count one per empty optional field. Meter values are stored a row per sample
group (the values of one meterValue element) as compact JSON; the per-value table of
schema versions up to 7, with a typed column per field, is still read where it exists.
Listing tables are newest-first copies of a record table, partitioned by an
optional scope (a charge point) and a time bucket, clustered by (time DESC,
id DESC), holding the same JSON text. A bucket index per listing records which
buckets have rows, so a listing walks only those.

Values are bound as plain Python values: datetimes as whole milliseconds since
the epoch (Cassandra's ``timestamp`` precision, rounded down), enums as their
value, dicts and connector lists as JSON text. The same encoded values make up
the JSON copies, so a listing returns exactly what ``get`` does.

Statements name tables as ``{ks}.table``: the store fills in its keyspace.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import types
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, TypedDict, get_args, get_origin, get_type_hints

import orjson

from chargestream.domain.charging_profiles import periods_as_dicts, periods_of
from chargestream.domain.records import (
    Alert,
    AlertRule,
    AvailabilityExclusion,
    ChargePointState,
    ChargingProfile,
    CommandRecord,
    ConnectorStatus,
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
)

# 6: charging profiles, local lists, sites and site allocations (new tables); Registration's
# max_current_a, phases (in its JSON document: no ALTER, an older one reads the defaults)
# 7: device_variables (a new table); Registration.ocpp_version lives in its JSON document
# 8: recent_frames' answer (a CALL and its answer are one row) and ocpp_version columns;
# notifications_by_day (a new table: the delivery log, newest first, read in pages);
# meter_samples and meter_samples_without_transaction (a row per sample group) instead of
# meter_values (still read where it exists) and meter_values_without_transaction
# 9: no recent_frames (the frame inspector reads Kafka, ADR 0016); an older keyspace's table
# is left to expire (TTL) while older workers may still write it, then may be dropped
SCHEMA_VERSION = 9
SCHEMA_NAME = "chargestream"  # the key of the schema_version row
MAX_TRANSACTION_ID = 2**31 - 1
ALLOCATOR = "transaction_id"  # the key of the id allocator row
RESERVATION_ALLOCATOR = "reservation_id"  # the key of the reservation id allocator row
PROFILE_ALLOCATOR = "charging_profile_id"  # the key of the charging profile id allocator row
# The bucket of listing rows without a time (a session with neither start nor stop):
# below every real bucket, so such rows come last, and a ``before`` bound skips them
# as SQL's ``NULL < x`` does.
UNTIMED = -(2**31)
MAX_BUCKET = 2**31 - 1
FAR_FUTURE_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, above any real time

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_DAY = timedelta(days=1)

Codec = Callable[[Any], Any]


def to_ms(value: datetime) -> int:
    """Whole milliseconds since the epoch, rounded down."""
    return (value - _EPOCH) // _MILLISECOND


def ceil_ms(value: datetime) -> int:
    """The bound for ``stored < value`` on millisecond values: rounded up."""
    return -((_EPOCH - value) // _MILLISECOND)


def from_time(value: datetime | int) -> datetime:
    """A stored time as aware UTC: the driver's naive UTC datetime, or ms from a JSON copy."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return _EPOCH + value * _MILLISECOND


def bucket(unit: str | None, time: datetime | None) -> int:
    """The listing partition of ``time``: days since the epoch, the year, or 0 (one bucket)."""
    if time is None:
        return UNTIMED
    if unit == "day":
        return (time - _EPOCH) // _DAY
    if unit == "year":
        return time.year
    return 0


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# ------------------------------------------------------------------- columns


def _same(value: Any) -> Any:
    return value


def _optional(codec: Codec) -> Codec:
    return lambda value: None if value is None else codec(value)


_CONNECTOR_FIELDS = tuple(f.name for f in dataclasses.fields(ConnectorStatus))


def _encode_connectors(connectors: tuple[ConnectorStatus, ...]) -> str:
    return json_text(
        [
            {name: getattr(c, name) for name in _CONNECTOR_FIELDS} | {"since": to_ms(c.since)}
            for c in connectors
        ]
    )


def _decode_connectors(text: str) -> tuple[ConnectorStatus, ...]:
    items = [
        ConnectorStatus(**{**item, "since": from_time(item["since"])})
        for item in orjson.loads(text)
    ]
    return tuple(sorted(items, key=lambda c: c.connector_id))


def _decode_tags(text: str) -> tuple[str, ...]:
    return tuple(orjson.loads(text))


_CQL_TYPES = {str: "text", int: "bigint", float: "double", bool: "boolean"}


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    cql_type: str
    encode: Codec = _same
    decode: Codec = _same


def _column(name: str, hint: Any) -> Column:
    """The column for a record field, from its type hint."""
    if isinstance(hint, types.UnionType):  # X | None
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    origin = get_origin(hint) or hint
    if origin is datetime:
        return Column(name, "timestamp", _optional(to_ms), _optional(from_time))
    if origin is dict:
        return Column(name, "text", _optional(json_text), _optional(orjson.loads))
    if origin is tuple:
        return Column(name, "text", _encode_connectors, _decode_connectors)
    if issubclass(origin, Enum):
        return Column(name, "text", _optional(lambda member: member.value), _optional(origin))
    return Column(name, _CQL_TYPES[origin])


def _names(columns: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def _where(columns: tuple[str, ...]) -> str:
    return " AND ".join(f'"{name}" = ?' for name in columns)


# -------------------------------------------------------------------- tables


@dataclasses.dataclass(frozen=True)
class Table:
    """A record table: typed key columns and the record as one JSON ``data`` cell.

    The primary key is the record's natural key (``KEY`` in
    ``chargestream.domain.records``): partitioned by all of it, or by the fields a
    query needs, then clustered by the rest in the key's order. With
    ``document=False`` every field has its own typed column instead (only for
    records without optional fields outside the key). ``extra`` key columns that are
    not record fields come first.
    """

    name: str
    record: type[Any]
    fields: tuple[Column, ...]
    partition: tuple[str, ...]
    clustering: tuple[str, ...] = ()
    descending: bool = False
    document: bool = True
    extra: tuple[Column, ...] = ()

    @classmethod
    def of(
        cls,
        name: str,
        record: type[Any],
        partition: tuple[str, ...] | None = None,
        *,
        descending: bool = False,
        document: bool = True,
        exclude: tuple[str, ...] = (),
        special: tuple[Column, ...] = (),
        extra: tuple[Column, ...] = (),
    ) -> Table:
        """``partition``: key fields (or ``extra`` columns) to partition by; all by default."""
        hints = get_type_hints(record)
        overrides = {column.name: column for column in special}
        fields = tuple(
            overrides.get(f.name) or _column(f.name, hints[f.name])
            for f in dataclasses.fields(record)
            if f.name not in exclude
        )
        key = tuple(field for field in record.KEY if field not in exclude)
        partition = key if partition is None else partition
        if not set(partition) <= {*key, *(column.name for column in extra)}:
            raise ValueError(f"{name}: partition {partition} is not part of the key {key}")
        clustering = tuple(field for field in key if field not in partition)
        return cls(name, record, fields, partition, clustering, descending, document, extra)

    @functools.cached_property
    def _key_columns(self) -> tuple[Column, ...]:
        fields = {column.name: column for column in self.fields}
        return tuple(fields[name] for name in self.record.KEY if name in fields)

    def key_of(self, record: Any) -> tuple[Any, ...]:
        """The record's natural key as stored: times in whole ms, absent key parts ''."""
        return tuple(column.encode(getattr(record, column.name)) for column in self._key_columns)

    @property
    def _stored(self) -> tuple[Column, ...]:
        """The columns holding the record (key columns first if ``document``)."""
        if not self.document:
            return self.fields
        keys = (*self.partition, *self.clustering)
        return (*(c for c in self.fields if c.name in keys), Column("data", "text"))

    @property
    def create(self) -> str:
        columns = ", ".join(f'"{c.name}" {c.cql_type}' for c in (*self.extra, *self._stored))
        key = ", ".join((f"({_names(self.partition)})", *(f'"{c}"' for c in self.clustering)))
        order = ", ".join(f'"{c}" DESC' for c in self.clustering) if self.descending else ""
        return f"CREATE TABLE IF NOT EXISTS {{ks}}.{self.name} ({columns}, PRIMARY KEY ({key}))" + (
            f" WITH CLUSTERING ORDER BY ({order})" if order else ""
        )

    def insert(self, using: str = "") -> str:
        names = [c.name for c in (*self.extra, *self._stored)]
        marks = ", ".join("?" for _ in names)
        return f"INSERT INTO {{ks}}.{self.name} ({_names(names)}) VALUES ({marks}){using}"

    def select(self, where: str = "") -> str:
        columns = "data" if self.document else _names(c.name for c in self.fields)
        return f"SELECT {columns} FROM {{ks}}.{self.name}" + (f" WHERE {where}" if where else "")

    @property
    def get(self) -> str:
        return self.select(_where(self.partition))

    @property
    def scan(self) -> str:
        return self.select()

    @property
    def keys(self) -> str:
        """Every key (of a table keyed by one column)."""
        return f'SELECT "{self.partition[0]}" FROM {{ks}}.{self.name}'

    @property
    def get_many(self) -> str:
        """The rows of a list of keys (of a table keyed by one column)."""
        return self.select(f'"{self.partition[0]}" IN ?')

    @property
    def delete(self) -> str:
        return f"DELETE FROM {{ks}}.{self.name} WHERE {_where(self.partition)} IF EXISTS"

    def encode(self, record: Any) -> tuple[Any, ...]:
        """The values for ``insert`` after the ``extra`` ones."""
        if not self.document:
            return tuple(c.encode(getattr(record, c.name)) for c in self.fields)
        keys = self._stored[:-1]
        return (*(c.encode(getattr(record, c.name)) for c in keys), self.to_doc(record))

    def decode(self, row: tuple[Any, ...]) -> Any:
        """A record from a row of ``select``."""
        if self.document:
            return self.from_doc(row[0])
        values = {c.name: c.decode(value) for c, value in zip(self.fields, row, strict=True)}
        return self.record(**values)

    def to_doc(self, record: Any) -> str:
        """The record as JSON text: the ``data`` cell, and the row of a listing."""
        return json_text({c.name: c.encode(getattr(record, c.name)) for c in self.fields})

    def from_doc(self, text: str) -> Any:
        """The record of a JSON copy; a field added to the record since the copy was
        written (absent from it) takes its default, so documents need no migration."""
        values = orjson.loads(text)
        return self.record(
            **{c.name: c.decode(values[c.name]) for c in self.fields if c.name in values}
        )


@dataclasses.dataclass(frozen=True)
class Listing:
    """A newest-first copy of records: partition (scope, bucket), clustering (time, id) DESC.

    ``unit`` sizes the buckets ("day", "year"); None keeps one partition and no index.
    ``index`` names the bucket index table (``series`` = listing name [/ scope]).
    ``ttl``: rows and their bucket index rows are written ``USING TTL ?`` (the value bound
    last), so a bucket's index row expires with the last row written to the bucket.
    """

    name: str
    scope: str | None
    unit: str | None
    time: str
    id: str
    id_type: str
    index: str | None
    options: str = ""
    ttl: bool = False

    @property
    def _bucket(self) -> str:
        return self.unit or "shard"

    @property
    def _partition(self) -> tuple[str, ...]:
        return (self.scope, self._bucket) if self.scope else (self._bucket,)

    @property
    def _key(self) -> tuple[str, ...]:
        return (*self._partition, self.time, self.id)

    @property
    def create(self) -> str:
        scope = f'"{self.scope}" text, ' if self.scope else ""
        return (
            f'CREATE TABLE IF NOT EXISTS {{ks}}.{self.name} ({scope}"{self._bucket}" int, '
            f'"{self.time}" timestamp, "{self.id}" {self.id_type}, data text, '
            f'PRIMARY KEY (({_names(self._partition)}), "{self.time}", "{self.id}")) '
            f'WITH CLUSTERING ORDER BY ("{self.time}" DESC, "{self.id}" DESC){self.options}'
        )

    @property
    def _using(self) -> str:
        return " USING TTL ?" if self.ttl else ""

    @property
    def insert(self) -> str:
        marks = ", ".join("?" for _ in self._key)
        return (
            f"INSERT INTO {{ks}}.{self.name} ({_names(self._key)}, data) "
            f"VALUES ({marks}, ?){self._using}"
        )

    @property
    def delete(self) -> str:
        return f"DELETE FROM {{ks}}.{self.name} WHERE {_where(self._key)}"

    @property
    def page(self) -> str:
        """Rows of one bucket older than a bound, newest first."""
        return (
            f"SELECT data FROM {{ks}}.{self.name} WHERE {_where(self._partition)} "
            f'AND "{self.time}" < ? LIMIT ?'
        )

    @property
    def page_before_key(self) -> str:
        """Rows of one bucket older than a (time, id) key, newest first."""
        return (
            f"SELECT data FROM {{ks}}.{self.name} WHERE {_where(self._partition)} "
            f'AND ("{self.time}", "{self.id}") < (?, ?) LIMIT ?'
        )

    @property
    def index_insert(self) -> str:
        return f"INSERT INTO {{ks}}.{self.index} (series, bucket) VALUES (?, ?){self._using}"

    @property
    def index_read(self) -> str:
        """The buckets holding rows, newest first, up to a bucket."""
        return f"SELECT bucket FROM {{ks}}.{self.index} WHERE series = ? AND bucket <= ?"

    def key(self, scope: str | None, time: datetime | None, id_: Any) -> tuple[Any, ...]:
        """The row key: (scope,) bucket, time in ms, id; a missing time is the epoch."""
        scoped = (scope,) if self.scope else ()
        return (*scoped, bucket(self.unit, time), 0 if time is None else to_ms(time), id_)

    def series(self, scope: str | None) -> str:
        return f"{self.name}/{scope}" if self.scope else self.name


class _Rows(TypedDict):
    """The row fields of listings that copy one record type."""

    time: str
    id: str
    id_type: str


def _key_part(name: str) -> Column:
    """A meter value key part that may be None: stored as '' since keys cannot be null."""
    return Column(name, "text", lambda value: value or "", lambda value: value or None)


def _number_key_part(name: str) -> Column:
    """A device variable's EVSE or connector id that may be None: stored as -1."""
    return Column(
        name, "bigint", lambda v: -1 if v is None else v, lambda v: None if v == -1 else v
    )


_METER_KEY_PARTS = tuple(_key_part(name) for name in ("phase", "location", "context"))

# operator data
REGISTRATIONS = Table.of("registrations", Registration)
ID_TAGS = Table.of("id_tags", IdTag)
ALERT_RULES = Table.of("alert_rules", AlertRule)
NOTIFICATION_CHANNELS = Table.of("notification_channels", NotificationChannel)
NOTIFICATIONS = Table.of("notifications", Notification)
NOTIFICATION_CLAIM = NOTIFICATIONS.insert(" IF NOT EXISTS")
# The delivery log newest first (created_at, then notification_id), a partition per day.
NOTIFICATIONS_BY_DAY = Listing(
    "notifications_by_day",
    scope=None,
    unit="day",
    time="created_at",
    id="notification_id",
    id_type="text",
    index="command_buckets",  # operator data: kept by clear_derived, like the command log
)
COMMANDS = Table.of("commands", CommandRecord)
FIRMWARE_CAMPAIGNS = Table.of("firmware_campaigns", FirmwareCampaign)
_COMMAND_ROWS: _Rows = {"time": "requested_at", "id": "command_id", "id_type": "text"}
COMMANDS_BY_CHARGE_POINT = Listing(
    "commands_by_charge_point",
    scope="charge_point_id",
    unit="year",
    index="command_buckets",
    **_COMMAND_ROWS,
)
COMMANDS_BY_DAY = Listing(
    "commands_by_day", scope=None, unit="day", index="command_buckets", **_COMMAND_ROWS
)

# derived records
STATES = Table.of("charge_point_states", ChargePointState)
INTERVALS = Table.of(
    "status_intervals", StatusInterval, ("charge_point_id", "connector_id"), descending=True
)
SESSIONS = Table.of("sessions", Session)
# sort_time = start_time, else stop_time (a session whose start the CSMS never saw)
_SESSION_ROWS: _Rows = {"time": "sort_time", "id": "transaction_id", "id_type": "bigint"}
SESSIONS_BY_CHARGE_POINT = Listing(
    "sessions_by_charge_point",
    scope="charge_point_id",
    unit="year",
    index="buckets",
    **_SESSION_ROWS,
)
SESSIONS_BY_DAY = Listing(
    "sessions_by_day", scope=None, unit="day", index="buckets", **_SESSION_ROWS
)
# The per-value table of schema versions up to 7, read (never written) where it exists.
METER_VALUES = Table.of(
    "meter_values", MeterValue, ("transaction_id",), document=False, special=_METER_KEY_PARTS
)
LEGACY_METER_TABLES = ("meter_values", "meter_values_without_transaction")

# Meter values: a row per sample group, the sampled values of one meterValue element (one
# transaction, time, charge point and connector), as compact JSON in ``data``. ``sampled``,
# a digest of the values' keys, keeps apart groups of other values at the same time (a
# clock-aligned and a periodic MeterValues, a frame per measurand); a group written again
# (a replay, a correction) overwrites its row.
SampleGroup = tuple[int | None, datetime, str, int]  # transaction_id, timestamp, cp, connector


def sample_group(value: MeterValue) -> SampleGroup:
    return value.transaction_id, value.timestamp, value.charge_point_id, value.connector_id


def _value_key(value: MeterValue) -> tuple[str, str, str, str]:
    """A value's key within its group; absent parts '' (as the per-value table stored them)."""
    return value.measurand, value.phase or "", value.location or "", value.context or ""


def meter_order(value: MeterValue) -> tuple[Any, ...]:
    """The order ``meter_values`` returns: the per-value table's clustering order."""
    return value.timestamp, *_value_key(value), value.charge_point_id, value.connector_id


def encode_samples(values: Iterable[MeterValue]) -> tuple[str, str]:
    """A sample group's ``sampled`` digest and ``data``: ``[measurand, value, unit, phase,
    location, context]`` per value in key order, trailing nulls left out."""
    ordered = sorted(values, key=_value_key)
    digest = hashlib.blake2b(orjson.dumps([_value_key(v) for v in ordered]), digest_size=8)
    items = []
    for v in ordered:
        item = [v.measurand, v.value, v.unit, v.phase, v.location, v.context]
        while item[-1] is None:
            item.pop()
        items.append(item)
    return digest.hexdigest(), json_text(items)


def decode_samples(
    transaction_id: int | None,
    timestamp: datetime | int,
    charge_point_id: str,
    connector_id: int,
    data: str,
) -> list[MeterValue]:
    """The meter values of a sample group's row."""
    time = from_time(timestamp)
    return [
        MeterValue(
            charge_point_id, connector_id, time, measurand, value, unit, transaction_id, *rest
        )
        for measurand, value, unit, *rest in orjson.loads(data)
    ]


ALERTS = Table.of("alerts", Alert, exclude=("acknowledged_at", "acknowledged_by"))
_ALERT_ROWS: _Rows = {"time": "opened_at", "id": "alert_id", "id_type": "text"}
ALERTS_BY_DAY = Listing("alerts_by_day", scope=None, unit="day", index="buckets", **_ALERT_ROWS)
# One partition; rows are deleted when alerts close, so its tombstones are purged
# after 3 hours (the default hint window) instead of 10 days.
OPEN_ALERTS = Listing(
    "open_alerts",
    scope=None,
    unit=None,
    index=None,
    options=" AND gc_grace_seconds = 10800",
    **_ALERT_ROWS,
)

# Security events: newest first per charge point by their (untrusted) timestamp, a
# partition per charge point and day, rows and index rows with the status TTL.
SECURITY_EVENTS = Listing(
    "security_events",
    scope="charge_point_id",
    unit="day",
    time="timestamp",
    id="event_type",
    id_type="text",
    index="buckets",
    ttl=True,
)
SECURITY_EVENT_DOCS = Table.of("security_events", SecurityEvent)  # codecs only: no table
TRANSFER_STATUSES = Table.of("transfer_statuses", TransferStatus, ("charge_point_id",))
# Reservations: by id (DELETE, the link from a session), newest requested first per charge
# point (a partition per charge point and year) and fleet-wide (a partition per day).
RESERVATIONS = Table.of("reservations", Reservation)
_RESERVATION_ROWS: _Rows = {"time": "requested_at", "id": "reservation_id", "id_type": "bigint"}
RESERVATIONS_BY_CHARGE_POINT = Listing(
    "reservations_by_charge_point",
    scope="charge_point_id",
    unit="year",
    index="buckets",
    **_RESERVATION_ROWS,
)
RESERVATIONS_BY_DAY = Listing(
    "reservations_by_day", scope=None, unit="day", index="buckets", **_RESERVATION_ROWS
)
# Charging profiles: the definitions (operator data, few: scanned), and the installed ones of
# a charge point in one partition, by connector and chargingProfileId.
CHARGING_PROFILES = Table.of(
    "charging_profiles",
    ChargingProfile,
    special=(
        Column(
            "periods",
            "text",
            lambda periods: json_text(periods_as_dicts(periods)),
            lambda text: periods_of(orjson.loads(text)),
        ),
    ),
)
INSTALLED_PROFILES = Table.of(
    "installed_charging_profiles", InstalledChargingProfile, ("charge_point_id",)
)

# Local authorization lists: the assignment (operator data) and the state by charge point,
# the entries in one partition per charge point, clustered by id tag.
LOCAL_LISTS = Table.of(
    "local_lists",
    LocalListAssignment,
    special=(Column("tags", "text", lambda tags: json_text(list(tags)), _decode_tags),),
)
LOCAL_LIST_STATES = Table.of("local_list_states", LocalListState)
LOCAL_LIST_ENTRIES = Table.of("local_list_entries", LocalListEntry, ("charge_point_id",))

# A charge point's device model (OCPP 2.0.1) in one partition (at most MAX_DEVICE_VARIABLES
# rows), clustered by component, ..., variable, ..., attribute type; absent parts '' and -1.
DEVICE_VARIABLES = Table.of(
    "device_variables",
    DeviceVariable,
    ("charge_point_id",),
    special=(
        _key_part("component_instance"),
        _key_part("variable_instance"),
        *(
            Column(
                name, "bigint", lambda v: -1 if v is None else v, lambda v: None if v == -1 else v
            )
            for name in ("evse_id", "connector_id")
        ),
    ),
)

# Sites (operator data) and the site controller's allocations, a partition per site.
SITES = Table.of(
    "sites",
    Site,
    special=(Column("charge_points", "text", list, tuple),),  # a list in its JSON document
)
SITE_ALLOCATIONS = Table.of("site_allocations", SiteAllocation, ("site_id",))
# Windows excluded from outage time in availability reports (operator data)
EXCLUSIONS = Table.of("availability_exclusions", AvailabilityExclusion)

# statements beyond the generic ones
SITE_ALLOCATION_DELETE = (
    "DELETE FROM {ks}.site_allocations WHERE site_id = ? AND charge_point_id = ? "
    "AND connector_id = ?"
)
INTERVAL_INSERT = INTERVALS.insert(" USING TTL ?")
INTERVALS_FROM = INTERVALS.select(
    '"charge_point_id" = ? AND "connector_id" = ? AND "start" >= ? AND "start" < ?'
)
INTERVAL_BEFORE = INTERVALS.select(
    '"charge_point_id" = ? AND "connector_id" = ? AND "start" < ? LIMIT 1'
)
CONNECTOR_INSERT = (
    "INSERT INTO {ks}.status_connectors (charge_point_id, connector_id) VALUES (?, ?)"
)
CONNECTORS_OF = "SELECT connector_id FROM {ks}.status_connectors WHERE charge_point_id = ?"
METER_VALUES_OF = METER_VALUES.select('"transaction_id" = ? LIMIT ?')
METER_VALUES_NEWEST = METER_VALUES.select('"transaction_id" = ? ORDER BY "timestamp" DESC LIMIT ?')
SAMPLE_INSERT = (
    'INSERT INTO {ks}.meter_samples (transaction_id, "timestamp", charge_point_id, '
    "connector_id, sampled, data) VALUES (?, ?, ?, ?, ?, ?)"
)
LOOSE_SAMPLE_INSERT = (
    "INSERT INTO {ks}.meter_samples_without_transaction (charge_point_id, day, "
    '"timestamp", connector_id, sampled, data) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?'
)
_SAMPLES = (
    'SELECT "timestamp", charge_point_id, connector_id, data, WRITETIME(data) '
    "FROM {ks}.meter_samples WHERE transaction_id = ?"
)
SAMPLES_AFTER = _SAMPLES + ' AND "timestamp" > ? LIMIT ?'  # oldest first
SAMPLES_BEFORE = _SAMPLES + ' AND "timestamp" < ? ORDER BY "timestamp" DESC LIMIT ?'
SAMPLES_AT = _SAMPLES + ' AND "timestamp" = ?'
ACK_PUT = (
    "INSERT INTO {ks}.alert_acks (alert_id, acknowledged_at, acknowledged_by) VALUES (?, ?, ?)"
)
ACK_IF_NONE = ACK_PUT + " IF NOT EXISTS"
ACKS_OF = (
    "SELECT alert_id, acknowledged_at, acknowledged_by FROM {ks}.alert_acks WHERE alert_id IN ?"
)
TRANSACTION_ID_OF = "SELECT transaction_id FROM {ks}.transaction_ids WHERE start_key = ?"
TRANSACTION_ID_CLAIM = (
    "INSERT INTO {ks}.transaction_ids (start_key, transaction_id) VALUES (?, ?) IF NOT EXISTS"
)
ALLOCATOR_INIT = "INSERT INTO {ks}.id_allocator (name, next_id) VALUES (?, ?) IF NOT EXISTS"
ALLOCATOR_ADVANCE = "UPDATE {ks}.id_allocator SET next_id = ? WHERE name = ? IF next_id = ?"
INSTALLED_PROFILES_OF = INSTALLED_PROFILES.select('"charge_point_id" = ? LIMIT ?')
# Connection registry (stack mode): which live gateway node holds a charge point.
NODE_ALIVE = "INSERT INTO {ks}.gateway_nodes (node, seen) VALUES (?, ?) USING TTL ?"
NODE_OF = "SELECT seen FROM {ks}.gateway_nodes WHERE node = ?"
CONNECTION_OPENED = "INSERT INTO {ks}.connections (charge_point_id, node) VALUES (?, ?)"
CONNECTION_CLOSED = "DELETE FROM {ks}.connections WHERE charge_point_id = ? IF node = ?"
CONNECTION_OF = "SELECT node FROM {ks}.connections WHERE charge_point_id = ?"
SCHEMA_VERSION_OF = f"SELECT version FROM {{ks}}.schema_version WHERE name = '{SCHEMA_NAME}'"
SCHEMA_VERSION_SET = (
    f"INSERT INTO {{ks}}.schema_version (name, version) VALUES ('{SCHEMA_NAME}', {SCHEMA_VERSION})"
)

_TABLES = (
    REGISTRATIONS,
    NOTIFICATION_CHANNELS,
    NOTIFICATIONS,
    ID_TAGS,
    ALERT_RULES,
    COMMANDS,
    FIRMWARE_CAMPAIGNS,
    STATES,
    INTERVALS,
    SESSIONS,
    ALERTS,
    TRANSFER_STATUSES,
    RESERVATIONS,
    CHARGING_PROFILES,
    INSTALLED_PROFILES,
    LOCAL_LISTS,
    LOCAL_LIST_STATES,
    LOCAL_LIST_ENTRIES,
    SITES,
    SITE_ALLOCATIONS,
    DEVICE_VARIABLES,
    EXCLUSIONS,
)
_LISTINGS = (
    COMMANDS_BY_CHARGE_POINT,
    COMMANDS_BY_DAY,
    SESSIONS_BY_CHARGE_POINT,
    SESSIONS_BY_DAY,
    ALERTS_BY_DAY,
    OPEN_ALERTS,
    SECURITY_EVENTS,
    RESERVATIONS_BY_CHARGE_POINT,
    RESERVATIONS_BY_DAY,
    NOTIFICATIONS_BY_DAY,
)
_INDEXES = ("buckets", "command_buckets")

DDL = (
    "CREATE TABLE IF NOT EXISTS {ks}.schema_version (name text PRIMARY KEY, version int)",
    *(table.create for table in _TABLES),
    *(listing.create for listing in _LISTINGS),
    *(
        f"CREATE TABLE IF NOT EXISTS {{ks}}.{index} (series text, bucket int, "
        "PRIMARY KEY ((series), bucket)) WITH CLUSTERING ORDER BY (bucket DESC)"
        for index in _INDEXES
    ),
    "CREATE TABLE IF NOT EXISTS {ks}.meter_samples (transaction_id bigint, "
    '"timestamp" timestamp, charge_point_id text, connector_id bigint, sampled text, '
    'data text, PRIMARY KEY ((transaction_id), "timestamp", charge_point_id, connector_id, '
    "sampled))",
    "CREATE TABLE IF NOT EXISTS {ks}.meter_samples_without_transaction (charge_point_id text, "
    'day int, "timestamp" timestamp, connector_id bigint, sampled text, data text, '
    'PRIMARY KEY ((charge_point_id, day), "timestamp", connector_id, sampled))',
    "CREATE TABLE IF NOT EXISTS {ks}.status_connectors "
    "(charge_point_id text, connector_id bigint, PRIMARY KEY ((charge_point_id), connector_id))",
    "CREATE TABLE IF NOT EXISTS {ks}.alert_acks "
    "(alert_id text PRIMARY KEY, acknowledged_at timestamp, acknowledged_by text)",
    "CREATE TABLE IF NOT EXISTS {ks}.transaction_ids "
    "(start_key text PRIMARY KEY, transaction_id bigint)",
    "CREATE TABLE IF NOT EXISTS {ks}.id_allocator (name text PRIMARY KEY, next_id bigint)",
    "CREATE TABLE IF NOT EXISTS {ks}.gateway_nodes (node text PRIMARY KEY, seen timestamp)",
    "CREATE TABLE IF NOT EXISTS {ks}.connections (charge_point_id text PRIMARY KEY, node text)",
)

# Emptied by clear_derived; the rest is operator data (incl. acks, ids, command log).
DERIVED_TABLES = (
    STATES.name,
    INTERVALS.name,
    "status_connectors",
    SESSIONS.name,
    SESSIONS_BY_CHARGE_POINT.name,
    SESSIONS_BY_DAY.name,
    "meter_samples",
    "meter_samples_without_transaction",
    ALERTS.name,
    ALERTS_BY_DAY.name,
    OPEN_ALERTS.name,
    SECURITY_EVENTS.name,
    TRANSFER_STATUSES.name,
    RESERVATIONS.name,
    RESERVATIONS_BY_CHARGE_POINT.name,
    RESERVATIONS_BY_DAY.name,
    INSTALLED_PROFILES.name,
    LOCAL_LIST_STATES.name,
    LOCAL_LIST_ENTRIES.name,
    DEVICE_VARIABLES.name,
    "buckets",
)
TABLES = (
    *(table.name for table in _TABLES),
    *(listing.name for listing in _LISTINGS),
    *_INDEXES,
    "meter_samples",
    "meter_samples_without_transaction",
    "status_connectors",
    "alert_acks",
    "transaction_ids",
    "id_allocator",
    "gateway_nodes",
    "connections",
    "schema_version",
)

STATEMENTS = tuple(
    dict.fromkeys(
        (
            REGISTRATIONS.insert(),
            REGISTRATIONS.get,
            REGISTRATIONS.scan,
            REGISTRATIONS.delete,
            ID_TAGS.insert(),
            ID_TAGS.get,
            ID_TAGS.keys,
            ID_TAGS.get_many,
            ID_TAGS.delete,
            ALERT_RULES.insert(),
            ALERT_RULES.scan,
            ALERT_RULES.delete,
            NOTIFICATION_CHANNELS.insert(),
            NOTIFICATION_CHANNELS.get,
            NOTIFICATION_CHANNELS.scan,
            NOTIFICATION_CHANNELS.delete,
            NOTIFICATIONS.insert(),
            NOTIFICATION_CLAIM,
            NOTIFICATIONS.get,
            NOTIFICATIONS_BY_DAY.page_before_key,
            COMMANDS.insert(),
            FIRMWARE_CAMPAIGNS.insert(),
            FIRMWARE_CAMPAIGNS.get,
            FIRMWARE_CAMPAIGNS.scan,
            STATES.insert(),
            STATES.get,
            STATES.keys,
            STATES.get_many,
            SESSIONS.insert(),
            SESSIONS.get,
            ALERTS.insert(),
            ALERTS.get,
            TRANSFER_STATUSES.insert(),
            TRANSFER_STATUSES.get,
            RESERVATIONS.insert(),
            RESERVATIONS.get,
            CHARGING_PROFILES.insert(),
            CHARGING_PROFILES.get,
            CHARGING_PROFILES.scan,
            CHARGING_PROFILES.delete,
            INSTALLED_PROFILES.insert(),
            INSTALLED_PROFILES_OF,
            LOCAL_LISTS.insert(),
            LOCAL_LISTS.get,
            LOCAL_LISTS.scan,
            LOCAL_LIST_STATES.insert(),
            LOCAL_LIST_STATES.get,
            LOCAL_LIST_ENTRIES.insert(),
            LOCAL_LIST_ENTRIES.get,
            DEVICE_VARIABLES.insert(),
            DEVICE_VARIABLES.get,
            SITES.insert(),
            SITES.get,
            SITES.scan,
            SITES.delete,
            SITE_ALLOCATIONS.insert(),
            SITE_ALLOCATIONS.get,
            SITE_ALLOCATIONS.scan,
            SITE_ALLOCATION_DELETE,
            EXCLUSIONS.insert(),
            EXCLUSIONS.get,
            EXCLUSIONS.scan,
            EXCLUSIONS.delete,
            SAMPLE_INSERT,
            LOOSE_SAMPLE_INSERT,
            SAMPLES_AFTER,
            SAMPLES_BEFORE,
            SAMPLES_AT,
            INTERVAL_INSERT,
            INTERVALS_FROM,
            INTERVAL_BEFORE,
            CONNECTOR_INSERT,
            CONNECTORS_OF,
            ACK_PUT,
            ACK_IF_NONE,
            ACKS_OF,
            TRANSACTION_ID_OF,
            TRANSACTION_ID_CLAIM,
            ALLOCATOR_INIT,
            ALLOCATOR_ADVANCE,
            NODE_ALIVE,
            NODE_OF,
            CONNECTION_OPENED,
            CONNECTION_CLOSED,
            CONNECTION_OF,
            *(
                statement
                for listing in _LISTINGS
                for statement in (listing.insert, listing.delete, listing.page)
            ),
            *(
                statement
                for listing in _LISTINGS
                if listing.index
                for statement in (listing.index_insert, listing.index_read)
            ),
        )
    )
)
"""Every statement the store runs, prepared once when it opens."""
LEGACY_STATEMENTS = (METER_VALUES_OF, METER_VALUES_NEWEST)
"""The reads of the per-value ``meter_values`` table, prepared where the keyspace has it."""
CONDITIONAL = frozenset(cql for cql in STATEMENTS if " IF " in cql)
"""The lightweight transactions, which Cassandra runs alone, never in a batch."""
