"""Derivation of reservations of OCPP 2.0.1 charge points: ReserveNow 2.0.1 and its answer,
CancelReservation, ReservationStatusUpdate (Expired, Removed), a TransactionEvent naming
the reservation; every command payload built by the CSMS's own builder."""

from __future__ import annotations

from typing import Any

import pytest

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import Reservation, ReservationStatus
from chargestream.streams.derive_v201 import transaction_id
from chargestream.streams.reservations import reserve_now
from tests.ocpp201_frames import valid, valid_as
from tests.unit.streams.test_derive import CP, at, run
from tests.unit.streams.test_derive_reservations import command, reservations
from tests.unit.streams.test_derive_v201 import STARTED, Log201, booted


def reserve(log: Log201, reservation_id: int, status: str | None, evse: int = 1) -> None:
    payload = reserve_now(OcppVersion.V201, reservation_id, evse, "TAG-1", at(3600), "GROUP")
    answer = None if status is None else valid_answer("ReserveNow", {"status": status})
    command(log, "ReserveNow", valid("ReserveNow", payload), answer)


def valid_answer(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    return valid_as(f"{action}Response", payload)


def test_an_accepted_201_reserve_now_is_an_active_reservation_of_the_evse() -> None:
    log = booted()
    reserve(log, 7, "Accepted")
    (made,) = reservations(run(log.events)[1])
    assert made == Reservation(
        reservation_id=7,
        charge_point_id=CP,
        connector_id=1,
        id_tag="TAG-1",
        expiry_date=at(3600),
        requested_at=made.requested_at,
        status=ReservationStatus.ACTIVE,
        updated_at=made.updated_at,
        parent_id_tag="GROUP",
    )


@pytest.mark.parametrize(
    ("answer", "status"),
    [("Occupied", ReservationStatus.OCCUPIED), ("Rejected", ReservationStatus.REJECTED)],
)
def test_a_refused_201_reserve_now_keeps_its_answer(answer: str, status: ReservationStatus) -> None:
    log = booted()
    reserve(log, 7, answer, evse=0)
    (made,) = reservations(run(log.events)[1])
    assert (made.status, made.connector_id) == (status, 0)


def test_an_unanswered_201_reserve_now_derives_nothing() -> None:
    log = booted()
    reserve(log, 7, None)
    assert reservations(run(log.events)[1]) == []


def test_an_accepted_cancel_reservation_cancels() -> None:
    log = booted()
    reserve(log, 7, "Accepted")
    cancel = valid("CancelReservation", {"reservationId": 7})
    command(
        log, "CancelReservation", cancel, valid_answer("CancelReservation", {"status": "Accepted"})
    )
    state, records = run(log.events)
    (made,) = reservations(records)
    assert made.status is ReservationStatus.CANCELLED
    assert state.reservations == ()


@pytest.mark.parametrize(
    ("update", "status"),
    [("Expired", ReservationStatus.EXPIRED), ("Removed", ReservationStatus.CANCELLED)],
)
def test_a_reservation_status_update_ends_an_active_reservation(
    update: str, status: ReservationStatus
) -> None:
    log = booted()
    reserve(log, 7, "Accepted")
    reserve(log, 8, "Accepted")
    payload = {"reservationId": 7, "reservationUpdateStatus": update}
    log.call("ReservationStatusUpdate", valid("ReservationStatusUpdate", payload))
    log.call(
        "ReservationStatusUpdate",  # of a reservation not active: nothing
        valid("ReservationStatusUpdate", {"reservationId": 99, "reservationUpdateStatus": update}),
    )
    state, records = run(log.events)
    by_id = {r.reservation_id: r for r in reservations(records)}
    assert (by_id[7].status, by_id[8].status) == (status, ReservationStatus.ACTIVE)
    assert [r.reservation_id for r in state.reservations] == [8]


def test_a_transaction_event_naming_the_reservation_uses_it() -> None:
    log = booted()
    reserve(log, 7, "Accepted")
    log.call("TransactionEvent", valid("TransactionEvent", {**STARTED, "reservationId": 7}))
    state, records = run(log.events)
    (made,) = reservations(records)
    assert (made.status, made.transaction_id) == (
        ReservationStatus.USED,
        transaction_id(CP, "tx-1"),
    )
    assert state.reservations == ()
