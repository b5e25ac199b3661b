"""Derivation of installed charging profiles: SetChargingProfile Accepted installs (OCPP's
replacement rules), ClearChargingProfile Accepted removes by its criteria, a TxProfile goes
when its transaction stops; removal is a new version of the record, replay gives the same."""

from __future__ import annotations

from typing import Any

from chargestream.domain.records import InstalledChargingProfile, ProfileRemoval
from chargestream.streams.state import ChargePointDerivation
from tests.unit.streams.test_derive import CP, Log, at, final, iso, run
from tests.unit.streams.test_derive_reservations import command, started_log


def profile(
    profile_id: int,
    stack_level: int = 0,
    purpose: str = "TxDefaultProfile",
    transaction_id: int | None = None,
) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }
    if transaction_id is not None:
        cs["transactionId"] = transaction_id
    return cs


def install(log: Log, connector_id: int, cs: dict[str, Any], status: str = "Accepted") -> None:
    command(
        log,
        "SetChargingProfile",
        {"connectorId": connector_id, "csChargingProfiles": cs},
        {"status": status},
    )


def clear(log: Log, criteria: dict[str, Any], status: str = "Accepted") -> None:
    command(log, "ClearChargingProfile", criteria, {"status": status})


def stored(records: list[Any]) -> dict[tuple[int, int], InstalledChargingProfile]:
    """The installed-profile rows the store holds after ``records``, by (connector, id)."""
    return {
        (r.connector_id, r.charging_profile_id): r
        for r in final(records).values()
        if isinstance(r, InstalledChargingProfile)
    }


def installed(state: ChargePointDerivation) -> list[tuple[int, int]]:
    return sorted((p.connector_id, p.charging_profile_id) for p in state.profiles)


def test_an_accepted_set_charging_profile_installs_it() -> None:
    log = started_log()
    install(log, 1, profile(5, transaction_id=None))
    state, records = run(log.events)
    assert stored(records) == {
        (1, 5): InstalledChargingProfile(
            charge_point_id=CP,
            connector_id=1,
            charging_profile_id=5,
            stack_level=0,
            purpose="TxDefaultProfile",
            installed_at=at(3),
            profile=profile(5),
        )
    }
    assert installed(state) == [(1, 5)]
    assert ChargePointDerivation.from_json(state.to_json()) == state


def test_rejected_unanswered_or_malformed_set_charging_profiles_install_nothing() -> None:
    log = started_log()
    install(log, 1, profile(5), status="Rejected")
    install(log, 1, profile(6), status="NotSupported")
    command(log, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile(7)}, None)
    install(log, 1, {"chargingProfileId": "x"})
    install(log, -1, profile(8))
    state, records = run(log.events)
    assert stored(records) == {} and state.profiles == ()


def test_the_same_id_replaces_even_on_another_connector() -> None:
    log = started_log()
    install(log, 1, profile(5, stack_level=1))
    install(log, 2, profile(5, stack_level=2))
    state, records = run(log.events)
    rows = stored(records)
    assert (rows[(1, 5)].removed_by, rows[(1, 5)].removed_at) == (ProfileRemoval.REPLACED, at(5))
    assert rows[(2, 5)].installed and rows[(2, 5)].stack_level == 2
    assert installed(state) == [(2, 5)]


def test_the_same_stack_level_and_purpose_on_the_same_connector_replaces() -> None:
    log = started_log()
    install(log, 1, profile(5, stack_level=1))
    install(log, 2, profile(6, stack_level=1))  # another connector: both stay
    install(log, 1, profile(7, stack_level=2))  # another stack level: stays
    install(log, 1, profile(8, stack_level=1, purpose="ChargePointMaxProfile"))  # purpose
    install(log, 1, profile(9, stack_level=1))
    state, records = run(log.events)
    assert stored(records)[(1, 5)].removed_by is ProfileRemoval.REPLACED
    assert installed(state) == [(1, 7), (1, 8), (1, 9), (2, 6)]


def test_installing_the_same_profile_again_keeps_one_installed_row() -> None:
    log = started_log()
    install(log, 1, profile(5))
    install(log, 1, profile(5))
    state, records = run(log.events)
    row = stored(records)[(1, 5)]
    assert row.installed and row.installed_at == at(5)
    assert installed(state) == [(1, 5)]


def test_clear_by_id_removes_only_that_profile() -> None:
    log = started_log()
    install(log, 1, profile(5))
    install(log, 2, profile(6))
    clear(log, {"id": 5, "connectorId": 2})  # the id alone decides
    state, records = run(log.events)
    rows = stored(records)
    assert (rows[(1, 5)].removed_by, rows[(1, 5)].removed_at) == (ProfileRemoval.CLEARED, at(7))
    assert installed(state) == [(2, 6)]


def test_clear_by_criteria_removes_every_match_and_none_given_clears_all() -> None:
    log = started_log()
    install(log, 1, profile(5, stack_level=1))
    install(log, 1, profile(6, stack_level=2))
    install(log, 2, profile(7, stack_level=1))
    install(log, 0, profile(8, stack_level=1, purpose="ChargePointMaxProfile"))
    clear(log, {"connectorId": 1, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile"})
    state, _ = run(log.events)
    assert installed(state) == [(0, 8), (1, 6), (2, 7)]
    clear(log, {"chargingProfilePurpose": "TxDefaultProfile"})
    state, _ = run(log.events)
    assert installed(state) == [(0, 8)]
    clear(log, {"id": 8}, status="Unknown")
    state, _ = run(log.events)
    assert installed(state) == [(0, 8)]
    clear(log, {})
    state, records = run(log.events)
    assert state.profiles == ()
    assert not any(row.installed for row in stored(records).values())


def test_a_tx_profile_goes_when_its_transaction_stops() -> None:
    log = started_log()
    start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(0)}
    log.result(log.unanswered("StartTransaction", start), {"transactionId": 42})
    install(log, 1, profile(5, purpose="TxProfile", transaction_id=42))
    install(log, 1, profile(6, stack_level=1, purpose="TxProfile"))  # the connector's
    install(log, 2, profile(7, purpose="TxProfile", transaction_id=43))  # another one's
    install(log, 1, profile(8))  # a default stays
    log.call("StopTransaction", {"transactionId": 42, "meterStop": 10, "timestamp": iso(99)})
    state, records = run(log.events)
    rows = stored(records)
    assert rows[(1, 5)].removed_by is ProfileRemoval.TRANSACTION_STOPPED
    assert rows[(1, 6)].removed_by is ProfileRemoval.TRANSACTION_STOPPED
    assert rows[(1, 5)].transaction_id == 42
    assert installed(state) == [(1, 8), (2, 7)]
    log.call("StopTransaction", {"transactionId": 42, "meterStop": 10, "timestamp": iso(99)})
    again, _ = run(log.events)
    assert installed(again) == [(1, 8), (2, 7)]


def test_replay_derives_the_same_installed_profiles() -> None:
    log = started_log()
    install(log, 1, profile(5, stack_level=1))
    install(log, 1, profile(6, stack_level=1))
    clear(log, {"id": 6})
    install(log, 0, profile(7, purpose="ChargePointMaxProfile"))
    first_state, first = run(log.events)
    middle, head = run(log.events[:6])
    resumed_state, rest = run(
        log.events[6:], state=ChargePointDerivation.from_json(middle.to_json())
    )
    again_state, again = run(log.events)
    assert (first_state, first) == (again_state, again)
    assert resumed_state == first_state
    assert stored(head + rest) == stored(first)
