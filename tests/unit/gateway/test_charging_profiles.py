"""SetChargingProfile's payload from a stored profile, valid against the OCPP 1.6 schema."""

from __future__ import annotations

import dataclasses

from chargestream.domain.records import ChargingProfilePurpose
from chargestream.gateway.charging_profiles import set_charging_profile
from chargestream.gateway.schemas import validate_request
from tests.storage_contract import charging_profile, minimal_charging_profile


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
