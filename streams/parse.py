"""Tolerant readers for OCPP-J frames and payload fields.

Charge points send all kinds of malformed data; nothing here raises; an unusable value reads
as ``None`` and the caller falls back or skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from chargestream.domain.frames import MessageType

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
# A charge point's timestamps are read in this range: beyond it no clock is right, and the
# arithmetic on times (an interval's next millisecond, an alert's deadline) overflows near
# the ends of datetime (years 1 and 9999).
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
# Integers a record can hold (SQLite and Cassandra store 64-bit signed integers).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# OCPP's connectorId is a small integer (0 is the charge point itself); derivation ignores
# larger ones, so a charge point cannot grow its state with endless invented connectors.
MAX_CONNECTOR_ID = 100


@dataclass(frozen=True, slots=True)
class Frame:
    """A parsed OCPP-J frame: ``action`` is "" but on CALLs, ``payload`` empty on CALLERRORs,
    ``error_code`` "" but on CALLERRORs."""

    message_type: MessageType
    message_id: str
    action: str
    payload: dict[str, Any]
    error_code: str = ""


def parse_frame(text: str) -> Frame | None:
    """Parse CALL ``[2, id, action, payload]``, CALLRESULT ``[3, id, payload]`` or
    CALLERROR ``[4, id, code, description, details]``; None when it is none of these."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(frame, list) or len(frame) < 3 or not isinstance(frame[1], str):
        return None
    kind, message_id = frame[0], frame[1]
    if kind == MessageType.CALL and len(frame) == 4 and isinstance(frame[2], str):
        if isinstance(frame[3], dict):
            return Frame(MessageType.CALL, message_id, frame[2], frame[3])
    elif kind == MessageType.CALLRESULT and len(frame) == 3 and isinstance(frame[2], dict):
        return Frame(MessageType.CALLRESULT, message_id, "", frame[2])
    elif kind == MessageType.CALLERROR and len(frame) == 5:
        code = frame[2] if isinstance(frame[2], str) else ""
        return Frame(MessageType.CALLERROR, message_id, "", {}, code)
    return None


def from_ms(ms: int) -> datetime:
    return EPOCH + ms * MILLISECOND


def to_ms(moment: datetime) -> int:
    return (moment - EPOCH) // MILLISECOND


def truncate_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def event_time(received_us: int) -> datetime:
    return from_ms(received_us // 1000)


def parse_time(value: Any, fallback: datetime) -> datetime:
    """An ISO 8601 timestamp from the charge point as UTC ms; naive ones are taken as UTC.

    ``fallback`` when it is not one or lies outside EARLIEST..LATEST.
    """
    if not isinstance(value, str):
        return fallback
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = truncate_ms(moment.astimezone(UTC))
    except (ValueError, OverflowError):
        return fallback
    return moment if EARLIEST <= moment < LATEST else fallback


def get_int(payload: dict[str, Any], name: str) -> int | None:
    """An integer a record can hold (64-bit signed), else None."""
    value = payload.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX:
        return value
    return None


def get_connector_id(payload: dict[str, Any]) -> int | None:
    """``connectorId`` from 0 to MAX_CONNECTOR_ID, else None."""
    value = get_int(payload, "connectorId")
    return value if value is not None and 0 <= value <= MAX_CONNECTOR_ID else None


def get_str(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    return value if isinstance(value, str) else None


def get_dict(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def get_list(payload: dict[str, Any], name: str) -> list[Any]:
    value = payload.get(name)
    return value if isinstance(value, list) else []
