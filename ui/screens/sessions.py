"""Charging history: sessions of the fleet or of one charge point, paged, with CSV export."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from chargestream.ui import dataframes, queries, widgets
from chargestream.ui.data import runner, settings

ALL = "All charge points"
PAGE_SIZES = [25, 50, 100, 250]


def render() -> None:
    config = settings()
    st.title("Charging history")
    ids = queries.fleet(config)["charge_point_id"].tolist()
    scope_column, size_column = st.columns([3, 1])
    scope = scope_column.selectbox("Charge point", [ALL, *ids], key="cp", bind="query-params")
    size = size_column.selectbox("Sessions per page", PAGE_SIZES, index=1, key="page_size")
    charge_point_id = None if scope == ALL else scope
    # the pages seen so far, as their `before` cursors; the last one is shown
    cursors: list[datetime | None] = st.session_state.setdefault(
        f"history_cursors:{charge_point_id}:{size}", [None]
    )
    page = queries.sessions(config, charge_point_id, size, cursors[-1])
    if not page and len(cursors) == 1:
        st.info("No charging sessions yet.", icon=":material/history:")
        return
    frame = dataframes.sessions_frame(page)
    columns = st.columns(4)
    columns[0].metric("Sessions on this page", len(frame), border=True)
    columns[1].metric("Energy", f"{frame['energy_kwh'].sum():,.1f} kWh", border=True)
    columns[2].metric("Running", int(frame["stop_time"].isna().sum()), border=True)
    median = frame["duration_min"].median()
    columns[3].metric(
        "Median duration", f"{median:.0f} min" if median == median else "—", border=True
    )
    widgets.sessions_table(frame, key="history_table", show_charge_point=charge_point_id is None)
    last = dataframes.session_time(page[-1]) if page else None
    name = charge_point_id or "fleet"
    db = runner(config)
    with st.container(horizontal=True, vertical_alignment="center"):
        widgets.pager(cursors, last, has_older=len(page) == size and last is not None)
        st.space("stretch")
        st.download_button(
            "This page as CSV",
            dataframes.csv(frame),
            file_name=f"sessions-{name}-page{len(cursors)}.csv",
            mime="text/csv",
            icon=":material/download:",
        )
        st.download_button(
            f"Newest {queries.MAX_EXPORT:,} as CSV",
            lambda: queries.export_sessions(db, charge_point_id),
            file_name=f"sessions-{name}.csv",
            mime="text/csv",
            icon=":material/download:",
        )


render()
