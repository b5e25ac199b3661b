"""SessionService: sessions and their meter values, 404 for unknown transactions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chargestream.api.schemas import SessionOut
from chargestream.api.services.errors import NotFound
from chargestream.api.services.sessions import SessionService
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.progress import Progress
from tests.storage_contract import at, full_meter_value, full_session


async def test_a_session_and_its_meter_values(store: SqliteStore) -> None:
    sessions = SessionService(store)
    values = [full_meter_value(at(1)), full_meter_value(at(2), measurand="Current.Import")]
    await store.upsert([full_session(7), *values])

    assert await sessions.get(7) == SessionOut.build(
        full_session(7), Progress(22.5, None, (at(90, ms=2) - at(ms=1)).total_seconds())
    )
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

    assert ids(await sessions.recent(limit=10, before=None)) == [3, 2, 1]
    assert ids(await sessions.recent(limit=10, before=at(150))) == [2, 1]
    assert ids(await sessions.of_charge_point("CP-1", limit=1, before=None)) == [2]


async def test_a_running_session_has_its_energy_and_power_so_far(store: SqliteStore) -> None:
    sessions = SessionService(store)
    running = replace(full_session(7), stop_time=None, meter_stop=None, energy_kwh=None)
    register = replace(
        full_meter_value(at(5), "Energy.Active.Import.Register"), value=3.5, unit="kWh"
    )
    power = replace(full_meter_value(at(5), "Power.Active.Import"), value=7.4, unit="kW")
    await store.upsert([running, replace(register, phase=None), replace(power, phase=None)])

    found = await sessions.get(7)

    assert (found.energy_kwh, found.energy_kwh_so_far, found.power_w) == (None, 2.5, 7400.0)
    assert found.duration_s is not None and found.duration_s > 5 * 60
    assert (await sessions.recent(limit=1, before=None))[0].energy_kwh_so_far == 2.5


def ids(sessions: list[SessionOut]) -> list[int]:
    return [session.transaction_id for session in sessions]
