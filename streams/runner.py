"""Runs the derivation over the embedded SQLite log, in-process.

The processor reads the log in batches after its checkpoint, derives every
event with the per-charge-point state, upserts the records, then saves the
checkpoint (position and the states that changed). Records are idempotent
upserts, so a crash between the two costs a re-derivation, never a wrong
view. The same ``derive`` runs inside Faust agents in the stack mode.

Memory stays bounded whatever ids charge points connect with: the states live in
the log's file, and in memory only those of connected charge points (at most
``MAX_CACHED_STATES``, the least recently used go first); a state is loaded again
when its charge point's next event comes or its timer (the OFFLINE alert) is due.

An event whose derivation, or the storing of whose records, fails with anything
but an outage is skipped (``streams/skipping.py``): it never stops the derivation
of the other events and charge points.

The processor shares its event loop with the gateway, so it must neither hog it nor
pay its fixed costs too often. Once caught up, it derives again at most every
``PASS_INTERVAL`` (each pass costs a log read, a store transaction and a checkpoint
transaction whatever its size: following every group commit of the log meant hundreds
of passes a second at 10,000 charge points); and it lets the loop run between slices of
``SLICE`` events, so a CALL waits for one slice, not for a whole batch
(docs/benchmarks.md, "Embedded mode at 10,000 charge points").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from chargestream.domain.frames import LoggedEvent
from chargestream.domain.records import DerivedRecord
from chargestream.eventlog.sqlite import SavedState, SqliteEventLog
from chargestream.storage.base import Store
from chargestream.streams.backoff import Backoff
from chargestream.streams.control import Controllers, Observed, owns_everything
from chargestream.streams.derive import (
    ChargePointDerivation,
    DerivationSettings,
    offline_due,
    tick,
)
from chargestream.streams.parse import to_ms
from chargestream.streams.skipping import OUTAGES, Derived, derive_batch, upsert_skipping

log = logging.getLogger("chargestream.streams")

Changed = dict[str, ChargePointDerivation]  # the states a batch changed, by charge point

CHECKPOINT = "views"
MAX_CACHED_STATES = 10_000  # states kept in memory (those of connected charge points)
TIMERS_PER_TICK = 1000  # states whose timer is due, handled per tick (the rest: next tick)
PASS_INTERVAL = 0.1  # seconds from the start of one pass to the next, once caught up
SLICE = 100  # events derived (states encoded) between two turns of the event loop


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
        max_cached_states: int = MAX_CACHED_STATES,
        controllers: Controllers | None = None,
        pass_interval: float = PASS_INTERVAL,
    ) -> None:
        """``controllers`` see every event this processor follows, never a rebuild's."""
        self._log = event_log
        self._store = store
        self._batch_size = batch_size
        self._tick_interval = tick_interval
        self._clock = clock
        self._settings = settings
        self._max_cached = max_cached_states
        self._controllers = controllers or Controllers()
        self._pass_interval = pass_interval
        self._states: OrderedDict[str, ChargePointDerivation] = OrderedDict()  # LRU
        self.position = 0
        self._busy = asyncio.Lock()  # one derivation pass at a time (follow, tick, rebuild)

    async def load(self) -> None:
        self.position = await self._log.load_checkpoint(CHECKPOINT)
        self._states.clear()
        await self.refresh_rules()
        while untimed := await self._log.untimed_states(CHECKPOINT, TIMERS_PER_TICK):
            timed = [self._retimed(cp, data) for cp, data in untimed.items()]
            await self._log.save_checkpoint(CHECKPOINT, None, timed)

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
            started = time.monotonic()
            try:
                await self.process_available()
                if time.monotonic() >= next_tick:
                    await self.refresh_rules()
                    await self.tick()
                    next_tick = time.monotonic() + self._tick_interval
            except OUTAGES as error:  # again, later
                log.warning("derivation_failed", extra={"fields": {"error": repr(error)}})
                await backoff.wait()
                continue
            backoff.reset()
            await self._log.wait_appended(self._tick_interval)
            await asyncio.sleep(self._pass_interval - (time.monotonic() - started))

    async def process_available(self, progress: Callable[[int], None] | None = None) -> int:
        """Derive every event after the checkpoint; returns how many."""
        async with self._busy:
            return await self._process_available(progress, self._controllers)

    async def reconcile(self) -> None:
        """One pass of the controllers (they own every charge point here)."""
        await self._controllers.reconcile(self._clock(), owns_everything)

    async def _process_available(
        self, progress: Callable[[int], None] | None, controllers: Controllers
    ) -> int:
        total = 0
        while batch := await self._log.read(self.position, self._batch_size):
            await self._fetch({logged.event.charge_point_id for logged in batch})
            changed, derived = await self._derive(batch)
            await upsert_skipping(self._store, derived)  # states move on once it is stored
            self.position = batch[-1].position
            await self._keep(changed)
            if controllers:
                await controllers.observe([Observed(*pair) for pair in derived])
            total += len(batch)
            if progress is not None:
                progress(total)
        return total

    async def _derive(self, batch: Sequence[LoggedEvent]) -> tuple[Changed, Derived]:
        """``derive_batch`` a slice at a time, the event loop running between two."""
        changed: Changed = {}
        derived: Derived = []

        def state_of(cp: str) -> ChargePointDerivation | None:
            return changed.get(cp) or self._states.get(cp)

        for start in range(0, len(batch), SLICE):
            if start:
                await asyncio.sleep(0)
            states, records = derive_batch(batch[start : start + SLICE], state_of, self._settings)
            changed.update(states)
            derived.extend(records)
        return changed, derived

    async def tick(self) -> None:
        """Timers: open Offline alerts for charge points silent too long."""
        async with self._busy:
            await self._tick()

    async def _tick(self) -> None:
        now = self._clock()
        due = await self._log.due(CHECKPOINT, to_ms(now), TIMERS_PER_TICK)
        await self._fetch(due)
        records: list[DerivedRecord] = []
        changed: Changed = {}
        for cp in due:
            state = self._states.get(cp)
            if state is not None:  # the timer is saved again, moved on if it was early
                changed[cp], derived = tick(state, now, self._settings)
                records.extend(derived)
        if records:
            await self._store.upsert(records)
        if changed:
            await self._keep(changed)

    async def rebuild(self, progress: Callable[[int], None] = lambda _: None) -> int:
        """Drop every derived view and derive the whole log again."""
        async with self._busy:
            await self._store.clear_derived()
            await self._log.reset_checkpoint(CHECKPOINT)
            await self.load()
            total = await self._process_available(progress, Controllers())
            await self._tick()
            return total

    async def _fetch(self, charge_points: Collection[str]) -> None:
        """Bring the saved states of these charge points into memory."""
        missing = [cp for cp in charge_points if cp not in self._states]
        if not missing:
            return
        for cp, data in (await self._log.load_states(CHECKPOINT, missing)).items():
            try:
                self._states[cp] = ChargePointDerivation.from_json(data)
            except ValueError as error:  # derived again from its next event, as a new one
                log.error("state_unreadable", extra={"fields": {"cp": cp, "error": repr(error)}})

    async def _keep(self, changed: Changed) -> None:
        """Save the changed states; keep in memory the connected charge points' (LRU)."""
        saved = []
        for n, state in enumerate(changed.values()):
            if n and not n % SLICE:
                await asyncio.sleep(0)
            saved.append(self._saved(state))
        await self._log.save_checkpoint(CHECKPOINT, self.position, saved)
        for cp, state in changed.items():
            self._states[cp] = state
            self._states.move_to_end(cp)
        for cp, state in changed.items():
            if state.connection_id is None:
                del self._states[cp]
        while len(self._states) > self._max_cached:
            self._states.popitem(last=False)

    def _retimed(self, cp: str, data: bytes) -> SavedState:
        """A state saved without a timer (by an older version), with its timer."""
        try:
            return self._saved(ChargePointDerivation.from_json(data))
        except ValueError:  # unreadable: no timer either
            return cp, data, None

    def _saved(self, state: ChargePointDerivation) -> SavedState:
        due = offline_due(state, self._settings)
        return state.charge_point_id, state.to_json(), None if due is None else to_ms(due)
