"""OCPP-J framing: every frame parses to a message or to the fault the gateway answers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from chargestream.gateway.ocppj import (
    Call,
    CallError,
    CallResult,
    ProtocolFault,
    call,
    call_error,
    call_result,
    guess_message_id,
    parse,
)

# -- well-formed frames


def test_call_frame_parses_to_a_call() -> None:
    assert parse('[2,"19223201","BootNotification",{"chargePointVendor":"ABB"}]') == Call(
        "19223201", "BootNotification", {"chargePointVendor": "ABB"}
    )


def test_callresult_frame_parses_to_a_call_result() -> None:
    assert parse('[3,"19223201",{"status":"Accepted"}]') == CallResult(
        "19223201", {"status": "Accepted"}
    )


def test_callerror_frame_with_details_parses_to_a_call_error() -> None:
    frame = '[4,"162376037","NotSupported","SetDisplayMessage not supported",{"why":"old"}]'
    assert parse(frame) == CallError(
        "162376037", "NotSupported", "SetDisplayMessage not supported", {"why": "old"}
    )


def test_callerror_frame_without_details_gets_empty_details() -> None:
    assert parse('[4,"m","GenericError",""]') == CallError("m", "GenericError", "", {})


def test_callerror_code_and_description_are_read_as_text() -> None:
    assert parse('[4,"m",500,null,{}]') == CallError("m", "500", "None", {})


def test_whitespace_between_elements_is_allowed() -> None:
    assert parse(' [ 2 , "a" , "Heartbeat" , { } ] ') == Call("a", "Heartbeat", {})


def test_message_id_of_36_characters_is_accepted() -> None:
    message_id = "x" * 36
    assert parse(f'[2,"{message_id}","Heartbeat",{{}}]') == Call(message_id, "Heartbeat", {})


def test_call_payload_is_passed_on_as_sent_even_when_not_an_object() -> None:
    # The schema check, not the framing, rejects a payload that is no JSON object.
    assert parse('[2,"m","Heartbeat",[]]') == Call("m", "Heartbeat", [])


# -- frames the gateway answers with a CALLERROR


def test_frame_that_is_not_json_is_a_formation_violation_without_message_id() -> None:
    fault = parse("this is not json")
    assert fault == ProtocolFault(None, "FormationViolation", "frame is not JSON")
    assert fault.answer  # answered with message id "-1"


def test_truncated_call_keeps_its_recognisable_message_id() -> None:
    fault = parse('[2,"abc-1","Heartbeat",{')
    assert fault == ProtocolFault("abc-1", "FormationViolation", "frame is not JSON")


def test_empty_frame_is_not_json() -> None:
    assert parse("") == ProtocolFault(None, "FormationViolation", "frame is not JSON")


@pytest.mark.parametrize(
    "frame", ['{"an": "object"}', '"text"', "2", "null", "[]", '[2,"m"]', '["m"]']
)
def test_frame_that_is_not_an_array_of_at_least_three_elements_is_a_formation_violation(
    frame: str,
) -> None:
    assert parse(frame) == ProtocolFault(None, "FormationViolation", "frame must be a JSON array")


@pytest.mark.parametrize(
    "frame",
    [
        '[2,5,"Heartbeat",{}]',
        '[2,null,"Heartbeat",{}]',
        '[2,"","Heartbeat",{}]',
        '[2,"' + "x" * 37 + '","Heartbeat",{}]',
        '[3,["m"],{}]',
    ],
)
def test_bad_message_id_is_a_formation_violation_without_message_id(frame: str) -> None:
    fault = parse(frame)
    assert fault == ProtocolFault(None, "FormationViolation", "message id must be a string (1-36)")
    assert fault.answer


@pytest.mark.parametrize(("message_type", "shown"), [("7", "7"), ('"2"', "'2'"), ("null", "None")])
def test_unknown_message_type_is_a_protocol_error(message_type: str, shown: str) -> None:
    assert parse(f'[{message_type},"m1","Heartbeat",{{}}]') == ProtocolFault(
        "m1", "ProtocolError", f"unknown message type {shown}"
    )


def test_call_with_an_action_that_is_not_text_is_a_formation_violation() -> None:
    assert parse('[2,"m",42,{}]') == ProtocolFault(
        "m", "FormationViolation", "action must be a string"
    )


@pytest.mark.parametrize("frame", ['[2,"m9","Heartbeat"]', '[2,"m9","Heartbeat",{},{}]'])
def test_call_with_wrong_number_of_elements_is_answered(frame: str) -> None:
    fault = parse(frame)
    assert fault == ProtocolFault("m9", "FormationViolation", "wrong number of frame elements")
    assert fault.answer


# -- broken answers: recorded, never answered


@pytest.mark.parametrize(
    "frame", ['[3,"r1",{},{}]', '[4,"r1","GenericError"]', '[4,"r1","E","",{},1]']
)
def test_callresult_or_callerror_with_wrong_number_of_elements_is_not_answered(
    frame: str,
) -> None:
    fault = parse(frame)
    assert isinstance(fault, ProtocolFault)
    assert (fault.message_id, fault.error_code) == ("r1", "FormationViolation")
    assert fault.answer is False


# -- guessing the id of a frame that will not be parsed (not JSON, binary, oversized)


@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        ('[2,"abc","Heartbeat",{}]', "abc"),
        ('  [ 3 , "r-1" , {', "r-1"),
        ('[4,"e","GenericError"', "e"),
        ('[2,"big","DataTransfer",{"vendorId":"x","data":"' + "y" * 100_000 + '"}]', "big"),
        ("not json", None),
        ('[5,"abc","Heartbeat",{}]', None),
        ('[2,abc,"Heartbeat",{}]', None),
        ('[2,"","Heartbeat",{}]', None),
        ('[2,"' + "x" * 37 + '","Heartbeat",{}]', None),
        ('[2,"a\\"b","Heartbeat",{}]', None),
        (" " * 130 + '[2,"late","Heartbeat",{}]', None),  # only the first 128 characters count
    ],
)
def test_guess_message_id(text: str, message_id: str | None) -> None:
    assert guess_message_id(text) == message_id


def test_oversized_frame_still_parses_the_framing_leaves_size_to_the_connection() -> None:
    big = '[2,"big","DataTransfer",{"vendorId":"x","data":"' + "y" * 100_000 + '"}]'
    parsed = parse(big)
    assert isinstance(parsed, Call) and parsed.message_id == "big"


# -- building frames


def test_call_is_serialised_as_a_compact_array() -> None:
    assert call("m1", "Reset", {"type": "Soft"}) == '[2,"m1","Reset",{"type":"Soft"}]'


def test_call_result_is_serialised_as_a_compact_array() -> None:
    assert call_result("m1", {"status": "Accepted"}) == '[3,"m1",{"status":"Accepted"}]'


def test_call_error_without_details_has_an_empty_details_object() -> None:
    assert call_error("m1", "NotImplemented", "unknown action") == (
        '[4,"m1","NotImplemented","unknown action",{}]'
    )


def test_call_error_keeps_its_details() -> None:
    frame = call_error("m1", "InternalError", "boom", {"retry": True})
    assert orjson.loads(frame) == [4, "m1", "InternalError", "boom", {"retry": True}]


@pytest.mark.parametrize(
    "message",
    [
        Call("m-1", "DataTransfer", {"vendorId": "ünïcode €", "data": 'a"b\\c\n'}),
        CallResult("m-2", {"currentTime": "2026-11-27T10:00:00.000Z", "nested": [1, 2.5, None]}),
        CallError("m-3", "FormationViolation", 'frame is "bad"', {"line": 1}),
    ],
)
def test_serialised_frames_parse_back_to_the_same_message(
    message: Call | CallResult | CallError,
) -> None:
    text: str
    if isinstance(message, Call):
        text = call(message.message_id, message.action, message.payload)
    elif isinstance(message, CallResult):
        text = call_result(message.message_id, message.payload)
    else:
        text = call_error(
            message.message_id, message.error_code, message.description, message.details
        )
    assert parse(text) == message


def test_serialised_text_is_unescaped_utf8() -> None:
    payload: dict[str, Any] = {"vendorId": "Ladesäule"}
    assert "Ladesäule" in call("m", "DataTransfer", payload)
