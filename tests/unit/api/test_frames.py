"""FrameService: the frame inspector over the embedded event log."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargestream.api.services.errors import NotAvailable
from chargestream.api.services.frames import FrameService
from chargestream.domain.frames import Direction, EventKind, FrameEvent, LoggedEvent, MessageType
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


async def test_frames_stop_at_the_byte_budget_newest_first(tmp_path: Path) -> None:
    event_log = SqliteEventLog(tmp_path / "log.db", sync="normal")
    await event_log.open()
    try:
        await event_log.append([heartbeat("CP-1", n) for n in range(10, 20)])  # 26 bytes each
        size = len(heartbeat("CP-1", 10).frame.encode())
        page = await FrameService(event_log.recent_for, max_bytes=3 * size + 1).page("CP-1", 10)
        everything = await FrameService(event_log.recent_for, max_bytes=10 * size).page("CP-1", 10)
    finally:
        await event_log.close()

    assert [f.message_id for f in page.frames] == ["m19", "m18", "m17"]
    assert page.truncated
    assert len(everything.frames) == 10 and not everything.truncated


async def test_the_newest_frame_is_returned_even_when_it_alone_passes_the_budget(
    tmp_path: Path,
) -> None:
    event_log = SqliteEventLog(tmp_path / "log.db", sync="normal")
    await event_log.open()
    try:
        await event_log.append([heartbeat("CP-1", 1), heartbeat("CP-1", 2)])
        frames = await FrameService(event_log.recent_for, max_bytes=1).recent("CP-1", limit=10)
    finally:
        await event_log.close()
    assert [f.message_id for f in frames] == ["m2"]


async def test_an_exchange_shows_as_its_answer_then_its_call(tmp_path: Path) -> None:
    answer = '[3,"m2",{"currentTime":"2026-11-27T10:00:00Z"}]'
    event_log = SqliteEventLog(tmp_path / "log.db", sync="normal")
    await event_log.open()
    try:
        await event_log.append([heartbeat("CP-1", 1)])
        await event_log.append([replace(heartbeat("CP-1", 2), answer=answer)])
        frames = await FrameService(event_log.recent_for).recent("CP-1", limit=10)
        newest = await FrameService(event_log.recent_for).recent("CP-1", limit=1)
    finally:
        await event_log.close()

    assert [(f.message_id, f.direction, f.message_type, f.action) for f in frames] == [
        ("m2", "out", 3, "Heartbeat"),
        ("m2", "in", 2, "Heartbeat"),
        ("m1", "in", 2, "Heartbeat"),
    ]
    assert frames[0].frame == answer and frames[1].frame == '[2,"m2","Heartbeat",{}]'
    assert frames[0].position == frames[1].position > frames[2].position
    assert frames[0].received_at == frames[1].received_at
    assert newest == frames[:1]  # ``limit`` counts frames


async def test_a_faults_callerror_answer_keeps_its_own_message_id() -> None:
    fault = replace(
        heartbeat("CP-1", 1),
        frame="not json",
        message_type=None,
        message_id=None,
        action=None,
        answer='[4,"-1","RpcFrameworkError","not OCPP-J",{}]',
    )

    async def recent(_: str, __: int) -> list[LoggedEvent]:
        return [LoggedEvent(7, fault)]

    frames = await FrameService(recent).recent("CP-1", limit=10)
    assert [(f.frame, f.direction, f.message_type, f.message_id) for f in frames] == [
        ('[4,"-1","RpcFrameworkError","not OCPP-J",{}]', "out", 4, "-1"),
        ("not json", "in", None, None),
    ]
