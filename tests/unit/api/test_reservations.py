"""ReservationService over the real CommandService (no charge point connected) and SQLite."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from chargestream.api.services import reservations
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.api.services.reservations import (
    ReservationRequest,
    ReservationService,
)
from chargestream.domain.ocpp_time import ocpp_time
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import ChargePointState, CommandOutcome, ReservationStatus
from chargestream.gateway.commands import CommandService
from chargestream.storage.sqlite import SqliteStore
from tests.ocpp201_frames import valid
from tests.storage_contract import reservation
from tests.unit.api.conftest import NOW, fixed_clock


@pytest.fixture
def service(store: SqliteStore, command_service: CommandService) -> ReservationService:
    return ReservationService(store, command_service, clock=fixed_clock)


async def test_an_expiry_not_in_the_future_is_refused_unsent(
    service: ReservationService, store: SqliteStore
) -> None:
    with pytest.raises(InvalidInput, match="expiry_date must be in the future"):
        await service.reserve("CP-1", ReservationRequest(1, "TAG", NOW), None, sent_by="api")
    assert await store.commands() == []


async def test_an_unsent_reserve_now_is_requested_with_its_command(
    service: ReservationService, store: SqliteStore
) -> None:
    request = ReservationRequest(2, "TAG", NOW + timedelta(hours=1), "PARENT")
    made, record = await service.reserve("CP-1", request, None, sent_by="operator:olga")
    assert (made.status, record.outcome) == (
        ReservationStatus.REQUESTED,
        CommandOutcome.NOT_CONNECTED,
    )
    assert record.payload == {
        "connectorId": 2,
        "expiryDate": "2026-11-27T11:00:00.000Z",
        "idTag": "TAG",
        "parentIdTag": "PARENT",
        "reservationId": made.reservation_id,
    }
    again, _ = await service.reserve("CP-1", request, None, sent_by="api")
    assert again.reservation_id != made.reservation_id
    assert await store.get_reservation(made.reservation_id) is None  # nothing derived


async def test_a_201_charge_point_gets_the_201_reserve_now(
    service: ReservationService, store: SqliteStore
) -> None:
    await store.upsert([ChargePointState("CP-1", ocpp_version=OcppVersion.V201)])
    request = ReservationRequest(2, "TAG", NOW + timedelta(hours=1), "PARENT")
    made, record = await service.reserve("CP-1", request, None, sent_by="api")
    assert valid("ReserveNow", record.payload) == {
        "id": made.reservation_id,
        "expiryDateTime": "2026-11-27T11:00:00.000Z",
        "idToken": {"idToken": "TAG", "type": "Central"},
        "evseId": 2,
        "groupIdToken": {"idToken": "PARENT", "type": "Central"},
    }
    whole_station = ReservationRequest(0, "TAG", NOW + timedelta(hours=1))
    _, record = await service.reserve("CP-1", whole_station, None, sent_by="api")
    assert "evseId" not in valid("ReserveNow", record.payload)


async def test_the_listing_reads_expiry_now_and_filters_by_it(
    service: ReservationService, store: SqliteStore
) -> None:
    live = reservation(1, "CP-1", NOW - timedelta(minutes=10))
    past = dataclasses.replace(reservation(2, "CP-1", NOW), expiry_date=NOW)
    used = dataclasses.replace(
        reservation(3, "CP-2", NOW), status=ReservationStatus.USED, transaction_id=9
    )
    await store.upsert([live, past, used])
    listed = await service.listing(None, None, 10, None)
    assert [(r.reservation_id, r.status) for r in listed] == [
        (3, ReservationStatus.USED),
        (2, ReservationStatus.EXPIRED),
        (1, ReservationStatus.ACTIVE),
    ]
    expired = await service.listing(None, ReservationStatus.EXPIRED, 10, None)
    assert [r.reservation_id for r in expired] == [2]
    active = await service.listing("CP-1", ReservationStatus.ACTIVE, 10, None)
    assert [r.reservation_id for r in active] == [1]
    assert (await service.get(2)).status is ReservationStatus.EXPIRED


async def test_a_status_filter_pages_past_older_reservations_and_ties(
    service: ReservationService, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reservations, "FILTER_PAGE", 3)
    used = ReservationStatus.USED
    # newest first: 7 used ones (two pairs with equal times across page boundaries), then
    # the active ones; the filter must read past the used ones and miss no tie
    times = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 3, 4, 5, 5, 5, 6, 7, 8)]
    made = [reservation(i + 1, "CP-1", t) for i, t in enumerate(times)]
    made[:7] = [dataclasses.replace(r, status=used, transaction_id=1) for r in made[:7]]
    await store.upsert(made)
    active = await service.listing("CP-1", ReservationStatus.ACTIVE, 10, None)
    assert [r.reservation_id for r in active] == [8, 9, 10, 11]
    assert [r.reservation_id for r in await service.listing(None, used, 3, None)] == [1, 2, 4]
    all_used = await service.listing(None, used, 100, None)
    assert sorted(r.reservation_id for r in all_used) == [1, 2, 3, 4, 5, 6, 7]
    older = await service.listing(None, ReservationStatus.ACTIVE, 2, NOW - timedelta(minutes=5))
    assert [r.reservation_id for r in older] == [9, 10]
    monkeypatch.setattr(reservations, "FILTER_SCAN", 5)  # bounded: stops after a page past 5
    assert await service.listing(None, ReservationStatus.ACTIVE, 10, None) == []


async def test_only_an_active_reservation_is_cancelled(
    service: ReservationService, store: SqliteStore
) -> None:
    with pytest.raises(NotFound, match="no reservation 5"):
        await service.cancel(5, None, sent_by="api")
    await store.upsert([dataclasses.replace(reservation(5, "CP-1", NOW), expiry_date=NOW)])
    with pytest.raises(InvalidInput, match="reservation 5 is expired, not active"):
        await service.cancel(5, None, sent_by="api")
    await store.upsert([reservation(6, "CP-1", NOW)])
    record = await service.cancel(6, None, sent_by="api")
    assert (record.action, record.payload) == ("CancelReservation", {"reservationId": 6})
    assert record.outcome is CommandOutcome.NOT_CONNECTED


def test_ocpp_time_is_utc_with_milliseconds() -> None:
    assert ocpp_time(NOW + timedelta(microseconds=1500)) == "2026-11-27T10:00:00.001Z"
