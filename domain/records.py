"""Records kept by the store.

Two families: *operator data* (registrations, id tags, alert rules, the
command log, alert acknowledgements), written through the API and UI, and
*derived records* (charge point state, status intervals, sessions, meter
values, alerts, security events, firmware/log transfer statuses, reservations, installed
charging profiles, local lists, the OCPP 2.0.1 device model), written
only by the stream processors as idempotent upserts keyed by their natural
key. Rebuilding the derived records from the event log never touches operator
data.

Each record type declares its natural key once, as ``KEY``: the fields that
identify a record, so a record with the same values in them replaces it. The
back ends' primary keys, upsert targets and de-duplication derive from it, in
this order (a Cassandra table may partition by some of the fields, then
clusters by the rest in this order).

All datetimes are timezone-aware UTC. Back ends keep at least millisecond
precision.

Records are slotted dataclasses, except those the per-charge-point derivation state keeps
(streams/state.py): orjson encodes a dataclass without slots 2.5 times as fast, and a
worker encodes a state per event (ADR 0017).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from chargestream.domain.protocols import OcppVersion


class RegistrationPolicy(StrEnum):
    """What BootNotification answers to a charge point the store does not know."""

    ACCEPT = "accept"  # register it automatically and answer Accepted
    PENDING = "pending"  # answer Pending until an operator registers it
    REJECT = "reject"  # answer Rejected


class IdTagStatus(StrEnum):
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


class CommandOutcome(StrEnum):
    ANSWERED = "answered"  # CALLRESULT received
    FAILED = "failed"  # CALLERROR received
    REJECTED = "rejected"  # invalid before sending
    NOT_CONNECTED = "not_connected"  # never sent: no connection to the charge point
    TIMED_OUT = "timed_out"  # sent, no answer in time
    CONNECTION_LOST = "connection_lost"  # sent, the connection closed before the answer
    ERROR = "error"  # the CSMS failed to deliver it (log or store down, a bug); see ``error``


class AlertKind(StrEnum):
    OFFLINE = "offline"
    FAULTED = "faulted"
    THRESHOLD = "threshold"
    SECURITY = "security"


# --------------------------------------------------------------- operator data


@dataclass(frozen=True, slots=True)
class Registration:
    """A charge point known to the operator (PUT /charge-points/{id})."""

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id",)

    charge_point_id: str
    display_name: str | None = None
    location: str | None = None
    password_hash: str | None = None  # see chargestream.passwords; None = no auth
    lenient: bool = False  # accept known schema deviations, recorded as such
    created_at: datetime | None = None
    security_profile: int | None = None  # OCPP security profile 0-3; None = the default
    # A rotated password the charge point accepted (ChangeConfiguration AuthorizationKey):
    # valid beside password_hash until its first successful connect makes it the password.
    next_password_hash: str | None = None
    # What one connector can take (site load management, docs/operations.md): its current
    # per phase and its phases; None = unknown (limited only by the site's share).
    max_current_a: float | None = None
    phases: int | None = None
    # The OCPP version its handshake must select (None: the charge point's own preference
    # among the versions the gateway serves, docs/protocols.md).
    ocpp_version: OcppVersion | None = None


@dataclass(frozen=True, slots=True)
class IdTag:
    KEY: ClassVar[tuple[str, ...]] = ("id_tag",)

    id_tag: str
    status: IdTagStatus = IdTagStatus.ACCEPTED
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Open a THRESHOLD alert while ``measurand`` is above/below ``threshold``."""

    KEY: ClassVar[tuple[str, ...]] = ("rule_id",)

    rule_id: str
    measurand: str
    operator: str  # ">" or "<"
    threshold: float
    severity: str = "warning"
    enabled: bool = True

    def breached(self, value: float) -> bool:
        return value > self.threshold if self.operator == ">" else value < self.threshold


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class NotificationChannel:
    """Where alerts are sent (PUT /notification-channels/{id}): a webhook URL or an e-mail
    address, for the alerts of one kind (or rule) or all, at most once per ``cooldown``
    seconds per charge point and kind, or (``digest``) once a day with the day's alerts.
    ``secret`` signs webhooks and is never shown."""

    KEY: ClassVar[tuple[str, ...]] = ("channel_id",)

    channel_id: str
    kind: ChannelKind
    target: str  # the webhook's http(s) URL or the e-mail address
    secret: str | None = None
    alert_kind: AlertKind | None = None  # None: every kind
    rule_id: str | None = None  # None: every rule
    cooldown: int = 0  # seconds after a notified opening in which the same alert is not sent
    enabled: bool = True
    digest: bool = False  # one message a day (UTC) with the day before's alerts, none at once

    def wants(self, alert: Alert) -> bool:
        return (
            self.enabled
            and self.alert_kind in (None, alert.kind)
            and self.rule_id in (None, alert.rule_id)
        )


