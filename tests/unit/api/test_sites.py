"""SiteService and SiteIn: one limit, a charge point in one site, sessions with allocations."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chargestream.api.schemas import SiteIn
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.api.services.sites import SiteService
from chargestream.domain.records import MeterValue, Session, Site, SiteAllocation
from chargestream.storage.sqlite import SqliteStore
from tests.unit.api.conftest import NOW, fixed_clock


@pytest.mark.parametrize(
    "body",
    [
        {"charge_points": []},
        {"max_power_w": 1000, "max_current_a": 16},
        {"max_current_a": 0},
        {"max_current_a": 16, "charge_points": ["CP-1", "CP-1"]},
        {"max_current_a": 16, "charge_points": ["x" * 49]},
        {"max_current_a": 16, "phases": 4},
        {"max_current_a": 16, "surprise": 1},
    ],
)
def test_a_site_needs_exactly_one_positive_limit_and_distinct_bounded_ids(
    body: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        SiteIn.model_validate(body)


async def test_put_get_list_delete(store: SqliteStore) -> None:
    sites = SiteService(store, fixed_clock)
    out = await sites.put("depot", SiteIn(max_power_w=22000, charge_points=["CP-1"]))
    assert (out.site_id, out.max_power_w, out.max_current_a, out.sessions) == (
        "depot",
        22000,
        None,
        [],
    )
    assert await sites.listing() == [Site("depot", ("CP-1",), NOW, max_power_w=22000)]
    await sites.delete("depot")
    with pytest.raises(NotFound):
        await sites.get("depot")
    with pytest.raises(NotFound):
        await sites.delete("depot")


async def test_a_charge_point_is_in_at_most_one_site(store: SqliteStore) -> None:
    sites = SiteService(store, fixed_clock)
    await sites.put("depot", SiteIn(max_current_a=32, charge_points=["CP-1", "CP-2"]))
    with pytest.raises(InvalidInput, match="'CP-2' is in site 'depot'"):
        await sites.put("annex", SiteIn(max_current_a=32, charge_points=["CP-2"]))
    await sites.put("depot", SiteIn(max_current_a=40, charge_points=["CP-2"]))  # itself: fine
    await sites.put("annex", SiteIn(max_current_a=32, charge_points=["CP-1"]))


async def test_the_sessions_shown_are_the_open_ones_with_allocation_and_power(
    store: SqliteStore,
) -> None:
    sites = SiteService(store, fixed_clock)
    await sites.put("depot", SiteIn(max_current_a=32, charge_points=["CP-1"]))
    await store.upsert(
        [
            Session(7, "CP-1", connector_id=1, start_time=NOW),
            Session(6, "CP-1", connector_id=2, start_time=NOW, stop_time=NOW),
            MeterValue("CP-1", 1, NOW, "Power.Active.Import", 3000.0, "W", transaction_id=7),
        ]
    )
    await store.put_site_allocation(
        SiteAllocation("depot", "CP-1", 1, 32.0, 22080.0, "A", 3, NOW, 7, "Accepted", NOW)
    )
    [session] = (await sites.get("depot")).sessions
    assert session.model_dump() == {
        "charge_point_id": "CP-1",
        "connector_id": 1,
        "transaction_id": 7,
        "allocated_a": 32.0,
        "allocated_w": 22080.0,
        "unit": "A",
        "status": "Accepted",
        "measured_power_w": 3000.0,
    }
