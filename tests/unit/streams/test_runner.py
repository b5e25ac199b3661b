"""The embedded processor (streams.runner) against a real SQLite log and store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargestream.domain.frames import EventKind, FrameEvent
from chargestream.domain.records import ChargePointState
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.derive import DerivationSettings
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
