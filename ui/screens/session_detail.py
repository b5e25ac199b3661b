"""Session analysis: a session's figures and its meter values, measurands of your choice."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from chargestream.domain.records import Session
from chargestream.domain.settings import Settings
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
    if chosen is None:
        newest = queries.sessions(config, None, 1, None)
        if not newest:
            st.info("No charging sessions yet.", icon=":material/monitoring:")
            return
        chosen = newest[0].transaction_id
    session = queries.session(config, int(chosen))
    if session is None:
        st.warning(
            f"There is no session with transaction id {chosen}.", icon=":material/search_off:"
        )
        return
    run_every = widgets.refresh_interval() if session.active else None
    st.fragment(run_every=run_every)(analysis)(config, session.transaction_id)


def analysis(config: Settings, transaction_id: int) -> None:
    session = queries.session(config, transaction_id)
    if session is None:
        return
    summary(session)
    values = dataframes.meter_frame(queries.meter_values(config, transaction_id))
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
        "each scaled to its own range.",
    )
    if not shown:
        st.caption("Choose at least one measurand.")
        return
    if mode == VIEWS[1]:
        st.altair_chart(charts.comparison_chart(values, shown), width="stretch")
    else:
        st.altair_chart(charts.measurand_charts(values, shown), width="stretch")
    stats = dataframes.meter_summary(values[values["measurand"].isin(shown)])
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
    )
    st.download_button(
        "Meter values as CSV",
        dataframes.csv(values),
        file_name=f"meter-values-{transaction_id}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def summary(session: Session) -> None:
    end = session.stop_time or datetime.now(UTC)
    hours = (end - session.start_time).total_seconds() / 3600 if session.start_time else None
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
    energy = session.energy_kwh
    columns[0].metric("Energy, kWh", f"{energy:.2f}" if energy is not None else "—", border=True)
    columns[1].metric("Duration", _duration(hours), border=True)
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
    return f"{widgets.local(moment):%Y-%m-%d %H:%M}" if moment else "—"


render()
