"""/api/v1/charge-points: registration, state, status history, security events, firmware
and log transfer statuses, and raw frames."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from chargestream.api.dependencies import KnownChargePoint, Services
from chargestream.api.responses import NOT_AVAILABLE, NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import ChargePointIn, ChargePointOut, FrameOut, UtcDateTime
from chargestream.domain.records import SecurityEvent, StatusInterval, TransferStatus

router = APIRouter(tags=["charge points"])


@router.get("/charge-points")
async def list_charge_points(
    services: Services, limit: int = Query(1000, ge=1, le=10000)
) -> list[ChargePointOut]:
    return await services.charge_points.listing(limit)


@router.get("/charge-points/{charge_point_id}", responses=NOT_FOUND)
async def get_charge_point(charge_point_id: str, services: Services) -> ChargePointOut:
    return await services.charge_points.get(charge_point_id)


@router.put("/charge-points/{charge_point_id}", responses=UNREADABLE_BODY)
async def put_charge_point(
    charge_point_id: str, body: ChargePointIn, services: Services
) -> ChargePointOut:
    return await services.charge_points.register(charge_point_id, body)


@router.delete("/charge-points/{charge_point_id}", status_code=204, responses=NOT_FOUND)
async def delete_charge_point(charge_point_id: str, services: Services) -> None:
    await services.charge_points.unregister(charge_point_id)


@router.get("/charge-points/{charge_point_id}/status-history", responses=NOT_FOUND)
async def status_history(
    charge_point_id: KnownChargePoint,
    services: Services,
    start: Annotated[UtcDateTime | None, Query(alias="from")] = None,
    end: Annotated[UtcDateTime | None, Query(alias="to")] = None,
) -> list[StatusInterval]:
    return await services.charge_points.status_history(charge_point_id, start, end)


@router.get(
    "/charge-points/{charge_point_id}/security-events",
    responses={
        **NOT_FOUND,
        200: {
            "description": "SecurityEventNotifications of the charge point, newest first by "
            "its own `timestamp`; page with `before` (exclusive). `event_type` (at most 50 "
            "characters) and `tech_info` (at most 255) are the charge point's text. "
            "`critical`: a critical type of the OCPP 1.6 security whitepaper. The CSMS adds "
            "`CsrRejected` when it rejects the charge point's SignCertificate.",
        },
    },
)
async def security_events(
    charge_point_id: KnownChargePoint,
    services: Services,
    limit: int = Query(100, ge=1, le=1000),
    before: UtcDateTime | None = None,
) -> list[SecurityEvent]:
    return await services.charge_points.security_events(charge_point_id, limit, before)


@router.get(
    "/charge-points/{charge_point_id}/transfer-statuses",
    responses={
        **NOT_FOUND,
        200: {
            "description": "The last SignedFirmwareStatusNotification (`transfer: firmware`) "
            "and LogStatusNotification (`transfer: log`) of the charge point, each with its "
            "`status`, `request_id` and the time the CSMS received it (`at`); none yet: `[]`.",
        },
    },
)
async def transfer_statuses(
    charge_point_id: KnownChargePoint, services: Services
) -> list[TransferStatus]:
    return await services.charge_points.transfer_statuses(charge_point_id)


FRAMES_TRUNCATED = "X-Chargestream-Frames-Truncated"


@router.get(
    "/charge-points/{charge_point_id}/frames",
    responses={
        **NOT_FOUND,
        **NOT_AVAILABLE,
        200: {
            "description": "The newest frames, newest first: at most `limit`, and no more "
            "frame text than CHARGESTREAM_FRAMES_RESPONSE_BYTES (the newest frame always). "
            f"`{FRAMES_TRUNCATED}: true` when the byte budget ended the list early. In the "
            "stack mode, the frames among the CHARGESTREAM_FRAMES_SCAN_RECORDS records of the "
            "charge point's Kafka partition before its last sign of life.",
        },
        503: {"description": "The store or the event log is unavailable: try again"},
    },
)
async def charge_point_frames(
    charge_point_id: KnownChargePoint,
    services: Services,
    response: Response,
    limit: int = Query(100, ge=1, le=1000),
) -> list[FrameOut]:
    page = await services.frames.page(charge_point_id, limit)
    response.headers[FRAMES_TRUNCATED] = "true" if page.truncated else "false"
    return page.frames
