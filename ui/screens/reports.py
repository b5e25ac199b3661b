"""Reports: availability with NEVI uptime, utilization and energy, a printable monthly report.

Periods are whole days in UTC (reports are what an operator hands in, the same for every
reader); hours and days in the charts are UTC too, 24-hour. Every role reads the reports;
entering or removing an exclusion window needs the role operator or admin (checked again by
each action, through the API). Ids are shown as text (tables, or ``plain`` in Markdown).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from chargestream.domain.availability import ExclusionKind
from chargestream.domain.records import AvailabilityExclusion
from chargestream.domain.report_tables import UTILIZATION_COLUMNS, Row, to_csv
from chargestream.domain.settings import Settings
from chargestream.domain.utilization import Grouping
from chargestream.streams.reports import ReportRefused
from chargestream.ui import auth, queries, report_queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.data import settings
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

CHANGE = Permission.CHANGE_EXCLUSIONS
FLEET = "Whole fleet"
PERIODS = ("This month", "Last month", "Custom")
CHARGING, IDLE = "Charging (h)", "Plugged-in idle (h)"
UTILIZATION_LABELS = {
    "sessions": "Sessions",
    "energy_kwh": "Energy (kWh)",
    "charging_h": CHARGING,
    "idle_h": IDLE,
}
PORT_LABELS = {
    "charge_point_id": "Charge point",
    "connector_id": "Connector",
    "site_id": "Site",
    "uptime_percent": "Uptime %",
    "observed_h": "Observed (h)",
    "down_h": "Down (h)",
    "excluded_h": "Excluded (h)",
}
ZONE_NOTE = "Times in UTC, 24-hour."
SUMMARY_LEVELS = ("charge_point", "site", "fleet")
SUMMARY_COLUMNS = ("level", "site_id", "charge_point_id", "observed_h", "down_h", "excluded_h")


def render() -> None:
    config = settings()
    st.title("Reports")
    widgets.show_flash()
    start, end, site_id = period_picker(config)
    name = f"{start:%Y%m%d}-{end:%Y%m%d}"
    try:
        table = report_queries.availability(config, start, end, site_id)
        by_hour = report_queries.utilization(config, start, end, Grouping.HOUR_OF_DAY)
        by_day = report_queries.utilization(config, start, end, Grouping.DAY)
    except ReportRefused as refused:
        st.error(plain(refused))
        return
    tabs = st.tabs(["Availability", "Utilization", "Monthly report", "Exclusions"])
    with tabs[0]:
        availability_section(table, name)
    with tabs[1]:
        utilization_section(by_hour, by_day, name)
    with tabs[2]:
        printable_report(table, start, end, site_id)
    with tabs[3]:
        exclusions_section(config)


def period_picker(config: Settings) -> tuple[datetime, datetime, str | None]:
    """[first day 00:00 UTC, day after the last 00:00 UTC) and the site (None: the fleet)."""
    today = datetime.now(UTC).date()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    left, right = st.columns([2, 1])
    choice = left.segmented_control("Period", PERIODS, default=PERIODS[0], key="report_month")
    if choice == PERIODS[1]:
        first, last = last_month, this_month - timedelta(days=1)
    elif choice == PERIODS[2]:
        picked = left.date_input(
            "Days (UTC)",
            (this_month, today),
            max_value=today,
            key="report_days",
            help="Whole days in UTC, at most 400",
        )
        first, last = picked if isinstance(picked, tuple) and len(picked) == 2 else (today, today)
    else:
        first, last = this_month, today
    sites = [site.site_id for site in queries.sites(config)]
    scope = right.selectbox("Scope", [FLEET, *sites], key="report_scope")
    st.caption(f"{first:%Y-%m-%d} to {last:%Y-%m-%d} (whole days). {ZONE_NOTE}")
    return _midnight(first), _midnight(last + timedelta(days=1)), None if scope == FLEET else scope


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _percent(value: object) -> str:
    return "—" if value is None else f"{float(str(value)):.3f} %"


def availability_section(table: report_queries.AvailabilityTable, name: str) -> None:
    fleet = table.rows[-1]
    metrics = st.columns(4)
    metrics[0].metric("Uptime (NEVI)", _percent(fleet["uptime_percent"]), border=True)
    metrics[1].metric("Observed", f"{fleet['observed_h']:,} h", border=True)
    metrics[2].metric("Down", f"{fleet['down_h']:,} h", border=True)
    metrics[3].metric("Excluded", f"{fleet['excluded_h']:,} h", border=True)
    st.caption(
        f"Uptime = (observed - (down - excluded)) / observed. {table.exclusions} exclusion "
        "windows overlap the period. Down: Unavailable, Faulted, Offline."
    )
    ports = [row for row in table.rows if row["level"] == "port"]
    if ports:
        ports_table(ports, table.columns)
    else:
        st.info("No port reported a status in this period.", icon=":material/summarize:")
    st.download_button(
        "Availability as CSV",
        to_csv(table.rows, table.columns),
        file_name=f"availability-{name}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def ports_table(ports: list[Row], columns: list[str]) -> None:
    """Uptime first, then the hours per status; no empty cell reads "None"."""
    statuses = [c for c in columns if c.endswith("_h") and c not in PORT_LABELS]
    frame = pd.DataFrame(ports, columns=[*PORT_LABELS, *statuses]).fillna({"site_id": ""})
    labels = {column: f"{column.removesuffix('_h')} (h)" for column in statuses}
    widgets.table(frame, column_config={**PORT_LABELS, **labels})


def utilization_section(by_hour: list[Row], by_day: list[Row], name: str) -> None:
    for title, rows, grouping in (
        ("Per hour of day (UTC)", by_hour, Grouping.HOUR_OF_DAY),
        ("Per day (UTC)", by_day, Grouping.DAY),
    ):
        st.subheader(title)
        if not rows:
            st.caption("No charging or plugged-in time in this period.")
            continue
        if grouping is Grouping.HOUR_OF_DAY:
            rows = every_hour(rows)
        axis = "Hour (UTC)" if grouping is Grouping.HOUR_OF_DAY else "Day (UTC)"
        labels = {"group": axis, **UTILIZATION_LABELS}
        frame = pd.DataFrame(rows, columns=list(UTILIZATION_COLUMNS)).rename(columns=labels)
        st.bar_chart(frame, x=axis, y=[CHARGING, IDLE], y_label="hours")
        widgets.table(frame)
        st.download_button(
            f"{title} as CSV",
            to_csv(rows, UTILIZATION_COLUMNS),
            file_name=f"utilization-{grouping.value}-{name}.csv",
            mime="text/csv",
            icon=":material/download:",
            key=f"utilization-{grouping.value}",
        )


def every_hour(rows: list[Row]) -> list[Row]:
    """The 24 hours of the day in order, those without use as zeros."""
    found = {row["group"]: row for row in rows}
    empty: Row = dict.fromkeys(UTILIZATION_COLUMNS[1:], 0)
    return [found.get(f"{hour:02d}", {"group": f"{hour:02d}", **empty}) for hour in range(24)]


def printable_report(
    table: report_queries.AvailabilityTable, start: datetime, end: datetime, site_id: str | None
) -> None:
    """Markdown tables an operator can print (the browser's print) and hand in."""
    scope = f"site {plain(site_id)}" if site_id else "the whole fleet"
    st.markdown(
        f"### Availability report, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC\n\n"
        f"Scope: {scope}. Uptime per 23 CFR 680.116(b): operative time over the period, "
        "outage time inside documented exclusions (outages outside the operator's control, "
        "planned maintenance) not counted against it."
    )
    st.markdown(markdown_table([r for r in table.rows if r["level"] in SUMMARY_LEVELS]))


def markdown_table(rows: list[Row]) -> str:
    header = [*SUMMARY_COLUMNS, "uptime_percent"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        cells = [plain(row[c]) if row[c] is not None else "" for c in SUMMARY_COLUMNS]
        lines.append("| " + " | ".join([*cells, _percent(row["uptime_percent"])]) + " |")
    return "\n".join(lines)


def exclusions_section(config: Settings) -> None:
    operator = auth.signed_in(config)
    stored = report_queries.exclusions(config)
    if stored:
        widgets.table(
            pd.DataFrame([_exclusion_row(e) for e in stored]),
            column_config={
                "start": widgets.time_column(f"Start ({widgets.timezone()})"),
                "end": widgets.time_column(f"End ({widgets.timezone()})"),
            },
        )
    else:
        st.caption("No exclusion windows.")
    auth.explain(operator, CHANGE)
    with st.form("exclusion", border=True):
        st.markdown("#### Exclude a window (UTC)")
        columns = st.columns(2)
        columns[0].date_input("From day", key="exclusion_start_day")
        columns[0].time_input("From time", time(), key="exclusion_start_time", step=300)
        columns[1].date_input("To day", key="exclusion_end_day")
        columns[1].time_input("To time", time(23, 55), key="exclusion_end_time", step=300)
        st.radio("Kind", [k.value for k in ExclusionKind], horizontal=True, key="exclusion_kind")
        st.text_input("Charge point (empty: site or fleet)", max_chars=48, key="exclusion_cp")
        st.text_input("Site (empty: fleet)", max_chars=64, key="exclusion_site")
        st.text_input("Note", max_chars=500, key="exclusion_note")
        st.form_submit_button(
            "Add exclusion",
            icon=":material/add:",
            on_click=add,
            args=(config,),
            **auth.control(operator, CHANGE),
        )
    if stored:
        chosen = st.selectbox("Exclusion", [e.exclusion_id for e in stored], key="exclusion_gone")
        st.button(
            "Remove exclusion",
            icon=":material/delete:",
            on_click=remove,
            args=(config, chosen),
            **auth.control(operator, CHANGE),
        )


def _exclusion_row(exclusion: AvailabilityExclusion) -> dict[str, object]:
    return {
        "exclusion_id": exclusion.exclusion_id,
        "kind": exclusion.kind,
        "start": exclusion.start,
        "end": exclusion.end,
        "charge_point_id": exclusion.charge_point_id,
        "site_id": exclusion.site_id,
        "note": exclusion.note,
    }


def add(config: Settings) -> None:
    state = st.session_state
    start = datetime.combine(state["exclusion_start_day"], state["exclusion_start_time"], UTC)
    end = datetime.combine(state["exclusion_end_day"], state["exclusion_end_time"], UTC)
    body = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "kind": state["exclusion_kind"],
        "note": state["exclusion_note"],
        "charge_point_id": state["exclusion_cp"].strip() or None,
        "site_id": state["exclusion_site"].strip() or None,
    }
    _as_operator(
        lambda operator: api(config).add_exclusion(body, operator=operator),
        "The exclusion was not added",
        "Exclusion added: reports count it at once.",
    )


def remove(config: Settings, exclusion_id: str) -> None:
    _as_operator(
        lambda operator: api(config).delete_exclusion(exclusion_id, operator=operator),
        "The exclusion was not removed",
        "Exclusion removed.",
    )


def _as_operator(change: Callable[[str], None], failure: str, success: str) -> None:
    """Change exclusions through the API as the signed-in operator; flash the outcome."""
    try:
        change(auth.authorize(CHANGE))
    except (auth.Refused, ApiError) as error:
        why = f". {error}" if isinstance(error, auth.Refused) else f": {plain(error)}"
        widgets.flash("error", failure + why)
        return
    report_queries.exclusions.clear()
    report_queries.availability.clear()
    widgets.flash("success", success)


render()