class NotificationStatus(StrEnum):
    PENDING = "pending"  # claimed, being sent or retried
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed
    SUPPRESSED = "suppressed"  # within the channel's cooldown: not sent


@dataclass(frozen=True, slots=True)
class Notification:
    """One alert transition sent to one channel: the delivery log.

    Its key (alert, channel, transition) is claimed with insert-if-absent before anything is
    sent, so a re-derivation or a second worker never sends it twice.
    """

    KEY: ClassVar[tuple[str, ...]] = ("notification_id",)

    notification_id: str
    channel_id: str
    alert_id: str
    charge_point_id: str
    transition: str  # "opened", "closed" or "digest" (alert_id: "digest:<day>")
    created_at: datetime
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None
    # the alert's kind, rule and opening: a restarted Notifier's cooldown reads them (None:
    # a digest, or logged before they were kept)
    alert_kind: AlertKind | None = None
    rule_id: str | None = None
    alert_opened_at: datetime | None = None

    @staticmethod
    def id_for(alert_id: str, channel_id: str, transition: str) -> str:
        return f"{alert_id}|{channel_id}|{transition}"


@dataclass(frozen=True, slots=True)
class CommandRecord:
    KEY: ClassVar[tuple[str, ...]] = ("command_id",)

    command_id: str
    charge_point_id: str
    action: str
    payload: dict[str, Any]
    requested_at: datetime
    outcome: CommandOutcome | None = None  # None while in flight
    response: dict[str, Any] | None = None
    error: str | None = None
    completed_at: datetime | None = None
    # who sent it: "api" (the API token's name) or "operator:<name>" (the dashboard's
    # operator, as the request named it); None for commands logged before this was kept
    sent_by: str | None = None


@dataclass(frozen=True, slots=True)
class FirmwareCampaign:
    """UpdateFirmware rolled out to many charge points in waves (docs/operations.md).

    ``targets`` maps each charge point, in sending order, to its firmware version when the
    campaign was created (None: unknown), so a later boot with another version counts as
    installed. At most ``wave_size`` targets are in flight at once; one still in flight
    ``wave_timeout`` seconds after its UpdateFirmware counts as failed. What was sent and how
    it went is read from the command log and the derived views, never kept here.
    """

    KEY: ClassVar[tuple[str, ...]] = ("campaign_id",)

    campaign_id: str
    location: str
    retrieve_date: datetime
    wave_size: int
    wave_timeout: int  # seconds
    targets: dict[str, str | None]
    created_at: datetime
    created_by: str
    retries: int | None = None
    retry_interval: int | None = None  # seconds
    cancelled_at: datetime | None = None  # no further UpdateFirmware once set

    @property
    def sent_by(self) -> str:
        """The command log's ``sent_by`` of the campaign's UpdateFirmware commands."""
        return f"campaign:{self.campaign_id}"


