"""Derivation of reservations: ReserveNow and its answer, CancelReservation, a
StartTransaction using the reservation; expiry read from the expiry date."""

from __future__ import annotations

from typing import Any

import orjson

from chargestream.domain.frames import Direction, EventKind, MessageType
from chargestream.domain.records import Reservation, ReservationStatus, Session
from chargestream.streams.state import ChargePointDerivation
from tests.unit.streams.test_derive import CP, Log, at, final, iso, of_type, run


def command(log: Log, action: str, payload: dict[str, Any], answer: dict[str, Any] | None) -> None:
    """A CSMS CALL and, unless ``answer`` is None, the charge point's CALLRESULT."""
    message_id = f"csms-{next(log.ids)}"
    log.add(
        EventKind.FRAME,
        orjson.dumps([2, message_id, action, payload]).decode(),
        1,
        direction=Direction.OUT,
        message_type=MessageType.CALL,
        message_id=message_id,
        action=action,
    )
    if answer is not None:
        log.add(
            EventKind.FRAME,
            orjson.dumps([3, message_id, answer]).decode(),
            1,
            direction=Direction.IN,
            message_type=MessageType.CALLRESULT,
            message_id=message_id,
            action=action,
        )


def reserve(log: Log, reservation_id: int, status: str | None, expiry: float = 3600) -> None:
    payload = {
        "connectorId": 1,
        "expiryDate": iso(expiry),
        "idTag": "TAG-1",
        "parentIdTag": "PARENT",
        "reservationId": reservation_id,
    }
    command(log, "ReserveNow", payload, None if status is None else {"status": status})


def reservations(records: list[Any]) -> list[Reservation]:
    return [r for r in final(records).values() if isinstance(r, Reservation)]


def started_log() -> Log:
    log = Log()
    log.connect()
    return log


def test_an_accepted_reserve_now_is_an_active_reservation() -> None:
    log = started_log()
    reserve(log, 7, "Accepted")
    state, records = run(log.events)
    (reservation,) = reservations(records)
    assert reservation == Reservation(
        reservation_id=7,
        charge_point_id=CP,
        connector_id=1,
        id_tag="TAG-1",
        expiry_date=at(3600),
        requested_at=at(2),
        status=ReservationStatus.ACTIVE,
        updated_at=at(3),
        parent_id_tag="PARENT",
    )
    assert state.reservations == (reservation,)
    assert ChargePointDerivation.from_json(state.to_json()) == state
    assert reservation.status_at(at(3599)) is ReservationStatus.ACTIVE
    assert reservation.status_at(at(3600)) is ReservationStatus.EXPIRED


def test_each_refusal_is_its_own_status_and_not_kept() -> None:
    log = started_log()
    for reservation_id, answer in enumerate(("Occupied", "Faulted", "Rejected", "Unavailable")):
        reserve(log, reservation_id, answer)
    state, records = run(log.events)
    assert [r.status for r in reservations(records)] == [
        ReservationStatus.OCCUPIED,
        ReservationStatus.FAULTED,
        ReservationStatus.REJECTED,
        ReservationStatus.UNAVAILABLE,
    ]
    assert state.reservations == ()


def test_an_unanswered_or_failed_reserve_now_derives_nothing() -> None:
    log = started_log()
    reserve(log, 1, None)
    reserve(log, 2, "Maybe")
    _, records = run(log.events)
    assert reservations(records) == []


def test_a_start_transaction_with_the_reservation_uses_it() -> None:
    log = started_log()
    reserve(log, 7, "Accepted")
    start = {
        "connectorId": 1,
        "idTag": "TAG-1",
        "meterStart": 0,
        "timestamp": iso(10),
        "reservationId": 7,
    }
    log.result(log.unanswered("StartTransaction", start), {"transactionId": 42})
    state, records = run(log.events)
    (used,) = reservations(records)
    assert (used.status, used.transaction_id, used.updated_at) == (
        ReservationStatus.USED,
        42,
        at(4),
    )
    assert [s.transaction_id for s in of_type(records, Session)] == [42]
    assert state.reservations == ()


def test_an_accepted_cancel_cancels_and_a_rejected_one_does_not() -> None:
    log = started_log()
    reserve(log, 7, "Accepted")
    command(log, "CancelReservation", {"reservationId": 7}, {"status": "Rejected"})
    _, records = run(log.events)
    assert [r.status for r in reservations(records)] == [ReservationStatus.ACTIVE]
    command(log, "CancelReservation", {"reservationId": 7}, {"status": "Accepted"})
    state, records = run(log.events)
    (cancelled,) = reservations(records)
    assert (cancelled.status, cancelled.updated_at) == (ReservationStatus.CANCELLED, at(7))
    assert state.reservations == ()


def test_replay_gives_the_same_reservations_and_expired_ones_are_forgotten() -> None:
    log = started_log()
    reserve(log, 1, "Accepted", expiry=3)
    reserve(log, 2, "Accepted")
    first_state, first = run(log.events)
    again_state, again = run(log.events)
    assert (first_state, first) == (again_state, again)
    assert [r.reservation_id for r in first_state.reservations] == [2]
    (expired, _) = reservations(first)
    assert expired.status is ReservationStatus.ACTIVE  # stored so, read as expired
    assert expired.as_of(at(5)).status is ReservationStatus.EXPIRED


def test_a_callerror_to_a_reserve_now_derives_nothing_and_refuses_no_one() -> None:
    log = started_log()
    reserve(log, 1, None)
    log.add(
        EventKind.FRAME,
        orjson.dumps([4, "csms-1", "SecurityError", "no", {}]).decode(),
        1,
        direction=Direction.IN,
        message_type=MessageType.CALLERROR,
        message_id="csms-1",
        action="ReserveNow",
    )
    state, records = run(log.events)
    assert reservations(records) == []
    assert not state.refused and state.pending == ()
