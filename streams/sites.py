"""Site load management: a controller dividing each site's limit among its sessions.

For a site it owns (``owns("site:" + id)``) it reads the operator's site, the open sessions
of its charge points and what each connector can take (registrations), divides the limit
(``domain/site_limits.py``), compares the result with the allocations the charge points
confirmed (stored ``SiteAllocation`` rows, written only from their answers) and sends the
difference as SetChargingProfile (``streams/site_plan.py``): decreases first, each answered
before the next goes, and increases only once every decrease was answered. It acts at once
on a StartTransaction, StopTransaction or (re)connection of a charge point of an owned site
and on every periodic pass, which is how a process that owns the site but not the charge
point hears of a session (docs/operations.md, "Site load management").

Memory holds only the last pass's ``owns`` and which sites want another look: a restart
loses nothing the next pass would not redo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from chargestream.domain.commands import SendCommand
from chargestream.domain.frames import EventKind
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    CommandOutcome,
    CommandRecord,
    Session,
    Site,
    SiteAllocation,
)
from chargestream.domain.site_limits import Share, SiteSession, allocate, measured_power_w
from chargestream.storage.base import Store
from chargestream.streams.control import Observed, Outbox, Owns
from chargestream.streams.site_plan import Link, Step, desired, plan

SESSION_WINDOW = 20  # a charge point's newest sessions searched for open ones
METER_WINDOW = 10_000  # a session's meter values searched for its latest power
# a session's start and stop; a 2.0.1 TransactionEvent whenever it emits the session (its
# start, its end, and a refresh at most every CHARGESTREAM_SESSION_REFRESH seconds)
_SESSION_EDGES = ("StartTransaction", "StopTransaction", "TransactionEvent")

Clock = Callable[[], datetime]


def site_key(site_id: str) -> str:
    """The key a site is owned by: hashed like a charge point id in the stack."""
    return "site:" + site_id


def _owns_nothing(_: str) -> bool:
    return False


def answer_of(outcome: object) -> str:
    """The charge point's answer to a command (its ``status``), or the command's outcome."""
    if not isinstance(outcome, CommandRecord) or outcome.outcome is None:
        return CommandOutcome.ERROR.value
    if outcome.outcome is CommandOutcome.ANSWERED and outcome.response is not None:
        return str(outcome.response.get("status", CommandOutcome.ANSWERED.value))
    return outcome.outcome.value


class SiteController:
    def __init__(
        self, store: Store, send: SendCommand, clock: Clock = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._send = send
        self._outbox = Outbox(send)
        self._clock = clock
        self._owns: Owns = _owns_nothing  # until the first pass says what this process owns
        self._again: set[str] = set()  # sites that changed while their commands were out

    async def observe(self, batch: Sequence[Observed]) -> None:
        touched = {item.event.event.charge_point_id for item in batch if _matters(item)}
        if not touched:
            return
        for site in await self._store.list_sites():
            if touched.intersection(site.charge_points) and self._owns(site_key(site.site_id)):
                await self._balance(site.site_id)

    async def reconcile(self, now: datetime, owns: Owns) -> None:
        self._owns = owns
        sites = {site.site_id for site in await self._store.list_sites()}
        left = {row.site_id for row in await self._store.site_allocations()}  # incl. deleted
        for site_id in sorted(sites | left):
            if owns(site_key(site_id)):
                await self._balance(site_id)

    async def drain(self) -> None:
        """Wait until the commands posted so far are answered and settled."""
        await self._outbox.drain()

    async def _balance(self, site_id: str) -> None:
        """Post the site's next commands, unless some are out (then look again after)."""
        if self._outbox.busy(site_key(site_id)):
            self._again.add(site_id)
            return
        steps = await self._steps(site_id)
        if not steps:
            return
        first, rest = steps[0], steps[1:]

        async def then(outcome: object) -> None:
            if await self._settle(first, outcome):
                await self._carry_out(site_id, rest)

        self._outbox.post(
            site_key(site_id),
            first.allocation.charge_point_id,
            first.action,
            first.payload,
            then=then,
        )

    async def _carry_out(self, site_id: str, steps: Sequence[Step]) -> None:
        """Send the rest in order (the site's key stays busy), then what changed meanwhile."""
        while True:
            for step in steps:
                outcome = await self._send(
                    step.allocation.charge_point_id, step.action, step.payload
                )
                if not await self._settle(step, outcome):
                    break
            if site_id not in self._again:
                return
            self._again.discard(site_id)
            steps = await self._steps(site_id)

    async def _settle(self, step: Step, outcome: object) -> bool:
        """Store what the charge point answered; False: a decrease went unanswered, so the
        increases after it wait for the next pass."""
        answer = answer_of(outcome)
        delivered = isinstance(outcome, CommandRecord) and (
            outcome.outcome is CommandOutcome.ANSWERED
        )
        if step.action == "ClearChargingProfile":
            if delivered:
                await self._store.delete_site_allocation(step.allocation)
        else:
            answered = replace(step.allocation, status=answer, answered_at=self._clock())
            await self._store.put_site_allocation(answered)
        return delivered or not step.decrease

    async def _steps(self, site_id: str) -> Sequence[Step]:
        site = await self._store.get_site(site_id)
        stored = await self._store.site_allocations(site_id)
        members = site.charge_points if site is not None else ()
        links = await self._links({*members, *(row.charge_point_id for row in stored)})
        wanted: list[SiteAllocation] = []
        shares: list[Share] = []
        if site is not None:
            shares = allocate(site, await open_sessions(self._store, site))
            wanted = desired(site, shares, self._clock())
        decided = plan(wanted, stored, members, links, _station_ids(shares))
        for row in decided.forget:
            await self._store.delete_site_allocation(row)
        return decided.steps

    async def _links(self, charge_points: Iterable[str]) -> dict[str, Link]:
        links = {}
        for cp in charge_points:
            state = await self._store.get_charge_point_state(cp)
            if state is not None:
                version = state.ocpp_version or OcppVersion.V16
                links[cp] = Link(state.connected, state.connected_since, version)
        return links