# ------------------------------------------------------------- derived records


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class ConnectorStatus:
    connector_id: int
    status: str
    error_code: str
    since: datetime
    info: str | None = None
    vendor_error_code: str | None = None
    # OCPP 2.0.1: ``connector_id`` is the EVSE id (as in every view), these the EVSE and
    # its connector as the station numbers them; None for 1.6
    evse_id: int | None = None
    evse_connector_id: int | None = None


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class ChargePointState:
    """What the event log says about a charge point (the registry view)."""

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id",)

    charge_point_id: str
    connected: bool = False
    last_seen: datetime | None = None
    connected_since: datetime | None = None
    node: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    last_boot_at: datetime | None = None
    registration_status: str | None = None  # last BootNotification answer
    connectors: tuple[ConnectorStatus, ...] = ()
    ocpp_version: OcppVersion | None = None  # of its last connection; None: not derived yet


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class StatusInterval:
    """A connector in one status from ``start`` until ``end`` (open: None).

    Status ``Offline`` marks the time the charge point was disconnected, from the disconnect
    to the next connection.
    """

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id", "start", "connector_id")

    charge_point_id: str
    connector_id: int
    start: datetime
    status: str
    error_code: str = "NoError"
    end: datetime | None = None
    info: str | None = None
    vendor_error_code: str | None = None
    evse_id: int | None = None  # OCPP 2.0.1 (``connector_id`` is the EVSE id then)


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class Session:
    """A charging session (OCPP transaction).

    ``start_time``/``meter_start`` are None when the CSMS never saw the
    StartTransaction; ``energy_kwh`` is set once both meters are known.
    """

    KEY: ClassVar[tuple[str, ...]] = ("transaction_id",)

    transaction_id: int
    charge_point_id: str
    connector_id: int | None = None
    id_tag: str | None = None
    start_time: datetime | None = None
    meter_start: int | None = None  # Wh
    stop_time: datetime | None = None
    meter_stop: int | None = None  # Wh
    energy_kwh: float | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    peak_power_w: float | None = None
    soc_start: float | None = None
    soc_end: float | None = None
    # OCPP 2.0.1: the station's own transaction id (``transaction_id`` is derived from it)
    # and the EVSE (``connector_id`` is the EVSE id then)
    station_transaction_id: str | None = None
    evse_id: int | None = None

    @property
    def active(self) -> bool:
        return self.stop_time is None

    def keeping_start_of(self, stored: Session | None) -> Session:
        """This session with ``stored``'s start fields where it has none.

        A StopTransaction derived after its state was lost carries no start; the
        store keeps what it knew, so a session's start (and its place in
        listings) never goes back to unknown.
        """
        if stored is None or self.start_time is not None:
            return self
        meter_start = stored.meter_start if self.meter_start is None else self.meter_start
        energy = self.energy_kwh
        if energy is None and meter_start is not None and self.meter_stop is not None:
            energy = (self.meter_stop - meter_start) / 1000
        return replace(
            self,
            start_time=stored.start_time,
            meter_start=meter_start,
            connector_id=stored.connector_id if self.connector_id is None else self.connector_id,
            id_tag=stored.id_tag if self.id_tag is None else self.id_tag,
            energy_kwh=energy,
        )


@dataclass(frozen=True, slots=True)
class MeterValue:
    """One sampled value, normalized.

    ``value`` is a float in ``unit`` as sent (the unit defaults to the spec's
    default for the measurand).
    """

    KEY: ClassVar[tuple[str, ...]] = (
        "transaction_id",
        "timestamp",
        "measurand",
        "phase",
        "location",
        "context",
        "charge_point_id",
        "connector_id",
    )

    charge_point_id: str
    connector_id: int
    timestamp: datetime
    measurand: str
    value: float
    unit: str
    transaction_id: int | None = None
    phase: str | None = None
    location: str | None = None
    context: str | None = None


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class Alert:
    """An alert that opens and closes; its ``alert_id`` is deterministic.

    Acknowledgement is operator data: upserting an Alert never clears it.
    """

    KEY: ClassVar[tuple[str, ...]] = ("alert_id",)

    alert_id: str
    charge_point_id: str
    kind: AlertKind
    opened_at: datetime
    message: str
    severity: str = "warning"
    connector_id: int | None = None
    rule_id: str | None = None
    value: float | None = None
    closed_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """A SecurityEventNotification of a charge point, or one the CSMS derives (``CsrRejected``).

    ``timestamp`` is the charge point's own (its clock), ``received_at`` the CSMS's.
    ``event_type`` and ``tech_info`` are untrusted text, bounded to the OCPP lengths.
    """

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id", "timestamp", "event_type")

    charge_point_id: str
    timestamp: datetime
    event_type: str
    received_at: datetime
    critical: bool = False
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class TransferStatus:
    """The last FirmwareStatusNotification (or its signed variant), LogStatusNotification
    or DiagnosticsStatusNotification of a charge point.

    ``transfer`` says which: ``firmware``, ``log`` or ``diagnostics``; ``at`` is when the
    CSMS received it.
    """

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id", "transfer")

    charge_point_id: str
    transfer: str
    status: str
    at: datetime
    request_id: int | None = None


