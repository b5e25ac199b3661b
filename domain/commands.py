"""Commands between processes (stack mode): the request to the gateway node holding a
charge point, and that node's reply.

They travel as JSON objects over Kafka (``chargestream.gateway.remote``, ADR 0004). The
bytes come from another process, so decoding bounds their size, checks every field it
reads and raises ``MalformedCommand`` naming what is wrong, never echoing the bytes.
Fields it does not know are ignored, so a newer sender may add some in a rolling
upgrade; the field names are the wire format's since the first release.

``SendCommand`` and ``CsmsSend`` are how the CSMS's own senders (handlers, controllers) are
typed, whichever command path the composition root wires behind them.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import orjson

MAX_MESSAGE_BYTES = 1_048_576  # Kafka's default largest message; OCPP frames are far smaller


SendCommand = Callable[[str, str, dict[str, Any]], Awaitable[object]]
"""Sends one command as the CSMS: (charge point id, action, payload) -> its outcome."""


class CsmsSend(Protocol):
    """The CSMS's command sender that may name who sends (the command log's ``sent_by``)."""

    async def __call__(
        self, charge_point_id: str, action: str, payload: dict[str, Any], *, sent_by: str = ...
    ) -> object: ...


class MalformedCommand(ValueError):
    """Bytes that are not a valid command message."""


class ReplyKind(StrEnum):
    RESULT = "result"  # the charge point answered with a CALLRESULT
    ERROR = "error"  # it answered with a CALLERROR
    NOT_CONNECTED = "not_connected"  # the node does not hold the charge point
    CONNECTION_LOST = "connection_lost"  # sent; the connection closed before the answer


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A CALL for the node holding ``charge_point_id``, answered on ``reply_to``'s topic."""

    command_id: str
    charge_point_id: str
    action: str
    payload: dict[str, Any]
    reply_to: str  # the requesting node's id
    deadline: float  # unix time (s) after which nobody waits for the answer

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.command_id,
                "cp": self.charge_point_id,
                "action": self.action,
                "payload": self.payload,
                "reply_to": self.reply_to,
                "deadline": self.deadline,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> CommandRequest:
        fields = _Fields(data, "command request")
        return cls(
            command_id=fields.text("id"),
            charge_point_id=fields.text("cp"),
            action=fields.text("action"),
            payload=fields.object("payload"),
            reply_to=fields.text("reply_to"),
            deadline=fields.number("deadline"),
        )


@dataclass(frozen=True, slots=True)
class CallFailure:
    """A charge point's CALLERROR."""

    code: str
    description: str
    details: Any = None


@dataclass(frozen=True, slots=True)
class CommandReply:
    """A node's answer to a ``CommandRequest``: a RESULT's ``payload``, an ERROR's ``failure``."""

    command_id: str
    kind: ReplyKind
    payload: Any = None
    failure: CallFailure | None = None

    def __post_init__(self) -> None:
        if (self.kind is ReplyKind.ERROR) != (self.failure is not None):
            raise ValueError("a reply has a failure exactly when its kind is ERROR")

    def to_bytes(self) -> bytes:
        message: dict[str, Any] = {"id": self.command_id, "kind": self.kind.value}
        if self.kind is ReplyKind.RESULT:
            message["payload"] = self.payload
        if self.failure is not None:
            message["code"] = self.failure.code
            message["description"] = self.failure.description
            message["details"] = self.failure.details
        return orjson.dumps(message)

    @classmethod
    def from_bytes(cls, data: bytes) -> CommandReply:
        fields = _Fields(data, "command reply")
        command_id = fields.text("id")
        kind = fields.kind("kind")
        if kind is ReplyKind.RESULT:
            return cls(command_id, kind, payload=fields.value("payload"))
        if kind is ReplyKind.ERROR:
            failure = CallFailure(
                fields.text("code"),
                fields.text("description", empty=True),
                fields.value("details"),
            )
            return cls(command_id, kind, failure=failure)
        return cls(command_id, kind)


class _Fields:
    """The fields of one decoded JSON object, each checked as it is read."""

    def __init__(self, data: bytes, what: str) -> None:
        self._what = what
        if len(data) > MAX_MESSAGE_BYTES:
            raise MalformedCommand(f"{what}: {len(data)} bytes, more than {MAX_MESSAGE_BYTES}")
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise MalformedCommand(f"{what}: not JSON") from None
        if not isinstance(decoded, dict):
            raise MalformedCommand(f"{what}: not a JSON object")
        self._fields: dict[str, Any] = decoded

    def text(self, name: str, *, empty: bool = False) -> str:
        value = self._fields.get(name)
        if not isinstance(value, str) or not (value or empty):
            raise self._invalid(name, "a string" if empty else "a non-empty string")
        return value

    def object(self, name: str) -> dict[str, Any]:
        value = self._fields.get(name)
        if not isinstance(value, dict):
            raise self._invalid(name, "an object")
        return value

    def number(self, name: str) -> float:
        value = self._fields.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._invalid(name, "a number")
        if not math.isfinite(value):
            raise self._invalid(name, "a finite number")
        return float(value)

    def kind(self, name: str) -> ReplyKind:
        value = self._fields.get(name)
        if not isinstance(value, str) or value not in ReplyKind.__members__.values():
            raise self._invalid(name, f"one of {', '.join(ReplyKind)}")
        return ReplyKind(value)

    def value(self, name: str) -> Any:
        """Any JSON value; None when absent."""
        return self._fields.get(name)

    def _invalid(self, name: str, expected: str) -> MalformedCommand:
        return MalformedCommand(f"{self._what}: {name!r} must be {expected}")
