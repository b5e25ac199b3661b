"""Alerts, their acknowledgement, and the threshold rules that open them."""

from datetime import datetime

from chargestream.api.schemas import AlertRuleIn
from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import NotFound
from chargestream.domain.records import Alert, AlertRule
from chargestream.storage.base import Store


class AlertService:
    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def listing(self, open_only: bool, limit: int, before: datetime | None) -> list[Alert]:
        """Newest opened first."""
        return await self._store.alerts(open_only, limit, before)

    async def acknowledge(self, alert_id: str, by: str) -> None:
        if not await self._store.acknowledge_alert(alert_id, by, self._clock()):
            raise NotFound(f"no alert {alert_id!r}")

    async def rules(self) -> list[AlertRule]:
        return await self._store.list_alert_rules()

    async def put_rule(self, rule_id: str, definition: AlertRuleIn) -> AlertRule:
        """Create or replace the rule."""
        rule = AlertRule(rule_id=rule_id, **definition.model_dump())
        await self._store.put_alert_rule(rule)
        return rule

    async def delete_rule(self, rule_id: str) -> None:
        if not await self._store.delete_alert_rule(rule_id):
            raise NotFound(f"no alert rule {rule_id!r}")
