"""The SQLite data model: one table per record type, and how records map to rows.

A record table is built from its dataclass: column names are field names, the
primary key is the record's natural key (``KEY`` in ``chargestream.domain.records``),
which is also the upsert's conflict target. A key of several columns makes a
``WITHOUT ROWID`` table whose key columns are NOT NULL: SQLite treats NULLs as
distinct in a key, so a resent sample would be stored twice. Other columns are NOT
NULL unless their field is optional.

Datetimes are integer microseconds since the epoch (UTC), enums their string
value, dicts and connector lists JSON text. Alert acknowledgements live in their
own table, so they are operator data in fact: they survive ``clear_derived`` and
reattach when a replay re-creates the alert under its deterministic id.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import types
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, get_args, get_origin, get_type_hints

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

SCHEMA_VERSION = 9

# A meter value without a transaction is stored with this id, which no OCPP
# transactionId (an int32) can take; a missing phase, location or context as "".
NO_TRANSACTION = -(2**31) - 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

Codec = Callable[[Any], Any]


def to_us(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // _MICROSECOND


def from_us(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def _to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


_CONNECTOR_FIELDS = tuple(f.name for f in dataclasses.fields(ConnectorStatus))


def _encode_connectors(connectors: tuple[ConnectorStatus, ...]) -> str:
    """As ``dataclasses.asdict`` would (every field a plain value), without its deep copies."""
    return _to_json(
        [
            {**{name: getattr(c, name) for name in _CONNECTOR_FIELDS}, "since": to_us(c.since)}
            for c in connectors
        ]
    )


def _decode_connectors(text: str) -> tuple[ConnectorStatus, ...]:
    items = [
        ConnectorStatus(**{**item, "since": from_us(item["since"])}) for item in json.loads(text)
    ]
    return tuple(sorted(items, key=lambda c: c.connector_id))


def _optional(codec: Codec) -> Codec:
    return lambda value: None if value is None else codec(value)


_SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "REAL"}


@dataclasses.dataclass(frozen=True)
class Column:
    """A record field's column; codecs are None where sqlite3 maps the value as it is."""

    name: str
    sql_type: str
    optional: bool
    encode: Codec | None = None
    decode: Codec | None = None


def _column(name: str, hint: Any, codec: tuple[Codec, Codec] | None = None) -> Column:
    """The column for a record field, from its type hint; ``codec`` replaces its codecs."""
    optional = isinstance(hint, types.UnionType) and type(None) in get_args(hint)
    if codec is not None:
        return dataclasses.replace(_column(name, hint), encode=codec[0], decode=codec[1])
    if optional:  # X | None
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    origin = get_origin(hint) or hint
    if origin is datetime:
        return Column(name, "INTEGER", optional, to_us, from_us)
    if origin is bool:
        return Column(name, "INTEGER", optional, None, bool)
    if origin is dict:
        return Column(name, "TEXT", optional, _optional(_to_json), _optional(json.loads))
    if origin is tuple:
        return Column(name, "TEXT", optional, _encode_connectors, _decode_connectors)
    if issubclass(origin, Enum):
        return Column(
            name, "TEXT", optional, _optional(lambda member: member.value), _optional(origin)
        )
    return Column(name, _SQL_TYPES[origin], optional)


def _names(columns: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


@dataclasses.dataclass(frozen=True)
class Table:
    """How one record type maps to one table, keyed by the record's natural key."""

    name: str
    record: type[Any]
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # what ``encode`` runs for every row (millions a day), made once
    _values: Callable[[Any], Any] = dataclasses.field(init=False, repr=False, compare=False)
    _codecs: tuple[tuple[int, Codec], ...] = dataclasses.field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        getter = operator.attrgetter(*names)
        values = getter if len(names) > 1 else lambda record: (getter(record),)
        codecs = tuple((i, c.encode) for i, c in enumerate(self.columns) if c.encode is not None)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_codecs", codecs)

    @classmethod
    def of(
        cls,
        name: str,
        record: type[Any],
        exclude: tuple[str, ...] = (),
        codecs: dict[str, tuple[Codec, Codec]] | None = None,
    ) -> Table:
        """``exclude``: fields stored elsewhere; ``codecs``: (encode, decode) by field name."""
        hints, codecs = get_type_hints(record), codecs or {}
        columns = tuple(
            _column(f.name, hints[f.name], codecs.get(f.name))
            for f in dataclasses.fields(record)
            if f.name not in exclude
        )
        return cls(name, record, record.KEY, columns)

    @property
    def create(self) -> str:
        if len(self.key) == 1:
            return f"CREATE TABLE IF NOT EXISTS {self.name} ({self._definitions})"
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} ({self._definitions}, "
            f"PRIMARY KEY ({_names(self.key)})) WITHOUT ROWID"
        )

    @property
    def _definitions(self) -> str:
        return ", ".join(self._definition(column) for column in self.columns)

    def _definition(self, column: Column) -> str:
        definition = f'"{column.name}" {column.sql_type}'
        if self.key == (column.name,):
            return f"{definition} PRIMARY KEY"
        if column.name in self.key or not column.optional:
            return f"{definition} NOT NULL"
        return definition

    @property
    def select(self) -> str:
        return ", ".join(f'{self.name}."{c.name}"' for c in self.columns)

    @property
    def upsert_sql(self) -> str:
        return self.upsert_rows_sql(1)

    def upsert_rows_sql(self, rows: int) -> str:
        """An upsert of ``rows`` records in one statement; a later row with the key of an
        earlier one updates it, as two statements would."""
        names = _names(c.name for c in self.columns)
        marks = "(" + ", ".join("?" for _ in self.columns) + ")"
        updates = ", ".join(
            f'"{c.name}" = excluded."{c.name}"' for c in self.columns if c.name not in self.key
        )
        return (
            f"INSERT INTO {self.name} ({names}) VALUES {', '.join([marks] * rows)} "
            f"ON CONFLICT ({_names(self.key)}) DO UPDATE SET {updates}"
        )

    def encode(self, record: Any) -> tuple[Any, ...]:
        values = list(self._values(record))
        for i, codec in self._codecs:
            values[i] = codec(values[i])
        return tuple(values)

    def decode(self, row: Sequence[Any], **extra: Any) -> Any:
        values = {
            c.name: value if c.decode is None else c.decode(value)
            for c, value in zip(self.columns, row, strict=True)
        }
        return self.record(**values, **extra)


