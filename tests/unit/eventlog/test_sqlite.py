"""The embedded event log: group commit, order, and reading back."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from chargestream.domain.frames import Direction, EventKind, FrameEvent, MessageType
from chargestream.domain.protocols import OcppVersion
from chargestream.eventlog import sqlite as eventlog_sqlite
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.eventlog.sqlite import STATES_PER_INSERT, SqliteEventLog
from tests.conftest import eventually


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


# -- retention

DAY_US = 86_400_000_000
NOW = 1_800_000_000.0  # the clock the retention reads (unix seconds)


def aged(charge_point_id: str, sequence: int, days: float) -> FrameEvent:
    """A frame received ``days`` before NOW."""
    received_us = int(NOW * 1_000_000 - days * DAY_US)
    return replace(frame(charge_point_id, sequence), received_us=received_us)


async def retained_log(tmp_path: Path, days: int = 90) -> SqliteEventLog:
    log = SqliteEventLog(
        tmp_path / "events.db", sync="normal", retention_days=days, clock=lambda: NOW
    )
    await log.open()
    return log


async def test_retention_deletes_old_frames_the_processor_has_passed(tmp_path: Path) -> None:
    log = await retained_log(tmp_path)
    try:
        await log.append([aged("CP-1", n, 100 - n) for n in range(20)])  # 100 .. 81 days old
        await log.save_checkpoint("views", 15, [])  # derived up to position 15
        assert await log.prune(batch=4, pause=0) == 10  # older than 90 days: positions 1-10
        left = await log.read(0)
    finally:
        await log.close()
    assert [e.position for e in left] == list(range(11, 21))


async def test_retention_keeps_old_frames_the_processor_has_not_derived(tmp_path: Path) -> None:
    log = await retained_log(tmp_path)
    try:
        await log.append([aged("CP-1", n, 200) for n in range(10)])
        assert await log.prune() == 0  # no checkpoint yet: nothing is processed
        await log.save_checkpoint("views", 4, [])
        assert await log.prune() == 4
        assert [e.position for e in await log.read(0)] == list(range(5, 11))
    finally:
        await log.close()


async def test_retention_stops_at_the_first_frame_that_must_stay(tmp_path: Path) -> None:
    log = await retained_log(tmp_path)
    try:  # a frame from a clock that was behind, then old ones again: the log is cut once
        await log.append([aged("CP-1", 0, 120), aged("CP-1", 1, 10), aged("CP-1", 2, 120)])
        await log.save_checkpoint("views", 3, [])
        assert await log.prune() == 1
        assert [e.position for e in await log.read(0)] == [2, 3]
    finally:
        await log.close()


async def test_positions_are_never_reused_after_retention(tmp_path: Path) -> None:
    log = await retained_log(tmp_path)
    try:
        await log.append([aged("CP-1", n, 100) for n in range(5)])
        await log.save_checkpoint("views", 5, [])
        assert await log.prune() == 5
        await log.append([aged("CP-1", 5, 0)])
        assert [e.position for e in await log.read(0)] == [6]
    finally:
        await log.close()


async def test_retention_zero_keeps_every_frame(tmp_path: Path) -> None:
    log = await retained_log(tmp_path, days=0)
    try:
        await log.append([aged("CP-1", n, 5000) for n in range(5)])
        await log.save_checkpoint("views", 5, [])
        assert await log.prune() == 0
        assert len(await log.read(0)) == 5
    finally:
        await log.close()


async def test_appends_go_on_while_retention_deletes_in_batches(tmp_path: Path) -> None:
    log = await retained_log(tmp_path)
    try:
        await log.append([aged("CP-OLD", n, 365) for n in range(3000)])
        await log.save_checkpoint("views", 3000, [])
        pruning = asyncio.create_task(log.prune(batch=100, pause=0))
        for n in range(50):  # charge points keep being answered meanwhile
            await log.append([aged("CP-NEW", n, 0)])
        assert await pruning == 3000
        left = await log.read(0, limit=10_000)
    finally:
        await log.close()
    assert [e.event.sequence for e in left] == list(range(50))


async def test_retention_runs_by_itself_once_the_log_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first = await retained_log(tmp_path, days=0)
    await first.append([aged("CP-1", n, 100) for n in range(5)])
    await first.save_checkpoint("views", 5, [])
    await first.close()
    monkeypatch.setattr(eventlog_sqlite, "RETENTION_FIRST", 0.0)
    with caplog.at_level(logging.INFO, logger="chargestream.eventlog"):
        log = await retained_log(tmp_path)
        try:

            async def pruned() -> bool:
                return not await log.read(0)

            await eventually(pruned)
        finally:
            await log.close()
    [line] = [r for r in caplog.records if r.getMessage() == "retention"]
    assert line.fields == {"deleted": 5, "days": 90}  # type: ignore[attr-defined]


# -- the processor's states and their timers


async def test_states_are_read_by_charge_point_and_timers_by_due_time(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.open()
    try:
        await log.save_checkpoint(
            "views", 7, [("CP-1", b"one", 1000), ("CP-2", b"two", 500), ("CP-3", b"3", None)]
        )
        assert await log.load_checkpoint("views") == 7
        assert await log.load_states("views", ["CP-1", "CP-3", "CP-9"]) == {
            "CP-1": b"one",
            "CP-3": b"3",
        }
        assert await log.due("views", 999, limit=10) == ["CP-2"]
        assert await log.due("views", 1000, limit=10) == ["CP-2", "CP-1"]  # earliest first
        assert await log.due("views", 1000, limit=1) == ["CP-2"]
        await log.save_checkpoint("views", None, [("CP-2", b"two", None)])  # position kept
        assert await log.due("views", 10**12, limit=10) == ["CP-1"]
        assert await log.load_checkpoint("views") == 7
        assert await log.untimed_states("views", 10) == {}
        await log.reset_checkpoint("views")
        assert await log.load_checkpoint("views") == 0
        assert await log.load_states("views", ["CP-1"]) == {}
        assert await log.due("views", 10**12, limit=10) == []
    finally:
        await log.close()


async def test_a_checkpoint_saves_more_states_than_one_statement_holds(tmp_path: Path) -> None:
    count = 2 * STATES_PER_INSERT + 1
    states = [(f"CP-{n}", f"state {n}".encode(), n) for n in range(count)]
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.open()
    try:
        await log.save_checkpoint("views", 9, states)
        await log.save_checkpoint("views", None, [("CP-0", b"again", None)])  # replaced
        found = await log.load_states("views", [cp for cp, _, _ in states])
        assert found == {cp: state for cp, state, _ in states} | {"CP-0": b"again"}
        assert await log.due("views", 10**12, limit=count) == [f"CP-{n}" for n in range(1, count)]
    finally:
        await log.close()


async def test_each_event_keeps_its_ocpp_version_and_an_older_log_reads_as_1_6(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    with closing(sqlite3.connect(path)) as old:  # a log written before OCPP 2.0.1
        old.executescript(
            eventlog_sqlite.SCHEMA.replace(",\n    ocpp_version TEXT,\n    answer TEXT", "")
        )
        old.execute(
            "INSERT INTO frames"
            f" ({eventlog_sqlite.COLUMNS.removesuffix(', ocpp_version, answer')})"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            eventlog_sqlite._row(frame("CP-OLD", 0))[:-2],
        )
        old.commit()
    log = SqliteEventLog(path, sync="normal")
    await log.open()
    try:
        newer = replace(frame("CP-NEW", 0), ocpp_version=OcppVersion.V201)
        await log.append([newer])
        events = [logged.event for logged in await log.read(0, limit=10)]
    finally:
        await log.close()
    assert events == [frame("CP-OLD", 0), newer]
    assert events[0].ocpp_version is OcppVersion.V16


@pytest.mark.parametrize("version", list(OcppVersion))
def test_kafka_headers_carry_the_ocpp_version_only_when_not_1_6(version: OcppVersion) -> None:
    event = replace(frame("CP-1", 3), ocpp_version=version)
    headers = event.headers()
    assert FrameEvent.from_headers(b"CP-1", event.frame.encode(), headers) == event
    assert ("v" in dict(headers)) is (version is not OcppVersion.V16)


def exchange(charge_point_id: str, sequence: int) -> FrameEvent:
    """A CALL logged with the answer the CSMS sent to it."""
    answer = f'[3,"m{sequence}",{{"currentTime":"2024-05-01T12:00:00Z"}}]'
    return replace(frame(charge_point_id, sequence), answer=answer)


async def test_an_exchange_keeps_its_answer_and_an_older_log_reads_without(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    with closing(sqlite3.connect(path)) as old:  # a log written before exchanges
        old.executescript(eventlog_sqlite.SCHEMA.replace(",\n    answer TEXT", ""))
        old.execute(
            f"INSERT INTO frames ({eventlog_sqlite.COLUMNS.removesuffix(', answer')})"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            eventlog_sqlite._row(frame("CP-1", 0))[:-1],
        )
        old.commit()
    log = SqliteEventLog(path, sync="normal")
    await log.open()
    try:
        await log.append([exchange("CP-1", 1)])
        await log.append([exchange("CP-1", s) for s in range(2, 252)])  # full statements too
        events = [logged.event for logged in await log.read(0, limit=1000)]
        newest = [logged.event for logged in await log.recent_for("CP-1", 2)]
    finally:
        await log.close()
    assert events == [frame("CP-1", 0), *(exchange("CP-1", s) for s in range(1, 252))]
    assert events[0].answer is None
    assert newest == [exchange("CP-1", 251), exchange("CP-1", 250)]


def test_kafka_headers_carry_the_answer_of_an_exchange_only() -> None:
    event = exchange("CP-1", 3)
    headers = event.headers()
    assert event.answer is not None and dict(headers)["answer"] == event.answer.encode()
    assert FrameEvent.from_headers(b"CP-1", event.frame.encode(), headers) == event
    alone = frame("CP-1", 4)
    assert "answer" not in dict(alone.headers())
    assert FrameEvent.from_headers(b"CP-1", alone.frame.encode(), alone.headers()).answer is None


async def test_a_follower_reads_and_checkpoints_but_never_appends(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    log = SqliteEventLog(path, sync="normal")
    follower = SqliteEventLog(path, sync="normal", follower=True)
    await log.open()
    await follower.open()
    try:
        await log.append([frame("CP-F", s) for s in range(3)])
        assert [e.event.sequence for e in await follower.read(0)] == [0, 1, 2]
        await follower.save_checkpoint("views", 2, [("CP-F", b"{}", None)])
        assert await log.load_checkpoint("views") == 2
        with pytest.raises(EventLogUnavailable):
            await follower.append([frame("CP-F", 3)])
        started = asyncio.get_running_loop().time()
        await follower.wait_appended(10.0)  # it cannot see commits: it polls
        assert asyncio.get_running_loop().time() - started < 1.0
    finally:
        await follower.close()
        await log.close()
