"""Validation against the official OCPP 1.6 schemas, and the CALLERROR code of each breach."""

from __future__ import annotations

from typing import Any

import pytest

from chargestream.gateway.schemas import (
    ALL_ACTIONS,
    CENTRAL_SYSTEM_ACTIONS,
    CHARGE_POINT_ACTIONS,
    SchemaViolation,
    compile_all,
    validate_request,
    validate_response,
)

TIME = "2026-11-27T10:00:00.000Z"


def violation(action: str, payload: Any, *, response: bool = False) -> SchemaViolation:
    validate = validate_response if response else validate_request
    with pytest.raises(SchemaViolation) as raised:
        validate(action, payload)
    return raised.value


def test_every_action_has_a_request_and_a_response_schema() -> None:
    compile_all()  # raises if a schema is missing or does not compile


def test_data_transfer_is_the_only_action_both_sides_send() -> None:
    both = CHARGE_POINT_ACTIONS & CENTRAL_SYSTEM_ACTIONS
    assert both == {"DataTransfer"}
    assert ALL_ACTIONS == CHARGE_POINT_ACTIONS | CENTRAL_SYSTEM_ACTIONS


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("BootNotification", {"chargePointVendor": "ABB", "chargePointModel": "T54"}),
        (
            "BootNotification",
            {
                "chargePointVendor": "ABB",
                "chargePointModel": "Terra 54",
                "chargePointSerialNumber": "S" * 25,
                "firmwareVersion": "1.2.3",
                "iccid": "8931",
                "meterType": "EM",
            },
        ),
        ("Heartbeat", {}),
        ("Authorize", {"idTag": "T" * 20}),
        (
            "StartTransaction",
            {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": TIME},
        ),
        ("StopTransaction", {"transactionId": 7, "meterStop": 10, "timestamp": TIME}),
        (
            "StatusNotification",
            {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": TIME},
        ),
        (
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 7,
                "meterValue": [
                    {
                        "timestamp": TIME,
                        "sampledValue": [
                            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                            {"value": "42", "measurand": "SoC", "unit": "Percent"},
                        ],
                    }
                ],
            },
        ),
        ("DataTransfer", {"vendorId": "com.example", "messageId": "x", "data": "anything"}),
        ("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": TIME}),
        ("Reset", {"type": "Hard"}),
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}),
        ("RemoteStartTransaction", {"idTag": "TAG1", "connectorId": 1}),
        ("GetConfiguration", {}),
    ],
)
def test_valid_request_passes(action: str, payload: dict[str, Any]) -> None:
    validate_request(action, payload)


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("BootNotification", {"status": "Pending", "currentTime": TIME, "interval": 300}),
        ("Authorize", {"idTagInfo": {"status": "Blocked", "expiryDate": TIME}}),
        ("StartTransaction", {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}),
        ("StopTransaction", {}),
        ("Heartbeat", {"currentTime": TIME}),
        ("Reset", {"status": "Rejected"}),
        ("DataTransfer", {"status": "Accepted", "data": "pong"}),
    ],
)
def test_valid_response_passes(action: str, payload: dict[str, Any]) -> None:
    validate_response(action, payload)


# -- each kind of breach, with the OCPP-J error code the gateway answers


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        # required: a field is missing
        ("BootNotification", {"chargePointVendor": "ABB"}, "OccurenceConstraintViolation"),
        ("Authorize", {}, "OccurenceConstraintViolation"),
        # minItems: an array is too short
        ("MeterValues", {"connectorId": 1, "meterValue": []}, "OccurenceConstraintViolation"),
        # type
        (
            "BootNotification",
            {"chargePointVendor": 1, "chargePointModel": "x"},
            "TypeConstraintViolation",
        ),
        (
            "StopTransaction",
            {"transactionId": 1.5, "meterStop": 1, "timestamp": TIME},
            "TypeConstraintViolation",
        ),
        (
            "StartTransaction",
            {"connectorId": "1", "idTag": "T", "meterStart": 0, "timestamp": TIME},
            "TypeConstraintViolation",
        ),
        # maxLength
        (
            "BootNotification",
            {"chargePointVendor": "x" * 21, "chargePointModel": "x"},
            "PropertyConstraintViolation",
        ),
        ("Authorize", {"idTag": "T" * 21}, "PropertyConstraintViolation"),
        # enum
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "Error", "status": "Available"},
            "PropertyConstraintViolation",
        ),
        ("Reset", {"type": "Hard-ish"}, "PropertyConstraintViolation"),
        # format: date-time
        (
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "yesterday"},
            "PropertyConstraintViolation",
        ),
        # multipleOf (a charging rate limit in steps of 0.1)
        (
            "RemoteStartTransaction",
            {
                "idTag": "TAG1",
                "chargingProfile": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.15}],
                    },
                },
            },
            "PropertyConstraintViolation",
        ),
        # additionalProperties has no code of its own
        ("Heartbeat", {"unexpected": 1}, "FormationViolation"),
    ],
)
def test_invalid_request_raises_with_the_ocpp_error_code(
    action: str, payload: dict[str, Any], code: str
) -> None:
    breach = violation(action, payload)
    assert breach.error_code == code
    assert breach.description == str(breach)
    assert breach.description  # says what is wrong


def test_violation_names_the_offending_field() -> None:
    assert "idTag" in violation("Authorize", {"idTag": "T" * 21}).description
    assert (
        "chargePointModel" in violation("BootNotification", {"chargePointVendor": "A"}).description
    )


@pytest.mark.parametrize("payload", [[], None, "text", 1, [{"idTag": "T"}]])
def test_payload_that_is_not_an_object_is_a_formation_violation(payload: Any) -> None:
    for response in (False, True):
        breach = violation("Authorize", payload, response=response)
        assert breach.error_code == "FormationViolation"
        assert breach.description == "payload must be a JSON object"


def test_invalid_response_is_checked_against_the_response_schema() -> None:
    assert violation("Reset", {"status": "Maybe"}, response=True).error_code == (
        "PropertyConstraintViolation"
    )
    assert violation("Reset", {}, response=True).error_code == "OccurenceConstraintViolation"
    # a request payload is not a valid response of the same action
    assert violation("Reset", {"type": "Soft"}, response=True).error_code == (
        "OccurenceConstraintViolation"
    )
