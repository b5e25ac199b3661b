"""FrameService: the frame inspector over the embedded event log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargestream.api.services.errors import NotAvailable
from chargestream.api.services.frames import FrameService
from chargestream.domain.frames import Direction, EventKind, FrameEvent, MessageType
from chargestream.eventlog.sqlite import SqliteEventLog

RECEIVED = datetime(2026, 11, 27, 10, 0, 0, 250000, tzinfo=UTC)


def heartbeat(charge_point_id: str, sequence: int) -> FrameEvent:
    return FrameEvent(
        charge_point_id=charge_point_id,
        kind=EventKind.FRAME,
        frame=f'[2,"m{sequence}","Heartbeat",{{}}]',
        node="unit-node",
        connection_id="c-1",
        sequence=sequence,
        received_us=int(RECEIVED.timestamp() * 1_000_000),
        direction=Direction.IN,
        message_type=MessageType.CALL,
        message_id=f"m{sequence}",
        action="Heartbeat",
    )


async def test_recent_frames_of_one_charge_point_newest_first(tmp_path: Path) -> None:
    event_log = SqliteEventLog(tmp_path / "log.db", sync="normal")
    await event_log.open()
    try:
        await event_log.append([heartbeat("CP-1", 1), heartbeat("CP-2", 1), heartbeat("CP-1", 2)])
        frames = await FrameService(event_log.recent_for).recent("CP-1", limit=10)
    finally:
        await event_log.close()

    assert [(f.message_id, f.kind, f.direction, f.message_type) for f in frames] == [
        ("m2", "frame", "in", 2),
        ("m1", "frame", "in", 2),
    ]
    assert frames[0].received_at == RECEIVED
    assert frames[0].frame == '[2,"m2","Heartbeat",{}]'
    assert frames[0].position > frames[1].position


async def test_without_a_frame_reader_the_inspector_is_not_available() -> None:
    with pytest.raises(NotAvailable, match="not available in this mode"):
        await FrameService(None).recent("CP-1", limit=10)
