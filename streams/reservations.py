"""Reservations: the ReserveNow the CSMS sends, and what the log shows of it, per OCPP version.

``reserve_now`` builds the command (1.6: connectorId, idTag, parentIdTag; 2.0.1: id, evseId,
idToken, groupIdToken). Pure helpers for ``derive``: a ReserveNow is derived once the log
shows the charge point's CALLRESULT (ADR 0008), an Accepted CancelReservation cancels, a
StartTransaction (2.0.1: TransactionEvent) naming the reservation uses it, a 2.0.1
ReservationStatusUpdate ends it (Expired, Removed). Expiry is otherwise not derived: an
active reservation past its expiry date reads as expired (``Reservation.status_at``), so no
timer is needed and a replay agrees.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargestream.domain.id_tokens import MAX_ID_TOKEN, id_token
from chargestream.domain.ocpp_time import ocpp_time
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import RESERVE_NOW_ANSWERS, Reservation, ReservationStatus
from chargestream.streams.parse import (
    EARLIEST,
    MAX_CONNECTOR_ID,
    get_connector_id,
    get_dict,
    get_int,
    get_str,
    parse_time,
)

MAX_ID_TAG = 20  # OCPP 1.6 IdToken
STATUS_UPDATES = {
    "Expired": ReservationStatus.EXPIRED,
    "Removed": ReservationStatus.CANCELLED,
}
"""What a 2.0.1 ReservationStatusUpdate makes of an active reservation."""


def reserve_now(
    version: OcppVersion,
    reservation_id: int,
    connector_id: int,
    id_tag: str,
    expiry_date: datetime,
    parent_id_tag: str | None,
) -> dict[str, Any]:
    """The ReserveNow payload in ``version``; a 2.0.1 EVSE is numbered like a 1.6 connector
    (0: the station as a whole, so no ``evseId``)."""
    if version is OcppVersion.V201:
        payload: dict[str, Any] = {
            "id": reservation_id,
            "expiryDateTime": ocpp_time(expiry_date),
            "idToken": id_token(id_tag),
        }
        if connector_id > 0:
            payload["evseId"] = connector_id
        if parent_id_tag is not None:
            payload["groupIdToken"] = id_token(parent_id_tag)
        return payload
    payload = {
        "connectorId": connector_id,
        "expiryDate": ocpp_time(expiry_date),
        "idTag": id_tag,
        "reservationId": reservation_id,
    }
    if parent_id_tag is not None:
        payload["parentIdTag"] = parent_id_tag
    return payload


def reservation(
    charge_point_id: str,
    request: dict[str, Any],
    answer: dict[str, Any],
    requested_at: datetime,
    answered_at: datetime,
) -> Reservation | None:
    """The reservation a ReserveNow and its answer make, or None for one not derivable."""
    reservation_id = get_int(request, "reservationId")
    connector_id = get_connector_id(request)
    id_tag = get_str(request, "idTag")
    status = RESERVE_NOW_ANSWERS.get(get_str(answer, "status") or "")
    expiry = parse_time(request.get("expiryDate"), EARLIEST)
    if reservation_id is None or connector_id is None or id_tag is None or status is None:
        return None
    parent = get_str(request, "parentIdTag")
    return Reservation(
        reservation_id=reservation_id,
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        id_tag=id_tag[:MAX_ID_TAG],
        expiry_date=expiry,
        requested_at=requested_at,
        status=status,
        updated_at=answered_at,
        parent_id_tag=None if parent is None else parent[:MAX_ID_TAG],
    )


def reservation_v201(
    charge_point_id: str,
    request: dict[str, Any],
    answer: dict[str, Any],
    requested_at: datetime,
    answered_at: datetime,
) -> Reservation | None:
    """The reservation a 2.0.1 ReserveNow and its answer make, or None."""
    reservation_id = get_int(request, "id")
    evse_id = get_int(request, "evseId") or 0
    token = get_str(get_dict(request, "idToken"), "idToken")
    status = RESERVE_NOW_ANSWERS.get(get_str(answer, "status") or "")
    if reservation_id is None or token is None or status is None:
        return None
    if not 0 <= evse_id <= MAX_CONNECTOR_ID:
        return None
    group = get_str(get_dict(request, "groupIdToken"), "idToken")
    return Reservation(
        reservation_id=reservation_id,
        charge_point_id=charge_point_id,
        connector_id=evse_id,
        id_tag=token[:MAX_ID_TOKEN],
        expiry_date=parse_time(request.get("expiryDateTime"), EARLIEST),
        requested_at=requested_at,
        status=status,
        updated_at=answered_at,
        parent_id_tag=None if group is None else group[:MAX_ID_TOKEN],
    )