def _station_ids(shares: Iterable[Share]) -> dict[int, str]:
    """The station's own transaction ids of the OCPP 2.0.1 sessions, by session id."""
    return {
        share.session.transaction_id: share.session.station_transaction_id
        for share in shares
        if share.session.station_transaction_id is not None
    }


async def open_sessions(store: Store, site: Site) -> list[SiteSession]:
    """The open sessions of the site's charge points (the newest per connector), with what
    their connectors can take."""
    found: list[SiteSession] = []
    for cp in site.charge_points:
        registration = await store.get_registration(cp)
        recent = await store.sessions_for_charge_point(cp, SESSION_WINDOW)
        for session in _open_per_connector(recent):
            assert session.connector_id is not None
            found.append(
                SiteSession(
                    cp,
                    session.connector_id,
                    session.transaction_id,
                    session.start_time,
                    registration.max_current_a if registration else None,
                    registration.phases if registration else None,
                    session.station_transaction_id,
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class SessionView:
    """An open session of a site as the API and dashboard show it."""

    session: SiteSession
    allocation: SiteAllocation | None  # as decided and answered; None: not yet
    measured_power_w: float | None


async def session_views(store: Store, site: Site) -> list[SessionView]:
    """The site's open sessions with their allocations and latest measured power."""
    allocations = {
        (row.charge_point_id, row.connector_id, row.transaction_id): row
        for row in await store.site_allocations(site.site_id)
    }
    views = []
    for session in await open_sessions(store, site):
        key = (session.charge_point_id, session.connector_id, session.transaction_id)
        values = await store.meter_values(session.transaction_id, METER_WINDOW)
        views.append(SessionView(session, allocations.get(key), measured_power_w(values)))
    return views


def _open_per_connector(newest_first: Sequence[Session]) -> list[Session]:
    """A connector's newest session if it is open; an older one left open is superseded."""
    seen: set[int] = set()
    found = []
    for session in newest_first:
        connector = session.connector_id
        if connector is None or connector in seen:
            continue
        seen.add(connector)
        if session.active and connector > 0:
            found.append(session)
    return found


def _matters(item: Observed) -> bool:
    """A (re)connection, or a session's start or stop once derived."""
    event = item.event.event
    if event.kind is EventKind.CONNECTED:
        return True
    return event.action in _SESSION_EDGES and any(
        isinstance(record, Session) for record in item.records
    )
