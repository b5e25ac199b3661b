"""The embedded event log: an append-only SQLite table with group commit.

Appends from all connections that arrive while a commit is in flight are
written together in the next transaction, so one fsync covers many frames.
The same file holds the embedded processor's checkpoint (see
streams.runner), which is committed separately from the frames: its position, the
per-charge-point states, and per state when its timer is due (so the processor keeps
only some states in memory and still finds those a timer is due for).

Retention (``retention_days`` > 0): every ``RETENTION_EVERY`` seconds the oldest frames
that are older than that and that every processor checkpoint has passed are deleted,
oldest first, in transactions of ``PRUNE_BATCH`` rows on the writer thread, with a pause
between them so appends keep their pace. Without a checkpoint nothing is deleted.

A log opened with ``follower=True`` is another process's view of the same file (the
embedded derivation process, docs/adr/0015-embedded-derivation-process.md): it reads the
frames and keeps its checkpoint, never appends or prunes, and learns of appends by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from chargestream.domain.frames import Direction, EventKind, FrameEvent, LoggedEvent, MessageType
from chargestream.domain.protocols import OcppVersion
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.sqlite.connections import connect, write_transaction

T = TypeVar("T")
SavedState = tuple[str, bytes, int | None]  # charge point, state, when its timer is due (ms)

log = logging.getLogger("chargestream.eventlog")

RETENTION_FIRST = 300.0  # seconds after open before the first pruning
RETENTION_EVERY = 3600.0  # seconds between two prunings
PRUNE_BATCH = 5000  # frames deleted per transaction
PRUNE_PAUSE = 0.05  # seconds between two batches, for the appends
DAY_US = 86_400_000_000
FOLLOW_POLL = 0.1  # seconds between two looks for new frames, in a follower

SCHEMA = """
CREATE TABLE IF NOT EXISTS frames (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_point_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    frame TEXT NOT NULL,
    node TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    received_us INTEGER NOT NULL,
    direction TEXT,
    message_type INTEGER,
    message_id TEXT,
    action TEXT,
    ocpp_version TEXT,
    answer TEXT
);
CREATE INDEX IF NOT EXISTS frames_by_cp ON frames (charge_point_id, position);
CREATE TABLE IF NOT EXISTS checkpoints (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS processor_state (
    name TEXT NOT NULL,
    charge_point_id TEXT NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (name, charge_point_id)
);
CREATE TABLE IF NOT EXISTS processor_timers (
    name TEXT NOT NULL,
    charge_point_id TEXT NOT NULL,
    due_ms INTEGER,
    PRIMARY KEY (name, charge_point_id)
);
CREATE INDEX IF NOT EXISTS processor_timers_by_due ON processor_timers (name, due_ms);
"""

COLUMNS = (
    "charge_point_id, kind, frame, node, connection_id, sequence, received_us,"
    " direction, message_type, message_id, action, ocpp_version, answer"
)
ROWS_PER_INSERT = 100  # 1,300 parameters, well below SQLite's limit
STATES_PER_INSERT = 300  # a checkpoint's states (or timers) to a statement: 900 parameters
_ROW = "(?,?,?,?,?,?,?,?,?,?,?,?,?)"


class SqliteEventLog:
    def __init__(
        self,
        path: Path,
        *,
        sync: str = "full",
        retention_days: int = 0,
        clock: Callable[[], float] = time.time,
        follower: bool = False,
    ) -> None:
        """``follower``: this process only reads and checkpoints; another one appends."""
        self._path = path
        self._follower = follower
        self._sync = sync
        self._retention_days = retention_days
        self._clock = clock
        self._retention: asyncio.Task[None] | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventlog-write")
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventlog-read")
        self._write_conn: sqlite3.Connection | None = None
        self._read_conn: sqlite3.Connection | None = None
        self._pending: list[tuple[Sequence[FrameEvent], asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        self.appended = asyncio.Event()  # set after every commit (``wait_appended``)

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._write_conn = await loop.run_in_executor(self._writer, self._connect, True)
        self._read_conn = await loop.run_in_executor(self._reader, self._connect, False)
        if self._follower:
            return
        self._flusher = asyncio.create_task(self._flush_forever(), name="eventlog-flusher")
        if self._retention_days > 0:
            self._retention = asyncio.create_task(self._retain_forever(), name="eventlog-retention")

    def _connect(self, writer: bool) -> sqlite3.Connection:
        conn = connect(self._path, writer=writer, synchronous=self._sync)
        if writer:
            conn.executescript(SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(frames)")}
            if "ocpp_version" not in columns:  # a log written before OCPP 2.0.1: all 1.6
                conn.execute("ALTER TABLE frames ADD COLUMN ocpp_version TEXT")
            if "answer" not in columns:  # a log written before exchanges: answers apart
                conn.execute("ALTER TABLE frames ADD COLUMN answer TEXT")
        return conn

    async def close(self) -> None:
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
            self._retention = None
        if self._flusher is not None:
            self._closing = True
            self._wakeup.set()
            await self._flusher
            self._flusher = None
        loop = asyncio.get_running_loop()
        for conn, pool in ((self._write_conn, self._writer), (self._read_conn, self._reader)):
            if conn is not None:
                await loop.run_in_executor(pool, conn.close)
        self._writer.shutdown()
        self._reader.shutdown()

    async def wait_appended(self, timeout: float) -> None:
        """Return once appends were committed since ``appended`` was last cleared, or after
        ``timeout`` seconds (a follower: after ``FOLLOW_POLL`` at most, as it cannot see the
        commits)."""
        if self._follower:
            await asyncio.sleep(min(timeout, FOLLOW_POLL))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.appended.wait(), timeout)

    async def append(self, events: Sequence[FrameEvent]) -> None:
        if self._flusher is None or self._closing:
            raise EventLogUnavailable("event log is closed")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((events, future))
        self._wakeup.set()
        await future

    async def _flush_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while not (self._closing and not self._pending):
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            rows = [_row(event) for events, _ in batch for event in events]
            try:
                await loop.run_in_executor(self._writer, self._insert, rows)
            except sqlite3.Error as error:
                failure = EventLogUnavailable(f"event log write failed: {error}")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            self.appended.set()

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        """One transaction, as few calls into SQLite as can be: rows go 100 to a statement,
        and a commit of up to 100 rows is one statement in autocommit (its own transaction).

        Each call gives up the GIL and must take it back from a busy event loop: a row at a
        time (``executemany``) made a 5,000-row commit ten times slower, and BEGIN and
        COMMIT around a single statement were two more waits for every frame of the commit.
        """
        assert self._write_conn is not None
        conn = self._write_conn
        if len(rows) <= ROWS_PER_INSERT:
            conn.execute(_insert_statement(len(rows)), list(chain.from_iterable(rows)))
            return
        with write_transaction(conn):
            for start in range(0, len(rows), ROWS_PER_INSERT):
                chunk = rows[start : start + ROWS_PER_INSERT]
                conn.execute(_insert_statement(len(chunk)), list(chain.from_iterable(chunk)))

    # -- retention

    async def _retain_forever(self) -> None:
        await asyncio.sleep(RETENTION_FIRST)
        while True:
            try:
                deleted = await self.prune()
            except EventLogUnavailable as error:  # again at the next round
                log.warning("retention_failed", extra={"fields": {"error": str(error)}})
            else:
                if deleted:
                    log.info(
                        "retention",
                        extra={"fields": {"deleted": deleted, "days": self._retention_days}},
                    )
            await asyncio.sleep(RETENTION_EVERY)

    async def prune(self, *, batch: int = PRUNE_BATCH, pause: float = PRUNE_PAUSE) -> int:
        """Delete the frames older than the retention that every checkpoint has passed,
        oldest first; returns how many. Does nothing when retention is off."""
        if self._retention_days <= 0:
            return 0
        before_us = int(self._clock() * 1_000_000) - self._retention_days * DAY_US
        total = 0
        while True:
            deleted = await self._run(self._writer, lambda: self._prune_batch(before_us, batch))
            total += deleted
            if deleted < batch:
                return total
            await asyncio.sleep(pause)

    def _prune_batch(self, before_us: int, batch: int) -> int:
        """One transaction: the head of the log, up to the first frame that must stay."""
        assert self._write_conn is not None
        conn = self._write_conn
        with write_transaction(conn):
            (processed,) = conn.execute("SELECT MIN(position) FROM checkpoints").fetchone()
            if processed is None:
                return 0
            head = conn.execute(
                "SELECT position, received_us FROM frames WHERE position <= ?"
                " ORDER BY position LIMIT ?",
                (processed, batch),
            ).fetchall()
            last = None
            for position, received_us in head:
                if received_us >= before_us:
                    break
                last = position
            if last is None:
                return 0
            return conn.execute("DELETE FROM frames WHERE position <= ?", (last,)).rowcount

    # -- reading (processors, replay, the frame inspector)

    async def read(self, after: int, limit: int = 1000) -> list[LoggedEvent]:
        """Events with position > ``after``, oldest first."""
        return await self._query(
            f"SELECT position, {COLUMNS} FROM frames WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )

    async def recent_for(self, charge_point_id: str, limit: int = 100) -> list[LoggedEvent]:
        """The newest events of one charge point, newest first."""
        return await self._query(
            f"SELECT position, {COLUMNS} FROM frames WHERE charge_point_id = ?"
            " ORDER BY position DESC LIMIT ?",
            (charge_point_id, limit),
        )

    async def _query(self, sql: str, params: tuple[object, ...]) -> list[LoggedEvent]:
        def run() -> list[LoggedEvent]:
            assert self._read_conn is not None
            return [_logged(row) for row in self._read_conn.execute(sql, params)]

        return await self._run(self._reader, run)

    # -- processor checkpoint

    async def load_checkpoint(self, name: str) -> int:
        """The position the processor ``name`` has derived up to (0: none yet)."""

        def run() -> int:
            assert self._read_conn is not None
            row = self._read_conn.execute(
                "SELECT position FROM checkpoints WHERE name = ?", (name,)
            ).fetchone()
            return int(row[0]) if row else 0

        return await self._run(self._reader, run)

    async def load_states(self, name: str, charge_point_ids: Collection[str]) -> dict[str, bytes]:
        """The saved states of these charge points (those that have one)."""

        def run() -> dict[str, bytes]:
            assert self._read_conn is not None
            rows = self._read_conn.execute(
                "SELECT charge_point_id, state FROM processor_state WHERE name = ?"
                " AND charge_point_id IN (SELECT value FROM json_each(?))",
                (name, json.dumps(list(charge_point_ids))),
            )
            return {cp: bytes(state) for cp, state in rows}

        return await self._run(self._reader, run)

    async def due(self, name: str, until_ms: int, limit: int) -> list[str]:
        """Charge points whose timer is due at ``until_ms``, the earliest first."""

        def run() -> list[str]:
            assert self._read_conn is not None
            rows = self._read_conn.execute(
                "SELECT charge_point_id FROM processor_timers WHERE name = ? AND due_ms <= ?"
                " ORDER BY due_ms LIMIT ?",
                (name, until_ms, limit),
            )
            return [str(cp) for (cp,) in rows]

        return await self._run(self._reader, run)

    async def untimed_states(self, name: str, limit: int) -> dict[str, bytes]:
        """Saved states without a timer (saved by an older version)."""

        def run() -> dict[str, bytes]:
            assert self._read_conn is not None
            rows = self._read_conn.execute(
                "SELECT s.charge_point_id, s.state FROM processor_state s"
                " LEFT JOIN processor_timers t"
                " ON t.name = s.name AND t.charge_point_id = s.charge_point_id"
                " WHERE s.name = ? AND t.charge_point_id IS NULL LIMIT ?",
                (name, limit),
            )
            return {cp: bytes(state) for cp, state in rows}

        return await self._run(self._reader, run)

    async def save_checkpoint(
        self, name: str, position: int | None, states: Iterable[SavedState]
    ) -> None:
        """The states (charge point, state, when its timer is due or None) and the position
        (None: keep it), in one transaction."""

        def run() -> None:
            assert self._write_conn is not None
            saved = list(states)
            with write_transaction(self._write_conn):
                for start in range(0, len(saved), STATES_PER_INSERT):  # as in ``_insert``
                    part = saved[start : start + STATES_PER_INSERT]
                    rows = ", ".join(["(?, ?, ?)"] * len(part))
                    self._write_conn.execute(
                        f"INSERT OR REPLACE INTO processor_state VALUES {rows}",
                        [value for cp, state, _ in part for value in (name, cp, state)],
                    )
                    self._write_conn.execute(
                        f"INSERT OR REPLACE INTO processor_timers VALUES {rows}",
                        [value for cp, _, due_ms in part for value in (name, cp, due_ms)],
                    )
                if position is not None:
                    self._write_conn.execute(
                        "INSERT OR REPLACE INTO checkpoints VALUES (?, ?)", (name, position)
                    )

        await self._run(self._writer, run)

    async def reset_checkpoint(self, name: str) -> None:
        def run() -> None:
            assert self._write_conn is not None
            with write_transaction(self._write_conn):
                for table in ("processor_state", "processor_timers", "checkpoints"):
                    self._write_conn.execute(f"DELETE FROM {table} WHERE name = ?", (name,))

        await self._run(self._writer, run)

    async def _run(self, pool: ThreadPoolExecutor, work: Callable[[], T]) -> T:
        """``work`` on the pool's thread; SQLite's failures as EventLogUnavailable."""
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, work)
        except sqlite3.Error as error:
            raise EventLogUnavailable(f"event log unavailable: {error}") from error


@functools.cache
def _insert_statement(rows: int) -> str:
    return f"INSERT INTO frames ({COLUMNS}) VALUES " + ",".join([_ROW] * rows)


def _row(event: FrameEvent) -> tuple[object, ...]:
    return (
        event.charge_point_id,
        event.kind.value,
        event.frame,
        event.node,
        event.connection_id,
        event.sequence,
        event.received_us,
        event.direction.value if event.direction else None,
        int(event.message_type) if event.message_type is not None else None,
        event.message_id,
        event.action,
        None if event.ocpp_version is OcppVersion.V16 else event.ocpp_version.value,
        event.answer,
    )


def _logged(row: tuple[Any, ...]) -> LoggedEvent:
    position, cp, kind, frame, node, conn, seq, ts, direction, mtype, mid, action = row[:12]
    version, answer = row[12:]
    return LoggedEvent(
        position=int(position),
        event=FrameEvent(
            charge_point_id=str(cp),
            kind=EventKind(kind),
            frame=str(frame),
            node=str(node),
            connection_id=str(conn),
            sequence=int(seq),
            received_us=int(ts),
            direction=Direction(direction) if direction else None,
            message_type=MessageType(mtype) if mtype is not None else None,
            message_id=mid,
            action=action,
            ocpp_version=OcppVersion(version or OcppVersion.V16),
            answer=answer,
        ),
    )
