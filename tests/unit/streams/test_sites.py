"""SiteController on a real SQLite store with a recording command path: what it sends and
stores for the charge points' answers, holding increases, clearing, ownership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargestream.domain.frames import EventKind, FrameEvent, LoggedEvent
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    Session,
    Site,
    SiteAllocation,
)
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.control import Observed, owns_everything
from chargestream.streams.site_plan import PROFILE_ID_BASE
from chargestream.streams.sites import SiteController, answer_of
from tests.ocpp201_frames import valid
from tests.unit.streams.test_runner import store

__all__ = ["store"]  # fixture

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class ChargePoints:
    """The command path: answers each command as ``answers`` says (default Accepted)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.outcomes: dict[str, CommandOutcome] = {}

    async def send(self, cp: str, action: str, payload: dict[str, Any]) -> object:
        self.sent.append((cp, action, payload))
        outcome = self.outcomes.get(cp, CommandOutcome.ANSWERED)
        response = {"status": "Accepted"} if outcome is CommandOutcome.ANSWERED else None
        return CommandRecord("c", cp, action, payload, T0, outcome, response)

    def limits(self) -> list[tuple[str, int, float]]:
        return [
            (
                cp,
                payload["connectorId"],
                payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0][
                    "limit"
                ],
            )
            for cp, action, payload in self.sent
            if action == "SetChargingProfile"
        ]


async def a_site_with_one_session(store: SqliteStore) -> None:
    await store.put_site(Site("depot", ("CP-1", "CP-2"), T0, max_current_a=32.0))
    await store.upsert(
        [
            ChargePointState("CP-1", connected=True, connected_since=T0),
            ChargePointState("CP-2", connected=True, connected_since=T0),
            Session(1, "CP-1", connector_id=1, start_time=T0),
        ]
    )


async def test_a_pass_sends_the_defaults_and_the_share_and_stores_the_answers(
    store: SqliteStore,
) -> None:
    points = ChargePoints()
    controller = SiteController(store, points.send, clock=lambda: T0 + timedelta(seconds=1))
    await a_site_with_one_session(store)

    await controller.reconcile(T0, owns_everything)
    await controller.drain()

    assert points.limits() == [("CP-1", 0, 0.0), ("CP-2", 0, 0.0), ("CP-1", 1, 32.0)]
    rows = await store.site_allocations("depot")
    assert [(r.charge_point_id, r.connector_id, r.status) for r in rows] == [
        ("CP-1", 0, "Accepted"),
        ("CP-1", 1, "Accepted"),
        ("CP-2", 0, "Accepted"),
    ]
    await controller.reconcile(T0, owns_everything)  # confirmed: nothing to resend
    await controller.drain()
    assert len(points.sent) == 3


async def test_an_undelivered_decrease_holds_the_increases(store: SqliteStore) -> None:
    points = ChargePoints()
    controller = SiteController(store, points.send)
    await a_site_with_one_session(store)
    await controller.reconcile(T0, owns_everything)
    await controller.drain()
    points.sent.clear()
    points.outcomes["CP-1"] = CommandOutcome.TIMED_OUT
    await store.upsert([Session(2, "CP-2", connector_id=1, start_time=T0 + timedelta(minutes=1))])

    await controller.reconcile(T0, owns_everything)
    await controller.drain()

    assert points.limits() == [("CP-1", 1, 16.0)]  # CP-2's 16 A waits
    rows = {(r.charge_point_id, r.connector_id): r for r in await store.site_allocations()}
    assert rows["CP-1", 1].status == "timed_out"
    assert ("CP-2", 1) not in rows


async def test_a_removed_site_has_its_profiles_cleared_and_forgotten(store: SqliteStore) -> None:
    points = ChargePoints()
    controller = SiteController(store, points.send)
    await a_site_with_one_session(store)
    await controller.reconcile(T0, owns_everything)
    await controller.drain()
    points.sent.clear()

    await store.delete_site("depot")
    await controller.reconcile(T0, owns_everything)
    await controller.drain()

    assert sorted((cp, p["id"]) for cp, action, p in points.sent) == [
        ("CP-1", PROFILE_ID_BASE),
        ("CP-1", PROFILE_ID_BASE + 1),
        ("CP-2", PROFILE_ID_BASE),
    ]
    assert {action for _, action, _ in points.sent} == {"ClearChargingProfile"}
    assert await store.site_allocations() == []


