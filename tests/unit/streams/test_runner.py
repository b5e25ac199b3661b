"""The embedded processor (streams.runner) against a real SQLite log and store."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from chargestream.domain.frames import Direction, EventKind, FrameEvent, LoggedEvent
from chargestream.domain.records import AlertKind, ChargePointState, DerivedRecord
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams import metrics, runner, skipping
from chargestream.streams.derive import DerivationSettings, derive
from chargestream.streams.runner import LogProcessor
from tests.conftest import eventually


def lifecycle(kind: EventKind, sequence: int) -> FrameEvent:
    return FrameEvent(
        charge_point_id="CP-1",
        kind=kind,
        frame="{}",
        node="node-a",
        connection_id="conn-1",
        sequence=sequence,
        received_us=round(datetime.now(UTC).timestamp() * 1_000_000),
    )


@pytest.fixture
async def event_log(tmp_path: Path) -> AsyncIterator[SqliteEventLog]:
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.open()
    yield log
    await log.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    yield store
    await store.close()


async def test_derivation_waits_out_a_store_outage_then_catches_up(
    event_log: SqliteEventLog, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    processor = LogProcessor(event_log, store, DerivationSettings(), tick_interval=0.05)
    running = asyncio.create_task(processor.run())
    try:
        await event_log.append([lifecycle(EventKind.CONNECTED, 0)])

        async def state() -> ChargePointState | None:
            return await store.get_charge_point_state("CP-1")

        assert (await eventually(state)).connected

        await store.close()  # the store is gone: the derivation must wait, not end
        with caplog.at_level(logging.WARNING, logger="chargestream.streams"):
            await event_log.append([lifecycle(EventKind.DISCONNECTED, 1)])

            async def failed() -> list[logging.LogRecord]:
                return [r for r in caplog.records if r.getMessage() == "derivation_failed"]

            failure = (await eventually(failed))[0]
        assert failure.fields["error"].startswith("StoreUnavailable(")  # type: ignore[attr-defined]
        assert not running.done()

        await store.open()  # back: the same events are derived again

        async def disconnected() -> bool:
            current = await state()
            return current is not None and not current.connected

        assert await eventually(disconnected, timeout=15)
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


# -- one poisonous event, memory per charge point


def status_call(cp: str, sequence: int, connector: int, seconds: float) -> list[FrameEvent]:
    """A StatusNotification CALL of ``cp`` and its CALLRESULT as two events, as the gateway
    logged them before one event per exchange (ADR 0010)."""
    at = round((T0 + timedelta(seconds=seconds)).timestamp() * 1_000_000)
    payload = {"connectorId": connector, "errorCode": "NoError", "status": "Available"}
    call = orjson.dumps([2, f"m{sequence}", "StatusNotification", payload]).decode()
    result = orjson.dumps([3, f"m{sequence}", {}]).decode()
    return [
        FrameEvent(cp, EventKind.FRAME, call, "n", "c", sequence, at, Direction.IN),
        FrameEvent(cp, EventKind.FRAME, result, "n", "c", sequence + 1, at, Direction.OUT),
    ]


def lifecycle_of(cp: str, kind: EventKind, seconds: float) -> FrameEvent:
    at = round((T0 + timedelta(seconds=seconds)).timestamp() * 1_000_000)
    return FrameEvent(cp, kind, "{}", "n", "c", 0, at)


T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


class RefusingStore(SqliteStore):
    """A store that cannot hold what connector 7 derives (as SQLite cannot hold 2**63)."""

    async def upsert(self, records: Sequence[DerivedRecord]) -> None:
        if any(getattr(record, "connector_id", None) == 7 for record in records):
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        await super().upsert(records)


async def test_an_event_whose_records_the_store_refuses_is_skipped_and_the_rest_derived(
    event_log: SqliteEventLog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = RefusingStore(tmp_path / "refusing.db")
    await store.open()
    try:
        await event_log.append([*status_call("CP-A", 0, 7, 1), *status_call("CP-B", 0, 1, 1)])
        processor = LogProcessor(event_log, store, DerivationSettings())
        await processor.load()
        skipped = metrics.SKIPPED_EVENTS._value.get()
        with caplog.at_level(logging.ERROR, logger="chargestream.streams"):
            assert await processor.process_available() == 4
        failures = [r for r in caplog.records if r.getMessage() == "derivation_skipped"]
        assert [r.fields["cp"] for r in failures] == ["CP-A"]  # type: ignore[attr-defined]
        assert metrics.SKIPPED_EVENTS._value.get() == skipped + 1
        assert await store.status_history(
            "CP-B", T0, T0 + timedelta(hours=1)
        )  # the other one: derived
        assert processor.position == 4
    finally:
        await store.close()


async def test_an_event_derivation_fails_on_is_skipped_and_the_rest_derived(
    event_log: SqliteEventLog,
    store: SqliteStore,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(state: Any, logged: LoggedEvent, settings: DerivationSettings) -> Any:
        if logged.event.charge_point_id == "CP-A":
            raise RecursionError("a bug, say")
        return derive(state, logged, settings)

    monkeypatch.setattr(skipping, "derive", failing)
    await event_log.append([*status_call("CP-A", 0, 1, 1), *status_call("CP-B", 0, 1, 1)])
    processor = LogProcessor(event_log, store, DerivationSettings())
    await processor.load()
    with caplog.at_level(logging.ERROR, logger="chargestream.streams"):
        assert await processor.process_available() == 4
    assert len([r for r in caplog.records if r.getMessage() == "derivation_skipped"]) == 2
    assert await store.status_history("CP-B", T0, T0 + timedelta(hours=1))


async def test_states_of_disconnected_charge_points_leave_memory_and_come_back(
    event_log: SqliteEventLog, store: SqliteStore
) -> None:
    now = T0 + timedelta(seconds=60)
    processor = LogProcessor(
        event_log, store, DerivationSettings(offline_after=600), clock=lambda: now
    )
    await processor.load()
    ids = [f"CP-{n}" for n in range(50)]
    for cp in ids:
        await event_log.append(
            [
                lifecycle_of(cp, EventKind.CONNECTED, 0),
                *status_call(cp, 1, 1, 1),
                lifecycle_of(cp, EventKind.DISCONNECTED, 2),
            ]
        )
    await event_log.append([lifecycle_of("CP-ON", EventKind.CONNECTED, 0)])
    await processor.process_available()
    assert list(processor._states) == ["CP-ON"]  # the connected one only

    # back: its state is read again, so the outage it knew of ends at the reconnection
    await event_log.append(
        [lifecycle_of("CP-7", EventKind.CONNECTED, 30), *status_call("CP-7", 3, 1, 31)]
    )
    await processor.process_available()
    history = await store.status_history("CP-7", T0, T0 + timedelta(hours=1))
    assert [(i.status, i.end) for i in history] == [
        ("Available", T0 + timedelta(seconds=2)),
        ("Offline", T0 + timedelta(seconds=30)),
        ("Available", None),
    ]

    # the OFFLINE alerts of charge points no longer in memory: their timers are on disk
    now = T0 + timedelta(seconds=2000)
    await processor.tick()
    alerts = await store.alerts(open_only=True, limit=1000)
    assert sorted(a.charge_point_id for a in alerts if a.kind is AlertKind.OFFLINE) == sorted(
        [*ids, "CP-ON"]
    )
    await processor.tick()  # none twice
    assert len(await store.alerts(open_only=True, limit=1000)) == len(alerts)


async def test_a_bounded_number_of_states_stays_in_memory(
    event_log: SqliteEventLog, store: SqliteStore
) -> None:
    processor = LogProcessor(event_log, store, DerivationSettings(), max_cached_states=10)
    await processor.load()
    await event_log.append([lifecycle_of(f"CP-{n}", EventKind.CONNECTED, n) for n in range(30)])
    await processor.process_available()
    assert list(processor._states) == [f"CP-{n}" for n in range(20, 30)]  # the latest


async def test_states_saved_without_timers_get_them_at_load(
    event_log: SqliteEventLog, store: SqliteStore, tmp_path: Path
) -> None:
    """States an older version saved have no timer: loading gives them one."""
    now = T0 + timedelta(seconds=2000)
    settings = DerivationSettings(offline_after=600)
    first = LogProcessor(event_log, store, settings, clock=lambda: now)
    await first.load()
    await event_log.append(
        [lifecycle_of("CP-OLD", EventKind.CONNECTED, 0), *status_call("CP-OLD", 1, 1, 1)]
    )
    await first.process_available()
    with closing(sqlite3.connect(tmp_path / "events.db")) as db, db:
        db.execute("DELETE FROM processor_timers")

    again = LogProcessor(event_log, store, settings, clock=lambda: now)
    await again.load()
    await again.tick()
    assert [a.charge_point_id for a in await store.alerts(open_only=True)] == ["CP-OLD"]


# -- sharing the event loop with the gateway


async def test_a_batch_derived_slice_by_slice_stores_what_one_pass_would(
    event_log: SqliteEventLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """States carry over from one slice to the next, and the loop runs between them."""
    sliced = runner.SLICE
    events = 2 * sliced
    for n in range(sliced):  # each charge point's events spread over several slices
        await event_log.append(status_call(f"CP-{n % 3}", 2 * n, 1 + n % 2, n))
    views = []
    for slice_size in (sliced, events):
        monkeypatch.setattr(runner, "SLICE", slice_size)
        store = SqliteStore(tmp_path / f"store-{slice_size}.db")
        await store.open()
        turns = 0

        async def count_turns() -> None:
            nonlocal turns
            while True:
                await asyncio.sleep(0)
                turns += 1

        processor = LogProcessor(event_log, store, DerivationSettings())
        batch = await event_log.read(0, events)
        counting = asyncio.create_task(count_turns())
        await asyncio.sleep(0)
        before = turns
        await processor._derive(batch)  # the loop turns only between two slices
        between = turns - before
        counting.cancel()
        assert await processor.rebuild() == events  # from the start, into this store
        views.append(
            [await store.status_history(f"CP-{n}", T0, T0 + timedelta(hours=1)) for n in range(3)]
        )
        await store.close()
        assert (between > 0) == (slice_size == sliced)
    assert views[0] == views[1]
    assert views[0][0]


async def test_a_caught_up_processor_waits_out_its_pass_interval(
    event_log: SqliteEventLog, store: SqliteStore
) -> None:
    processor = LogProcessor(event_log, store, DerivationSettings(), pass_interval=2.0)
    running = asyncio.create_task(processor.run())
    try:
        await event_log.append([lifecycle(EventKind.CONNECTED, 0)])

        async def state() -> ChargePointState | None:
            return await store.get_charge_point_state("CP-1")

        assert (await eventually(state)).connected
        await event_log.append([lifecycle(EventKind.DISCONNECTED, 1)])
        await asyncio.sleep(0.2)
        assert processor.position == 1  # the next pass comes 2 s after the last began

        async def disconnected() -> bool:
            current = await state()
            return current is not None and not current.connected

        assert await eventually(disconnected, timeout=15)
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
