"""SessionService: sessions and their meter values, 404 for unknown transactions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chargestream.api.services.errors import NotFound
from chargestream.api.services.sessions import SessionService
from chargestream.storage.sqlite import SqliteStore
from tests.storage_contract import at, full_meter_value, full_session


async def test_a_session_and_its_meter_values(store: SqliteStore) -> None:
    sessions = SessionService(store)
    values = [full_meter_value(at(1)), full_meter_value(at(2), measurand="Current.Import")]
    await store.upsert([full_session(7), *values])

    assert await sessions.get(7) == full_session(7)
    assert await sessions.meter_values(7, limit=10) == values
    assert await sessions.meter_values(7, limit=1) == values[:1]


async def test_an_unknown_session_is_not_found_not_empty(store: SqliteStore) -> None:
    sessions = SessionService(store)

    with pytest.raises(NotFound, match="no session with transactionId 404"):
        await sessions.get(404)
    with pytest.raises(NotFound, match="no session with transactionId 404"):
        await sessions.meter_values(404, limit=10)


async def test_listings_page_backwards_per_charge_point_and_fleet_wide(
    store: SqliteStore,
) -> None:
    sessions = SessionService(store)
    first, second = full_session(1), replace(full_session(2), start_time=at(100))
    other = replace(full_session(3, "CP-2"), start_time=at(200))
    await store.upsert([first, second, other])

    assert await sessions.recent(limit=10, before=None) == [other, second, first]
    assert await sessions.recent(limit=10, before=at(150)) == [second, first]
    assert await sessions.of_charge_point("CP-1", limit=1, before=None) == [second]
