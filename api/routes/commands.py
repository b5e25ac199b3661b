"""/api/v1 remote commands: send one to a charge point, read the command log."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from chargestream.api.dependencies import KnownChargePoint, Sender, Services
from chargestream.api.responses import COMMAND_ERRORS, NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import CommandOut
from chargestream.domain.records import CommandOutcome

router = APIRouter(tags=["commands"])

# the body is always the command record, so the caller can see what happened
OUTCOME_STATUS = {
    CommandOutcome.ANSWERED: 200,
    CommandOutcome.FAILED: 502,
    CommandOutcome.REJECTED: 422,
    CommandOutcome.NOT_CONNECTED: 409,
    CommandOutcome.TIMED_OUT: 504,
    # sent, and then the connection closed: like timed_out, it may have been carried out
    CommandOutcome.CONNECTION_LOST: 504,
    CommandOutcome.ERROR: 503,  # the CSMS could not deliver it (its log or store is down)
}


@router.post(
    "/charge-points/{charge_point_id}/commands/{action}",
    response_model=CommandOut,
    responses={
        **UNREADABLE_BODY,
        404: {**NOT_FOUND[404], "description": "unknown charge point or action"},
        409: {"description": "not connected"},
        422: {"description": "payload invalid for the action"},
        502: {"description": "the charge point answered with a CALLERROR"},
        503: {"description": "the CSMS could not deliver the command (outcome error)"},
        504: {
            "description": "sent, but no answer: in time (timed_out) or before the connection"
            " closed (connection_lost)"
        },
    },
)
async def send_command(
    charge_point_id: KnownChargePoint,
    action: str,
    payload: Annotated[dict[str, Any], Body(default_factory=dict)],
    services: Services,
    sent_by: Sender,
    timeout: float | None = Query(None, gt=0, le=300),
) -> JSONResponse:
    record = await services.commands.send(
        charge_point_id, action, payload, timeout, sent_by=sent_by
    )
    assert record.outcome is not None  # a sent command always ends in an outcome
    body = CommandOut.build(record).model_dump(mode="json")
    return JSONResponse(body, status_code=OUTCOME_STATUS[record.outcome])


@router.post(
    "/charge-points/{charge_point_id}/rotate-password",
    response_model=CommandOut,
    responses={
        404: {"description": "unknown charge point"},
        **COMMAND_ERRORS,
    },
)
async def rotate_password(
    charge_point_id: KnownChargePoint,
    services: Services,
    sent_by: Sender,
    timeout: float | None = Query(None, gt=0, le=300),
) -> JSONResponse:
    """Send the charge point a new random Basic-auth password (ChangeConfiguration
    AuthorizationKey, 40 hex digits). The answer is the command record, the key redacted:
    `response.status` Accepted or RebootRequired means the key is stored as the next
    password; the current one works until the charge point connects with the new one."""
    record = await services.commands.rotate_password(charge_point_id, timeout, sent_by=sent_by)
    assert record.outcome is not None
    body = CommandOut.build(record).model_dump(mode="json")
    return JSONResponse(body, status_code=OUTCOME_STATUS[record.outcome])


@router.get("/commands")
async def command_log(
    services: Services, charge_point_id: str | None = None, limit: int = Query(100, ge=1, le=1000)
) -> list[CommandOut]:
    return [CommandOut.build(r) for r in await services.commands.log(charge_point_id, limit)]
