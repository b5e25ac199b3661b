"""The embedded event log: group commit, order, and reading back."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from chargestream.domain.frames import Direction, EventKind, FrameEvent, MessageType
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.eventlog.sqlite import SqliteEventLog


def frame(charge_point_id: str, sequence: int) -> FrameEvent:
    return FrameEvent(
        charge_point_id=charge_point_id,
        kind=EventKind.FRAME,
        frame=f'[2,"m{sequence}","Heartbeat",{{}}]',
        node="n1",
        connection_id="c1",
        sequence=sequence,
        received_us=1_700_000_000_000_000 + sequence,
        direction=Direction.IN,
        message_type=MessageType.CALL,
        message_id=f"m{sequence}",
        action="Heartbeat",
    )


async def test_concurrent_appends_keep_each_charge_point_in_order(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.open()
    try:

        async def one_charge_point(name: str) -> None:
            for sequence in range(60):  # appended one after another, like a connection
                await log.append([frame(name, sequence)])

        await asyncio.gather(*(one_charge_point(f"CP-{i}") for i in range(20)))
        await log.append([frame("CP-BULK", s) for s in range(250)])  # 2 full statements + 50
        events = await log.read(0, limit=10_000)
    finally:
        await log.close()
    assert len(events) == 20 * 60 + 250
    assert [e.position for e in events] == sorted(e.position for e in events)
    for name in [f"CP-{i}" for i in range(20)] + ["CP-BULK"]:
        mine = [e.event for e in events if e.event.charge_point_id == name]
        assert [e.sequence for e in mine] == list(range(len(mine)))
    assert events[-1].event == frame("CP-BULK", 249)


async def test_events_survive_reopening(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "events.db")
    await log.open()
    await log.append([frame("CP-1", 0), frame("CP-1", 1)])
    await log.close()
    again = SqliteEventLog(tmp_path / "events.db")
    await again.open()
    try:
        assert [e.event for e in await again.recent_for("CP-1")] == [
            frame("CP-1", 1),
            frame("CP-1", 0),
        ]
    finally:
        await again.close()


async def test_a_failing_database_is_event_log_unavailable(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "events.db")
    await log.open()
    try:
        with closing(sqlite3.connect(tmp_path / "events.db")) as other:
            other.execute("DROP TABLE checkpoints")
        with pytest.raises(EventLogUnavailable, match="no such table"):
            await log.load_checkpoint("views")
        with pytest.raises(EventLogUnavailable):
            await log.save_checkpoint("views", 1, [])
        assert await log.read(0) == []  # the frames themselves are still readable
    finally:
        await log.close()
