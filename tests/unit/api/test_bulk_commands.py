"""BulkCommandsService over the real CommandService and SQLite store: targets, order, the
bound on commands in flight, and the filter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from chargestream.api.bulk_schemas import BulkCommandIn
from chargestream.api.services.bulk_commands import CONCURRENCY, BulkCommandsService
from chargestream.api.services.charge_points import ChargePointService
from chargestream.api.services.errors import InvalidInput
from chargestream.domain.records import ChargePointState, Registration
from chargestream.gateway import ocppj
from chargestream.gateway.commands import CommandService
from chargestream.gateway.connection import NotConnected, Reply
from chargestream.storage.sqlite import SqliteStore

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Gateway:
    """Answers Accepted once released, except to OFF-*; counts the calls in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.release = asyncio.Event()
        self.release.set()

    async def call(
        self, charge_point_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> Reply:
        if charge_point_id.startswith("OFF-"):
            raise NotConnected(charge_point_id)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await self.release.wait()
        self.in_flight -= 1
        return Reply(ocppj.CallResult("m", {"status": "Accepted"}))


async def fleet(store: SqliteStore, count: int) -> None:
    await store.upsert(
        [
            ChargePointState(f"CP-{i:03}", connected=True, last_seen=NOW, vendor="ABB")
            for i in range(count)
        ]
        + [ChargePointState("OFF-1", connected=False, last_seen=NOW, vendor="ABB")]
    )
    await store.put_registration(Registration("NEW-1", created_at=NOW))


def service(store: SqliteStore, gateway: Gateway) -> BulkCommandsService:
    commands = CommandService(gateway.call, store, timeout=1.0)
    return BulkCommandsService(commands, ChargePointService(store))


async def test_commands_go_out_at_most_concurrency_at_a_time_in_order(
    store: SqliteStore,
) -> None:
    await fleet(store, 50)
    gateway = Gateway()
    gateway.release.clear()
    ids = ["OFF-1", *(f"CP-{i:03}" for i in range(49, -1, -1)), "OFF-1"]
    request = BulkCommandIn(action="ClearCache", charge_point_ids=ids)
    sending = asyncio.create_task(service(store, gateway).send(request, None, sent_by="api"))
    deadline = asyncio.get_running_loop().time() + 10
    while gateway.in_flight < CONCURRENCY:  # every slot taken, none released
        assert asyncio.get_running_loop().time() < deadline, gateway.in_flight
        await asyncio.sleep(0.001)
    gateway.release.set()
    result = await sending
    assert [r.charge_point_id for r in result.records] == ids[:-1]
    assert result.counts == {"answered": 50, "not_connected": 1}
    assert gateway.most == CONCURRENCY
    assert len(await store.commands(None, 100)) == 51


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ({"connected": True}, ["CP-000", "CP-001"]),
        ({"connected": False}, ["NEW-1", "OFF-1"]),
        ({"registered": True}, ["NEW-1"]),
        ({"vendor": "ABB", "connected": False}, ["OFF-1"]),
        ({"model": "T54"}, []),
        ({}, ["CP-000", "CP-001", "NEW-1", "OFF-1"]),
    ],
)
async def test_a_filter_selects_by_every_field_given(
    store: SqliteStore, wanted: dict[str, Any], expected: list[str]
) -> None:
    await fleet(store, 2)
    request = BulkCommandIn.model_validate({"action": "ClearCache", "filter": wanted})
    result = await service(store, Gateway()).send(request, None, sent_by="api")
    assert [r.charge_point_id for r in result.records] == expected


async def test_a_filter_matching_more_than_1000_sends_nothing(store: SqliteStore) -> None:
    await fleet(store, 1001)
    request = BulkCommandIn.model_validate(
        {"action": "Reset", "payload": {"type": "Soft"}, "filter": {"connected": True}}
    )
    with pytest.raises(InvalidInput, match="matches 1001 charge points"):
        await service(store, Gateway()).send(request, None, sent_by="api")
    assert await store.commands(None, 10) == []
