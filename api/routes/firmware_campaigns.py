"""/api/v1/firmware-campaigns: UpdateFirmware rolled out in waves, with each target's progress."""

from __future__ import annotations

from typing import Annotated, Self

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from chargestream.api.bulk_schemas import MAX_BULK_TARGETS, BulkFilter, ChargePointId
from chargestream.api.dependencies import Sender, Services
from chargestream.api.responses import NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import Text, UtcDateTime
from chargestream.api.services.firmware_campaigns import CampaignRequest
from chargestream.domain.firmware import MAX_LOCATION, location_problem
from chargestream.streams.firmware_campaigns import CampaignProgress

router = APIRouter(tags=["firmware"])

MAX_WAVE_TIMEOUT = 30 * 86_400
CampaignId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]


def firmware_location(location: str) -> str:
    problem = location_problem(location)
    if problem is not None:
        raise ValueError(f"location: {problem}")
    return location


class FirmwareCampaignIn(BaseModel):
    """A firmware campaign: the charge points listed or those a filter matches."""

    model_config = ConfigDict(extra="forbid")

    location: Annotated[Text, AfterValidator(firmware_location)] = Field(
        max_length=MAX_LOCATION,
        description="where the charge points download the firmware: an http(s), ftp(s) or sftp URL",
    )
    retrieve_date: UtcDateTime = Field(description="when they may start downloading")
    retries: int | None = Field(None, ge=0, le=100, description="download attempts")
    retry_interval: int | None = Field(None, ge=0, le=86_400, description="seconds between")
    wave_size: int | None = Field(
        None, ge=1, le=MAX_BULK_TARGETS, description="targets in flight at once"
    )
    wave_timeout: int | None = Field(
        None,
        ge=60,
        le=MAX_WAVE_TIMEOUT,
        description="seconds a target may take (from the later of its UpdateFirmware and the"
        " retrieve date) before it counts as failed",
    )
    charge_points: list[ChargePointId] | None = Field(
        None, min_length=1, max_length=MAX_BULK_TARGETS
    )
    filter: BulkFilter | None = None

    @model_validator(mode="after")
    def one_selection(self) -> Self:
        if (self.charge_points is None) == (self.filter is None):
            raise ValueError("give either charge_points or filter")
        return self


@router.post(
    "/firmware-campaigns",
    status_code=201,
    responses={
        **UNREADABLE_BODY,
        422: {"description": "nothing created: an invalid location, unknown charge points"},
    },
)
async def create_campaign(
    body: FirmwareCampaignIn, services: Services, sent_by: Sender
) -> CampaignProgress:
    """Create a campaign; the CSMS sends UpdateFirmware to its first wave on its next pass."""
    request = CampaignRequest(
        location=body.location,
        retrieve_date=body.retrieve_date,
        charge_point_ids=body.charge_points,
        filter=body.filter,
        retries=body.retries,
        retry_interval=body.retry_interval,
        wave_size=body.wave_size,
        wave_timeout=body.wave_timeout,
    )
    return await services.firmware_campaigns.create(request, created_by=sent_by)


@router.get("/firmware-campaigns")
async def campaigns(
    services: Services, limit: int = Query(20, ge=1, le=200)
) -> list[CampaignProgress]:
    """The newest campaigns first, each with its progress."""
    return await services.firmware_campaigns.listing(limit)


@router.get("/firmware-campaigns/{campaign_id}", responses=NOT_FOUND)
async def campaign(campaign_id: CampaignId, services: Services) -> CampaignProgress:
    """The campaign with counts per state and every target's progress."""
    return await services.firmware_campaigns.get(campaign_id)


@router.post("/firmware-campaigns/{campaign_id}/cancel", responses=NOT_FOUND)
async def cancel_campaign(campaign_id: CampaignId, services: Services) -> CampaignProgress:
    """No further UpdateFirmware; targets already sent one go on and are still tracked."""
    return await services.firmware_campaigns.cancel(campaign_id)
