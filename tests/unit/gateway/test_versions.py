"""What differs by OCPP version, pure: the handshake's choice, the schemas and actions,
the OCPP-J error codes of 2.0.1 (1.6 keeps its own, tested in test_ocppj/test_schemas)."""

from __future__ import annotations

import pytest

from chargestream.domain.protocols import OcppVersion
from chargestream.gateway import ocppj
from chargestream.gateway.dispatch import read_frame
from chargestream.gateway.negotiation import choose_version, offered
from chargestream.gateway.schemas import (
    CSMS_ACTIONS_V201,
    STATION_ACTIONS_V201,
    SchemaViolation,
    compile_all,
    protocol,
    validate_request,
    validate_response,
)

V16, V201 = OcppVersion.V16, OcppVersion.V201
BOTH = (V201, V16)


@pytest.mark.parametrize(
    ("client", "served", "pinned", "chosen"),
    [
        (["ocpp2.0.1", "ocpp1.6"], BOTH, None, V201),
        (["ocpp1.6", "ocpp2.0.1"], BOTH, None, V16),  # the charge point's order decides
        (["ocpp1.6", "ocpp2.0.1"], (V201,), None, V201),
        (["ocpp2.0.1", "ocpp1.6"], BOTH, V16, V16),  # a pin overrides the preference
        (["ocpp2.0.1"], BOTH, V16, None),  # the pinned version not offered
        (["ocpp1.6"], (V201,), V16, None),  # pinned, but not served
        (["ocpp2.1", "ocpp1.5"], BOTH, None, None),
        ([], BOTH, None, None),
    ],
)
def test_the_charge_points_preference_among_served_and_pinned_versions(
    client: list[str],
    served: tuple[OcppVersion, ...],
    pinned: OcppVersion | None,
    chosen: OcppVersion | None,
) -> None:
    assert choose_version(client, served, pinned) is chosen


def test_offered_reads_repeated_and_comma_separated_headers_in_order() -> None:
    assert offered(["ocpp1.6, ocpp2.0.1", " ocpp2.1 ,"]) == ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"]


def test_every_201_schema_compiles_and_the_action_sets_are_the_specifications() -> None:
    compile_all()
    assert len(STATION_ACTIONS_V201) == 25 and len(CSMS_ACTIONS_V201) == 40
    assert {"DataTransfer"} == STATION_ACTIONS_V201 & CSMS_ACTIONS_V201
    assert "TransactionEvent" in protocol(V201).charge_point_actions
    assert "StartTransaction" not in protocol(V201).all_actions


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"reason": "PowerUp"}, "OccurrenceConstraintViolation"),
        (
            {"reason": "Sunrise", "chargingStation": {"model": "M", "vendorName": "V"}},
            "PropertyConstraintViolation",
        ),
        ({"reason": "PowerUp", "chargingStation": "M"}, "TypeConstraintViolation"),
        ([], "FormatViolation"),
    ],
)
def test_201_schema_violations_carry_201_error_codes(payload: object, code: str) -> None:
    with pytest.raises(SchemaViolation) as violation:
        validate_request("BootNotification", payload, V201)
    assert violation.value.error_code == code


def test_the_same_action_is_checked_against_its_own_versions_schema() -> None:
    validate_request("Heartbeat", {}, V201)
    validate_response("Reset", {"status": "Scheduled"}, V201)  # 1.6 has no Scheduled
    with pytest.raises(SchemaViolation):
        validate_response("Reset", {"status": "Scheduled"}, V16)
    with pytest.raises(SchemaViolation) as violation:
        validate_request("Authorize", {"idTag": "TAG1"}, V201)  # the 1.6 shape
    assert violation.value.error_code == "OccurrenceConstraintViolation"


@pytest.mark.parametrize(
    ("text", "message_id", "code"),
    [
        ("not json", None, "RpcFrameworkError"),
        ('{"a": 1}', None, "RpcFrameworkError"),
        ('[2, 7, "Heartbeat", {}]', None, "RpcFrameworkError"),
        ('[2, "m1", 5, {}]', "m1", "RpcFrameworkError"),
        ('[2, "m2", "Heartbeat"]', "m2", "RpcFrameworkError"),
        ('[5, "m3", "x", "y", {}]', "m3", "MessageTypeNotSupported"),  # CALLRESULTERROR: 2.1
        ('[6, "m4", "NotifyPeriodicEventStream", {}]', "m4", "MessageTypeNotSupported"),
    ],
)
def test_201_framing_faults(text: str, message_id: str | None, code: str) -> None:
    fault = ocppj.parse(text, V201)
    assert isinstance(fault, ocppj.ProtocolFault)
    assert (fault.message_id, fault.error_code) == (message_id, code)


def test_201_binary_and_oversized_frames() -> None:
    binary = read_frame(
        '[2, "m1", "Heartbeat", {}]', binary=True, max_frame_bytes=100, version=V201
    )
    large = read_frame('[2, "m2", "Heartbeat", {}]', binary=False, max_frame_bytes=8, version=V201)
    assert isinstance(binary, ocppj.ProtocolFault) and binary.error_code == "RpcFrameworkError"
    assert isinstance(large, ocppj.ProtocolFault) and large.error_code == "FormatViolation"


def test_16_framing_faults_keep_their_16_codes() -> None:
    fault = ocppj.parse('[5, "m3", "x", "y", {}]')
    assert isinstance(fault, ocppj.ProtocolFault) and fault.error_code == "ProtocolError"
    fault = ocppj.parse("not json", V16)
    assert isinstance(fault, ocppj.ProtocolFault) and fault.error_code == "FormationViolation"
