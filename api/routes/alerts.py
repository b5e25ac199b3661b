"""/api/v1/alerts and /api/v1/alert-rules."""

from typing import Annotated

from fastapi import APIRouter, Query

from chargestream.api.dependencies import Services
from chargestream.api.responses import NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import AcknowledgeIn, AlertRuleIn, UtcDateTime
from chargestream.domain.records import Alert, AlertRule

router = APIRouter(tags=["alerts"])


@router.get("/alerts")
async def alerts(
    services: Services,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: int = Query(100, ge=1, le=1000),
    before: UtcDateTime | None = None,
) -> list[Alert]:
    return await services.alerts.listing(open_only, limit, before)


@router.post("/alerts/{alert_id}/acknowledge", responses={**NOT_FOUND, **UNREADABLE_BODY})
async def acknowledge(alert_id: str, body: AcknowledgeIn, services: Services) -> dict[str, str]:
    await services.alerts.acknowledge(alert_id, body.by)
    return {"status": "acknowledged"}


@router.get("/alert-rules")
async def alert_rules(services: Services) -> list[AlertRule]:
    return await services.alerts.rules()


@router.put("/alert-rules/{rule_id}", responses=UNREADABLE_BODY)
async def put_alert_rule(rule_id: str, body: AlertRuleIn, services: Services) -> AlertRule:
    return await services.alerts.put_rule(rule_id, body)


@router.delete("/alert-rules/{rule_id}", status_code=204, responses=NOT_FOUND)
async def delete_alert_rule(rule_id: str, services: Services) -> None:
    await services.alerts.delete_rule(rule_id)
