"""OCPP-J framing: parse frames, build CALL / CALLRESULT / CALLERROR text.

Parsing never raises for bad input: it returns a ``ProtocolFault`` carrying
what the gateway should answer, so a misbehaving charge point keeps its
connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from chargestream.domain.frames import MessageType
from chargestream.domain.protocols import OcppVersion
from chargestream.gateway.schemas import protocol


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: Any


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: Any


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    error_code: str
    description: str
    details: Any


@dataclass(frozen=True, slots=True)
class ProtocolFault:
    """A frame that cannot be processed.

    ``answer`` is False for broken CALLRESULT/CALLERROR frames: a charge point
    does not expect an answer to an answer. Otherwise the gateway replies with
    a CALLERROR for ``message_id`` ("-1" when the id cannot be read).
    """

    message_id: str | None
    error_code: str
    description: str
    answer: bool = True


Message = Call | CallResult | CallError

_MESSAGE_ID = re.compile(r'^\s*\[\s*[234]\s*,\s*"([^"\\]{1,36})"')


def guess_message_id(text: str) -> str | None:
    """The message id of a frame we cannot or will not parse, if recognisable."""
    match = _MESSAGE_ID.match(text[:128])
    return match.group(1) if match else None


def parse(text: str, version: OcppVersion = OcppVersion.V16) -> Message | ProtocolFault:
    """The message ``text`` holds, or the fault to answer with ``version``'s error codes."""
    spec = protocol(version)
    framing = spec.framing_error
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return ProtocolFault(guess_message_id(text), framing, "frame is not JSON")
    if not isinstance(frame, list) or len(frame) < 3:
        return ProtocolFault(None, framing, "frame must be a JSON array")
    message_type, message_id = frame[0], frame[1]
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 36:
        return ProtocolFault(None, framing, "message id must be a string (1-36)")
    if message_type == MessageType.CALL and len(frame) == 4:
        if not isinstance(frame[2], str):
            return ProtocolFault(message_id, framing, "action must be a string")
        return Call(message_id, frame[2], frame[3])
    if message_type == MessageType.CALLRESULT and len(frame) == 3:
        return CallResult(message_id, frame[2])
    if message_type == MessageType.CALLERROR and len(frame) in (4, 5):
        details = frame[4] if len(frame) == 5 else {}
        return CallError(message_id, str(frame[2]), str(frame[3]), details)
    if message_type not in (MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR):
        return ProtocolFault(
            message_id, spec.unknown_message_type, f"unknown message type {message_type!r}"
        )
    return ProtocolFault(
        message_id,
        framing,
        "wrong number of frame elements",
        answer=message_type == MessageType.CALL,
    )


def call(message_id: str, action: str, payload: Any) -> str:
    return orjson.dumps([MessageType.CALL, message_id, action, payload]).decode()


def call_result(message_id: str, payload: Any) -> str:
    return orjson.dumps([MessageType.CALLRESULT, message_id, payload]).decode()


def call_error(message_id: str, code: str, description: str, details: Any = None) -> str:
    frame = [MessageType.CALLERROR, message_id, code, description, details or {}]
    return orjson.dumps(frame).decode()
