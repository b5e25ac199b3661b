"""The rules of a charging profile and of its assignment (domain/charging_profiles.py)."""

from __future__ import annotations

import dataclasses

import pytest

from chargestream.domain.charging_profiles import (
    MAX_PERIODS,
    InvalidProfile,
    check,
    check_assignment,
    periods_as_dicts,
    periods_of,
    problems,
)
from chargestream.domain.records import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    RecurrencyKind,
    SchedulePeriod,
)
from tests.storage_contract import at, charging_profile, minimal_charging_profile

RELATIVE = ChargingProfileKind.RELATIVE
TX = ChargingProfilePurpose.TX


def test_well_formed_profiles_keep_every_rule() -> None:
    assert problems(charging_profile(1)) == []
    assert problems(minimal_charging_profile(2)) == []
    check(charging_profile(1))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": " "}, "name must be 1 to 100 characters"),
        ({"name": "x" * 101}, "name must be 1 to 100 characters"),
        ({"stack_level": -1}, "stack_level must be 0 to 100"),
        ({"profile_id": 1_000_000_000}, "profile_id must be 1 to 999999999"),
        ({"valid_from": at(1440)}, "valid_from must be before valid_to"),
        ({"recurrency_kind": None}, "a Recurring profile needs a recurrency_kind"),
        ({"start_schedule": None}, "a Recurring profile needs a start_schedule"),
        ({"kind": RELATIVE}, "only a Recurring profile has a recurrency_kind"),
        ({"duration": 86_401}, "duration must be 1 to 86400 seconds"),
        ({"min_charging_rate": -1.0}, "min_charging_rate must be 0 to 1e+06 in steps of 0.1"),
        ({"min_charging_rate": 6.05}, "min_charging_rate must be 0 to 1e+06 in steps of 0.1"),
        ({"periods": (SchedulePeriod(0, 1.15),)}, "limits are multiples of 0.1"),
        ({"periods": ()}, f"a schedule has 1 to {MAX_PERIODS} periods"),
        (
            {"periods": tuple(SchedulePeriod(i, 1.0) for i in range(MAX_PERIODS + 1))},
            f"a schedule has 1 to {MAX_PERIODS} periods",
        ),
        ({"periods": (SchedulePeriod(5, 1.0),)}, "the first period starts at 0"),
        (
            {"periods": (SchedulePeriod(0, 1.0), SchedulePeriod(0, 2.0))},
            "each period starts after the one before",
        ),
        (
            {"periods": (SchedulePeriod(0, 1.0), SchedulePeriod(7200, 2.0))},
            "every period starts before the schedule's duration ends",
        ),
        ({"periods": (SchedulePeriod(0, -1.0),)}, "limits must be 0 to 1e+06"),
        ({"periods": (SchedulePeriod(0, 1.0, 4),)}, "number_phases must be 1 to 3"),
    ],
)
def test_each_broken_rule_is_named(changes: dict[str, object], problem: str) -> None:
    broken = dataclasses.replace(charging_profile(1), **changes)  # type: ignore[arg-type]
    assert problem in problems(broken)
    with pytest.raises(InvalidProfile, match=problem.split(" must")[0][:20]):
        check(broken)


def test_a_relative_profile_has_no_start_schedule_and_weekly_lasts_a_week() -> None:
    relative = dataclasses.replace(minimal_charging_profile(1), start_schedule=at(0))
    assert problems(relative) == ["a Relative profile has no start_schedule"]
    weekly = dataclasses.replace(
        charging_profile(1), recurrency_kind=RecurrencyKind.WEEKLY, duration=7 * 86_400
    )
    assert problems(weekly) == []


def test_assignment_rules_per_purpose() -> None:
    cap = minimal_charging_profile(1)  # ChargePointMaxProfile
    check_assignment(cap, 0, None)
    with pytest.raises(InvalidProfile, match="connector 0 only"):
        check_assignment(cap, 1, None)
    tx = dataclasses.replace(charging_profile(2), purpose=TX)
    check_assignment(tx, 1, 42)
    with pytest.raises(InvalidProfile, match="needs a transaction_id"):
        check_assignment(tx, 1, None)
    with pytest.raises(InvalidProfile, match=r"needs a connector \(not 0\)"):
        check_assignment(tx, 0, 42)
    default = charging_profile(3)  # TxDefaultProfile
    check_assignment(default, 0, None)
    with pytest.raises(InvalidProfile, match="only a TxProfile takes a transaction_id"):
        check_assignment(default, 1, 42)
    with pytest.raises(InvalidProfile, match="connector_id must be 0 to 100"):
        check_assignment(default, 101, None)


def test_periods_round_trip_as_plain_data() -> None:
    periods = charging_profile(1).periods
    assert periods_of(periods_as_dicts(periods)) == periods
    assert periods_as_dicts((SchedulePeriod(0, 6.0),)) == [
        {"start_period": 0, "limit": 6.0, "number_phases": None}
    ]
