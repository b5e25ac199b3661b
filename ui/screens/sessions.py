"""Charging history: sessions of the fleet or of one charge point, paged, with CSV export."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from chargestream.domain.settings import Settings
from chargestream.ui import dataframes, queries, widgets
from chargestream.ui.data import settings

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
    st.fragment(run_every=widgets.refresh_interval())(history)(
        config, charge_point_id, size, cursors[-1]
    )
    last = dataframes.session_time(page[-1]) if page else None
    name = charge_point_id or "fleet"
    with st.container(horizontal=True, vertical_alignment="center"):
        widgets.pager(cursors, last, has_older=len(page) == size and last is not None)
        st.space("stretch")
        # the data is computed in this run, not deferred: a deferred download is dropped
        # when the run that made it is replaced (MediaFileStorageError), and clicking does
        # not rerun the page
        st.download_button(
            "This page as CSV",
            dataframes.csv(dataframes.sessions_frame(page, queries.live_progress(config, page))),
            file_name=f"sessions-{name}-page{len(cursors)}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
        )
        st.download_button(
            f"Newest {queries.MAX_EXPORT:,} as CSV",
            queries.export_sessions(config, charge_point_id),
            file_name=f"sessions-{name}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
        )


def history(
    config: Settings, charge_point_id: str | None, size: int, before: datetime | None
) -> None:
    """The page's totals and sessions, running ones with their energy and power so far."""
    page = queries.sessions(config, charge_point_id, size, before)
    frame = dataframes.sessions_frame(page, queries.live_progress(config, page))
    columns = st.columns(4)
    columns[0].metric("Sessions on this page", len(frame), border=True)
    columns[1].metric("Energy", f"{frame['energy_kwh'].sum():,.1f} kWh", border=True)
    columns[2].metric("Running", int(frame["stop_time"].isna().sum()), border=True)
    median = frame["duration_min"].median()
    columns[3].metric(
        "Median duration", f"{median:.0f} min" if median == median else "—", border=True
    )
    widgets.sessions_table(frame, key="history_table", show_charge_point=charge_point_id is None)


render()
