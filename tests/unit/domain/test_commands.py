"""Command messages between processes: round trips, the wire format, untrusted input."""

from __future__ import annotations

import orjson
import pytest

from chargestream.domain.commands import (
    MAX_MESSAGE_BYTES,
    CallFailure,
    CommandReply,
    CommandRequest,
    MalformedCommand,
    ReplyKind,
)

REQUEST = CommandRequest(
    command_id="6f1c0e4d9a2b4c8e",
    charge_point_id="CP-1",
    action="ChangeConfiguration",
    payload={"key": "HeartbeatInterval", "value": "60"},
    reply_to="api-1",
    deadline=1767225600.125,
)
# The wire format of the first release, which nodes of either version must understand.
REQUEST_WIRE = {
    "id": "6f1c0e4d9a2b4c8e",
    "cp": "CP-1",
    "action": "ChangeConfiguration",
    "payload": {"key": "HeartbeatInterval", "value": "60"},
    "reply_to": "api-1",
    "deadline": 1767225600.125,
}
REPLIES = [
    (
        CommandReply("c1", ReplyKind.RESULT, payload={"status": "Accepted"}),
        {"id": "c1", "kind": "result", "payload": {"status": "Accepted"}},
    ),
    (
        CommandReply(
            "c2", ReplyKind.ERROR, failure=CallFailure("NotSupported", "", {"reason": "x"})
        ),
        {
            "id": "c2",
            "kind": "error",
            "code": "NotSupported",
            "description": "",
            "details": {"reason": "x"},
        },
    ),
    (CommandReply("c3", ReplyKind.NOT_CONNECTED), {"id": "c3", "kind": "not_connected"}),
    (CommandReply("c4", ReplyKind.CONNECTION_LOST), {"id": "c4", "kind": "connection_lost"}),
]


def test_a_request_round_trips_in_the_first_release_wire_format() -> None:
    assert orjson.loads(REQUEST.to_bytes()) == REQUEST_WIRE
    assert CommandRequest.from_bytes(orjson.dumps(REQUEST_WIRE)) == REQUEST
    assert CommandRequest.from_bytes(REQUEST.to_bytes()) == REQUEST


@pytest.mark.parametrize(("reply", "wire"), REPLIES, ids=lambda r: getattr(r, "kind", ""))
def test_a_reply_round_trips_in_the_first_release_wire_format(
    reply: CommandReply, wire: dict[str, object]
) -> None:
    assert orjson.loads(reply.to_bytes()) == wire
    assert CommandReply.from_bytes(orjson.dumps(wire)) == reply


def test_fields_a_newer_sender_adds_are_ignored() -> None:
    assert CommandRequest.from_bytes(orjson.dumps({**REQUEST_WIRE, "priority": 1})) == REQUEST
    reply = CommandReply.from_bytes(b'{"id": "c3", "kind": "not_connected", "node": "gw-2"}')
    assert reply == CommandReply("c3", ReplyKind.NOT_CONNECTED)


def test_a_whole_number_deadline_is_a_float() -> None:
    request = CommandRequest.from_bytes(orjson.dumps({**REQUEST_WIRE, "deadline": 1767225600}))
    assert request.deadline == 1767225600.0 and isinstance(request.deadline, float)


def test_a_reply_has_a_failure_exactly_when_it_is_an_error() -> None:
    with pytest.raises(ValueError, match="failure"):
        CommandReply("c1", ReplyKind.ERROR)
    with pytest.raises(ValueError, match="failure"):
        CommandReply("c1", ReplyKind.RESULT, failure=CallFailure("InternalError", ""))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"id": "c1",', "not JSON"),
        (b'["c1", "CP-1"]', "not a JSON object"),
        (b"null", "not a JSON object"),
        (orjson.dumps({k: v for k, v in REQUEST_WIRE.items() if k != "cp"}), "'cp' must be"),
        (orjson.dumps({**REQUEST_WIRE, "id": ""}), "'id' must be a non-empty string"),
        (orjson.dumps({**REQUEST_WIRE, "action": 7}), "'action' must be a non-empty string"),
        (orjson.dumps({**REQUEST_WIRE, "payload": "{}"}), "'payload' must be an object"),
        (orjson.dumps({**REQUEST_WIRE, "payload": None}), "'payload' must be an object"),
        (orjson.dumps({**REQUEST_WIRE, "reply_to": ["api-1"]}), "'reply_to' must be"),
        (orjson.dumps({**REQUEST_WIRE, "deadline": "soon"}), "'deadline' must be a number"),
        (orjson.dumps({**REQUEST_WIRE, "deadline": True}), "'deadline' must be a number"),
        (b'{"deadline": 1e999}', "not JSON"),
    ],
)
def test_a_malformed_request_is_refused_with_the_reason(data: bytes, problem: str) -> None:
    with pytest.raises(MalformedCommand, match=problem) as refused:
        CommandRequest.from_bytes(data)
    assert str(refused.value).startswith("command request: ")


@pytest.mark.parametrize(
    ("wire", "problem"),
    [
        ({"kind": "result"}, "'id' must be"),
        ({"id": "c1"}, "'kind' must be one of result, error, not_connected"),
        ({"id": "c1", "kind": "done"}, "'kind' must be one of"),
        ({"id": "c1", "kind": ["result"]}, "'kind' must be one of"),
        ({"id": "c1", "kind": "error", "description": "x"}, "'code' must be"),
        ({"id": "c1", "kind": "error", "code": "InternalError"}, "'description' must be a string"),
    ],
)
def test_a_malformed_reply_is_refused_with_the_reason(wire: object, problem: str) -> None:
    with pytest.raises(MalformedCommand, match=problem) as refused:
        CommandReply.from_bytes(orjson.dumps(wire))
    assert str(refused.value).startswith("command reply: ")


def test_an_oversized_message_is_refused_before_it_is_parsed() -> None:
    huge = orjson.dumps({**REQUEST_WIRE, "payload": {"data": "x" * MAX_MESSAGE_BYTES}})
    with pytest.raises(MalformedCommand, match="more than"):
        CommandRequest.from_bytes(huge)
    with pytest.raises(MalformedCommand, match="more than"):
        CommandReply.from_bytes(b" " * (MAX_MESSAGE_BYTES + 1))


def test_the_reason_never_repeats_the_message() -> None:
    secret = "AuthorizationKey=0123456789abcdef"
    with pytest.raises(MalformedCommand) as refused:
        CommandRequest.from_bytes(orjson.dumps({**REQUEST_WIRE, "deadline": secret}))
    assert secret not in str(refused.value)