async def test_a_start_is_acted_on_only_for_a_site_this_process_owns(store: SqliteStore) -> None:
    points = ChargePoints()
    controller = SiteController(store, points.send)
    await a_site_with_one_session(store)
    session = Session(1, "CP-1", connector_id=1, start_time=T0)
    event = FrameEvent("CP-1", EventKind.FRAME, "[3]", "n", "c", 1, 0, action="StartTransaction")
    batch = [Observed(LoggedEvent(1, event), [session])]

    await controller.observe(batch)  # before any pass it owns nothing
    await controller.reconcile(T0, lambda key: key != "site:depot")
    await controller.observe(batch)
    assert points.sent == []

    await controller.reconcile(T0, lambda key: key == "site:depot")
    await controller.drain()
    points.sent.clear()
    await store.put_site_allocation(
        SiteAllocation("depot", "CP-1", 1, 10.0, 6900.0, "A", 3, T0, 1, "Rejected", T0)
    )
    await controller.observe(batch)
    await controller.drain()
    assert points.limits() == [("CP-1", 1, 32.0)]


def test_the_answer_is_the_charge_points_status_or_the_outcome() -> None:
    answered = CommandRecord("c", "CP", "X", {}, T0, CommandOutcome.ANSWERED, {"status": "No"})
    lost = CommandRecord("c", "CP", "X", {}, T0, CommandOutcome.NOT_CONNECTED)
    assert (answer_of(answered), answer_of(lost), answer_of(None)) == (
        "No",
        "not_connected",
        "error",
    )


async def test_a_2_0_1_charge_point_gets_the_2_0_1_form_with_its_transaction_id(
    store: SqliteStore,
) -> None:
    points = ChargePoints()
    controller = SiteController(store, points.send)
    await store.put_site(Site("mixed", ("CP-1", "CS-2"), T0, max_current_a=32.0))
    await store.upsert(
        [
            ChargePointState("CP-1", connected=True, connected_since=T0),
            ChargePointState(
                "CS-2", connected=True, connected_since=T0, ocpp_version=OcppVersion.V201
            ),
            Session(1, "CP-1", connector_id=1, start_time=T0),
            Session(
                2**40,
                "CS-2",
                connector_id=1,
                start_time=T0 + timedelta(minutes=1),
                station_transaction_id="tx-7",
                evse_id=1,
            ),
        ]
    )
    await controller.reconcile(T0, owns_everything)
    await controller.drain()

    sent = {(cp, p.get("connectorId", p.get("evseId"))): p for cp, _, p in points.sent}
    assert sent["CP-1", 1]["csChargingProfiles"]["transactionId"] == 1
    tx_profile = valid("SetChargingProfile", sent["CS-2", 1])["chargingProfile"]
    assert tx_profile["transactionId"] == "tx-7"
    assert tx_profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 16.0
    default = valid("SetChargingProfile", sent["CS-2", 0])["chargingProfile"]
    assert default["chargingProfilePurpose"] == "TxDefaultProfile"

    await store.put_site(Site("mixed", ("CP-1",), T0, max_current_a=32.0))  # CS-2 leaves
    points.sent.clear()
    await controller.reconcile(T0, owns_everything)
    await controller.drain()
    cleared = [p for cp, action, p in points.sent if action == "ClearChargingProfile"]
    assert sorted(p["chargingProfileId"] for p in cleared) == [PROFILE_ID_BASE, PROFILE_ID_BASE + 1]


async def test_a_2_0_1_transaction_event_that_emits_a_session_rebalances(
    store: SqliteStore,
) -> None:
    points = ChargePoints()
    controller = SiteController(store, points.send)
    await a_site_with_one_session(store)
    await controller.reconcile(T0, owns_everything)
    await controller.drain()
    points.sent.clear()
    session = Session(2**40, "CP-2", connector_id=1, start_time=T0, station_transaction_id="t")
    await store.upsert([session])
    event = FrameEvent("CP-2", EventKind.FRAME, "[3]", "n", "c", 1, 0, action="TransactionEvent")

    await controller.observe([Observed(LoggedEvent(1, event), [])])  # no session: nothing
    assert points.sent == []
    await controller.observe([Observed(LoggedEvent(2, event), [session])])
    await controller.drain()
    assert points.limits() == [("CP-1", 1, 16.0), ("CP-2", 1, 16.0)]
