"""Reservations from the ReserveNow and CancelReservation commands the CSMS sent and their answers.

Pure helpers for ``derive``: a ReserveNow is derived once the log shows the charge point's
CALLRESULT (ADR 0008), an Accepted CancelReservation cancels, a StartTransaction naming the
reservation uses it. Expiry is not derived: an active reservation past its expiry date reads
as expired (``Reservation.status_at``), so no timer is needed and a replay agrees.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargestream.domain.records import RESERVE_NOW_ANSWERS, Reservation
from chargestream.streams.parse import (
    EARLIEST,
    get_connector_id,
    get_int,
    get_str,
    parse_time,
)

MAX_ID_TAG = 20  # OCPP 1.6 IdToken


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
