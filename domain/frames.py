"""The frame event: the one record every component exchanges.

Every OCPP frame the gateway receives or sends, and every connect and
disconnect, becomes a ``FrameEvent`` keyed by charge point id. The value is
the exact frame text; everything else is metadata (Kafka headers or columns
of the embedded log). A charge point's CALL and the CSMS's answer to it are
one event: the answer rides along as ``answer``. See
docs/adr/0001-frame-event-log.md and docs/adr/0010-one-record-per-exchange.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum

import orjson

from chargestream.domain.protocols import OcppVersion


class EventKind(StrEnum):
    FRAME = "frame"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class Direction(StrEnum):
    IN = "in"  # charge point -> CSMS
    OUT = "out"  # CSMS -> charge point


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


@dataclass(frozen=True, slots=True)
class FrameEvent:
    """One entry of the event log.

    ``frame`` is the frame text exactly as received or sent. For connect and
    disconnect events it is a small JSON object (remote address, close code).
    ``action`` is set on CALLs and, by correlation, on their CALLRESULT and
    CALLERROR; it is ``None`` when the gateway could not tell.

    ``answer`` is the CALLRESULT or CALLERROR text (redacted like ``frame``) the CSMS
    sent to this incoming frame, logged with it as one exchange; ``None`` for every
    other event, and for the CALLs of logs written before exchanges, whose answers are
    events of their own.
    """

    charge_point_id: str
    kind: EventKind
    frame: str
    node: str
    connection_id: str
    sequence: int  # per-connection, starts at 0 with the CONNECTED event
    received_us: int  # unix time in microseconds
    direction: Direction | None = None
    message_type: MessageType | None = None
    message_id: str | None = None
    action: str | None = None
    ocpp_version: OcppVersion = OcppVersion.V16  # of the connection (events before: 1.6)
    answer: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        """Metadata as Kafka headers (the value is ``frame``, the key the id)."""
        pairs = [
            ("kind", self.kind.value),
            ("node", self.node),
            ("conn", self.connection_id),
            ("seq", str(self.sequence)),
            ("ts", str(self.received_us)),
        ]
        if self.direction is not None:
            pairs.append(("dir", self.direction.value))
        if self.message_type is not None:
            pairs.append(("mtype", str(int(self.message_type))))
        if self.message_id is not None:
            pairs.append(("mid", self.message_id))
        if self.action is not None:
            pairs.append(("action", self.action))
        if self.ocpp_version is not OcppVersion.V16:  # no header: 1.6, as before versions
            pairs.append(("v", self.ocpp_version.value))
        if self.answer is not None:
            pairs.append(("answer", self.answer))
        return [(name, value.encode()) for name, value in pairs]

    @classmethod
    def from_headers(cls, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> FrameEvent:
        meta = {name: raw.decode() for name, raw in headers}
        return cls(
            charge_point_id=key.decode(),
            kind=EventKind(meta["kind"]),
            frame=value.decode(),
            node=meta["node"],
            connection_id=meta["conn"],
            sequence=int(meta["seq"]),
            received_us=int(meta["ts"]),
            direction=Direction(meta["dir"]) if "dir" in meta else None,
            message_type=MessageType(int(meta["mtype"])) if "mtype" in meta else None,
            message_id=meta.get("mid"),
            action=meta.get("action"),
            ocpp_version=OcppVersion(meta.get("v", OcppVersion.V16)),
            answer=meta.get("answer"),
        )

    def split(self) -> tuple[FrameEvent, ...]:
        """The event as the frames it holds, in the order they were sent: an exchange as
        its CALL and its answer (both with the exchange's sequence and time), any other
        event as itself. For readers that show frames one by one (the frame inspector)."""
        if self.answer is None:
            return (self,)
        return (
            replace(self, answer=None),
            replace(
                self,
                frame=self.answer,
                direction=Direction.OUT,
                message_type=_answer_type(self.answer),
                message_id=_message_id(self.answer, self.message_id),
                answer=None,
            ),
        )


def _answer_type(answer: str) -> MessageType:
    """A CSMS answer's message type, from its text (the CSMS writes ``[3,...`` or ``[4,...``
    without spaces)."""
    return MessageType.CALLERROR if answer.startswith("[4") else MessageType.CALLRESULT


def _message_id(frame: str, fallback: str | None) -> str | None:
    """The message id of a frame the CSMS wrote (a fault's answer may carry ``"-1"``)."""
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return fallback
    if isinstance(message, list) and len(message) > 1 and isinstance(message[1], str):
        return message[1]
    return fallback


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A frame event with its position in the log (Kafka offset or row id).

    Positions grow strictly per charge point, which is what derivation uses to
    skip events it has already applied.
    """

    position: int
    event: FrameEvent