_KEY_PART_CODEC: tuple[Codec, Codec] = (lambda v: v or "", lambda v: v or None)

REGISTRATIONS = Table.of("registrations", Registration)
ID_TAGS = Table.of("id_tags", IdTag)
ALERT_RULES = Table.of("alert_rules", AlertRule)
NOTIFICATION_CHANNELS = Table.of("notification_channels", NotificationChannel)
NOTIFICATIONS = Table.of("notifications", Notification)
COMMANDS = Table.of("commands", CommandRecord)
FIRMWARE_CAMPAIGNS = Table.of("firmware_campaigns", FirmwareCampaign)
STATES = Table.of("charge_point_states", ChargePointState)
INTERVALS = Table.of("status_intervals", StatusInterval)
SESSIONS = Table.of("sessions", Session)
METER_VALUES = Table.of(
    "meter_values",
    MeterValue,
    codecs={
        "transaction_id": (
            lambda tx: NO_TRANSACTION if tx is None else tx,
            lambda tx: None if tx == NO_TRANSACTION else tx,
        ),
        **dict.fromkeys(("phase", "location", "context"), _KEY_PART_CODEC),
    },
)
ALERTS = Table.of("alerts", Alert, exclude=("acknowledged_at", "acknowledged_by"))
SECURITY_EVENTS = Table.of("security_events", SecurityEvent)
TRANSFER_STATUSES = Table.of("transfer_statuses", TransferStatus)
RESERVATIONS = Table.of("reservations", Reservation)
CHARGING_PROFILES = Table.of(
    "charging_profiles",
    ChargingProfile,
    codecs={
        "periods": (lambda ps: _to_json(periods_as_dicts(ps)), lambda t: periods_of(json.loads(t)))
    },
)
INSTALLED_PROFILES = Table.of("installed_charging_profiles", InstalledChargingProfile)
LOCAL_LISTS = Table.of(
    "local_lists",
    LocalListAssignment,
    codecs={"tags": (lambda tags: _to_json(list(tags)), lambda text: tuple(json.loads(text)))},
)
LOCAL_LIST_STATES = Table.of("local_list_states", LocalListState)
LOCAL_LIST_ENTRIES = Table.of("local_list_entries", LocalListEntry)
SITES = Table.of(
    "sites",
    Site,
    codecs={"charge_points": (_to_json, lambda text: tuple(json.loads(text)))},
)
SITE_ALLOCATIONS = Table.of("site_allocations", SiteAllocation)
EXCLUSIONS = Table.of("availability_exclusions", AvailabilityExclusion)
_NUMBER_KEY_PART_CODEC: tuple[Codec, Codec] = (
    lambda v: -1 if v is None else v,
    lambda v: None if v == -1 else v,
)
_OPTIONAL_BOOL_CODEC: tuple[Codec, Codec] = (lambda v: v, _optional(bool))
# A charge point's device model (OCPP 2.0.1), absent key parts as '' and -1
DEVICE_VARIABLES = Table.of(
    "device_variables",
    DeviceVariable,
    codecs={
        **dict.fromkeys(("component_instance", "variable_instance"), _KEY_PART_CODEC),
        **dict.fromkeys(("evse_id", "connector_id"), _NUMBER_KEY_PART_CODEC),
        **dict.fromkeys(("persistent", "constant"), _OPTIONAL_BOOL_CODEC),
    },
)

