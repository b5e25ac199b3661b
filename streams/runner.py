"""Runs the derivation over the embedded SQLite log, in-process.

The processor reads the log in batches after its checkpoint, derives every
event with the per-charge-point state, upserts the records, then saves the
checkpoint (position and the states that changed). Records are idempotent
upserts, so a crash between the two costs a re-derivation, never a wrong
view. The same ``derive`` runs inside Faust agents in the stack mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from chargestream.domain.records import DerivedRecord
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.storage.base import Store, StoreUnavailable
from chargestream.streams.backoff import Backoff
from chargestream.streams.derive import ChargePointDerivation, DerivationSettings, derive, tick

log = logging.getLogger("chargestream.streams")

CHECKPOINT = "views"


class LogProcessor:
    def __init__(
        self,
        event_log: SqliteEventLog,
        store: Store,
        settings: DerivationSettings,
        *,
        batch_size: int = 2000,
        tick_interval: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._log = event_log
        self._store = store
        self._batch_size = batch_size
        self._tick_interval = tick_interval
        self._clock = clock
        self._settings = settings
        self._states: dict[str, ChargePointDerivation] = {}
        self.position = 0
        self._busy = asyncio.Lock()  # one derivation pass at a time (follow, tick, rebuild)

    async def load(self) -> None:
        self.position, saved = await self._log.load_checkpoint(CHECKPOINT)
        self._states = {cp: ChargePointDerivation.from_json(data) for cp, data in saved.items()}
        await self.refresh_rules()

    async def refresh_rules(self) -> None:
        rules = tuple(rule for rule in await self._store.list_alert_rules() if rule.enabled)
        self._settings = replace(self._settings, rules=rules)

    async def run(self) -> None:
        """Follow the log until cancelled."""
        await self.load()
        next_tick = 0.0
        backoff = Backoff()
        while True:
            self._log.appended.clear()
            try:
                await self.process_available()
                if time.monotonic() >= next_tick:
                    await self.refresh_rules()
                    await self.tick()
                    next_tick = time.monotonic() + self._tick_interval
            except (StoreUnavailable, EventLogUnavailable) as error:  # again, later
                log.warning("derivation_failed", extra={"fields": {"error": repr(error)}})
                await backoff.wait()
                continue
            backoff.reset()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._log.appended.wait(), self._tick_interval)

    async def process_available(self, progress: Callable[[int], None] | None = None) -> int:
        """Derive every event after the checkpoint; returns how many."""
        async with self._busy:
            return await self._process_available(progress)

    async def _process_available(self, progress: Callable[[int], None] | None) -> int:
        total = 0
        while batch := await self._log.read(self.position, self._batch_size):
            records: list[DerivedRecord] = []
            changed: dict[str, ChargePointDerivation] = {}
            for logged in batch:
                cp = logged.event.charge_point_id
                state = changed.get(cp) or self._states.get(cp)
                changed[cp], derived = derive(state, logged, self._settings)
                records.extend(derived)
            await self._store.upsert(records)  # states move on only once it is stored
            self._states.update(changed)
            self.position = batch[-1].position
            await self._save(changed)
            total += len(batch)
            if progress is not None:
                progress(total)
        return total

    async def tick(self) -> None:
        """Timers: open Offline alerts for charge points silent too long."""
        async with self._busy:
            await self._tick()

    async def _tick(self) -> None:
        now = self._clock()
        records: list[DerivedRecord] = []
        changed: dict[str, ChargePointDerivation] = {}
        for cp, state in self._states.items():
            new_state, derived = tick(state, now, self._settings)
            if derived:
                changed[cp] = new_state
                records.extend(derived)
        self._states.update(changed)
        if records:
            await self._store.upsert(records)
            await self._save(changed)

    async def rebuild(self, progress: Callable[[int], None] = lambda _: None) -> int:
        """Drop every derived view and derive the whole log again."""
        async with self._busy:
            await self._store.clear_derived()
            await self._log.reset_checkpoint(CHECKPOINT)
            await self.load()
            total = await self._process_available(progress)
            await self._tick()
            return total

    async def _save(self, changed: dict[str, ChargePointDerivation]) -> None:
        await self._log.save_checkpoint(
            CHECKPOINT, self.position, [(cp, state.to_json()) for cp, state in changed.items()]
        )
