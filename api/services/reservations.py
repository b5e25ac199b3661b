"""Reservations: ReserveNow with an id the store allocates, the derived listing, cancelling.

The store holds what the log shows (derived once the charge point's answer is logged); an
active reservation past its expiry date is answered as expired here, when read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    RESERVE_NOW_ANSWERS,
    CommandOutcome,
    CommandRecord,
    Reservation,
    ReservationStatus,
)
from chargestream.gateway.commands import CommandService
from chargestream.storage.base import Store
from chargestream.streams.reservations import reserve_now

FILTER_PAGE = 1000  # a status filter reads the store this many reservations at a time
FILTER_SCAN = 20_000  # and stops after this many (a bounded request however old the match)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class ReservationRequest:
    connector_id: int
    id_tag: str
    expiry_date: datetime
    parent_id_tag: str | None = None


class ReservationService:
    def __init__(self, store: Store, commands: CommandService, clock: Clock = utc_now) -> None:
        self._store = store
        self._commands = commands
        self._clock = clock

    async def reserve(
        self,
        charge_point_id: str,
        request: ReservationRequest,
        timeout: float | None,
        *,
        sent_by: str,
    ) -> tuple[Reservation, CommandRecord]:
        """Send ReserveNow (in the charge point's OCPP version); the reservation as the
        answer makes it (``requested`` without one) and the command. InvalidInput for an
        expiry date not in the future."""
        now = self._clock()
        if request.expiry_date <= now:
            raise InvalidInput("expiry_date must be in the future")
        reservation_id = await self._store.allocate_reservation_id()
        payload = reserve_now(
            await self._commands.version(charge_point_id) or OcppVersion.V16,
            reservation_id,
            request.connector_id,
            request.id_tag,
            request.expiry_date,
            request.parent_id_tag,
        )
        record = await self._commands.send(
            charge_point_id, "ReserveNow", payload, timeout, sent_by=sent_by
        )
        status = ReservationStatus.REQUESTED
        if record.outcome is CommandOutcome.ANSWERED and record.response is not None:
            status = RESERVE_NOW_ANSWERS.get(str(record.response.get("status")), status)
        reservation = Reservation(
            reservation_id=reservation_id,
            charge_point_id=charge_point_id,
            connector_id=request.connector_id,
            id_tag=request.id_tag,
            expiry_date=request.expiry_date,
            requested_at=record.requested_at,
            status=status,
            updated_at=record.completed_at or record.requested_at,
            parent_id_tag=request.parent_id_tag,
        )
        return reservation, record

    async def listing(
        self,
        charge_point_id: str | None,
        status: ReservationStatus | None,
        limit: int,
        before: datetime | None,
    ) -> list[Reservation]:
        """Newest first, each with its status now. A ``status`` filter is applied here
        (whether one expired is not stored, so the store cannot filter): it reads older pages
        until ``limit`` match or the data ends, at most FILTER_SCAN reservations."""
        now = self._clock()
        if status is None:
            found = await self._store.reservations(charge_point_id, limit, before)
            return [reservation.as_of(now) for reservation in found]
        matched: list[Reservation] = []
        seen: set[int] = set()
        while len(matched) < limit and len(seen) < FILTER_SCAN:
            page = await self._store.reservations(charge_point_id, FILTER_PAGE, before)
            fresh = [r for r in page if r.reservation_id not in seen]
            if not fresh:
                break
            seen.update(r.reservation_id for r in fresh)
            matched += [r for r in (f.as_of(now) for f in fresh) if r.status is status]
            if len(page) < FILTER_PAGE:
                break
            # the next page starts at the oldest time read, again for ties at the boundary;
            # after a page of one time only, below it (more ties than a page are not reached)
            oldest = page[-1].requested_at
            before = oldest + _TICK if page[0].requested_at != oldest else oldest
        return matched[:limit]

    async def get(self, reservation_id: int) -> Reservation:
        reservation = await self._store.get_reservation(reservation_id)
        if reservation is None:
            raise NotFound(f"no reservation {reservation_id}")
        return reservation.as_of(self._clock())

    async def cancel(
        self, reservation_id: int, timeout: float | None, *, sent_by: str
    ) -> CommandRecord:
        """Send CancelReservation for an active reservation; the reservation reads cancelled
        once the charge point's Accepted is derived."""
        reservation = await self.get(reservation_id)
        if reservation.status is not ReservationStatus.ACTIVE:
            raise InvalidInput(f"reservation {reservation_id} is {reservation.status}, not active")
        return await self._commands.send(
            reservation.charge_point_id,
            "CancelReservation",
            {"reservationId": reservation_id},
            timeout,
            sent_by=sent_by,
        )
