"""/api/v1/sessions, fleet-wide and per charge point, with their meter values."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from chargestream.api.dependencies import KnownChargePoint, Services
from chargestream.api.responses import NOT_FOUND
from chargestream.api.schemas import SessionOut, UtcDateTime
from chargestream.domain.records import MeterValue

router = APIRouter(tags=["sessions"])

# any id a store can hold: a charge point may stop a transaction the CSMS never numbered
TransactionId = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]


@router.get("/charge-points/{charge_point_id}/sessions", responses=NOT_FOUND)
async def charge_point_sessions(
    charge_point_id: KnownChargePoint,
    services: Services,
    limit: int = Query(100, ge=1, le=1000),
    before: UtcDateTime | None = None,
) -> list[SessionOut]:
    return await services.sessions.of_charge_point(charge_point_id, limit, before)


@router.get("/sessions")
async def sessions(
    services: Services, limit: int = Query(100, ge=1, le=1000), before: UtcDateTime | None = None
) -> list[SessionOut]:
    return await services.sessions.recent(limit, before)


@router.get("/sessions/{transaction_id}", responses=NOT_FOUND)
async def session(transaction_id: TransactionId, services: Services) -> SessionOut:
    return await services.sessions.get(transaction_id)


@router.get("/sessions/{transaction_id}/meter-values", responses=NOT_FOUND)
async def session_meter_values(
    transaction_id: TransactionId,
    services: Services,
    limit: int = Query(10000, ge=1, le=100000),
) -> list[MeterValue]:
    return await services.sessions.meter_values(transaction_id, limit)
