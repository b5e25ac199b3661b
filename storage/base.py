"""The storage contract: one interface, two back ends (SQLite, Cassandra).

Every method is a coroutine so the gateway and API never block their event
loop. Listings are bounded by ``limit`` and page backwards with ``before``
(exclusive), newest first unless said otherwise. One contract test suite
(tests/storage_contract.py) runs against every back end.

Every method raises ``StoreUnavailable`` when the database cannot be reached or used
(connection refused, timeouts, too few replicas, locked or unreadable file, the store
not open); callers catch it by name. Other errors are bugs and propagate as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

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


class StoreUnavailable(RuntimeError):
    """The store could not reach or use its database; the driver's error is the cause.

    The message names the store and the failure, never credentials.
    """


class Store(Protocol):
    async def open(self) -> None:
        """Connect and create or migrate the schema. Idempotent."""

    async def close(self) -> None: ...

    # -- derived records (stream processors only)

    async def upsert(self, records: Sequence[DerivedRecord]) -> None:
        """Insert or replace each record by its natural key (see models).

        Idempotent: applying the same records again changes nothing. An Alert
        upsert keeps the alert's acknowledgement; a Session upsert without start
        fields keeps the stored ones (``Session.keeping_start_of``).
        """

    async def clear_derived(self) -> None:
        """Delete every derived record (before a full replay). Operator data stays."""

    # -- charge points

    async def get_registration(self, charge_point_id: str) -> Registration | None: ...

    async def list_registrations(self) -> list[Registration]: ...

    async def put_registration(self, registration: Registration) -> None: ...

    async def delete_registration(self, charge_point_id: str) -> bool:
        """Remove the registration; True if it existed. Derived history stays."""

    async def get_charge_point_state(self, charge_point_id: str) -> ChargePointState | None: ...

    async def list_charge_point_states(self, limit: int = 1000) -> list[ChargePointState]:
        """Charge point states ordered by id."""

    async def status_history(
        self, charge_point_id: str, start: datetime, end: datetime
    ) -> list[StatusInterval]:
        """Intervals overlapping [start, end), oldest first, all connectors."""

    # -- security events and transfer statuses

    async def security_events(
        self, charge_point_id: str, limit: int = 100, before: datetime | None = None
    ) -> list[SecurityEvent]:
        """A charge point's security events, newest first by the charge point's timestamp."""

    async def transfer_statuses(self, charge_point_id: str) -> list[TransferStatus]:
        """A charge point's last signed-firmware and log-upload statuses, by transfer."""

    # -- sessions and meter values

    async def get_session(self, transaction_id: int) -> Session | None: ...

    async def sessions_for_charge_point(
        self, charge_point_id: str, limit: int = 100, before: datetime | None = None
    ) -> list[Session]:
        """Newest first by start time (sessions with unknown start by stop time)."""

    async def recent_sessions(
        self, limit: int = 100, before: datetime | None = None
    ) -> list[Session]:
        """Fleet-wide, newest first, same ordering as above."""

    async def meter_values(
        self, transaction_id: int, limit: int = 10000, *, newest: bool = False
    ) -> list[MeterValue]:
        """Meter values of a session, oldest first: its first ``limit``, or its last with
        ``newest`` (a running session's latest readings, however long it has run)."""

    async def allocate_transaction_id(self, start_key: str) -> int:
        """A transactionId for the StartTransaction identified by ``start_key``.

        The same key always gets the same id (a charge point resending an
        unanswered StartTransaction gets the id it missed); different keys
        never share one. Ids are positive 32-bit integers.
        """

    # -- reservations

    async def get_reservation(self, reservation_id: int) -> Reservation | None: ...

    async def reservations(
        self, charge_point_id: str | None = None, limit: int = 100, before: datetime | None = None
    ) -> list[Reservation]:
        """Of one charge point or the fleet, newest ``requested_at`` first (then id)."""

    async def allocate_reservation_id(self) -> int:
        """A reservationId never handed out before, by any process sharing the store.

        Positive 32-bit integers (OCPP's reservationId is an integer).
        """

    # -- charging profiles

    async def get_charging_profile(self, profile_id: int) -> ChargingProfile | None: ...

    async def charging_profiles(self, limit: int = 1000) -> list[ChargingProfile]:
        """The defined charging profiles by id."""

    async def put_charging_profile(self, profile: ChargingProfile) -> None: ...

    async def delete_charging_profile(self, profile_id: int) -> bool: ...

    async def allocate_charging_profile_id(self) -> int:
        """A chargingProfileId never handed out before, by any process sharing the store:
        1 to 999_999_999 (the ids above are the site load manager's)."""

    async def installed_charging_profiles(
        self, charge_point_id: str, limit: int = 1000
    ) -> list[InstalledChargingProfile]:
        """A charge point's installed charging profiles, and those removed since, by
        connector and chargingProfileId."""

    # -- local authorization lists

    async def get_local_list(self, charge_point_id: str) -> LocalListAssignment | None: ...

    async def local_lists(self) -> list[LocalListAssignment]:
        """Every assignment, ordered by charge point id."""

    async def put_local_list(self, assignment: LocalListAssignment) -> None: ...

    async def local_list_state(self, charge_point_id: str) -> LocalListState | None: ...

    async def local_list_entries(self, charge_point_id: str) -> list[LocalListEntry]:
        """Every entry row of the charge point (of any generation), ordered by id tag."""

    # -- device model (OCPP 2.0.1)

    async def device_variables(
        self,
        charge_point_id: str,
        component: str | None = None,
        variable: str | None = None,
        limit: int = 100,
        after: VariableKey | None = None,
    ) -> list[DeviceVariable]:
        """A charge point's device model variables (of the component and variable named,
        exactly), in ``DeviceVariable.sort_key`` order, the first ``limit`` after ``after``.

        An upsert merges a GetVariables/SetVariables update into the stored variable
        (``DeviceVariable.keeping_report_of``) and stores a new key only while the charge
        point has fewer than ``MAX_DEVICE_VARIABLES`` (the rest are skipped and logged).
        """

    # -- firmware campaigns (operator data)

    async def get_firmware_campaign(self, campaign_id: str) -> FirmwareCampaign | None: ...

    async def firmware_campaigns(self) -> list[FirmwareCampaign]:
        """Every campaign, by id."""

    async def put_firmware_campaign(self, campaign: FirmwareCampaign) -> None:
        """Insert or replace by campaign_id."""

    # -- alerts

    async def alerts(
        self, open_only: bool = False, limit: int = 100, before: datetime | None = None
    ) -> list[Alert]:
        """Newest opened first."""

    async def acknowledge_alert(self, alert_id: str, by: str, at: datetime) -> bool: ...

    async def list_alert_rules(self) -> list[AlertRule]: ...

    async def put_alert_rule(self, rule: AlertRule) -> None: ...

    async def delete_alert_rule(self, rule_id: str) -> bool: ...

    # -- alert notifications

    async def get_notification_channel(self, channel_id: str) -> NotificationChannel | None: ...

    async def notification_channels(self) -> list[NotificationChannel]: ...

    async def put_notification_channel(self, channel: NotificationChannel) -> None: ...

    async def delete_notification_channel(self, channel_id: str) -> bool: ...

    async def claim_notification(self, notification: Notification) -> bool:
        """Insert unless its key exists: True for the one caller that may send it."""

    async def put_notification(self, notification: Notification) -> None:
        """Insert or replace by notification_id (a claimed delivery's progress)."""

    async def notification(self, notification_id: str) -> Notification | None: ...

    async def notifications(
        self, limit: int = 100, before: tuple[datetime, str] | None = None
    ) -> list[Notification]:
        """The delivery log, newest first by (``created_at``, ``notification_id``); with
        ``before`` (the last entry's pair of the previous page) the entries after it."""

    # -- id tags

    async def get_id_tag(self, id_tag: str) -> IdTag | None: ...

    async def list_id_tags(self, limit: int = 1000) -> list[IdTag]: ...

    async def put_id_tag(self, tag: IdTag) -> None: ...

    async def delete_id_tag(self, id_tag: str) -> bool: ...

    # -- sites (site load management: operator data, and the controller's allocations)

    async def get_site(self, site_id: str) -> Site | None: ...

    async def list_sites(self) -> list[Site]:
        """By id."""

    async def put_site(self, site: Site) -> None: ...

    async def delete_site(self, site_id: str) -> bool: ...

    async def site_allocations(self, site_id: str | None = None) -> list[SiteAllocation]:
        """Of one site (or of all), by site, charge point and connector."""

    async def put_site_allocation(self, allocation: SiteAllocation) -> None:
        """Insert or replace by (site, charge point, connector)."""

    async def delete_site_allocation(self, allocation: SiteAllocation) -> None:
        """Remove the row with this allocation's key, if any."""

    # -- availability exclusions (operator data: windows excluded from outage time)

    async def list_exclusions(self) -> list[AvailabilityExclusion]:
        """By start, then id."""

    async def put_exclusion(self, exclusion: AvailabilityExclusion) -> None: ...

    async def delete_exclusion(self, exclusion_id: str) -> bool: ...

    # -- command log

    async def record_command(self, command: CommandRecord) -> None:
        """Insert or replace by command_id (in flight, then with its outcome)."""

    async def commands(
        self, charge_point_id: str | None = None, limit: int = 100
    ) -> list[CommandRecord]:
        """Newest first."""


class ConnectionRegistry(Protocol):
    """Which gateway node holds which charge point (stack mode).

    A node announces itself with ``node_alive`` every few seconds; its entry
    expires after ``ttl`` seconds, so the charge points of a crashed node read
    as not connected without anyone cleaning up.
    """

    async def node_alive(self, node: str, ttl: int) -> None: ...

    async def connection_opened(self, charge_point_id: str, node: str) -> None: ...

    async def connection_closed(self, charge_point_id: str, node: str) -> None:
        """Forget the entry, unless another node has taken the charge point since."""

    async def node_for(self, charge_point_id: str) -> str | None:
        """The live node holding the charge point, or None."""


class StackStore(Store, ConnectionRegistry, Protocol):
    """What the stack mode's processes need: store and connection registry."""


def by_start(exclusions: Sequence[AvailabilityExclusion]) -> list[AvailabilityExclusion]:
    """Exclusions in the contract's order: by start, then id."""
    return sorted(exclusions, key=lambda e: (e.start, e.exclusion_id))
