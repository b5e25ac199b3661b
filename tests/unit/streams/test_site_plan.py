"""The site controller's plan: what to send, decreases first, nothing resent that holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chargestream.domain.records import Site, SiteAllocation
from chargestream.domain.site_limits import SiteSession, allocate
from chargestream.streams.site_plan import PROFILE_ID_BASE, Link, Plan, desired, plan

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SITE = Site("depot", ("CP-1", "CP-2"), T0, max_current_a=32)
ONLINE = {"CP-1": Link(True, T0), "CP-2": Link(True, T0)}


def wanted(*transactions: tuple[str, int]) -> list[SiteAllocation]:
    sessions = [SiteSession(cp, 1, tx, T0 + timedelta(minutes=tx)) for cp, tx in transactions]
    return desired(SITE, allocate(SITE, sessions), T0)


def confirmed(rows: list[SiteAllocation]) -> list[SiteAllocation]:
    return [replace(row, status="Accepted", answered_at=T0 + timedelta(seconds=1)) for row in rows]


def sent(result: Plan) -> list[tuple[str, int, float]]:
    return [
        (step.allocation.charge_point_id, step.allocation.connector_id, step.allocation.limit)
        for step in result.steps
    ]


def test_first_the_charge_points_defaults_of_0_then_the_session() -> None:
    result = plan(wanted(("CP-1", 1)), [], SITE.charge_points, ONLINE)
    assert sent(result) == [("CP-1", 0, 0.0), ("CP-2", 0, 0.0), ("CP-1", 1, 32.0)]
    default, _, session = result.steps
    assert default.payload == {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": PROFILE_ID_BASE,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0, "numberPhases": 3}],
            },
        },
    }
    profile = session.payload["csChargingProfiles"]
    assert (profile["chargingProfileId"], profile["transactionId"]) == (PROFILE_ID_BASE + 1, 1)
    assert profile["chargingProfilePurpose"] == "TxProfile"


def test_nothing_is_resent_that_the_charge_points_confirmed() -> None:
    rows = wanted(("CP-1", 1))
    assert plan(rows, confirmed(rows), SITE.charge_points, ONLINE) == Plan()


def test_a_reconnected_charge_point_gets_its_profiles_again() -> None:
    rows = wanted(("CP-1", 1))
    later = {**ONLINE, "CP-1": Link(True, T0 + timedelta(minutes=5))}
    result = plan(rows, confirmed(rows), SITE.charge_points, later)
    assert sent(result) == [("CP-1", 0, 0.0), ("CP-1", 1, 32.0)]


def test_an_unconfirmed_answer_is_sent_again() -> None:
    rows = wanted(("CP-1", 1))
    rejected = [replace(row, status="timed_out") for row in rows]
    assert len(plan(rows, rejected, SITE.charge_points, ONLINE).steps) == 3


def test_a_second_session_decreases_the_first_before_it_is_given_its_share() -> None:
    before = confirmed(wanted(("CP-1", 1)))
    result = plan(wanted(("CP-1", 1), ("CP-2", 2)), before, SITE.charge_points, ONLINE)
    assert sent(result) == [("CP-1", 1, 16.0), ("CP-2", 1, 16.0)]
    assert [step.decrease for step in result.steps] == [True, False]


def test_a_stop_forgets_the_ended_session_and_raises_the_other() -> None:
    before = confirmed(wanted(("CP-1", 1), ("CP-2", 2)))
    result = plan(wanted(("CP-2", 2)), before, SITE.charge_points, ONLINE)
    assert sent(result) == [("CP-2", 1, 32.0)]
    [ended] = result.forget
    assert (ended.charge_point_id, ended.transaction_id) == ("CP-1", 1)


def test_no_increase_while_a_decrease_cannot_be_delivered() -> None:
    before = confirmed(wanted(("CP-1", 1)))
    offline = {**ONLINE, "CP-1": Link(False, T0)}
    result = plan(wanted(("CP-1", 1), ("CP-2", 2)), before, SITE.charge_points, offline)
    assert result.steps == () and result.held == 1


def test_a_charge_point_that_left_the_site_has_its_profiles_cleared() -> None:
    before = confirmed(wanted(("CP-1", 1)))
    result = plan([], before, (), ONLINE)
    assert [(s.action, s.payload) for s in result.steps] == [
        ("ClearChargingProfile", {"id": PROFILE_ID_BASE}),
        ("ClearChargingProfile", {"id": PROFILE_ID_BASE}),
        ("ClearChargingProfile", {"id": PROFILE_ID_BASE + 1}),
    ]
