"""Controllers: the CSMS acting on its own on what the log shows.

A controller watches the events of the charge points it owns and sends commands through
the command path, like an operator would, but as ``sent_by="csms"`` (keeping local lists
in sync, dividing a site's power, rolling out firmware). What a command achieved is a frame
in the log again, derived like every other view, so a controller keeps nothing a restart
could lose: it compares what should be with what the views show, when an event of its
charge points arrives (``observe``) and on a periodic pass (``reconcile``).

Ownership: the embedded runner owns every charge point. In the stack, each Faust worker
calls its controllers with the events of its own frames partitions and an ``owns`` that
answers for the keys hashing to them, so a charge point (or a site, hashed like a charge
point id) has exactly one owner at a time, and the next one after a rebalance.

Commands leave through an ``Outbox``: in the background, never holding up derivation, at
most one in flight per key (a charge point's list sync, a site's allocation) and a bounded
number in all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chargestream.domain.commands import SendCommand
from chargestream.domain.frames import LoggedEvent
from chargestream.domain.records import DerivedRecord
from chargestream.storage.base import StoreUnavailable

log = logging.getLogger("chargestream.control")

Owns = Callable[[str], bool]
"""Whether this process owns a key: a charge point id, or a key hashed like one."""

OUTBOX_LIMIT = 50  # commands in flight at once, across every key


def owns_everything(_: str) -> bool:
    return True


@dataclass(frozen=True)
class Observed:
    """One logged event of an owned charge point with the records its derivation stored."""

    event: LoggedEvent
    records: Sequence[DerivedRecord]


class Controller(Protocol):
    async def observe(self, batch: Sequence[Observed]) -> None:
        """React to a batch whose records are stored; quick: work goes to an ``Outbox``."""

    async def reconcile(self, now: datetime, owns: Owns) -> None:
        """Compare what should be with what the views show, for the keys this process owns."""


class Controllers:
    """Runs every controller; one failing never stops derivation or the others."""

    def __init__(self, controllers: Sequence[Controller] = ()) -> None:
        self._controllers = tuple(controllers)

    def __bool__(self) -> bool:
        return bool(self._controllers)

    async def observe(self, batch: Sequence[Observed]) -> None:
        for controller in self._controllers:
            await _guarded(controller, "observe", controller.observe(batch))

    async def reconcile(self, now: datetime, owns: Owns) -> None:
        for controller in self._controllers:
            await _guarded(controller, "reconcile", controller.reconcile(now, owns))


async def _guarded(controller: Controller, step: str, work: Awaitable[None]) -> None:
    fields = {"controller": type(controller).__name__, "step": step}
    try:
        await work
    except StoreUnavailable as error:  # the next event or pass tries again
        log.warning(
            "controller_store_unavailable", extra={"fields": {**fields, "error": repr(error)}}
        )
    except Exception:
        log.exception("controller_failed", extra={"fields": fields})


class Outbox:
    """Sends commands in the background, at most one in flight per key."""

    def __init__(self, send: SendCommand, limit: int = OUTBOX_LIMIT) -> None:
        self._send = send
        self._slots = asyncio.Semaphore(limit)
        self._in_flight: dict[Hashable, asyncio.Task[None]] = {}

    def busy(self, key: Hashable) -> bool:
        return key in self._in_flight

    def post(
        self,
        key: Hashable,
        charge_point_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        then: Callable[[object], Awaitable[None]] | None = None,
    ) -> bool:
        """Send unless a command of ``key`` is in flight (False: not posted).

        ``then`` gets the command's outcome once it has one (a follow-up for the same key,
        which stays busy until it returns).
        """
        if key in self._in_flight:
            return False
        task = asyncio.create_task(self._deliver(charge_point_id, action, payload, then))
        self._in_flight[key] = task
        task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return True

    async def _deliver(
        self,
        charge_point_id: str,
        action: str,
        payload: dict[str, Any],
        then: Callable[[object], Awaitable[None]] | None,
    ) -> None:
        fields = {"cp": charge_point_id, "action": action}
        try:
            async with self._slots:
                outcome = await self._send(charge_point_id, action, payload)
            if then is not None:
                await then(outcome)
        except asyncio.CancelledError:
            raise
        except Exception:  # the controller's next pass sends it again
            log.exception("controller_command_failed", extra={"fields": fields})

    async def drain(self) -> None:
        """Wait until every command posted so far has its outcome."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