_DERIVED_TABLES = (
    STATES,
    INTERVALS,
    SESSIONS,
    METER_VALUES,
    ALERTS,
    SECURITY_EVENTS,
    TRANSFER_STATUSES,
    RESERVATIONS,
    INSTALLED_PROFILES,
    LOCAL_LIST_STATES,
    LOCAL_LIST_ENTRIES,
    DEVICE_VARIABLES,
)
TABLES = (
    REGISTRATIONS,
    ID_TAGS,
    ALERT_RULES,
    COMMANDS,
    CHARGING_PROFILES,
    LOCAL_LISTS,
    SITES,
    SITE_ALLOCATIONS,
    FIRMWARE_CAMPAIGNS,
    NOTIFICATION_CHANNELS,
    NOTIFICATIONS,
    EXCLUSIONS,
    *_DERIVED_TABLES,
)
DERIVED: dict[type, Table] = {t.record: t for t in _DERIVED_TABLES}

SCHEMA = (
    *(table.create for table in TABLES),
    "CREATE INDEX IF NOT EXISTS notifications_by_time "
    "ON notifications (created_at DESC, notification_id DESC)",
    "CREATE TABLE IF NOT EXISTS transaction_ids ("
    "transaction_id INTEGER PRIMARY KEY AUTOINCREMENT, start_key TEXT NOT NULL UNIQUE)",
    # reservation ids: allocated, never reused (operator data, like transaction ids)
    "CREATE TABLE IF NOT EXISTS reservation_ids ("
    "reservation_id INTEGER PRIMARY KEY AUTOINCREMENT, allocated_at INTEGER NOT NULL)",
    # charging profile ids: allocated, never reused (operator data)
    "CREATE TABLE IF NOT EXISTS charging_profile_ids ("
    "profile_id INTEGER PRIMARY KEY AUTOINCREMENT, allocated_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reservations_by_time "
    "ON reservations (requested_at DESC, reservation_id DESC)",
    "CREATE INDEX IF NOT EXISTS reservations_by_charge_point "
    "ON reservations (charge_point_id, requested_at DESC, reservation_id DESC)",
    "CREATE TABLE IF NOT EXISTS alert_acks ("
    "alert_id TEXT PRIMARY KEY, acknowledged_at INTEGER NOT NULL, acknowledged_by TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS commands_by_time ON commands (requested_at DESC, command_id DESC)",
    "CREATE INDEX IF NOT EXISTS commands_by_charge_point "
    "ON commands (charge_point_id, requested_at DESC, command_id DESC)",
    "CREATE INDEX IF NOT EXISTS sessions_by_time "
    "ON sessions (COALESCE(start_time, stop_time) DESC, transaction_id DESC)",
    "CREATE INDEX IF NOT EXISTS sessions_by_charge_point "
    "ON sessions (charge_point_id, COALESCE(start_time, stop_time) DESC, transaction_id DESC)",
    "CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (opened_at DESC, alert_id DESC)",
    "CREATE INDEX IF NOT EXISTS open_alerts_by_time "
    "ON alerts (opened_at DESC, alert_id DESC) WHERE closed_at IS NULL",
)
"""Every statement that creates the schema, each idempotent."""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: ('ALTER TABLE commands ADD COLUMN "sent_by" TEXT',),  # CommandRecord.sent_by
    3: ('ALTER TABLE registrations ADD COLUMN "security_profile" INTEGER',),
    4: (),  # security_events, transfer_statuses: new tables, made by SCHEMA
    5: ('ALTER TABLE registrations ADD COLUMN "next_password_hash" TEXT',),
    6: (  # Registration's connector capacity; sites, site_allocations: new tables
        'ALTER TABLE registrations ADD COLUMN "max_current_a" REAL',
        'ALTER TABLE registrations ADD COLUMN "phases" INTEGER',
    ),
    7: ('ALTER TABLE registrations ADD COLUMN "ocpp_version" TEXT',),  # a pinned OCPP version
    8: (  # OCPP 2.0.1 in the views: the station's transaction id, the EVSE, the version
        'ALTER TABLE sessions ADD COLUMN "station_transaction_id" TEXT',
        'ALTER TABLE sessions ADD COLUMN "evse_id" INTEGER',
        'ALTER TABLE status_intervals ADD COLUMN "evse_id" INTEGER',
        'ALTER TABLE charge_point_states ADD COLUMN "ocpp_version" TEXT',
    ),
    9: (  # the delivery log: paged by (created_at, notification_id), the alert's cooldown key
        "DROP INDEX IF EXISTS notifications_newest",  # now notifications_by_time
        'ALTER TABLE notifications ADD COLUMN "alert_kind" TEXT',
        'ALTER TABLE notifications ADD COLUMN "rule_id" TEXT',
        'ALTER TABLE notifications ADD COLUMN "alert_opened_at" INTEGER',
    ),
}
"""What brings a file of the version before each key to that version (SCHEMA makes new files
and new tables); a version without a key needs nothing."""

DERIVED_TABLES = tuple(table.name for table in DERIVED.values())
"""Emptied by clear_derived; the rest is operator data (incl. acks, ids, command log)."""
