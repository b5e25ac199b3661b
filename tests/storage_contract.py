"""The storage contract: what every ``chargestream.storage.base.Store`` back end must do.

A back end plugs in with a test module that provides two pytest fixtures,
``store`` (an opened, empty store, closed after the test) and
``unreachable_store`` (a store, not opened, whose database cannot be reached),
and a class that subclasses ``StoreContract`` without adding anything; pytest
then runs every test below against that back end::

    @pytest.fixture
    async def store(tmp_path):
        store = MyStore(...)
        await store.open()
        yield store
        await store.close()

    @pytest.fixture
    def unreachable_store(tmp_path):
        return MyStore(<an address where nothing answers>)

    class TestMyStore(StoreContract):
        pass

Back-end specific behaviour (files, connections, schema versions) belongs in
the back end's own test module, not here. All datetimes used here have whole
millisecond precision, the least any back end keeps.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    MAX_DEVICE_VARIABLES,
    Alert,
    AlertKind,
    AlertRule,
    AvailabilityExclusion,
    ChannelKind,
    ChargePointState,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    CommandOutcome,
    CommandRecord,
    ConnectorStatus,
    DeviceVariable,
    FirmwareCampaign,
    IdTag,
    IdTagStatus,
    InstalledChargingProfile,
    LocalListAssignment,
    LocalListEntry,
    LocalListMode,
    LocalListState,
    MeterValue,
    Notification,
    NotificationChannel,
    NotificationStatus,
    ProfileRemoval,
    RecurrencyKind,
    Registration,
    Reservation,
    ReservationStatus,
    SchedulePeriod,
    SecurityEvent,
    Session,
    Site,
    SiteAllocation,
    StatusInterval,
    TransferStatus,
    VariableSource,
)
from chargestream.storage.base import Store, StoreUnavailable

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FOREVER_START = datetime(2000, 1, 1, tzinfo=UTC)
FOREVER_END = datetime(2100, 1, 1, tzinfo=UTC)


def at(minutes: int = 0, ms: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, milliseconds=ms)


def assert_utc(record: Any) -> None:
    """Every datetime in ``record`` (nested records included) is tz-aware UTC."""
    for field in dataclasses.fields(record):
        values = getattr(record, field.name)
        for value in values if isinstance(values, tuple) else (values,):
            if isinstance(value, datetime):
                assert value.utcoffset() == timedelta(0), (field.name, value)
            elif dataclasses.is_dataclass(value):
                assert_utc(value)


# ------------------------------------------------------------------ factories


def full_registration(charge_point_id: str = "CP-1") -> Registration:
    return Registration(
        charge_point_id=charge_point_id,
        display_name="Depot bay 1",
        location="Depot, Lisbon",
        password_hash="pbkdf2_sha256$1000$c2FsdA$aGFzaA",
        lenient=True,
        created_at=at(ms=123),
        security_profile=3,
        next_password_hash="hmac_sha256$73616c74$6e657874",
        max_current_a=16.5,
        phases=1,
        ocpp_version=OcppVersion.V201,
    )


def full_state(charge_point_id: str = "CP-1") -> ChargePointState:
    return ChargePointState(
        charge_point_id=charge_point_id,
        connected=True,
        last_seen=at(5, ms=7),
        connected_since=at(1),
        node="node-a",
        vendor="Acme",
        model="Wallbox 22",
        serial_number="SN-1",
        charge_box_serial_number="CB-1",
        firmware_version="1.2.3",
        iccid="8935101",
        imsi="26801",
        meter_type="DC meter",
        meter_serial_number="M-1",
        last_boot_at=at(1, ms=1),
        registration_status="Accepted",
        connectors=(
            ConnectorStatus(2, "Charging", "NoError", at(3)),
            ConnectorStatus(0, "Available", "NoError", at(1)),
            ConnectorStatus(1, "Faulted", "OtherError", at(2, ms=999), "overheat", "E42"),
        ),
    )


def full_interval(start: datetime = T0, connector_id: int = 1) -> StatusInterval:
    return StatusInterval(
        charge_point_id="CP-1",
        connector_id=connector_id,
        start=start,
        status="Faulted",
        error_code="GroundFailure",
        end=start + timedelta(minutes=3, milliseconds=250),
        info="RCD tripped",
        vendor_error_code="V-7",
    )


def full_session(transaction_id: int = 1, charge_point_id: str = "CP-1") -> Session:
    return Session(
        transaction_id=transaction_id,
        charge_point_id=charge_point_id,
        connector_id=1,
        id_tag="TAG-1",
        start_time=at(ms=1),
        meter_start=1000,
        stop_time=at(90, ms=2),
        meter_stop=23500,
        energy_kwh=22.5,
        stop_reason="Local",
        stop_id_tag="TAG-2",
        peak_power_w=11040.5,
        soc_start=20.0,
        soc_end=80.5,
    )


def full_meter_value(timestamp: datetime = T0, measurand: str = "Voltage") -> MeterValue:
    return MeterValue(
        charge_point_id="CP-1",
        connector_id=1,
        timestamp=timestamp,
        measurand=measurand,
        value=231.5,
        unit="V",
        transaction_id=7,
        phase="L1-N",
        location="Outlet",
        context="Sample.Periodic",
    )


def full_alert(alert_id: str = "A-1") -> Alert:
    return Alert(
        alert_id=alert_id,
        charge_point_id="CP-1",
        kind=AlertKind.THRESHOLD,
        opened_at=at(ms=500),
        message="Temperature above 60",
        severity="critical",
        connector_id=1,
        rule_id="R-1",
        value=61.5,
        closed_at=at(10),
        acknowledged_at=at(2),
        acknowledged_by="operator",
    )


def minimal_alert(alert_id: str, opened_at: datetime, closed: bool = False) -> Alert:
    return Alert(
        alert_id=alert_id,
        charge_point_id="CP-1",
        kind=AlertKind.OFFLINE,
        opened_at=opened_at,
        message="offline",
        closed_at=opened_at + timedelta(minutes=1) if closed else None,
    )


def command(
    command_id: str, requested_at: datetime, charge_point_id: str = "CP-1"
) -> CommandRecord:
    return CommandRecord(
        command_id=command_id,
        charge_point_id=charge_point_id,
        action="Reset",
        payload={"type": "Soft"},
        requested_at=requested_at,
    )


async def derived_snapshot(store: Store) -> tuple[list[Any], ...]:
    """Every derived record the queries can see, for before/after comparisons."""
    states = await store.list_charge_point_states()
    sessions = await store.recent_sessions(limit=10_000)
    intervals = [
        interval
        for state in states
        for interval in await store.status_history(
            state.charge_point_id, FOREVER_START, FOREVER_END
        )
    ]
    meter_values = [mv for s in sessions for mv in await store.meter_values(s.transaction_id)]
    return states, intervals, sessions, meter_values, await store.alerts(limit=10_000)


class StoreContract:
    """Subclass as ``Test<Backend>`` in a module that provides the ``store`` fixture."""

    # -- lifecycle

    async def test_open_is_idempotent(self, store: Store) -> None:
        await store.put_registration(Registration("CP-1"))
        await store.open()
        assert await store.get_registration("CP-1") == Registration("CP-1")

    async def test_a_store_that_cannot_reach_its_database_is_unavailable(
        self, unreachable_store: Store
    ) -> None:
        with pytest.raises(StoreUnavailable) as failure:
            await unreachable_store.open()
        assert failure.value.__cause__ is not None  # the driver's own error, kept
        with pytest.raises(StoreUnavailable, match="not open"):
            await unreachable_store.get_registration("CP-1")

    async def test_a_closed_store_is_unavailable(self, store: Store) -> None:
        await store.close()
        with pytest.raises(StoreUnavailable, match="not open"):
            await store.get_registration("CP-1")
        with pytest.raises(StoreUnavailable, match="not open"):
            await store.upsert([ChargePointState("CP-1")])
        with pytest.raises(StoreUnavailable, match="not open"):
            await store.put_id_tag(IdTag("TAG-1"))

    # -- sites

    async def test_sites_round_trip_replace_and_delete(self, store: Store) -> None:
        full = Site(
            "depot",
            ("CP-1", "CP-2"),
            at(ms=7),
            max_power_w=22000.5,
            nominal_voltage=240.0,
            phases=1,
            min_current_a=8.0,
        )
        minimal = Site("annex", (), at(1), max_current_a=32.0)
        await store.put_site(full)
        await store.put_site(minimal)
        got = await store.get_site("depot")
        assert got == full
        assert_utc(got)
        assert await store.list_sites() == [minimal, full]
        moved = dataclasses.replace(full, charge_points=("CP-2",))
        await store.put_site(moved)
        assert await store.get_site("depot") == moved
        assert await store.delete_site("annex") is True
        assert await store.delete_site("annex") is False
        assert await store.list_sites() == [moved]
        assert await store.get_site("annex") is None

    async def test_site_allocations_by_site_and_key(self, store: Store) -> None:
        default, session = site_allocation("s-1", "CP-1", 0), site_allocation("s-1", "CP-1", 1)
        other = site_allocation("s-2", "CP-9", 2)
        for row in (session, other, default):
            await store.put_site_allocation(row)
        got = await store.site_allocations("s-1")
        assert got == [default, session]
        assert_utc(got[1])
        assert await store.site_allocations() == [default, session, other]
        answered = dataclasses.replace(default, status="Rejected", answered_at=at(2))
        await store.put_site_allocation(answered)
        await store.delete_site_allocation(session)
        await store.delete_site_allocation(session)  # gone already: nothing happens
        assert await store.site_allocations("s-1") == [answered]
        await store.clear_derived()  # operator data and the controller's: kept
        assert await store.site_allocations("s-2") == [other]

    # -- availability exclusions

    async def test_exclusions_round_trip_order_and_delete(self, store: Store) -> None:
        site = AvailabilityExclusion(
            "x-2", at(10), at(70), "maintenance", at(ms=3), "pump swap", site_id="depot"
        )
        fleet = AvailabilityExclusion("x-1", at(30), at(40), "outage", at(1))
        one = AvailabilityExclusion("x-0", at(10), at(20), "outage", at(1), charge_point_id="CP-1")
        for exclusion in (site, fleet, one):
            await store.put_exclusion(exclusion)
        got = await store.list_exclusions()
        assert got == [one, site, fleet]
        assert_utc(got[1])
        await store.clear_derived()  # operator data: kept
        assert await store.delete_exclusion("x-2") is True
        assert await store.delete_exclusion("x-2") is False
        assert await store.list_exclusions() == [one, fleet]

    # -- registrations

    async def test_registration_round_trip(self, store: Store) -> None:
        full, minimal = full_registration("CP-1"), Registration("CP-2")
        await store.put_registration(full)
        await store.put_registration(minimal)
        got = await store.get_registration("CP-1")
        assert got == full
        assert_utc(got)
        assert await store.get_registration("CP-2") == minimal

    async def test_get_registration_unknown_is_none(self, store: Store) -> None:
        assert await store.get_registration("nope") is None

    async def test_put_registration_replaces(self, store: Store) -> None:
        await store.put_registration(full_registration("CP-1"))
        replacement = Registration("CP-1", display_name="renamed")
        await store.put_registration(replacement)
        assert await store.get_registration("CP-1") == replacement
        assert await store.list_registrations() == [replacement]

    async def test_list_registrations_ordered_by_id(self, store: Store) -> None:
        for charge_point_id in ("CP-3", "CP-1", "CP-2"):
            await store.put_registration(Registration(charge_point_id))
        listed = await store.list_registrations()
        assert [r.charge_point_id for r in listed] == ["CP-1", "CP-2", "CP-3"]

    async def test_delete_registration_keeps_derived_history(self, store: Store) -> None:
        await store.put_registration(Registration("CP-1"))
        await store.upsert([full_state("CP-1"), full_session(1, "CP-1")])
        assert await store.delete_registration("CP-1") is True
        assert await store.delete_registration("CP-1") is False
        assert await store.get_registration("CP-1") is None
        assert await store.get_charge_point_state("CP-1") is not None
        assert await store.get_session(1) is not None

    # -- id tags

    async def test_id_tag_round_trip(self, store: Store) -> None:
        full = IdTag("TAG-1", IdTagStatus.BLOCKED, at(60 * 24, ms=5), "PARENT")
        minimal = IdTag("TAG-2")
        await store.put_id_tag(full)
        await store.put_id_tag(minimal)
        got = await store.get_id_tag("TAG-1")
        assert got == full
        assert got is not None and got.status is IdTagStatus.BLOCKED
        assert_utc(got)
        assert await store.get_id_tag("TAG-2") == minimal
        assert await store.get_id_tag("TAG-3") is None

    async def test_put_id_tag_replaces(self, store: Store) -> None:
        await store.put_id_tag(IdTag("TAG-1"))
        await store.put_id_tag(IdTag("TAG-1", IdTagStatus.EXPIRED))
        assert await store.list_id_tags() == [IdTag("TAG-1", IdTagStatus.EXPIRED)]

    async def test_list_id_tags_ordered_and_limited(self, store: Store) -> None:
        for tag in ("C", "A", "B"):
            await store.put_id_tag(IdTag(tag))
        assert [t.id_tag for t in await store.list_id_tags()] == ["A", "B", "C"]
        assert [t.id_tag for t in await store.list_id_tags(limit=2)] == ["A", "B"]

    async def test_delete_id_tag(self, store: Store) -> None:
        await store.put_id_tag(IdTag("TAG-1"))
        assert await store.delete_id_tag("TAG-1") is True
        assert await store.delete_id_tag("TAG-1") is False
        assert await store.get_id_tag("TAG-1") is None

    # -- alert rules

    async def test_alert_rule_round_trip_and_replace(self, store: Store) -> None:
        full = AlertRule("R-2", "Temperature", ">", 60.5, "critical", enabled=False)
        minimal = AlertRule("R-1", "SoC", "<", 10.0)
        await store.put_alert_rule(full)
        await store.put_alert_rule(minimal)
        assert await store.list_alert_rules() == [minimal, full]
        changed = dataclasses.replace(minimal, threshold=15.0, enabled=False)
        await store.put_alert_rule(changed)
        assert await store.list_alert_rules() == [changed, full]

    async def test_delete_alert_rule(self, store: Store) -> None:
        await store.put_alert_rule(AlertRule("R-1", "SoC", "<", 10.0))
        assert await store.delete_alert_rule("R-1") is True
        assert await store.delete_alert_rule("R-1") is False
        assert await store.list_alert_rules() == []

    # -- alert notifications

    async def test_notification_channel_round_trip_replace_delete(self, store: Store) -> None:
        hook = NotificationChannel(
            "hook",
            ChannelKind.WEBHOOK,
            "https://ops.example/hook",
            secret="s" * 32,
            alert_kind=AlertKind.FAULTED,
            rule_id="R-1",
            cooldown=600,
            enabled=False,
        )
        mail = NotificationChannel("mail", ChannelKind.EMAIL, "ops@example.com")
        await store.put_notification_channel(mail)
        await store.put_notification_channel(hook)
        assert await store.notification_channels() == [hook, mail]
        assert await store.get_notification_channel("hook") == hook
        changed = dataclasses.replace(mail, cooldown=60)
        await store.put_notification_channel(changed)
        assert await store.get_notification_channel("mail") == changed
        assert await store.delete_notification_channel("mail") is True
        assert await store.delete_notification_channel("mail") is False
        assert await store.notification_channels() == [hook]

    async def test_a_notification_is_claimed_once_then_updated(self, store: Store) -> None:
        claim = dataclasses.replace(
            notification("A-1", at(0)),
            alert_kind=AlertKind.THRESHOLD,
            rule_id="R-1",
            alert_opened_at=at(-1),
        )
        assert await store.notification(claim.notification_id) is None
        assert await store.claim_notification(claim) is True
        second = dataclasses.replace(claim, created_at=at(5), status=NotificationStatus.FAILED)
        assert await store.claim_notification(second) is False
        assert await store.notifications() == [claim]
        delivered = dataclasses.replace(
            claim,
            status=NotificationStatus.DELIVERED,
            attempts=3,
            last_error="x",
            delivered_at=at(9),
        )
        await store.put_notification(delivered)
        assert await store.notifications() == [delivered]
        assert await store.notification(claim.notification_id) == delivered

    async def test_notifications_newest_first_and_survive_clear_derived(self, store: Store) -> None:
        older, newer = notification("A-1", at(0)), notification("A-2", at(1))
        for claim in (older, newer):
            await store.claim_notification(claim)
        await store.put_notification_channel(
            NotificationChannel("mail", ChannelKind.EMAIL, "ops@example.com")
        )
        await store.clear_derived()
        assert await store.notifications() == [newer, older]
        assert await store.notifications(limit=1) == [newer]
        assert len(await store.notification_channels()) == 1

    async def test_the_delivery_log_pages_newest_first_across_days_and_ties(
        self, store: Store
    ) -> None:
        """Pages follow (created_at, notification_id) descending: entries of one moment
        (an alert's channels, claimed together) are neither lost nor repeated at a page
        boundary, and days (Cassandra's partitions) follow each other."""
        day = 24 * 60
        claims = [
            notification(alert_id, at(minutes))
            for alert_id, minutes in [
                ("A-1", -3 * day),
                ("A-2", -day),
                ("A-3", 0),
                ("A-4", 0),
                ("A-5", 0),
                ("A-6", 5),
            ]
        ]
        for claim in claims:
            await store.claim_notification(claim)
        expected = sorted(claims, key=lambda n: (n.created_at, n.notification_id), reverse=True)
        pages, before = [], None
        while page := await store.notifications(limit=2, before=before):
            pages.append([n.alert_id for n in page])
            before = (page[-1].created_at, page[-1].notification_id)
        assert pages == [["A-6", "A-5"], ["A-4", "A-3"], ["A-2", "A-1"]]
        assert [n.alert_id for n in expected] == [a for page in pages for a in page]
        assert await store.notifications(before=(at(0), "")) == expected[4:]  # older only

    # -- firmware campaigns

    async def test_firmware_campaign_round_trip_cancel_and_survives_clear_derived(
        self, store: Store
    ) -> None:
        full = FirmwareCampaign(
            campaign_id="20240301120000-b",
            location="https://fw.example/cp-2.0.bin",
            retrieve_date=at(5, ms=250),
            wave_size=2,
            wave_timeout=600,
            targets={"CP-2": "1.0", "CP-1": None, "CP-3": "0.9"},
            created_at=at(0, ms=125),
            created_by="operator:ann",
            retries=3,
            retry_interval=60,
        )
        minimal = FirmwareCampaign(
            "20240301115900-a", "ftp://fw.example/x.bin", T0, 50, 7200, {}, T0, "api"
        )
        await store.put_firmware_campaign(full)
        await store.put_firmware_campaign(minimal)
        assert await store.get_firmware_campaign(full.campaign_id) == full
        assert await store.get_firmware_campaign("nope") is None
        found = await store.firmware_campaigns()
        assert found == [minimal, full]
        assert list(found[1].targets) == ["CP-2", "CP-1", "CP-3"]  # the sending order
        assert_utc(found[1])
        cancelled = dataclasses.replace(full, cancelled_at=at(9))
        await store.put_firmware_campaign(cancelled)
        await store.clear_derived()
        assert await store.firmware_campaigns() == [minimal, cancelled]

    # -- command log

    async def test_command_in_flight_then_outcome(self, store: Store) -> None:
        in_flight = CommandRecord(
            command_id="C-1",
            charge_point_id="CP-1",
            action="RemoteStartTransaction",
            payload={"idTag": "TAG-1", "connectorId": 1, "chargingProfile": {"stack": [1, 2]}},
            requested_at=at(ms=10),
            sent_by="operator:alice",
        )
        await store.record_command(in_flight)
        assert await store.commands() == [in_flight]
        done = dataclasses.replace(
            in_flight,
            outcome=CommandOutcome.FAILED,
            response={"status": "Rejected", "nested": {"ok": False, "n": None}},
            error="NotSupported: no",
            completed_at=at(1, ms=20),
        )
        await store.record_command(done)
        got = await store.commands()
        assert got == [done]
        assert got[0].outcome is CommandOutcome.FAILED
        assert_utc(got[0])

    async def test_commands_newest_first_filtered_and_limited(self, store: Store) -> None:
        await store.record_command(command("C-1", at(1), "CP-1"))
        await store.record_command(command("C-3", at(3), "CP-1"))
        await store.record_command(command("C-2", at(2), "CP-2"))
        assert [c.command_id for c in await store.commands()] == ["C-3", "C-2", "C-1"]
        assert [c.command_id for c in await store.commands("CP-1")] == ["C-3", "C-1"]
        assert [c.command_id for c in await store.commands(limit=2)] == ["C-3", "C-2"]
        assert await store.commands("CP-9") == []

    async def test_commands_keep_who_sent_them(self, store: Store) -> None:
        by_token = dataclasses.replace(command("C-1", at(1)), sent_by="api")
        by_operator = dataclasses.replace(command("C-2", at(2)), sent_by="operator:Zoë O'Neil")
        unattributed = command("C-3", at(3))
        for record in (by_token, by_operator, unattributed):
            await store.record_command(record)
        assert await store.commands() == [unattributed, by_operator, by_token]
        assert [c.sent_by for c in await store.commands("CP-1")] == [
            None,
            "operator:Zoë O'Neil",
            "api",
        ]

    # -- charge point states

    async def test_charge_point_state_round_trip(self, store: Store) -> None:
        full, minimal = full_state("CP-1"), ChargePointState("CP-2")
        await store.upsert([full, minimal])
        got = await store.get_charge_point_state("CP-1")
        assert got is not None
        assert [c.connector_id for c in got.connectors] == [0, 1, 2]
        assert got == dataclasses.replace(
            full, connectors=tuple(sorted(full.connectors, key=lambda c: c.connector_id))
        )
        assert_utc(got)
        assert await store.get_charge_point_state("CP-2") == minimal
        assert await store.get_charge_point_state("CP-3") is None

    async def test_charge_point_state_replaced_by_key(self, store: Store) -> None:
        await store.upsert([full_state("CP-1")])
        offline = ChargePointState("CP-1", connected=False, last_seen=at(9))
        await store.upsert([offline])
        assert await store.list_charge_point_states() == [offline]

    async def test_list_charge_point_states_ordered_and_limited(self, store: Store) -> None:
        await store.upsert([ChargePointState(cp) for cp in ("CP-3", "CP-1", "CP-2")])
        listed = await store.list_charge_point_states()
        assert [s.charge_point_id for s in listed] == ["CP-1", "CP-2", "CP-3"]
        limited = await store.list_charge_point_states(limit=2)
        assert [s.charge_point_id for s in limited] == ["CP-1", "CP-2"]

    # -- status intervals

    async def test_status_interval_round_trip(self, store: Store) -> None:
        full = full_interval(at(ms=1))
        minimal = StatusInterval("CP-1", 2, at(1), "Available")
        await store.upsert([full, minimal])
        got = await store.status_history("CP-1", FOREVER_START, FOREVER_END)
        assert got == [full, minimal]
        for interval in got:
            assert_utc(interval)

    async def test_status_interval_replaced_by_key(self, store: Store) -> None:
        open_interval = StatusInterval("CP-1", 1, at(0), "Charging")
        await store.upsert([open_interval])
        closed = dataclasses.replace(open_interval, end=at(5))
        await store.upsert([closed])
        assert await store.status_history("CP-1", FOREVER_START, FOREVER_END) == [closed]

    async def test_status_history_returns_overlapping_intervals(self, store: Store) -> None:
        def interval(
            start: int, end: int | None, connector_id: int = 1, cp: str = "CP-1"
        ) -> StatusInterval:
            return StatusInterval(
                cp, connector_id, at(start), "Available", end=None if end is None else at(end)
            )

        before = interval(0, 5)
        touching_start = interval(5, 10)  # ends exactly when the window starts
        over_start = interval(8, 12, connector_id=2)
        inside = interval(12, 15)
        same_start_other_connector = interval(12, 14, connector_id=0)
        over_end = interval(18, 25)
        open_since_before = interval(3, None, connector_id=3)
        at_end = interval(20, 30)  # starts exactly when the window ends
        open_after = interval(25, None)
        other_charge_point = interval(12, 15, cp="CP-2")
        await store.upsert(
            [
                open_after,
                before,
                inside,
                touching_start,
                over_end,
                at_end,
                over_start,
                same_start_other_connector,
                open_since_before,
                other_charge_point,
            ]
        )
        got = await store.status_history("CP-1", at(10), at(20))
        assert got == [open_since_before, over_start, same_start_other_connector, inside, over_end]
        assert await store.status_history("CP-3", at(10), at(20)) == []

    # -- sessions

    async def test_session_round_trip(self, store: Store) -> None:
        full, minimal = full_session(1), Session(2, "CP-1")
        await store.upsert([full, minimal])
        got = await store.get_session(1)
        assert got == full
        assert got is not None and not got.active
        assert_utc(got)
        assert await store.get_session(2) == minimal
        assert await store.get_session(3) is None

    async def test_ocpp_201_fields_round_trip(self, store: Store) -> None:
        """A 2.0.1 session's station id and EVSE (its id above int32), an EVSE's interval
        and connector, a charge point's protocol."""
        session = dataclasses.replace(
            full_session(transaction_id=2**53 - 1),
            station_transaction_id="a1b2c3d4-0000-4000-8000-123456789abc",
            evse_id=1,
        )
        interval = dataclasses.replace(full_interval(), evse_id=1)
        connector = ConnectorStatus(1, "Occupied", "NoError", at(1), evse_id=1, evse_connector_id=2)
        state = dataclasses.replace(
            full_state(), connectors=(connector,), ocpp_version=OcppVersion.V201
        )
        await store.upsert([session, interval, state])
        assert await store.get_session(2**53 - 1) == session
        assert await store.status_history("CP-1", T0, at(1)) == [interval]
        assert await store.get_charge_point_state("CP-1") == state

    async def test_session_replaced_by_key(self, store: Store) -> None:
        started = Session(5, "CP-1", 1, "TAG-1", at(0), 1000)
        await store.upsert([started])
        assert await store.get_session(5) == started
        stopped = dataclasses.replace(
            started, stop_time=at(30), meter_stop=8000, energy_kwh=7.0, stop_reason="EVDisconnected"
        )
        await store.upsert([stopped])
        assert await store.get_session(5) == stopped
        assert await store.recent_sessions() == [stopped]

    async def test_session_stop_without_start_keeps_the_stored_start(self, store: Store) -> None:
        started = Session(6, "CP-1", 2, "TAG-1", at(0), 1000)
        stop_only = Session(6, "CP-1", stop_time=at(30), meter_stop=4000, stop_reason="Local")
        await store.upsert([started])
        await store.upsert([stop_only])
        expected = dataclasses.replace(
            stop_only,
            connector_id=2,
            id_tag="TAG-1",
            start_time=at(0),
            meter_start=1000,
            energy_kwh=3.0,
        )
        assert await store.get_session(6) == expected
        assert await store.sessions_for_charge_point("CP-1") == [expected]
        # the same within one batch
        await store.upsert(
            [
                dataclasses.replace(started, transaction_id=7),
                dataclasses.replace(stop_only, transaction_id=7),
            ]
        )
        assert await store.get_session(7) == dataclasses.replace(expected, transaction_id=7)

    async def test_sessions_newest_first(self, store: Store) -> None:
        oldest = Session(1, "CP-1", start_time=at(0), stop_time=at(100))
        stop_only = Session(2, "CP-1", stop_time=at(10))  # StartTransaction never seen
        tie_low = Session(3, "CP-2", start_time=at(20))
        tie_high = Session(4, "CP-1", start_time=at(20))
        newest = Session(5, "CP-2", start_time=at(30))
        await store.upsert([tie_low, oldest, newest, stop_only, tie_high])
        ids = [s.transaction_id for s in await store.recent_sessions()]
        assert ids == [5, 4, 3, 2, 1]
        for_cp1 = await store.sessions_for_charge_point("CP-1")
        assert [s.transaction_id for s in for_cp1] == [4, 2, 1]
        assert await store.sessions_for_charge_point("CP-9") == []

    async def test_sessions_before_and_limit(self, store: Store) -> None:
        await store.upsert(
            [Session(i, "CP-1" if i % 2 else "CP-2", start_time=at(i)) for i in range(1, 11)]
        )
        page = await store.recent_sessions(limit=3)
        assert [s.transaction_id for s in page] == [10, 9, 8]
        page = await store.recent_sessions(limit=3, before=at(8))
        assert [s.transaction_id for s in page] == [7, 6, 5]
        page = await store.recent_sessions(before=at(1))
        assert page == []
        page = await store.sessions_for_charge_point("CP-1", limit=2, before=at(7))
        assert [s.transaction_id for s in page] == [5, 3]
        stop_only = Session(20, "CP-1", stop_time=at(4, ms=500))
        await store.upsert([stop_only])
        page = await store.sessions_for_charge_point("CP-1", before=at(5))
        assert [s.transaction_id for s in page] == [20, 3, 1]

    # -- meter values

    async def test_meter_value_round_trip(self, store: Store) -> None:
        full = full_meter_value(at(ms=250))
        minimal = MeterValue("CP-1", 1, at(1), "Energy.Active.Import.Register", 1234.5, "Wh", 7)
        await store.upsert([full, minimal])
        got = await store.meter_values(7)
        assert got == [full, minimal]
        for value in got:
            assert_utc(value)
        assert await store.meter_values(8) == []

    async def test_meter_values_oldest_first_and_limited(self, store: Store) -> None:
        later = full_meter_value(at(2), "Voltage")
        current_l2 = dataclasses.replace(full_meter_value(at(1), "Current.Import"), phase="L2")
        current_l1 = dataclasses.replace(current_l2, phase="L1")
        earlier = full_meter_value(at(1), "Voltage")
        other_transaction = dataclasses.replace(earlier, transaction_id=8)
        await store.upsert([later, current_l2, earlier, other_transaction, current_l1])
        assert await store.meter_values(7) == [current_l1, current_l2, earlier, later]
        assert await store.meter_values(7, limit=2) == [current_l1, current_l2]
        assert await store.meter_values(8) == [other_transaction]
        # a running session's latest readings: the newest, still oldest first
        assert await store.meter_values(7, limit=2, newest=True) == [earlier, later]
        assert await store.meter_values(7, limit=3, newest=True) == [current_l2, earlier, later]

    async def test_meter_values_with_null_key_parts_not_duplicated(self, store: Store) -> None:
        sample = MeterValue("CP-1", 1, at(1), "Power.Active.Import", 7000.0, "W", 7)
        await store.upsert([sample])
        await store.upsert([sample])
        corrected = dataclasses.replace(sample, value=7100.0)
        await store.upsert([corrected, corrected])
        assert await store.meter_values(7) == [corrected]

    async def test_meter_values_differing_in_key_parts_are_distinct(self, store: Store) -> None:
        base = MeterValue("CP-1", 1, at(1), "Power.Active.Import", 7000.0, "W", 7)
        variants = [
            base,
            dataclasses.replace(base, phase="L1"),
            dataclasses.replace(base, location="Inlet"),
            dataclasses.replace(base, context="Transaction.Begin"),
            dataclasses.replace(base, connector_id=2),
        ]
        await store.upsert(variants)
        await store.upsert(variants)
        assert len(await store.meter_values(7)) == len(variants)

    # -- transaction ids

    async def test_allocate_transaction_id(self, store: Store) -> None:
        first = await store.allocate_transaction_id("CP-1/1/2024-03-01T12:00:00Z/TAG-1")
        second = await store.allocate_transaction_id("CP-1/1/2024-03-01T13:00:00Z/TAG-1")
        third = await store.allocate_transaction_id("CP-2/1/2024-03-01T12:00:00Z/TAG-1")
        assert len({first, second, third}) == 3
        assert all(0 < tx <= 2**31 - 1 for tx in (first, second, third))
        assert await store.allocate_transaction_id("CP-1/1/2024-03-01T12:00:00Z/TAG-1") == first
        assert await store.allocate_transaction_id("CP-2/1/2024-03-01T12:00:00Z/TAG-1") == third

    # -- reservations

    async def test_reservation_round_trip_replaced_by_id(self, store: Store) -> None:
        active = reservation(7, "CP-1", at(1))
        minimal = dataclasses.replace(
            reservation(8, "CP-2", at(2)), parent_id_tag=None, status=ReservationStatus.REJECTED
        )
        await store.upsert([active, minimal])
        assert await store.get_reservation(7) == active
        assert await store.get_reservation(9) is None
        got = await store.reservations()
        assert got == [minimal, active]
        assert got[1].status is ReservationStatus.ACTIVE
        for stored in got:
            assert_utc(stored)
        used = dataclasses.replace(
            active, status=ReservationStatus.USED, transaction_id=42, updated_at=at(3)
        )
        await store.upsert([used])
        assert await store.get_reservation(7) == used
        assert await store.reservations("CP-1") == [used]

    async def test_reservations_page_newest_first_per_charge_point(self, store: Store) -> None:
        await store.upsert([reservation(i, "CP-1" if i % 2 else "CP-2", at(i)) for i in range(6)])
        assert [r.reservation_id for r in await store.reservations()] == [5, 4, 3, 2, 1, 0]
        assert [r.reservation_id for r in await store.reservations("CP-1", limit=2)] == [5, 3]
        older = await store.reservations("CP-1", before=at(3))
        assert [r.reservation_id for r in older] == [1]
        assert [r.reservation_id for r in await store.reservations(limit=1, before=at(5))] == [4]

    async def test_a_reused_reservation_id_is_listed_once(self, store: Store) -> None:
        """A raw ReserveNow command may reuse an id for another charge point and time."""
        await store.upsert([reservation(7, "CP-1", at(1))])
        moved = reservation(7, "CP-2", at(2))
        await store.upsert([moved])
        assert await store.reservations("CP-1") == []
        assert await store.reservations("CP-2") == [moved]
        assert await store.reservations() == [moved]

    async def test_allocate_reservation_id_never_repeats(self, store: Store) -> None:
        ids = [await store.allocate_reservation_id() for _ in range(5)]
        assert len(set(ids)) == 5
        assert all(0 < rid <= 2**31 - 1 for rid in ids)
        await store.clear_derived()
        assert await store.allocate_reservation_id() not in ids

    # -- charging profiles

    async def test_charging_profile_round_trip_and_delete(self, store: Store) -> None:
        full, minimal = charging_profile(3), minimal_charging_profile(1)
        await store.put_charging_profile(full)
        await store.put_charging_profile(minimal)
        assert await store.get_charging_profile(3) == full
        assert await store.get_charging_profile(2) is None
        assert await store.charging_profiles() == [minimal, full]
        assert await store.charging_profiles(limit=1) == [minimal]
        for stored in await store.charging_profiles():
            assert_utc(stored)
        assert await store.delete_charging_profile(3) is True
        assert await store.delete_charging_profile(3) is False
        assert await store.charging_profiles() == [minimal]
        await store.clear_derived()
        assert await store.charging_profiles() == [minimal]  # operator data

    async def test_allocate_charging_profile_id_never_repeats(self, store: Store) -> None:
        ids = [await store.allocate_charging_profile_id() for _ in range(5)]
        assert len(set(ids)) == 5
        assert all(0 < pid <= 999_999_999 for pid in ids)
        assert await store.allocate_charging_profile_id() not in ids

    async def test_installed_charging_profiles_by_connector_then_id(self, store: Store) -> None:
        second = installed_profile("CP-1", 1, 5)
        first = dataclasses.replace(installed_profile("CP-1", 0, 9), transaction_id=None)
        third = installed_profile("CP-1", 1, 7)
        await store.upsert([second, first, third, installed_profile("CP-2", 1, 5)])
        assert await store.installed_charging_profiles("CP-1") == [first, second, third]
        assert await store.installed_charging_profiles("CP-1", limit=2) == [first, second]
        assert await store.installed_charging_profiles("CP-3") == []
        gone = dataclasses.replace(
            second, removed_at=at(9), removed_by=ProfileRemoval.TRANSACTION_STOPPED
        )
        await store.upsert([gone])
        got = await store.installed_charging_profiles("CP-1")
        assert got == [first, gone, third]
        assert got[1].removed_by is ProfileRemoval.TRANSACTION_STOPPED and not got[1].installed
        for stored in got:
            assert_utc(stored)
        await store.clear_derived()
        assert await store.installed_charging_profiles("CP-1") == []

    # -- local authorization lists

    async def test_local_list_assignments_round_trip_by_charge_point(self, store: Store) -> None:
        tags = LocalListAssignment("CP-2", LocalListMode.TAGS, 20_000, at(1), ("B", "A"))
        everything = LocalListAssignment("CP-1", LocalListMode.ALL, 10_000, at(2))
        await store.put_local_list(tags)
        await store.put_local_list(everything)
        assert await store.get_local_list("CP-2") == tags
        assert await store.get_local_list("CP-3") is None
        assert await store.local_lists() == [everything, tags]
        changed = dataclasses.replace(tags, tags=(), desired_version=30_000)
        await store.put_local_list(changed)
        assert await store.get_local_list("CP-2") == changed
        await store.clear_derived()
        assert await store.local_lists() == [everything, changed]

    async def test_local_list_state_and_entries_are_derived_records(self, store: Store) -> None:
        state = LocalListState(
            "CP-1",
            at(1),
            version=10_000,
            generation="m-1",
            supported=False,
            last_status="Accepted",
            last_sent_version=10_000,
            status_at=at(1),
            checked_at=at(0),
            send_max_length=50,
            list_max_length=500,
            lengths_checked_at=at(0),
        )
        held = LocalListEntry("CP-1", "TAG-B", "m-1", "Blocked", at(9), "PARENT")
        removed = LocalListEntry("CP-1", "TAG-A", "m-1")
        other = LocalListEntry("CP-2", "TAG-A", "m-2", "Accepted")
        await store.upsert([state, LocalListState("CP-2", at(2)), held, removed, other])
        assert await store.local_list_state("CP-1") == state
        assert await store.local_list_state("CP-3") is None
        assert await store.local_list_entries("CP-1") == [removed, held]
        assert_utc(held)
        again = dataclasses.replace(removed, generation="m-3", status="Accepted")
        await store.upsert([again])
        assert await store.local_list_entries("CP-1") == [again, held]
        await store.clear_derived()
        assert await store.local_list_state("CP-1") is None
        assert await store.local_list_entries("CP-2") == []

    # -- device model (OCPP 2.0.1)

    async def test_device_variables_round_trip_sorted_filtered_and_paged(
        self, store: Store
    ) -> None:
        full = device_variable(
            "EVSE",
            "AvailabilityState",
            component_instance="Main",
            evse_id=1,
            connector_id=2,
            variable_instance="Status",
            attribute_type="Target",
            value="Available \u00e9",
            mutability="ReadOnly",
            persistent=False,
            constant=True,
            characteristics={"dataType": "OptionList", "valuesList": "Available,Faulted"},
            status="Accepted",
            request_id=7,
            generated_at=at(0, 5),
        )
        plain = device_variable("EVSE", "AvailabilityState")
        other = device_variable("AlignedDataCtrlr", "Interval", value="900")
        elsewhere = dataclasses.replace(plain, charge_point_id="CP-2")
        await store.upsert([full, plain, other, elsewhere])
        everything = await store.device_variables("CP-1")
        assert everything == [other, plain, full]
        assert everything[2].persistent is False and everything[2].constant is True
        assert everything[1].evse_id is None and everything[1].persistent is None
        assert_utc(everything[2])
        assert await store.device_variables("CP-1", component="EVSE") == [plain, full]
        assert await store.device_variables("CP-1", variable="Interval") == [other]
        assert await store.device_variables("CP-1", component="evse") == []
        first = await store.device_variables("CP-1", limit=2)
        assert first == [other, plain]
        assert await store.device_variables("CP-1", after=first[-1].sort_key) == [full]
        assert await store.device_variables("CP-1", after=full.sort_key) == []
        assert await store.device_variables("CP-3") == []
        await store.clear_derived()
        assert await store.device_variables("CP-1") == []

    async def test_a_device_variable_update_keeps_what_its_report_said(self, store: Store) -> None:
        report = device_variable(
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            value="300",
            mutability="ReadWrite",
            persistent=True,
            characteristics={"dataType": "integer", "unit": "s"},
            request_id=1,
            generated_at=at(0),
        )
        await store.upsert([report])
        got = device_variable(
            "OCPPCommCtrlr", "HeartbeatInterval", at(1), VariableSource.GET, value="60"
        )
        failed = dataclasses.replace(got, updated_at=at(2), value=None, status="RebootRequired")
        await store.upsert([got, failed])
        (stored,) = await store.device_variables("CP-1")
        assert stored == dataclasses.replace(
            report, updated_at=at(2), source=VariableSource.GET, value="60", status="RebootRequired"
        )
        await store.upsert([report])  # a report again: the variable as it says, whole
        assert await store.device_variables("CP-1") == [report]

    async def test_a_charge_point_keeps_at_most_max_device_variables(self, store: Store) -> None:
        many = [device_variable("C", f"V{n:05}") for n in range(MAX_DEVICE_VARIABLES)]
        await store.upsert([*many[:-1], many[0], many[-1], device_variable("C", "Z")])
        await store.upsert([device_variable("A", "A"), device_variable("C", "V00001", value="x")])
        kept = await store.device_variables("CP-1", limit=MAX_DEVICE_VARIABLES + 2)
        assert [v.variable for v in kept] == [v.variable for v in many]
        assert kept[1].value == "x"  # a stored one still changes
        assert await store.device_variables("CP-2") == []
        await store.upsert([device_variable("C", "Z", charge_point_id="CP-2")])
        assert len(await store.device_variables("CP-2")) == 1

    # -- alerts

    async def test_alert_round_trip(self, store: Store) -> None:
        full = full_alert("A-1")
        minimal = minimal_alert("A-2", at(1))
        await store.upsert([full, minimal])
        got = await store.alerts()
        assert got == [minimal, full]
        assert got[1].kind is AlertKind.THRESHOLD
        for alert in got:
            assert_utc(alert)

    async def test_alert_replaced_by_key(self, store: Store) -> None:
        opened = minimal_alert("A-1", at(0))
        await store.upsert([opened])
        closed = dataclasses.replace(opened, closed_at=at(5), message="back online")
        await store.upsert([closed])
        assert await store.alerts() == [closed]
        assert await store.alerts(open_only=True) == []

    async def test_alerts_newest_first_open_only_before_limit(self, store: Store) -> None:
        alerts = [minimal_alert(f"A-{i}", at(i), closed=i % 2 == 0) for i in range(1, 7)]
        await store.upsert(alerts)
        ids = [a.alert_id for a in await store.alerts()]
        assert ids == ["A-6", "A-5", "A-4", "A-3", "A-2", "A-1"]
        assert [a.alert_id for a in await store.alerts(open_only=True)] == ["A-5", "A-3", "A-1"]
        assert [a.alert_id for a in await store.alerts(limit=2)] == ["A-6", "A-5"]
        assert [a.alert_id for a in await store.alerts(before=at(4))] == ["A-3", "A-2", "A-1"]
        page = await store.alerts(open_only=True, limit=1, before=at(5))
        assert [a.alert_id for a in page] == ["A-3"]

    async def test_acknowledge_alert(self, store: Store) -> None:
        await store.upsert([minimal_alert("A-1", at(0))])
        assert await store.acknowledge_alert("A-1", "operator", at(1, ms=5)) is True
        (got,) = await store.alerts()
        assert (got.acknowledged_at, got.acknowledged_by) == (at(1, ms=5), "operator")
        assert_utc(got)
        assert got.open  # acknowledging does not close
        assert await store.acknowledge_alert("A-404", "operator", at(1)) is False
        assert await store.alerts() == [got]

    async def test_acknowledgement_survives_upsert(self, store: Store) -> None:
        opened = minimal_alert("A-1", at(0))
        await store.upsert([opened])
        await store.acknowledge_alert("A-1", "operator", at(1))
        closed = dataclasses.replace(opened, closed_at=at(5))
        await store.upsert([closed])
        await store.upsert([closed])
        assert await store.alerts() == [
            dataclasses.replace(closed, acknowledged_at=at(1), acknowledged_by="operator")
        ]

    async def test_acknowledgements_survive_a_replay(self, store: Store) -> None:
        alert = minimal_alert("A-1", at(0))
        await store.upsert([alert])
        await store.acknowledge_alert("A-1", "operator", at(1))
        await store.clear_derived()
        assert await store.acknowledge_alert("A-1", "operator", at(2)) is False
        await store.upsert([alert])
        (replayed,) = await store.alerts(open_only=True)
        assert (replayed.acknowledged_at, replayed.acknowledged_by) == (at(1), "operator")

    # -- security events and transfer statuses

    async def test_security_event_round_trip_and_replaced_by_key(self, store: Store) -> None:
        full = SecurityEvent(
            "CP-1", at(0), "TamperDetectionActivated", at(0, ms=7), True, "door \u00e9 <b>"
        )
        minimal = SecurityEvent("CP-1", at(1), "InvalidMessages", at(1))
        await store.upsert([full, minimal, SecurityEvent("CP-2", at(2), "X", at(2))])
        got = await store.security_events("CP-1")
        assert got == [minimal, full]
        for event in got:
            assert_utc(event)
        again = dataclasses.replace(full, received_at=at(5))  # sent again, same key
        await store.upsert([again])
        assert await store.security_events("CP-1") == [minimal, again]

    async def test_security_events_newest_first_before_and_limit(self, store: Store) -> None:
        await store.upsert(
            [SecurityEvent("CP-1", at(i), f"T{i}", at(i)) for i in range(1, 6)]
            + [SecurityEvent("CP-1", at(3), "S3", at(3))]
        )
        types = [e.event_type for e in await store.security_events("CP-1")]
        assert types == ["T5", "T4", "T3", "S3", "T2", "T1"]
        assert [e.event_type for e in await store.security_events("CP-1", limit=2)] == [
            "T5",
            "T4",
        ]
        page = await store.security_events("CP-1", limit=2, before=at(4))
        assert [e.event_type for e in page] == ["T3", "S3"]
        assert await store.security_events("CP-404") == []

    async def test_transfer_statuses_latest_per_transfer(self, store: Store) -> None:
        firmware = TransferStatus("CP-1", "firmware", "Downloading", at(0), 7)
        log = TransferStatus("CP-1", "log", "Uploading", at(1))
        await store.upsert([firmware, log, TransferStatus("CP-2", "log", "Idle", at(0))])
        installed = dataclasses.replace(firmware, status="Installed", at=at(2))
        await store.upsert([installed])
        got = await store.transfer_statuses("CP-1")
        assert got == [installed, log]
        for status in got:
            assert_utc(status)
        assert await store.transfer_statuses("CP-404") == []

    async def test_clear_derived_clears_security_records(self, store: Store) -> None:
        await store.upsert(
            [
                SecurityEvent("CP-1", at(0), "ResetOrReboot", at(0), True),
                TransferStatus("CP-1", "log", "Uploaded", at(0), 1),
            ]
        )
        await store.clear_derived()
        assert await store.security_events("CP-1") == []
        assert await store.transfer_statuses("CP-1") == []

    # -- the whole derived family

    async def test_upsert_is_idempotent(self, store: Store) -> None:
        batch = [
            full_state("CP-1"),
            ChargePointState("CP-2"),
            full_interval(at(0)),
            StatusInterval("CP-1", 2, at(1), "Available"),
            full_session(7),
            Session(8, "CP-2", stop_time=at(3)),
            full_meter_value(at(0)),
            MeterValue("CP-1", 1, at(1), "SoC", 55.0, "Percent", 7),
            full_alert("A-1"),
            minimal_alert("A-2", at(2)),
        ]
        await store.upsert(batch)
        first = await derived_snapshot(store)
        assert [len(part) for part in first] == [2, 2, 2, 2, 2]
        await store.upsert(batch)
        assert await derived_snapshot(store) == first

    async def test_upsert_nothing(self, store: Store) -> None:
        await store.upsert([])
        assert await derived_snapshot(store) == ([], [], [], [], [])

    async def test_clear_derived_keeps_operator_data(self, store: Store) -> None:
        registration, tag = full_registration("CP-1"), IdTag("TAG-1", IdTagStatus.BLOCKED)
        rule, cmd = AlertRule("R-1", "SoC", "<", 10.0), command("C-1", at(0))
        await store.put_registration(registration)
        await store.put_id_tag(tag)
        await store.put_alert_rule(rule)
        await store.record_command(cmd)
        transaction_id = await store.allocate_transaction_id("start-1")
        await store.upsert(
            [
                full_state("CP-1"),
                full_interval(at(0)),
                full_session(transaction_id),
                dataclasses.replace(full_meter_value(at(0)), transaction_id=transaction_id),
                minimal_alert("A-1", at(0)),
            ]
        )

        await store.clear_derived()

        assert await derived_snapshot(store) == ([], [], [], [], [])
        assert await store.get_session(transaction_id) is None
        assert await store.meter_values(transaction_id) == []
        assert await store.status_history("CP-1", FOREVER_START, FOREVER_END) == []
        assert await store.list_registrations() == [registration]
        assert await store.list_id_tags() == [tag]
        assert await store.list_alert_rules() == [rule]
        assert await store.commands() == [cmd]
        assert await store.allocate_transaction_id("start-1") == transaction_id
        assert await store.allocate_transaction_id("start-2") != transaction_id


def device_variable(
    component: str,
    variable: str,
    updated_at: datetime = T0,
    source: VariableSource = VariableSource.REPORT,
    charge_point_id: str = "CP-1",
    **fields: Any,
) -> DeviceVariable:
    return DeviceVariable(charge_point_id, component, variable, updated_at, source, **fields)


def site_allocation(site_id: str, charge_point_id: str, connector_id: int) -> SiteAllocation:
    return SiteAllocation(
        site_id=site_id,
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        limit_a=15.9,
        limit_w=10971.0,
        unit="A",
        phases=3,
        decided_at=at(ms=5),
        transaction_id=connector_id or None,
        status="Accepted" if connector_id else None,
        answered_at=at(1) if connector_id else None,
    )


def reservation(reservation_id: int, charge_point_id: str, requested: datetime) -> Reservation:
    return Reservation(
        reservation_id=reservation_id,
        charge_point_id=charge_point_id,
        connector_id=1,
        id_tag="TAG-1",
        expiry_date=requested + timedelta(hours=1),
        requested_at=requested,
        status=ReservationStatus.ACTIVE,
        updated_at=requested + timedelta(seconds=1),
        parent_id_tag="PARENT",
    )


def charging_profile(profile_id: int) -> ChargingProfile:
    """Every field set."""
    return ChargingProfile(
        profile_id=profile_id,
        name="Night — 16 A",
        stack_level=2,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.RECURRING,
        unit=ChargingRateUnit.AMPERES,
        periods=(SchedulePeriod(0, 16.0, 3), SchedulePeriod(3600, 8.5, 1)),
        created_at=at(0),
        recurrency_kind=RecurrencyKind.DAILY,
        valid_from=at(1),
        valid_to=at(1440),  # a day later
        duration=7200,
        start_schedule=at(2),
        min_charging_rate=6.0,
    )


def minimal_charging_profile(profile_id: int) -> ChargingProfile:
    return ChargingProfile(
        profile_id=profile_id,
        name="Cap",
        stack_level=0,
        purpose=ChargingProfilePurpose.CHARGE_POINT_MAX,
        kind=ChargingProfileKind.RELATIVE,
        unit=ChargingRateUnit.WATTS,
        periods=(SchedulePeriod(0, 11000.0),),
        created_at=at(0),
    )


def installed_profile(
    charge_point_id: str, connector_id: int, profile_id: int
) -> InstalledChargingProfile:
    return InstalledChargingProfile(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        charging_profile_id=profile_id,
        stack_level=1,
        purpose="TxProfile",
        installed_at=at(1),
        profile={"chargingProfileId": profile_id, "stackLevel": 1, "transactionId": 42},
        transaction_id=42,
    )


def notification(alert_id: str, created_at: datetime) -> Notification:
    return Notification(
        notification_id=Notification.id_for(alert_id, "hook", "opened"),
        channel_id="hook",
        alert_id=alert_id,
        charge_point_id="CP-1",
        transition="opened",
        created_at=created_at,
    )
