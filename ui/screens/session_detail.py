"""Session analysis: a session's figures and its meter values, measurands of your choice."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from chargestream.domain.records import Session
from chargestream.domain.settings import Settings
from chargestream.streams.progress import Progress, progress
from chargestream.ui import charts, dataframes, queries, widgets
from chargestream.ui.data import settings
from chargestream.ui.text import plain

PREFERRED = ["Power.Active.Import", "SoC", "Current.Import", "Energy.Active.Import.Register"]
VIEWS = ["Separate", "Compare"]


def render() -> None:
    config = settings()
    st.title("Session analysis")
    chosen = st.number_input(
        "Transaction id",
        value=None,
        min_value=1,
        step=1,
        placeholder="newest session",
        key="tx",
        bind="query-params",
        help="Or pick a session in the charging history.",
    )
    following = chosen is None
    transaction_id = queries.newest_metered_session(config) if chosen is None else int(chosen)
    if transaction_id is None:
        st.info("No charging sessions yet.", icon=":material/monitoring:")
        return
    session = queries.session(config, transaction_id)
    if session is None:
        st.warning(
            f"There is no session with transaction id {transaction_id}.",
            icon=":material/search_off:",
        )
        return
    # with no session chosen, the page follows the newest session with meter values
    run_every = widgets.refresh_interval() if following or session.active else None
    st.fragment(run_every=run_every)(analysis)(config, session.transaction_id, following)


def analysis(config: Settings, transaction_id: int, following: bool) -> None:
    if following:
        transaction_id = queries.newest_metered_session(config) or transaction_id
    session = queries.session(config, transaction_id)
    if session is None:
        return
    readings = queries.meter_values(config, transaction_id)
    summary(session, progress(session, readings, datetime.now(UTC)))
    values = dataframes.meter_frame(readings)
    if values.empty:
        st.info("No meter values were recorded for this session.", icon=":material/show_chart:")
        return
    if len(values) >= queries.MAX_METER_VALUES:
        st.caption(f"Showing the first {queries.MAX_METER_VALUES:,} sampled values.")
    measurands = sorted(values["measurand"].unique())
    picked, view = st.columns([3, 1])
    shown = picked.multiselect(
        "Measurands",
        measurands,
        default=[m for m in PREFERRED if m in measurands][:2] or measurands[:1],
        key="measurands",
    )
    mode = view.segmented_control(
        "View",
        VIEWS,
        default=VIEWS[0],
        key="meter_view",
        help="Separate: one chart per measurand in its unit. Compare: all on one chart, "
        "one y axis per unit (two units at most).",
    )
    if not shown:
        st.caption("Choose at least one measurand.")
        return
    zone = widgets.timezone()
    if mode == VIEWS[1]:
        units = charts.display_units(values, shown)
        if len(units) > charts.COMPARABLE_UNITS:
            st.caption(f"Compare shows the first two units ({', '.join(units[:2])}).")
        st.altair_chart(charts.comparison_chart(values, shown, zone), width="stretch")
    else:
        st.altair_chart(charts.measurand_charts(values, shown, zone), width="stretch")
    stats = dataframes.meter_summary(
        charts.in_display_units(values[values["measurand"].isin(shown)])
    )
    st.dataframe(
        stats,
        hide_index=True,
        width="stretch",
        column_config={
            "series": "Series",
            "unit": "Unit",
            "samples": "Samples",
            "min": st.column_config.NumberColumn("Min", format="%.2f"),
            "mean": st.column_config.NumberColumn("Mean", format="%.2f"),
            "max": st.column_config.NumberColumn("Max", format="%.2f"),
            "last": st.column_config.NumberColumn("Last", format="%.2f"),
        },
        placeholder="",
    )
    st.download_button(
        "Meter values as CSV",
        dataframes.csv(values),
        file_name=f"meter-values-{transaction_id}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",  # no rerun that could replace the file before it downloads
    )


def summary(session: Session, so_far: Progress) -> None:
    hours = so_far.duration_s / 3600 if so_far.duration_s is not None else None
    reason = plain(session.stop_reason or "no reason")
    state = "running" if session.active else f"stopped ({reason})"
    st.subheader(
        f"Transaction {session.transaction_id} · {plain(session.charge_point_id)}"
        + (f" EVSE {session.evse_id}" if session.evse_id is not None else "")
        + (
            f" connector {session.connector_id}"
            if session.connector_id is not None and session.evse_id is None
            else ""
        )
    )
    station = session.station_transaction_id
    st.caption(
        (f"Station transaction {plain(station)} · " if station else "")
        + f"Id tag {plain(session.id_tag or '—')} · {state} · started {_when(session.start_time)}"
        f" · stopped {_when(session.stop_time)}"
    )
    columns = st.columns(5)
    energy = so_far.energy_kwh
    columns[0].metric(
        "Energy so far, kWh" if session.active else "Energy, kWh",
        f"{energy:.2f}" if energy is not None else "—",
        border=True,
    )
    columns[1].metric("Duration", _duration(hours), border=True)
    if session.active:
        power = so_far.power_w
        columns[2].metric(
            "Power now, kW", f"{power / 1000:.1f}" if power is not None else "—", border=True
        )
    else:
        columns[2].metric(
            "Peak power, kW",
            f"{session.peak_power_w / 1000:.1f}" if session.peak_power_w is not None else "—",
            border=True,
        )
    columns[3].metric(
        "Average power, kW",
        f"{energy / hours:.1f}" if energy is not None and hours else "—",
        border=True,
    )
    columns[4].metric("State of charge, %", _soc(session), border=True)


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    minutes = round(hours * 60)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _soc(session: Session) -> str:
    if session.soc_start is None and session.soc_end is None:
        return "—"
    start = f"{session.soc_start:.0f}" if session.soc_start is not None else "?"
    end = f"{session.soc_end:.0f}" if session.soc_end is not None else "?"
    return f"{start} → {end}"


def _when(moment: datetime | None) -> str:
    return f"{widgets.local(moment):%Y-%m-%d %H:%M} {widgets.timezone()}" if moment else "—"


render()
