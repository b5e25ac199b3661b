"""Installed charging profiles of an OCPP 2.0.1 charge point, from its answers to the 2.0.1
SetChargingProfile and ClearChargingProfile (schema-valid frames): the same records and
rules as 1.6, a TxProfile kept under its session's id and removed when the transaction ends."""

from __future__ import annotations

from typing import Any

from chargestream.domain.records import InstalledChargingProfile, ProfileRemoval
from chargestream.streams.derive_v201 import transaction_id
from chargestream.streams.state import ChargePointDerivation
from tests.ocpp201_frames import valid
from tests.unit.streams.test_derive import CP, at, run
from tests.unit.streams.test_derive_charging_profiles import installed, stored
from tests.unit.streams.test_derive_reservations import command
from tests.unit.streams.test_derive_v201 import ENDED, STARTED, Log201, booted


def profile(
    profile_id: int,
    stack_level: int = 0,
    purpose: str = "TxDefaultProfile",
    station_transaction_id: str | None = None,
) -> dict[str, Any]:
    made: dict[str, Any] = {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": profile_id,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
    }
    if station_transaction_id is not None:
        made["transactionId"] = station_transaction_id
    return made


def install(log: Log201, evse_id: int, made: dict[str, Any], status: str = "Accepted") -> None:
    request = valid("SetChargingProfile", {"evseId": evse_id, "chargingProfile": made})
    command(log, "SetChargingProfile", request, {"status": status})


def clear(log: Log201, request: dict[str, Any], status: str = "Accepted") -> None:
    command(log, "ClearChargingProfile", valid("ClearChargingProfile", request), {"status": status})


def test_an_accepted_2_0_1_set_charging_profile_installs_it() -> None:
    log = booted()
    install(log, 0, profile(5, purpose="ChargingStationMaxProfile"))
    install(log, 1, profile(6), status="Rejected")
    command(log, "SetChargingProfile", {"evseId": 1, "chargingProfile": profile(7)}, None)
    state, records = run(log.events)
    assert stored(records) == {
        (0, 5): InstalledChargingProfile(
            charge_point_id=CP,
            connector_id=0,
            charging_profile_id=5,
            stack_level=0,
            purpose="ChargingStationMaxProfile",
            installed_at=at(4),
            profile=profile(5, purpose="ChargingStationMaxProfile"),
        )
    }
    assert installed(state) == [(0, 5)]
    assert ChargePointDerivation.from_json(state.to_json()) == state


def test_the_2_0_1_replacement_rules_are_those_of_1_6() -> None:
    log = booted()
    install(log, 1, profile(5, stack_level=1))
    install(log, 2, profile(5, stack_level=2))  # the same id elsewhere replaces
    install(log, 2, profile(6, stack_level=2))  # the same level and purpose replaces
    state, records = run(log.events)
    rows = stored(records)
    assert rows[(1, 5)].removed_by is ProfileRemoval.REPLACED
    assert rows[(2, 5)].removed_by is ProfileRemoval.REPLACED
    assert installed(state) == [(2, 6)]


def test_clear_by_id_or_by_criteria() -> None:
    log = booted()
    install(log, 1, profile(5, stack_level=1))
    install(log, 1, profile(6, stack_level=2))
    install(log, 2, profile(7, stack_level=1))
    install(log, 0, profile(8, purpose="ChargingStationMaxProfile"))
    clear(log, {"chargingProfileId": 6, "chargingProfileCriteria": {"evseId": 2}})
    state, _ = run(log.events)
    assert installed(state) == [(0, 8), (1, 5), (2, 7)]
    criteria = {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}
    clear(log, {"chargingProfileCriteria": criteria})
    clear(log, {"chargingProfileCriteria": {"stackLevel": 1}}, status="Unknown")
    state, _ = run(log.events)
    assert installed(state) == [(0, 8), (2, 7)]
    clear(log, {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationMaxProfile"}})
    state, _ = run(log.events)
    assert installed(state) == [(2, 7)]
    clear(log, {})
    state, records = run(log.events)
    assert state.profiles == ()
    assert not any(row.installed for row in stored(records).values())


def test_a_tx_profile_is_kept_under_its_session_and_goes_when_the_transaction_ends() -> None:
    log = booted()
    log.call("TransactionEvent", STARTED)
    install(log, 1, profile(5, purpose="TxProfile", station_transaction_id="tx-1"))
    install(log, 2, profile(6, purpose="TxProfile", station_transaction_id="tx-2"))
    install(log, 1, profile(7))  # a default stays
    state, records = run(log.events)
    assert stored(records)[(1, 5)].transaction_id == transaction_id(CP, "tx-1")
    assert installed(state) == [(1, 5), (1, 7), (2, 6)]
    log.call("TransactionEvent", ENDED)
    state, records = run(log.events)
    assert stored(records)[(1, 5)].removed_by is ProfileRemoval.TRANSACTION_STOPPED
    assert installed(state) == [(1, 7), (2, 6)]
    log.call("TransactionEvent", ENDED)  # repeated: nothing more goes
    again, _ = run(log.events)
    assert installed(again) == [(1, 7), (2, 6)]


def test_a_malformed_2_0_1_request_installs_nothing() -> None:
    log = booted()
    command(log, "SetChargingProfile", {"evseId": -1, "chargingProfile": profile(5)}, {})
    long_id = profile(6, purpose="TxProfile", station_transaction_id="x" * 37)
    for request in (
        {"evseId": 1, "chargingProfile": {"id": "x"}},
        {"evseId": 1, "chargingProfile": long_id},
        {"evseId": 1},
    ):
        command(log, "SetChargingProfile", request, {"status": "Accepted"})
    state, records = run(log.events)
    assert stored(records) == {} and state.profiles == ()


def test_replay_derives_the_same_2_0_1_installed_profiles() -> None:
    log = booted()
    log.call("TransactionEvent", STARTED)
    install(log, 1, profile(5, purpose="TxProfile", station_transaction_id="tx-1"))
    install(log, 0, profile(6, purpose="ChargingStationMaxProfile"))
    clear(log, {"chargingProfileId": 6})
    log.call("TransactionEvent", ENDED)
    first_state, first = run(log.events)
    middle, head = run(log.events[:8])
    resumed, rest = run(log.events[8:], state=ChargePointDerivation.from_json(middle.to_json()))
    assert (first_state, first) == run(log.events)
    assert resumed == first_state
    assert stored(head + rest) == stored(first)
    assert not any(row.installed for row in stored(first).values())
