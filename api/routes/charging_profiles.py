"""/api/v1 charging profiles (OCPP SmartCharging, 1.6 and 2.0.1): define, install on a charge
point, clear, list what is installed, read the composite schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from chargestream.api.dependencies import KnownChargePoint, Sender, Services
from chargestream.api.responses import COMMAND_ERRORS, NOT_FOUND, UNREADABLE_BODY
from chargestream.api.routes.commands import OUTCOME_STATUS
from chargestream.api.schemas import CommandOut, UtcDateTime, unicode_text
from chargestream.api.services.charging_profiles import ClearCriteria
from chargestream.domain.charging_profiles import (
    MAX_CONNECTOR_ID,
    MAX_DURATION,
    MAX_LIMIT,
    MAX_NAME,
    MAX_PERIODS,
    MAX_PROFILE_ID,
    MAX_STACK_LEVEL,
)
from chargestream.domain.records import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    CommandRecord,
    InstalledChargingProfile,
    RecurrencyKind,
    SchedulePeriod,
)

router = APIRouter(tags=["charging profiles"])

ProfileId = Annotated[int, Path(ge=1, le=MAX_PROFILE_ID)]
ConnectorId = Annotated[int, Field(ge=0, le=MAX_CONNECTOR_ID)]
Timeout = Annotated[float | None, Query(gt=0, le=300)]
MAX_SESSION_ID = 2**53 - 1  # OCPP 2.0.1 sessions' ids reach past int32 (ADR 0009)


class SchedulePeriodIn(BaseModel):
    start_period: int = Field(ge=0, le=MAX_DURATION, description="seconds from the start")
    limit: float = Field(ge=0, le=MAX_LIMIT, description="A or W, in steps of 0.1")
    number_phases: int | None = Field(None, ge=1, le=3)


class ChargingProfileIn(BaseModel):
    """A charging profile; the schedule's fields are flat (`unit` … `periods`)."""

    name: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_NAME), AfterValidator(unicode_text)
    ]
    stack_level: int = Field(ge=0, le=MAX_STACK_LEVEL)
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    recurrency_kind: RecurrencyKind | None = Field(None, description="only with Recurring")
    valid_from: UtcDateTime | None = None
    valid_to: UtcDateTime | None = None
    unit: ChargingRateUnit
    duration: int | None = Field(None, ge=1, le=MAX_DURATION, description="seconds")
    start_schedule: UtcDateTime | None = Field(
        None, description="needed by Recurring, refused with Relative"
    )
    min_charging_rate: float | None = Field(None, ge=0, le=MAX_LIMIT)
    periods: list[SchedulePeriodIn] = Field(min_length=1, max_length=MAX_PERIODS)

    def to_profile(self, profile_id: int, created_at: datetime) -> ChargingProfile:
        return ChargingProfile(
            profile_id=profile_id,
            name=self.name,
            stack_level=self.stack_level,
            purpose=self.purpose,
            kind=self.kind,
            unit=self.unit,
            periods=tuple(
                SchedulePeriod(p.start_period, p.limit, p.number_phases) for p in self.periods
            ),
            created_at=_ms(created_at),
            recurrency_kind=self.recurrency_kind,
            valid_from=_ms_or_none(self.valid_from),
            valid_to=_ms_or_none(self.valid_to),
            duration=self.duration,
            start_schedule=_ms_or_none(self.start_schedule),
            min_charging_rate=self.min_charging_rate,
        )