# ------------------------------------------------------------------ reservations


class ReservationStatus(StrEnum):
    """A reservation's lifecycle (docs/operations.md, Reservations)."""

    REQUESTED = "requested"  # ReserveNow sent, no answer derived (never stored)
    ACTIVE = "active"  # Accepted
    REJECTED = "rejected"
    OCCUPIED = "occupied"
    FAULTED = "faulted"
    UNAVAILABLE = "unavailable"
    USED = "used"  # a StartTransaction or TransactionEvent named it: ``transaction_id``
    EXPIRED = "expired"  # active past its expiry date (read so), or a 2.0.1 station said so
    CANCELLED = "cancelled"  # CancelReservation Accepted, or a 2.0.1 station Removed it


RESERVE_NOW_ANSWERS = {
    "Accepted": ReservationStatus.ACTIVE,
    "Rejected": ReservationStatus.REJECTED,
    "Occupied": ReservationStatus.OCCUPIED,
    "Faulted": ReservationStatus.FAULTED,
    "Unavailable": ReservationStatus.UNAVAILABLE,
}
"""The status a ReserveNow answer gives a reservation."""


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class Reservation:
    """A ReserveNow the CSMS sent and the charge point answered, and what became of it.

    ``requested_at`` is when the CSMS sent it, ``updated_at`` when its status last changed.
    Expiry is not stored: ``status_at`` reads an active reservation past its expiry date
    as expired.
    """

    KEY: ClassVar[tuple[str, ...]] = ("reservation_id",)

    reservation_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    expiry_date: datetime
    requested_at: datetime
    status: ReservationStatus
    updated_at: datetime
    parent_id_tag: str | None = None
    transaction_id: int | None = None

    def status_at(self, now: datetime) -> ReservationStatus:
        if self.status is ReservationStatus.ACTIVE and self.expiry_date <= now:
            return ReservationStatus.EXPIRED
        return self.status

    def as_of(self, now: datetime) -> Reservation:
        """This reservation with the status it has at ``now``."""
        status = self.status_at(now)
        return self if status is self.status else replace(self, status=status)


# ------------------------------------------------------------ charging profiles


