"""/api/v1/reports: availability (NEVI uptime), utilization and energy, exclusion windows."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from chargestream.api.dependencies import Services
from chargestream.api.report_schemas import (
    AvailabilityOut,
    ExclusionIn,
    SiteId,
    UtilizationOut,
)
from chargestream.api.responses import NOT_FOUND, UNREADABLE_BODY, Responses
from chargestream.api.schemas import ChargePointId, UtcDateTime
from chargestream.domain.records import AvailabilityExclusion
from chargestream.domain.utilization import Grouping
from chargestream.streams.reports import Scope

router = APIRouter(tags=["reports"])

From = Annotated[UtcDateTime, Query(alias="from", description="The period's start (inclusive)")]
To = Annotated[UtcDateTime, Query(description="The period's end (exclusive; at most now)")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the same as a CSV file")]
REPORT_RESPONSES: Responses = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}},  # with format=csv
    422: {"description": "A period that is empty or over 400 days, or too much data"},
}


def _csv(text: str, name: str, start: datetime, end: datetime) -> Response:
    filename = f"{name}-{start:%Y%m%dT%H%MZ}-{end:%Y%m%dT%H%MZ}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/reports/availability",
    response_model=AvailabilityOut,
    responses={**NOT_FOUND, **REPORT_RESPONSES},
)
async def availability(
    services: Services,
    start: From,
    to: To,
    charge_point: ChargePointId | None = None,
    site: SiteId | None = None,
    format: Format = "json",
) -> Any:
    """Time in each status per port (connector; EVSE for 2.0.1), with down time, excluded down
    time and uptime % per port, charge point, site and fleet (docs/operations.md)."""
    scope = Scope(charge_point, site)
    if format == "csv":
        return _csv(
            await services.reports.availability_csv(start, to, scope), "availability", start, to
        )
    return await services.reports.availability(start, to, scope)


@router.get("/reports/utilization", response_model=UtilizationOut, responses=REPORT_RESPONSES)
async def utilization(
    services: Services,
    start: From,
    to: To,
    group: Grouping = Grouping.DAY,
    format: Format = "json",
) -> Any:
    """Sessions begun, kWh, hours charging and plugged-in idle per group (hours and days in
    UTC)."""
    if format == "csv":
        return _csv(
            await services.reports.utilization_csv(start, to, group), "utilization", start, to
        )
    return await services.reports.utilization(start, to, group)


@router.get("/reports/exclusions")
async def exclusions(services: Services) -> list[AvailabilityExclusion]:
    """Every exclusion window, by start."""
    return await services.reports.exclusions()


@router.post("/reports/exclusions", status_code=201, responses=UNREADABLE_BODY)
async def add_exclusion(body: ExclusionIn, services: Services) -> AvailabilityExclusion:
    """Exclude a window from outage time: an outage outside the operator's control, or
    planned maintenance, of a charge point, a site or the fleet."""
    return await services.reports.add_exclusion(body)


@router.delete("/reports/exclusions/{exclusion_id}", status_code=204, responses=NOT_FOUND)
async def delete_exclusion(
    exclusion_id: Annotated[str, Path(min_length=1, max_length=64)], services: Services
) -> None:
    await services.reports.delete_exclusion(exclusion_id)
