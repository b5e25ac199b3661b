"""/api/v1 reservations (OCPP 1.6 Reservation profile): reserve a connector, list, cancel."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from chargestream.api.dependencies import KnownChargePoint, Sender, Services
from chargestream.api.responses import COMMAND_ERRORS, NOT_FOUND, UNREADABLE_BODY
from chargestream.api.routes.commands import OUTCOME_STATUS
from chargestream.api.schemas import CommandOut, UtcDateTime, unicode_text
from chargestream.api.services.reservations import ReservationRequest
from chargestream.domain.records import Reservation, ReservationStatus

router = APIRouter(tags=["reservations"])

IdToken = Annotated[
    str, StringConstraints(min_length=1, max_length=20), AfterValidator(unicode_text)
]
ReservationId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ReservationIn(BaseModel):
    connector_id: int = Field(ge=0, le=2**31 - 1, description="0: any connector")
    id_tag: IdToken
    expiry_date: UtcDateTime = Field(description="in the future; a time without zone is UTC")
    parent_id_tag: IdToken | None = None


class ReservationOut(BaseModel):
    reservation_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    expiry_date: datetime
    requested_at: datetime
    status: ReservationStatus
    updated_at: datetime
    parent_id_tag: str | None = None
    transaction_id: int | None = None
    command: CommandOut = Field(description="the ReserveNow command and its outcome")


@router.post(
    "/charge-points/{charge_point_id}/reservations",
    response_model=ReservationOut,
    responses={**NOT_FOUND, **UNREADABLE_BODY, **COMMAND_ERRORS},
)
async def reserve(
    charge_point_id: KnownChargePoint,
    body: ReservationIn,
    services: Services,
    sent_by: Sender,
    timeout: float | None = Query(None, gt=0, le=300),
) -> JSONResponse:
    """Send ReserveNow with a new reservation id. The answer is the reservation as the
    charge point's answer makes it (`requested` when there was none) with the command; the
    listing shows it once the answer is derived from the log."""
    request = ReservationRequest(
        body.connector_id, body.id_tag, body.expiry_date, body.parent_id_tag
    )
    reservation, record = await services.reservations.reserve(
        charge_point_id, request, timeout, sent_by=sent_by
    )
    assert record.outcome is not None  # a sent command always ends in an outcome
    out = ReservationOut(
        **dataclasses.asdict(reservation),
        command=CommandOut.build(record),
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=OUTCOME_STATUS[record.outcome])


@router.get("/reservations")
async def reservations(
    services: Services,
    charge_point_id: str | None = None,
    status: ReservationStatus | None = None,
    limit: int = Query(100, ge=1, le=1000),
    before: UtcDateTime | None = None,
) -> list[Reservation]:
    """Newest requested first; `before` pages by `requested_at`. `status` is the status now
    (an active reservation past its expiry date is `expired`): the newest `limit` with that
    status, looking through at most 20,000 reservations."""
    return await services.reservations.listing(charge_point_id, status, limit, before)


@router.get("/reservations/{reservation_id}", responses=NOT_FOUND)
async def reservation(reservation_id: ReservationId, services: Services) -> Reservation:
    return await services.reservations.get(reservation_id)


@router.delete(
    "/reservations/{reservation_id}",
    response_model=CommandOut,
    responses={**NOT_FOUND, **COMMAND_ERRORS},
)
async def cancel(
    reservation_id: ReservationId,
    services: Services,
    sent_by: Sender,
    timeout: float | None = Query(None, gt=0, le=300),
) -> JSONResponse:
    """Send CancelReservation for an active reservation (422 for one that is not); it reads
    `cancelled` once the charge point's Accepted is derived. The body is the command."""
    record = await services.reservations.cancel(reservation_id, timeout, sent_by=sent_by)
    assert record.outcome is not None
    body = CommandOut.build(record).model_dump(mode="json")
    return JSONResponse(body, status_code=OUTCOME_STATUS[record.outcome])
