"""Charging profile commands from a stored profile, valid against the OCPP 1.6 and 2.0.1 schemas."""

from __future__ import annotations

import dataclasses

from chargestream.domain.profile_messages import (
    ProfileTransaction,
    clear_charging_profile_in,
    get_composite_schedule_in,
    set_charging_profile,
    set_charging_profile_in,
)
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import ChargingProfilePurpose
from chargestream.gateway.schemas import validate_request
from tests.ocpp201_frames import valid
from tests.storage_contract import charging_profile, minimal_charging_profile

V16, V201 = OcppVersion.V16, OcppVersion.V201


def test_every_field_is_sent_in_the_ocpp_form() -> None:
    payload = set_charging_profile(charging_profile(3), 2)
    assert payload == {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": 3,
            "stackLevel": 2,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validFrom": "2024-03-01T12:01:00.000Z",
            "validTo": "2024-03-02T12:00:00.000Z",
            "chargingSchedule": {
                "duration": 7200,
                "startSchedule": "2024-03-01T12:02:00.000Z",
                "chargingRateUnit": "A",
                "minChargingRate": 6.0,
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 3600, "limit": 8.5, "numberPhases": 1},
                ],
            },
        },
    }
    validate_request("SetChargingProfile", payload)


def test_optional_fields_are_left_out_and_a_tx_profile_names_its_transaction() -> None:
    payload = set_charging_profile(minimal_charging_profile(1), 0)
    assert payload == {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
            },
        },
    }
    validate_request("SetChargingProfile", payload)
    tx = dataclasses.replace(minimal_charging_profile(4), purpose=ChargingProfilePurpose.TX)
    sent = set_charging_profile(tx, 1, 42)
    assert sent["csChargingProfiles"]["transactionId"] == 42
    validate_request("SetChargingProfile", sent)


def test_the_2_0_1_form_has_an_evse_a_numbered_schedule_and_the_2_0_1_purpose() -> None:
    payload = set_charging_profile_in(V201, charging_profile(3), 2)
    assert payload == valid(
        "SetChargingProfile",
        {
            "evseId": 2,
            "chargingProfile": {
                "id": 3,
                "stackLevel": 2,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "validFrom": "2024-03-01T12:01:00.000Z",
                "validTo": "2024-03-02T12:00:00.000Z",
                "chargingSchedule": [
                    {
                        "id": 3,
                        "duration": 7200,
                        "startSchedule": "2024-03-01T12:02:00.000Z",
                        "chargingRateUnit": "A",
                        "minChargingRate": 6.0,
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                            {"startPeriod": 3600, "limit": 8.5, "numberPhases": 1},
                        ],
                    }
                ],
            },
        },
    )
    cap = set_charging_profile_in(V201, minimal_charging_profile(1), 0)
    assert cap["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    valid("SetChargingProfile", cap)


def test_a_tx_profile_names_the_transaction_as_its_version_does() -> None:
    tx = dataclasses.replace(minimal_charging_profile(4), purpose=ChargingProfilePurpose.TX)
    transaction = ProfileTransaction(2**40, "tx-abc")
    v201 = set_charging_profile_in(V201, tx, 1, transaction)
    assert valid("SetChargingProfile", v201)["chargingProfile"]["transactionId"] == "tx-abc"
    v16 = set_charging_profile_in(V16, tx, 1, ProfileTransaction(42))
    assert v16 == set_charging_profile(tx, 1, 42)


def test_clear_and_composite_schedule_per_version() -> None:
    assert clear_charging_profile_in(V201) == valid("ClearChargingProfile", {})
    assert clear_charging_profile_in(V201, 7) == {"chargingProfileId": 7}
    criteria = clear_charging_profile_in(V201, None, 1, "ChargePointMaxProfile", 0)
    assert criteria == valid(
        "ClearChargingProfile",
        {
            "chargingProfileCriteria": {
                "evseId": 1,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "stackLevel": 0,
            }
        },
    )
    assert clear_charging_profile_in(V16, 7, 1) == {"id": 7, "connectorId": 1}
    composite = get_composite_schedule_in(V201, 1, 3600, "W")
    assert composite == valid(
        "GetCompositeSchedule", {"evseId": 1, "duration": 3600, "chargingRateUnit": "W"}
    )
    assert get_composite_schedule_in(V16, 0, 60) == {"connectorId": 0, "duration": 60}
    validate_request("GetCompositeSchedule", get_composite_schedule_in(V16, 0, 60))
