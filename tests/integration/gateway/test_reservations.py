"""Reservations over a real WebSocket charge point and the real API: ReserveNow answered
Accepted or Occupied, a StartTransaction using the reservation, DELETE sending
CancelReservation, expiry."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from tests.conftest import RunningCsms, eventually
from tests.ocpp_client import TestChargePoint, at, booted


class ReservingChargePoint(TestChargePoint):
    """Answers ReserveNow with ``reserve_answer`` and CancelReservation Accepted."""

    __test__ = False
    reserve_answer = "Accepted"

    @on(Action.reserve_now)
    def on_reserve_now(self, **payload: Any) -> call_result.ReserveNow:
        self.received.append(("ReserveNow", payload))
        return call_result.ReserveNow(status=self.reserve_answer)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        self.received.append(("CancelReservation", {"reservation_id": reservation_id}))
        return call_result.CancelReservation(status="Accepted")


def reserving_charge_point(
    url: str, charge_point_id: str
) -> AbstractAsyncContextManager[ReservingChargePoint]:
    return booted(url, charge_point_id, ReservingChargePoint)


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def reserve(csms: RunningCsms, charge_point_id: str, **body: Any) -> dict[str, Any]:
    payload = {"connector_id": 1, "id_tag": "TAG-1", "expiry_date": in_hours(1), **body}
    response = await csms.api.post(
        f"/api/v1/charge-points/{charge_point_id}/reservations", json=payload
    )
    result: dict[str, Any] = {"http": response.status_code, **response.json()}
    return result


async def listed_as(csms: RunningCsms, reservation_id: int, status: str) -> dict[str, Any]:
    """The reservation in the listing once it has ``status``."""

    async def probe() -> dict[str, Any] | None:
        response = await csms.api.get("/api/v1/reservations")
        assert response.status_code == 200, response.text
        found = [r for r in response.json() if r["reservation_id"] == reservation_id]
        return found[0] if found and found[0]["status"] == status else None

    return await eventually(probe)


async def test_an_accepted_reservation_is_active_then_used_by_a_start_transaction(
    csms: RunningCsms,
) -> None:
    async with reserving_charge_point(csms.ocpp_url, "CP-R1") as cp:
        made = await reserve(csms, "CP-R1", parent_id_tag="PARENT")
        assert made["http"] == 200, made
        assert (made["status"], made["command"]["outcome"]) == ("active", "answered")
        rid = made["reservation_id"]
        ((action, sent),) = cp.received
        assert action == "ReserveNow"
        assert (sent["reservation_id"], sent["id_tag"], sent["parent_id_tag"]) == (
            rid,
            "TAG-1",
            "PARENT",
        )
        active = await listed_as(csms, rid, "active")
        assert (active["charge_point_id"], active["connector_id"]) == ("CP-R1", 1)
        started = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG-1", meter_start=0, timestamp=at(0), reservation_id=rid
            )
        )
    used = await listed_as(csms, rid, "used")
    assert used["transaction_id"] == started.transaction_id
    session = await csms.api.get(f"/api/v1/sessions/{started.transaction_id}")
    assert session.status_code == 200 and session.json()["charge_point_id"] == "CP-R1"
    by_status = await csms.api.get("/api/v1/reservations", params={"status": "used"})
    assert [r["reservation_id"] for r in by_status.json()] == [rid]
    assert (await csms.api.get(f"/api/v1/reservations/{rid}")).json()["status"] == "used"
    before = await csms.app.store.reservations("CP-R1", 100)
    assert await csms.app.derivation.processor.rebuild() > 0  # replay derives the same reservations
    assert await csms.app.store.reservations("CP-R1", 100) == before


async def test_an_occupied_answer_is_listed_occupied(csms: RunningCsms) -> None:
    async with reserving_charge_point(csms.ocpp_url, "CP-R2") as cp:
        cp.reserve_answer = "Occupied"
        made = await reserve(csms, "CP-R2")
    assert (made["http"], made["status"]) == (200, "occupied")
    await listed_as(csms, made["reservation_id"], "occupied")
    mine = await csms.api.get("/api/v1/reservations", params={"charge_point_id": "CP-R2"})
    assert [r["status"] for r in mine.json()] == ["occupied"]
    assert (
        await csms.api.delete(f"/api/v1/reservations/{made['reservation_id']}")
    ).status_code == 422


async def test_delete_sends_cancel_reservation(csms: RunningCsms) -> None:
    async with reserving_charge_point(csms.ocpp_url, "CP-R3") as cp:
        made = await reserve(csms, "CP-R3")
        rid = made["reservation_id"]
        await listed_as(csms, rid, "active")
        response = await csms.api.delete(f"/api/v1/reservations/{rid}")
        assert response.status_code == 200, response.text
        assert (response.json()["action"], response.json()["outcome"]) == (
            "CancelReservation",
            "answered",
        )
        assert cp.received[-1] == ("CancelReservation", {"reservation_id": rid})
        await listed_as(csms, rid, "cancelled")
    assert (await csms.api.delete(f"/api/v1/reservations/{rid}")).status_code == 422
    assert (await csms.api.delete("/api/v1/reservations/999999")).status_code == 404


async def test_an_active_reservation_past_its_expiry_reads_expired(csms: RunningCsms) -> None:
    async with reserving_charge_point(csms.ocpp_url, "CP-R4"):
        made = await reserve(csms, "CP-R4", expiry_date=in_hours(1 / 3600))  # in 1 s
        assert made["status"] == "active"

    async def expired() -> list[dict[str, Any]] | None:
        response = await csms.api.get("/api/v1/reservations", params={"status": "expired"})
        body: list[dict[str, Any]] = response.json()
        return body or None

    (reservation,) = await eventually(expired)
    assert reservation["reservation_id"] == made["reservation_id"]
    assert (
        await csms.api.delete(f"/api/v1/reservations/{reservation['reservation_id']}")
    ).status_code == 422


async def test_ids_are_unique_and_bad_requests_are_refused(csms: RunningCsms) -> None:
    async with reserving_charge_point(csms.ocpp_url, "CP-R5"):
        first, second = await reserve(csms, "CP-R5"), await reserve(csms, "CP-R5")
        assert first["reservation_id"] != second["reservation_id"]
        past = await reserve(csms, "CP-R5", expiry_date=in_hours(-1))
        assert past["http"] == 422
        too_long = await reserve(csms, "CP-R5", id_tag="x" * 21)
        assert too_long["http"] == 422
    assert (await reserve(csms, "NOPE"))["http"] == 404
    unsent = await reserve(csms, "CP-R5")  # known, no longer connected
    assert (unsent["http"], unsent["status"]) == (409, "requested")
    assert unsent["command"]["outcome"] == "not_connected"
