"""The dashboard's Reservations page under AppTest against a real embedded CSMS: an operator
reserves a connector of a real WebSocket charge point and cancels it; a viewer may not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargestream.domain.records import Reservation, ReservationStatus
from chargestream.ui import queries
from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_reservations import reserving_charge_point
from tests.integration.ui.test_pages import button, locked, open_page, page, run, texts

HOSTILE = "**x**<b>"


async def stored_status(ui: RunningCsms, reservation_id: int, status: ReservationStatus) -> bool:
    stored = await ui.app.store.get_reservation(reservation_id)
    return stored is not None and stored.status is status


async def test_an_operator_reserves_and_cancels(ui: RunningCsms) -> None:
    async with reserving_charge_point(ui.ocpp_url, "CP-RES") as cp:
        at = await open_page(page("reservations"), operator="olga")
        assert "No reservations yet" in at.info[0].value
        at.text_input(key="reserve_cp").input("CP-RES")
        at.text_input(key="reserve_tag").input("TAG-9")
        button(at, "Reserve").click()
        await run(at)
        (message,) = texts(at.success)
        assert message.startswith("Reservation ") and message.endswith(" at CP-RES is active.")
        reservation_id = int(message.split()[1])
        assert cp.received[0][0] == "ReserveNow"
        await eventually(lambda: stored_status(ui, reservation_id, ReservationStatus.ACTIVE))
        queries.reservations.clear()  # the page may have listed none a moment before

        at = await open_page(page("reservations"), operator="olga")
        table = at.dataframe[0].value
        assert table["reservation_id"].tolist() == [reservation_id]
        assert table["status"].tolist() == [["active"]]
        button(at, "Cancel reservation").click()
        await run(at)
        assert texts(at.success) == [f"Cancelling reservation {reservation_id}: **Accepted**"]
        assert cp.received[-1] == ("CancelReservation", {"reservation_id": reservation_id})
        await eventually(lambda: stored_status(ui, reservation_id, ReservationStatus.CANCELLED))


async def test_a_viewer_sees_reservations_as_text_but_may_not_reserve(ui: RunningCsms) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await ui.app.store.upsert(
        [
            Reservation(
                5, HOSTILE, 1, HOSTILE, now + timedelta(hours=1), now, ReservationStatus.ACTIVE, now
            )
        ]
    )
    at = await open_page(page("reservations"), operator="victor")
    table = at.dataframe[0].value
    assert (table["charge_point_id"].iloc[0], table["id_tag"].iloc[0]) == (HOSTILE, HOSTILE)
    assert not any(HOSTILE in text for text in texts(at.markdown))
    assert button(at, "Reserve").disabled and button(at, "Cancel reservation").disabled
    assert "may not send commands" in locked(at)[0]