class ChargingProfilePurpose(StrEnum):
    CHARGE_POINT_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class ChargingProfileKind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(StrEnum):
    AMPERES = "A"
    WATTS = "W"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """From ``start_period`` seconds after the schedule's start, at most ``limit`` (A or W)."""

    start_period: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A charging profile the operator defined (operator data), sent with SetChargingProfile.

    ``profile_id`` is its OCPP chargingProfileId, allocated by the store; the schedule's
    fields are flat here (``unit`` … ``periods``). Rules: domain/charging_profiles.py.
    """

    KEY: ClassVar[tuple[str, ...]] = ("profile_id",)

    profile_id: int
    name: str
    stack_level: int
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    unit: ChargingRateUnit
    periods: tuple[SchedulePeriod, ...]
    created_at: datetime
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    duration: int | None = None  # seconds
    start_schedule: datetime | None = None
    min_charging_rate: float | None = None


class ProfileRemoval(StrEnum):
    """Why an installed charging profile is no longer installed."""

    REPLACED = "replaced"  # a new profile with its id, or its stack level and purpose
    CLEARED = "cleared"  # ClearChargingProfile Accepted
    TRANSACTION_STOPPED = "transaction_stopped"  # a TxProfile's transaction stopped


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class InstalledChargingProfile:
    """A SetChargingProfile the CSMS sent (by anyone) and the charge point Accepted.

    ``profile`` is the csChargingProfiles object as sent. Removal is a new version of the
    record (``removed_at``), never a delete, so a replay derives the same rows.
    """

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id", "connector_id", "charging_profile_id")

    charge_point_id: str
    connector_id: int
    charging_profile_id: int
    stack_level: int
    purpose: str
    installed_at: datetime
    profile: dict[str, Any]
    transaction_id: int | None = None
    removed_at: datetime | None = None
    removed_by: ProfileRemoval | None = None

    @property
    def installed(self) -> bool:
        return self.removed_at is None


# ------------------------------------------------------ local authorization lists


class LocalListMode(StrEnum):
    ALL = "all"  # every id tag of the store
    TAGS = "tags"  # the assignment's ``tags`` (those the store has)


MAX_LOCAL_LIST = 10_000  # id tags one list may hold
LOCAL_LIST_VERSION_STEP = MAX_LOCAL_LIST
"""How much ``desired_version`` grows per change: room for the intermediate versions of a
list sent in parts (one per SendLocalList, at most one per id tag)."""


@dataclass(frozen=True, slots=True)
class LocalListAssignment:
    """Which id tags a charge point's Local Authorization List should hold (operator data).

    ``desired_version`` grows by ``LOCAL_LIST_VERSION_STEP`` whenever the list's content
    changes (a PUT, or an id tag it holds changed); the content is read from the id-tag
    store when it is sent.
    """

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id",)

    charge_point_id: str
    mode: LocalListMode
    desired_version: int
    updated_at: datetime
    tags: tuple[str, ...] = ()

    def holds(self, id_tag: str) -> bool:
        return self.mode is LocalListMode.ALL or id_tag in self.tags


@dataclass(frozen=True)  # no slots: kept in the derivation state (see below)
class LocalListState:
    """What the log shows of a charge point's Local Authorization List (derived).

    ``version``: its list version as last confirmed (an Accepted SendLocalList or a
    GetLocalListVersion answer). ``generation``: the entries are known, they are the
    ``LocalListEntry`` rows of this generation (None: not known, the next update is Full).
    ``last_status``: the last SendLocalList answer (or ``NotSupported`` for a CALLERROR
    saying so); ``supported`` is False from a NotSupported until a GetLocalListVersion
    answer other than -1.
    """

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id",)

    charge_point_id: str
    updated_at: datetime
    version: int | None = None
    generation: str | None = None
    supported: bool = True
    last_status: str | None = None
    last_sent_version: int | None = None
    status_at: datetime | None = None
    checked_at: datetime | None = None  # the last GetLocalListVersion answer
    send_max_length: int | None = None  # SendLocalListMaxLength, from GetConfiguration
    list_max_length: int | None = None  # LocalAuthListMaxLength, from GetConfiguration
    lengths_checked_at: datetime | None = None  # a GetConfiguration asking for them answered


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    """An id tag of a charge point's list, as an Accepted SendLocalList set it (derived).

    Only the entries of the state's ``generation`` are on the list; ``status`` None: a
    Differential removed it.
    """

    KEY: ClassVar[tuple[str, ...]] = ("charge_point_id", "id_tag")

    charge_point_id: str
    id_tag: str
    generation: str
    status: str | None = None
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


# ------------------------------------------------------------------------ sites


@dataclass(frozen=True, slots=True)
class Site:
    """A site's limit, divided among the charging sessions of its charge points.

    Exactly one of ``max_power_w`` and ``max_current_a`` (per phase) is set. Amperes and
    watts convert at ``nominal_voltage`` per phase times the phases (a charge point's own
    phases where its registration knows them, else ``phases``). ``min_current_a`` is the
    least a charging session is given (6 A: IEC 61851's minimum); see docs/operations.md.
    """

    KEY: ClassVar[tuple[str, ...]] = ("site_id",)

    site_id: str
    charge_points: tuple[str, ...]
    updated_at: datetime
    max_power_w: float | None = None
    max_current_a: float | None = None
    nominal_voltage: float = 230.0
    phases: int = 3
    min_current_a: float = 6.0


@dataclass(frozen=True, slots=True)
class SiteAllocation:
    """The limit the site controller decided for a connector, and the charge point's answer.

    For a session (``transaction_id`` set) a TxProfile of ``limit_a`` per phase (or
    ``limit_w``, in the site's ``unit``); for connector 0 the charge point's TxDefaultProfile
    (0: a session starts paused until it is given its share). ``status`` is the answer to
    SetChargingProfile (``Accepted``, ``Rejected``, ``NotSupported``), or the command's
    outcome when there was none (``not_connected``, ``timed_out``, ...); None while sent.
    """

    KEY: ClassVar[tuple[str, ...]] = ("site_id", "charge_point_id", "connector_id")

    site_id: str
    charge_point_id: str
    connector_id: int
    limit_a: float
    limit_w: float
    unit: str  # "A" or "W": the chargingRateUnit sent
    phases: int
    decided_at: datetime
    transaction_id: int | None = None
    status: str | None = None
    answered_at: datetime | None = None

    @property
    def limit(self) -> float:
        """The limit in the unit sent."""
        return self.limit_a if self.unit == "A" else self.limit_w

    @property
    def confirmed(self) -> bool:
        return self.status == "Accepted"


# ------------------------------------------------------------- device model (OCPP 2.0.1)

MAX_DEVICE_VARIABLES = 10_000
"""Variable attributes the store keeps per charge point; a report beyond it is cut (logged)."""
MAX_VARIABLE_VALUE = 2500  # OCPP 2.0.1 attributeValue / reported value, characters


VariableKey = tuple[str, str, int, int, str, str, str]
"""A device variable's key after its charge point, as ``DeviceVariable.sort_key`` gives it."""


class VariableSource(StrEnum):
    """The message that last set a device model variable."""

    REPORT = "NotifyReport"
    GET = "GetVariables"
    SET = "SetVariables"


@dataclass(frozen=True, slots=True)
class DeviceVariable:
    """One attribute (Actual, Target, MinSet, MaxSet) of one variable of one component of a
    charge point's device model (derived, OCPP 2.0.1).

    From an answered NotifyReport (everything it says), or from the answer to a
    GetVariables (an Accepted value) or SetVariables (the value of an Accepted or
    RebootRequired set, and that status). An upsert from GetVariables or SetVariables keeps
    what the stored report said of the variable (``keeping_report_of``). Every text is the
    charge point's: untrusted, bounded, shown as plain text.
    """

    KEY: ClassVar[tuple[str, ...]] = (
        "charge_point_id",
        "component",
        "component_instance",
        "evse_id",
        "connector_id",
        "variable",
        "variable_instance",
        "attribute_type",
    )

    charge_point_id: str
    component: str
    variable: str
    updated_at: datetime
    source: VariableSource
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None
    attribute_type: str = "Actual"
    value: str | None = None
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    # dataType, unit, minLimit, maxLimit, valuesList, supportsMonitoring, as reported
    characteristics: dict[str, Any] | None = None
    status: str | None = None  # the attributeStatus of the last GetVariables/SetVariables
    request_id: int | None = None  # of the NotifyReport
    generated_at: datetime | None = None  # of the NotifyReport

    @property
    def sort_key(self) -> VariableKey:
        """The natural key after the charge point, absent parts as the stores keep them
        ('' and -1): listings are in this order, and page after one."""
        return (
            self.component,
            self.component_instance or "",
            -1 if self.evse_id is None else self.evse_id,
            -1 if self.connector_id is None else self.connector_id,
            self.variable,
            self.variable_instance or "",
            self.attribute_type,
        )

    def keeping_report_of(self, stored: DeviceVariable | None) -> DeviceVariable:
        """A GetVariables/SetVariables update keeps the stored report's description (and
        the stored value when it tells none); a report replaces the variable whole."""
        if stored is None or self.source is VariableSource.REPORT:
            return self
        return replace(
            self,
            value=stored.value if self.value is None else self.value,
            mutability=stored.mutability,
            persistent=stored.persistent,
            constant=stored.constant,
            characteristics=stored.characteristics,
            request_id=stored.request_id,
            generated_at=stored.generated_at,
        )


@dataclass(frozen=True, slots=True)
class AvailabilityExclusion:
    """A window the operator excludes from outage time in availability reports (operator
    data): an outage outside its control or planned maintenance, of one charge point, of a
    site, or of the fleet (neither set). ``kind``: ``outage`` or ``maintenance``."""

    KEY: ClassVar[tuple[str, ...]] = ("exclusion_id",)

    exclusion_id: str
    start: datetime
    end: datetime
    kind: str
    created_at: datetime
    note: str = ""
    charge_point_id: str | None = None
    site_id: str | None = None


DerivedRecord = (
    ChargePointState
    | StatusInterval
    | Session
    | MeterValue
    | Alert
    | SecurityEvent
    | TransferStatus
    | Reservation
    | InstalledChargingProfile
    | LocalListState
    | LocalListEntry
    | DeviceVariable
)