def _ms(moment: datetime) -> datetime:
    """Whole milliseconds: what every store keeps and OCPP sends."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _ms_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _ms(moment)


class InstallIn(BaseModel):
    profile_id: int = Field(ge=1, le=MAX_PROFILE_ID)
    connector_id: ConnectorId = Field(description="0: the charge point as a whole")
    transaction_id: int | None = Field(
        None,
        ge=1,
        le=MAX_SESSION_ID,
        description="a TxProfile's transaction (required for one): the session's id",
    )


@router.post(
    "/charging-profiles",
    status_code=201,
    responses=UNREADABLE_BODY,
)
async def create(body: ChargingProfileIn, services: Services) -> ChargingProfile:
    """Define a charging profile (422 naming every rule it breaks); the store allocates its
    `profile_id`, the chargingProfileId it is sent with."""
    return await services.charging_profiles.create(body.to_profile)


@router.get("/charging-profiles")
async def listing(
    services: Services, limit: int = Query(1000, ge=1, le=1000)
) -> list[ChargingProfile]:
    """By id."""
    return await services.charging_profiles.listing(limit)


@router.get("/charging-profiles/{profile_id}", responses=NOT_FOUND)
async def get(profile_id: ProfileId, services: Services) -> ChargingProfile:
    return await services.charging_profiles.get(profile_id)


@router.delete("/charging-profiles/{profile_id}", status_code=204, responses=NOT_FOUND)
async def delete(profile_id: ProfileId, services: Services) -> None:
    """Delete the definition; charge points keep what is installed (clear it there)."""
    await services.charging_profiles.delete(profile_id)


@router.post(
    "/charge-points/{charge_point_id}/charging-profiles",
    response_model=CommandOut,
    responses={**NOT_FOUND, **UNREADABLE_BODY, **COMMAND_ERRORS},
)
async def install(
    charge_point_id: KnownChargePoint,
    body: InstallIn,
    services: Services,
    sent_by: Sender,
    timeout: Timeout = None,
) -> JSONResponse:
    """Send SetChargingProfile with the profile on the connector (422 for an assignment OCPP
    forbids: a ChargePointMaxProfile off connector 0, a TxProfile without a transaction). It
    is listed installed once the charge point's Accepted is derived."""
    record = await services.charging_profiles.install(
        charge_point_id,
        body.profile_id,
        body.connector_id,
        body.transaction_id,
        timeout,
        sent_by=sent_by,
    )
    return _command_response(record)


@router.get("/charge-points/{charge_point_id}/charging-profiles", responses=NOT_FOUND)
async def installed(
    charge_point_id: KnownChargePoint,
    services: Services,
    include_removed: bool = Query(False, description="also those replaced or cleared since"),
) -> list[InstalledChargingProfile]:
    """What the charge point accepted (from the log, whoever sent it), by connector and id."""
    return await services.charging_profiles.installed(charge_point_id, include_removed)


@router.delete(
    "/charge-points/{charge_point_id}/charging-profiles",
    response_model=CommandOut,
    responses={**NOT_FOUND, **COMMAND_ERRORS},
)
async def clear(
    charge_point_id: KnownChargePoint,
    services: Services,
    sent_by: Sender,
    profile_id: int | None = Query(None, ge=1, le=2**31 - 1),
    connector_id: int | None = Query(None, ge=0, le=MAX_CONNECTOR_ID),
    purpose: ChargingProfilePurpose | None = None,
    stack_level: int | None = Query(None, ge=0, le=MAX_STACK_LEVEL),
    timeout: Timeout = None,
) -> JSONResponse:
    """Send ClearChargingProfile: the profile `profile_id`, else every one matching the
    other criteria given (none: all)."""
    criteria = ClearCriteria(
        profile_id, connector_id, None if purpose is None else purpose.value, stack_level
    )
    record = await services.charging_profiles.clear(
        charge_point_id, criteria, timeout, sent_by=sent_by
    )
    return _command_response(record)


@router.get(
    "/charge-points/{charge_point_id}/composite-schedule",
    response_model=CommandOut,
    responses={**NOT_FOUND, **COMMAND_ERRORS},
)
async def composite_schedule(
    charge_point_id: KnownChargePoint,
    services: Services,
    sent_by: Sender,
    connector_id: int = Query(0, ge=0, le=MAX_CONNECTOR_ID),
    duration: int = Query(86_400, ge=1, le=MAX_DURATION, description="seconds"),
    unit: ChargingRateUnit | None = None,
    timeout: Timeout = None,
) -> JSONResponse:
    """Send GetCompositeSchedule; the charge point's answer (`status`, `scheduleStart`,
    `chargingSchedule`) is the command's `response`."""
    record = await services.charging_profiles.composite_schedule(
        charge_point_id, connector_id, duration, unit, timeout, sent_by=sent_by
    )
    return _command_response(record)


def _command_response(record: CommandRecord) -> JSONResponse:
    assert record.outcome is not None  # a sent command always ends in an outcome
    body = CommandOut.build(record).model_dump(mode="json")
    return JSONResponse(body, status_code=OUTCOME_STATUS[record.outcome])
