"""/api/v1/charge-points/{id}/device-model (OCPP 2.0.1 device model)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from chargestream.api.dependencies import KnownChargePoint, Services
from chargestream.api.responses import NOT_FOUND
from chargestream.domain.records import DeviceVariable

router = APIRouter(tags=["device model"])


class DeviceModelOut(BaseModel):
    variables: list[DeviceVariable]
    after: str | None = Field(
        description="pass as `after` for the next page; null: this is the last page"
    )


@router.get("/charge-points/{charge_point_id}/device-model", responses=NOT_FOUND)
async def device_model(
    charge_point_id: KnownChargePoint,
    services: Services,
    component: str | None = Query(None, min_length=1, max_length=50),
    variable: str | None = Query(None, min_length=1, max_length=50),
    limit: int = Query(100, ge=1, le=1000),
    after: str | None = Query(None, min_length=1, max_length=1000),
) -> DeviceModelOut:
    """The variables its NotifyReports, GetVariables and SetVariables answers showed, one
    per attribute type, sorted by component then variable (exact names filter). Every
    string is the charge point's own text."""
    page = await services.device_model.page(charge_point_id, component, variable, limit, after)
    return DeviceModelOut(variables=page.variables, after=page.after)
