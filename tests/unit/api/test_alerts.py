"""AlertService: acknowledging alerts and keeping threshold rules."""

from __future__ import annotations

import pytest

from chargestream.api.schemas import AlertRuleIn
from chargestream.api.services.alerts import AlertService
from chargestream.api.services.errors import NotFound
from chargestream.domain.records import AlertRule
from chargestream.storage.sqlite import SqliteStore
from tests.storage_contract import at, minimal_alert
from tests.unit.api.conftest import NOW, fixed_clock


async def test_acknowledging_records_who_and_when(store: SqliteStore) -> None:
    alerts = AlertService(store, clock=fixed_clock)
    await store.upsert([minimal_alert("A-1", at(0))])

    await alerts.acknowledge("A-1", "ops")

    [alert] = await alerts.listing(open_only=False, limit=10, before=None)
    assert (alert.acknowledged_by, alert.acknowledged_at) == ("ops", NOW)


async def test_acknowledging_an_unknown_alert_is_not_found(store: SqliteStore) -> None:
    with pytest.raises(NotFound, match="no alert 'A-9'"):
        await AlertService(store).acknowledge("A-9", "ops")


async def test_listing_filters_open_alerts(store: SqliteStore) -> None:
    alerts = AlertService(store)
    await store.upsert([minimal_alert("open", at(1)), minimal_alert("closed", at(2), True)])

    assert [a.alert_id for a in await alerts.listing(True, 10, None)] == ["open"]
    assert [a.alert_id for a in await alerts.listing(False, 10, None)] == ["closed", "open"]


async def test_rules_are_put_replaced_and_deleted(store: SqliteStore) -> None:
    alerts = AlertService(store)
    hot = AlertRuleIn(measurand="Temperature", operator=">", threshold=60)

    assert await alerts.put_rule("hot", hot) == AlertRule("hot", "Temperature", ">", 60.0)
    hotter = hot.model_copy(update={"threshold": 70, "severity": "critical"})
    await alerts.put_rule("hot", hotter)
    assert await alerts.rules() == [AlertRule("hot", "Temperature", ">", 70.0, "critical")]

    await alerts.delete_rule("hot")
    assert await alerts.rules() == []
    with pytest.raises(NotFound, match="no alert rule 'hot'"):
        await alerts.delete_rule("hot")
