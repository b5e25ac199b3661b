"""/api/v1/commands/bulk: one command to many charge points, synchronously."""

from fastapi import APIRouter, Query

from chargestream.api.bulk_schemas import BulkCommandIn, BulkCommandOut
from chargestream.api.dependencies import Sender, Services
from chargestream.api.responses import UNREADABLE_BODY
from chargestream.api.schemas import CommandOut

router = APIRouter(tags=["commands"])


@router.post(
    "/commands/bulk",
    responses={
        **UNREADABLE_BODY,
        422: {
            "description": "nothing sent: unknown action or charge points, a payload invalid"
            " for the action, a password, more than 1000 targets"
        },
    },
)
async def send_bulk_command(
    request: BulkCommandIn,
    services: Services,
    sent_by: Sender,
    timeout: float | None = Query(None, gt=0, le=300),
) -> BulkCommandOut:
    """Send one command to every charge point listed or matched by the filter, at most 20
    at a time, and answer when each has its outcome (each also in the command log)."""
    result = await services.bulk_commands.send(request, timeout, sent_by=sent_by)
    return BulkCommandOut(
        action=result.action,
        total=len(result.records),
        outcomes=result.counts,
        results=[CommandOut.build(r) for r in result.records],
    )
