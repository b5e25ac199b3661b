"""The frame event: the one record every component exchanges.

Every OCPP frame the gateway receives or sends, and every connect and
disconnect, becomes a ``FrameEvent`` keyed by charge point id. The value is
the exact frame text; everything else is metadata (Kafka headers or columns
of the embedded log). See docs/adr/0001-frame-event-log.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

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
        )


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A frame event with its position in the log (Kafka offset or row id).

    Positions grow strictly per charge point, which is what derivation uses to
    skip events it has already applied.
    """

    position: int
    event: FrameEvent
