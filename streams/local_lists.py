"""The controller keeping every connected charge point's Local Authorization List in sync.

It compares the assignment (operator data: which id tags, the desired version) with what
the log shows the charge point confirmed, and sends the next step
(``streams/local_list_plan.py``): on a charge point's connect, BootNotification or list
answer (``observe``), and on every pass for each assigned charge point it owns
(``reconcile``), which also picks up id tags changed through the API.

Memory holds only a debounce: the last command sent per charge point and what the views
showed then, so the same command is not sent again before its answer is derived (or
``RESEND_AFTER`` passed without one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from chargestream.domain.commands import SendCommand
from chargestream.domain.frames import EventKind
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    MAX_LOCAL_LIST,
    IdTag,
    LocalListAssignment,
    LocalListMode,
    LocalListState,
)
from chargestream.storage.base import Store
from chargestream.streams.control import Observed, Outbox, Owns
from chargestream.streams.local_list_plan import (
    Command,
    check,
    confirmed_entries,
    desired_entries,
    problem,
    update,
    waiting,
)
from chargestream.streams.parse import EPOCH

log = logging.getLogger("chargestream.control.local_lists")

RESEND_AFTER = 30.0  # seconds before the same command goes again when nothing changed
TAGS_AT_ONCE = 100  # id tags of a tags-mode list read concurrently


class LocalListController:
    def __init__(
        self,
        store: Store,
        send: SendCommand,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._clock = clock
        self._outbox = Outbox(send)
        self._sent: dict[str, tuple[object, float]] = {}  # cp -> (command and basis, when)

    async def observe(self, batch: Sequence[Observed]) -> None:
        due = {item.event.event.charge_point_id for item in batch if _concerns_list(item)}
        tags = _Tags(self._store)
        for charge_point_id in sorted(due):
            assignment = await self._store.get_local_list(charge_point_id)
            if assignment is not None:
                await self._sync(assignment, self._clock(), tags)

    async def reconcile(self, now: datetime, owns: Owns) -> None:
        tags = _Tags(self._store)
        for assignment in await self._store.local_lists():
            if owns(assignment.charge_point_id):
                await self._sync(assignment, now, tags)
        expired = time.monotonic() - RESEND_AFTER
        for charge_point_id, (_, at) in list(self._sent.items()):
            if at < expired:
                del self._sent[charge_point_id]

    async def drain(self) -> None:
        """Wait until every command posted so far has its outcome."""
        await self._outbox.drain()

    async def _sync(self, assignment: LocalListAssignment, now: datetime, tags: _Tags) -> None:
        cp = assignment.charge_point_id
        if self._outbox.busy(cp):
            return
        registry = await self._store.get_charge_point_state(cp)
        if registry is None or not registry.connected:
            return
        state = await self._store.local_list_state(cp)
        version = registry.ocpp_version or OcppVersion.V16
        command = check(state, registry.connected_since, version)
        if command is None and state is not None and not waiting(assignment, state, now):
            command = await self._next_update(assignment, state, tags, version)
        if command is not None:
            self._post(cp, command, (command, _moved(state), registry.connected_since))

    async def _next_update(
        self,
        assignment: LocalListAssignment,
        state: LocalListState,
        tags: _Tags,
        version: OcppVersion,
    ) -> Command | None:
        desired = desired_entries(assignment, await tags.of(assignment))
        why_not = problem(desired, state)
        if why_not is not None:
            fields = {"cp": assignment.charge_point_id, "problem": why_not}
            log.warning("local_list_not_sent", extra={"fields": fields})
            return None
        confirmed = None
        if state.generation is not None:
            entries = await self._store.local_list_entries(assignment.charge_point_id)
            confirmed = confirmed_entries(state, entries)
        return update(assignment.desired_version, desired, confirmed, state, version)

    def _post(self, cp: str, command: Command, basis: object) -> None:
        sent = self._sent.get(cp)
        if sent is not None and sent[0] == basis and time.monotonic() - sent[1] < RESEND_AFTER:
            return
        if self._outbox.post(cp, cp, command.action, command.payload):
            self._sent[cp] = (basis, time.monotonic())


def _moved(state: LocalListState | None) -> LocalListState | None:
    """The state without its times: an answer that changed nothing else (a CALLERROR, a
    Full answered VersionMismatch again) does not count as progress for the debounce."""
    if state is None:
        return None
    return replace(
        state, updated_at=EPOCH, status_at=None, checked_at=None, lengths_checked_at=None
    )


def _concerns_list(item: Observed) -> bool:
    """A connect, a BootNotification or a derived list answer: time to look at the list."""
    event = item.event.event
    return (
        event.kind is EventKind.CONNECTED
        or event.action == "BootNotification"
        or any(isinstance(record, LocalListState) for record in item.records)
    )


class _Tags:
    """The id tags of one pass, read once: all of them for mode all, else those named."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._all: list[IdTag] | None = None
        self._named: dict[str, IdTag | None] = {}

    async def of(self, assignment: LocalListAssignment) -> list[IdTag]:
        if assignment.mode is LocalListMode.ALL:
            if self._all is None:
                self._all = await self._store.list_id_tags(MAX_LOCAL_LIST + 1)
            return self._all
        missing = [tag for tag in assignment.tags if tag not in self._named]
        for start in range(0, len(missing), TAGS_AT_ONCE):
            chunk = missing[start : start + TAGS_AT_ONCE]
            found = await asyncio.gather(*(self._store.get_id_tag(tag) for tag in chunk))
            self._named.update(zip(chunk, found, strict=True))
        return [tag for name in assignment.tags if (tag := self._named[name]) is not None]
