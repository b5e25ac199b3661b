"""Id tags: list, add or change, block, expire and delete (written through the API).

Every role sees the list; changes need the role operator or admin (checked again by each).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from chargestream.domain.records import IdTag, IdTagStatus
from chargestream.domain.settings import Settings
from chargestream.ui import auth, dataframes, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.data import settings
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

CHANGE = Permission.CHANGE_ID_TAGS

STATUS_COLOURS = {
    "Accepted": "#2e9d4a",
    "Blocked": "#d7263d",
    "Expired": "#f2a50c",
    "Invalid": "#4d4d4d",
    "ConcurrentTx": "#1c64c8",
}


def render() -> None:
    config = settings()
    st.title("Id tags")
    widgets.show_flash()
    tags = queries.id_tags(config)
    operator = auth.signed_in(config)
    listing, editing = st.columns([3, 2], gap="large")
    with listing:
        tag_list(tags)
    with editing:
        auth.explain(operator, CHANGE)
        if tags:
            tag_actions(config, {t.id_tag: t for t in tags}, operator)
        add_form(config, operator)


def tag_list(tags: list[IdTag]) -> None:
    if not tags:
        st.info("No id tags yet: add one to let its holder charge.", icon=":material/badge:")
        return
    frame = dataframes.id_tags_frame(tags)
    answered = frame["answered"].value_counts()
    columns = st.columns(4)
    columns[0].metric("Id tags", f"{len(frame):,}", border=True)
    for column, status in zip(columns[1:], ["Accepted", "Blocked", "Expired"], strict=True):
        column.metric(status, f"{int(answered.get(status, 0)):,}", border=True)
    search = st.text_input("Search", placeholder="id tag or parent", key="tag_search")
    if search:
        haystack = frame["id_tag"] + " " + frame["parent_id_tag"].fillna("")
        frame = frame[haystack.str.contains(search, case=False, regex=False)]
    widgets.table(
        frame.assign(answered=frame["answered"].map(lambda status: [status])),
        column_config={
            "id_tag": "Id tag",
            "status": "Stored status",
            "answered": widgets.tags_column(
                "Answered", STATUS_COLOURS, help="What a charge point is told now"
            ),
            "expiry_date": widgets.time_column("Expires"),
            "parent_id_tag": "Parent",
        },
    )


def tag_actions(config: Settings, tags: dict[str, IdTag], operator: auth.SignedIn | None) -> None:
    allowed = auth.control(operator, CHANGE)
    with st.container(border=True):
        st.markdown("#### Change a tag")
        chosen = st.selectbox("Id tag", list(tags), key="tag_chosen")
        tag = tags[chosen]
        buttons = st.container(horizontal=True)
        buttons.button(
            "Accept",
            icon=":material/check:",
            on_click=put,
            args=(config, tag.id_tag, "Accepted", tag.expiry_date, tag.parent_id_tag),
            **allowed,
        )
        buttons.button(
            "Block",
            icon=":material/block:",
            on_click=put,
            args=(config, tag.id_tag, "Blocked", tag.expiry_date, tag.parent_id_tag),
            **allowed,
        )
        buttons.button(
            "Expire",
            icon=":material/timer_off:",
            on_click=put,
            args=(config, tag.id_tag, "Expired", datetime.now(UTC), tag.parent_id_tag),
            **allowed,
        )
        with buttons.popover("Delete", icon=":material/delete:", disabled=allowed["disabled"]):
            st.button(
                f"Delete {plain(tag.id_tag)} for good",
                type="primary",
                on_click=remove,
                args=(config, tag.id_tag),
                **allowed,
            )


def add_form(config: Settings, operator: auth.SignedIn | None) -> None:
    with st.form("add_tag", clear_on_submit=True, border=True):
        st.markdown("#### Add or replace a tag")
        st.text_input("Id tag", max_chars=20, key="new_tag")
        st.selectbox("Status", [s.value for s in IdTagStatus], key="new_status")
        st.date_input("Expires on", value=None, key="new_expiry", help="Empty: never")
        st.text_input("Parent id tag", max_chars=20, key="new_parent")
        st.form_submit_button(
            "Save tag",
            type="primary",
            icon=":material/save:",
            on_click=save_new,
            args=(config,),
            **auth.control(operator, CHANGE),
        )


def save_new(config: Settings) -> None:
    tag = st.session_state["new_tag"].strip()
    if not tag:
        widgets.flash("error", "An id tag needs 1 to 20 characters.")
        return
    expiry = st.session_state["new_expiry"]
    put(
        config,
        tag,
        st.session_state["new_status"],
        datetime.combine(expiry, time(23, 59, 59), widgets.local(datetime.now(UTC)).tzinfo)
        if expiry
        else None,
        st.session_state["new_parent"].strip() or None,
    )


def put(
    config: Settings, id_tag: str, status: str, expiry: datetime | None, parent: str | None
) -> None:
    try:
        operator = auth.authorize(CHANGE)
        api(config).put_id_tag(id_tag, status, expiry, parent, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"{plain(id_tag)} was not saved. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"{plain(id_tag)} was not saved: {plain(error)}")
        return
    queries.id_tags.clear()
    widgets.flash("success", f"{plain(id_tag)} is now {plain(status)}.")


def remove(config: Settings, id_tag: str) -> None:
    try:
        operator = auth.authorize(CHANGE)
        api(config).delete_id_tag(id_tag, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"{plain(id_tag)} was not deleted. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"{plain(id_tag)} was not deleted: {plain(error)}")
        return
    queries.id_tags.clear()
    widgets.flash("success", f"{plain(id_tag)} deleted.")


render()
