"""Reservations: the newest reservations with their status now, reserve a connector, cancel.

Every role sees the list; reserving and cancelling send commands and need the role operator
or admin (checked again by each). Charge point ids and id tags are shown as text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from chargestream.domain.records import Reservation, ReservationStatus
from chargestream.domain.settings import Settings
from chargestream.ui import auth, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.data import settings
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

SEND = Permission.SEND_COMMANDS
LIMIT = 500
STATUS_COLOURS = {
    "active": "#2e9d4a",
    "used": "#1c64c8",
    "expired": "#f2a50c",
    "cancelled": "#4d4d4d",
    "occupied": "#d7263d",
    "faulted": "#d7263d",
    "rejected": "#d7263d",
    "unavailable": "#d7263d",
}
COLUMNS = [
    "reservation_id",
    "charge_point_id",
    "connector_id",
    "id_tag",
    "status",
    "expiry_date",
    "requested_at",
    "transaction_id",
    "parent_id_tag",
]


def render() -> None:
    config = settings()
    st.title("Reservations")
    widgets.show_flash()
    operator = auth.signed_in(config)
    now = datetime.now(UTC)
    current = [r.as_of(now) for r in queries.reservations(config, None, LIMIT)]
    listing, editing = st.columns([3, 2], gap="large")
    with listing:
        reservation_list(current)
    with editing:
        auth.explain(operator, SEND)
        cancel_form(config, [r for r in current if r.status is ReservationStatus.ACTIVE], operator)
        reserve_form(config, operator)


def frame(reservations: list[Reservation]) -> pd.DataFrame:
    rows = [{name: getattr(r, name) for name in COLUMNS} for r in reservations]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["status"] = [[str(r.status)] for r in reservations]
    for column in ("expiry_date", "requested_at"):
        table[column] = pd.to_datetime(table[column], utc=True)
    return table


def reservation_list(reservations: list[Reservation]) -> None:
    if not reservations:
        st.info("No reservations yet.", icon=":material/event_available:")
        return
    active = sum(r.status is ReservationStatus.ACTIVE for r in reservations)
    columns = st.columns(2)
    columns[0].metric("Reservations", f"{len(reservations):,}", border=True)
    columns[1].metric("Active", f"{active:,}", border=True)
    table = frame(reservations)
    widgets.table(
        table,
        column_config={
            "reservation_id": "Id",
            "charge_point_id": "Charge point",
            "connector_id": "Connector",
            "id_tag": "Id tag",
            "status": widgets.tags_column("Status", STATUS_COLOURS, help="The status now"),
            "expiry_date": widgets.time_column("Expires"),
            "requested_at": widgets.time_column("Requested"),
            "transaction_id": "Session",
            "parent_id_tag": "Parent",
        },
    )


def cancel_form(
    config: Settings, active: list[Reservation], operator: auth.SignedIn | None
) -> None:
    if not active:
        return
    with st.container(border=True):
        st.markdown("#### Cancel a reservation")
        labels = {
            f"{r.reservation_id} · {r.charge_point_id} #{r.connector_id} · {r.id_tag}": r
            for r in active
        }
        chosen = st.selectbox("Reservation", list(labels), key="reservation_chosen")
        st.button(
            "Cancel reservation",
            icon=":material/event_busy:",
            on_click=cancel,
            args=(config, labels[chosen].reservation_id),
            **auth.control(operator, SEND),
        )


def reserve_form(config: Settings, operator: auth.SignedIn | None) -> None:
    with st.form("reserve", border=True):
        st.markdown("#### Reserve a connector")
        st.text_input("Charge point", key="reserve_cp")
        st.number_input("Connector", min_value=0, value=1, step=1, key="reserve_connector")
        st.text_input("Id tag", max_chars=20, key="reserve_tag")
        st.number_input(
            "Expires in (minutes)", min_value=1, max_value=10_080, value=30, key="reserve_minutes"
        )
        st.text_input("Parent id tag", max_chars=20, key="reserve_parent")
        st.form_submit_button(
            "Reserve",
            type="primary",
            icon=":material/event_available:",
            on_click=reserve,
            args=(config,),
            **auth.control(operator, SEND),
        )


def reserve(config: Settings) -> None:
    state = st.session_state
    charge_point_id, tag = state["reserve_cp"].strip(), state["reserve_tag"].strip()
    if not charge_point_id or not tag:
        widgets.flash("error", "A reservation needs a charge point and an id tag.")
        return
    expiry = datetime.now(UTC) + timedelta(minutes=int(state["reserve_minutes"]))
    try:
        operator = auth.authorize(SEND)
        answer = api(config).reserve(
            charge_point_id,
            int(state["reserve_connector"]),
            tag,
            expiry,
            state["reserve_parent"].strip() or None,
            operator=operator,
        )
    except auth.Refused as refusal:
        widgets.flash("error", f"Nothing was reserved. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Nothing was reserved: {plain(error)}")
        return
    queries.reservations.clear()
    status, outcome = answer["status"], answer["command"]["outcome"]
    who = plain(charge_point_id)
    if status == ReservationStatus.ACTIVE:
        widgets.flash("success", f"Reservation {answer['reservation_id']} at {who} is active.")
    elif outcome == "answered":
        widgets.flash("warning", f"{who} answered the reservation: **{plain(status)}**")
    else:
        reason = answer["command"].get("error") or outcome
        widgets.flash("error", f"The reservation did not reach {who}: {plain(reason)}")


def cancel(config: Settings, reservation_id: int) -> None:
    try:
        operator = auth.authorize(SEND)
        result = api(config).cancel_reservation(reservation_id, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"Reservation {reservation_id} was not cancelled. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Reservation {reservation_id} was not cancelled: {plain(error)}")
        return
    queries.reservations.clear()
    answer = (result.response or {}).get("status") or result.error or result.outcome
    widgets.flash(
        "success" if answer == "Accepted" else "warning",
        f"Cancelling reservation {reservation_id}: **{plain(str(answer))}**",
    )


render()
