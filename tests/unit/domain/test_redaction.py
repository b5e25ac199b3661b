"""Redaction of charge point passwords (AuthorizationKey) from payloads and frames."""

from __future__ import annotations

import orjson
import pytest

from chargestream.domain.redaction import MARKER, redact_frame, redact_payload

SECRET = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("key", ["AuthorizationKey", "authorizationkey", "AUTHORIZATIONKEY"])
def test_a_change_configuration_payload_loses_the_key(key: str) -> None:
    payload = {"key": key, "value": SECRET}
    assert redact_payload(payload) == {"key": key, "value": MARKER}
    assert payload["value"] == SECRET  # the original is left alone


def test_a_get_configuration_answer_loses_the_key_and_keeps_the_rest() -> None:
    payload = {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "AuthorizationKey", "readonly": False, "value": SECRET},
            {"key": "AuthorizationKey", "readonly": True},
        ],
        "unknownKey": ["X"],
    }
    redacted = redact_payload(payload)
    assert redacted["configurationKey"] == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "AuthorizationKey", "readonly": False, "value": MARKER},
        {"key": "AuthorizationKey", "readonly": True},
    ]
    assert redacted["unknownKey"] == ["X"]


@pytest.mark.parametrize(
    "payload",
    [
        {"key": "HeartbeatInterval", "value": "300"},
        {"configurationKey": [{"key": "HeartbeatInterval", "value": "300"}, "odd"]},
        {"configurationKey": "not a list"},
        {"key": "AuthorizationKey"},
        [],
        None,
        "AuthorizationKey",
    ],
)
def test_a_payload_without_a_secret_is_returned_as_it_is(payload: object) -> None:
    assert redact_payload(payload) is payload


def test_a_call_frame_is_redacted_and_stays_ocpp_j() -> None:
    text = orjson.dumps(
        [2, "m1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": SECRET}]
    ).decode()
    redacted = redact_frame(text)
    assert SECRET not in redacted
    assert orjson.loads(redacted) == [
        2,
        "m1",
        "ChangeConfiguration",
        {"key": "AuthorizationKey", "value": MARKER},
    ]


def test_a_call_result_frame_is_redacted() -> None:
    text = orjson.dumps(
        [3, "m1", {"configurationKey": [{"key": "AuthorizationKey", "value": SECRET}]}]
    ).decode()
    assert SECRET not in redact_frame(text)


def test_an_escaped_key_name_does_not_hide_the_value() -> None:
    text = '[2,"m1","DataTransfer",{"key":"\\u0041uthorizationKey","value":"' + SECRET + '"}]'
    assert SECRET not in redact_frame(text)


def test_text_that_is_not_json_loses_values_next_to_the_key() -> None:
    text = '[2,"m1","ChangeConfiguration",{"key":"AuthorizationKey","value":"' + SECRET
    assert SECRET not in redact_frame(text)


@pytest.mark.parametrize(
    "text",
    [
        '[2,"m1","Heartbeat",{}]',
        '[3,"m1",{"status":"Accepted"}]',
        '[4,"m1","GenericError","AuthorizationKey",{}]',
        '"AuthorizationKey"',
        "[]",
        '["AuthorizationKey"]',
        '[2,"AuthorizationKey"]',
    ],
)
def test_a_frame_without_a_secret_is_kept_as_it_is(text: str) -> None:
    assert redact_frame(text) is text
