"""Controllers (streams.control): guarded, fed by the runner, commands through an Outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from aiokafka.partitioner import murmur2
from confluent_kafka.cimpl import murmur2 as gateway_murmur2

from chargestream.domain.frames import EventKind
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.storage.base import StoreUnavailable
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.control import Controllers, Observed, Outbox, Owns
from chargestream.streams.derive import DerivationSettings
from chargestream.streams.runner import LogProcessor
from tests.unit.streams.test_runner import event_log, lifecycle, store

__all__ = ["event_log", "store"]  # fixtures


class Recording:
    def __init__(self, fail: Exception | None = None) -> None:
        self.batches: list[Sequence[Observed]] = []
        self.passes: list[tuple[datetime, Owns]] = []
        self.fail = fail

    async def observe(self, batch: Sequence[Observed]) -> None:
        self.batches.append(batch)
        if self.fail is not None:
            raise self.fail

    async def reconcile(self, now: datetime, owns: Owns) -> None:
        self.passes.append((now, owns))
        if self.fail is not None:
            raise self.fail


async def test_a_failing_controller_stops_neither_the_others_nor_the_caller(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, outage, healthy = (
        Recording(ValueError("bug")),
        Recording(StoreUnavailable()),
        Recording(),
    )
    controllers = Controllers([broken, outage, healthy])
    caplog.set_level(logging.WARNING, "chargestream.control")

    await controllers.observe([])
    await controllers.reconcile(datetime(2026, 1, 1), lambda _: True)

    assert len(healthy.batches) == 1 and len(healthy.passes) == 1
    messages = [record.getMessage() for record in caplog.records]
    assert messages.count("controller_failed") == 2
    assert messages.count("controller_store_unavailable") == 2


async def test_the_runner_shows_controllers_what_it_derived_but_not_a_rebuild(
    event_log: SqliteEventLog, store: SqliteStore
) -> None:
    recording = Recording()
    processor = LogProcessor(
        event_log, store, DerivationSettings(), controllers=Controllers([recording])
    )
    await processor.load()
    await event_log.append([lifecycle(EventKind.CONNECTED, 1)])

    assert await processor.process_available() == 1
    [[observed]] = recording.batches
    assert observed.event.event.kind is EventKind.CONNECTED
    assert observed.records  # its state, stored before the controllers see it
    await processor.reconcile()
    [(_, owns)] = recording.passes
    assert owns("any charge point")

    await processor.rebuild()
    assert len(recording.batches) == 1  # a replay sends nothing


class Sender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.release = asyncio.Event()

    async def __call__(self, cp: str, action: str, payload: dict[str, Any]) -> object:
        self.sent.append((cp, action, payload))
        await self.release.wait()
        return "answered"


async def test_the_outbox_holds_one_command_per_key_and_hands_on_the_outcome() -> None:
    sender = Sender()
    outbox = Outbox(sender)
    outcomes: list[object] = []

    async def then(outcome: object) -> None:
        outcomes.append(outcome)

    assert outbox.post("CP-1", "CP-1", "GetLocalListVersion", {}, then=then)
    assert not outbox.post("CP-1", "CP-1", "GetLocalListVersion", {})  # one in flight
    assert outbox.post("CP-2", "CP-2", "GetLocalListVersion", {})
    await asyncio.sleep(0)
    assert outbox.busy("CP-1") and len(sender.sent) == 2

    sender.release.set()
    await outbox.drain()
    assert outcomes == ["answered"] and not outbox.busy("CP-1")
    assert outbox.post("CP-1", "CP-1", "GetLocalListVersion", {})
    await outbox.drain()


async def test_the_outbox_survives_a_failing_send(caplog: pytest.LogCaptureFixture) -> None:
    async def failing(cp: str, action: str, payload: dict[str, Any]) -> object:
        raise RuntimeError("no route")

    outbox = Outbox(failing)
    outbox.post("CP-1", "CP-1", "Reset", {"type": "Soft"})
    await outbox.drain()
    assert "controller_command_failed" in [r.getMessage() for r in caplog.records]
    assert not outbox.busy("CP-1")


@pytest.mark.parametrize("key", ["CP-1", "site:Depot North", "ÄÖ-7", "x" * 48])
def test_stack_workers_hash_keys_to_the_partitions_the_gateway_uses(key: str) -> None:
    """A worker owns a key when it holds the frames partition the gateway writes it to."""
    for count in (1, 12, 48):
        assert (murmur2(key.encode()) & 0x7FFFFFFF) % count == gateway_murmur2(key.encode(), count)
