"""Fleet overview: every charge point's live state, fleet counts, filters and search."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from chargestream.domain.records import Alert
from chargestream.domain.settings import Settings
from chargestream.ui import charts, dataframes, queries, widgets
from chargestream.ui.data import settings
from chargestream.ui.text import plain

SEARCHED = [
    "charge_point_id",
    "name",
    "location",
    "vendor",
    "model",
    "serial",
    "firmware",
    "protocol",
]
OPEN_ALERTS = 1000  # counted exactly up to this many
FLEET_PAGE = 100  # charge points per page of the table


def render() -> None:
    st.title("Fleet")
    st.fragment(run_every=widgets.refresh_interval())(overview)(settings())


def overview(config: Settings) -> None:
    """The live part: reruns on its own every refresh interval, without the page."""
    fleet = queries.fleet(config)
    if fleet.empty:
        st.info(
            "No charge points yet. Point a charge point at "
            f"`ws://{config.ocpp_host}:{config.ocpp_port}/ocpp/<id>` (subprotocol ocpp1.6), or "
            f"start simulated ones: `chargestream simulate --url "
            f"ws://127.0.0.1:{config.ocpp_port}/ocpp`.",
            icon=":material/ev_station:",
        )
        return
    now = datetime.now(UTC)
    open_alerts = queries.alerts(config, True, OPEN_ALERTS)
    tiles(config, fleet, open_alerts, now)
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Connectors by status")
        counts = dataframes.status_counts(fleet)
        if counts.empty:
            st.caption("No connector has reported a status yet.")
        else:
            st.altair_chart(charts.status_counts(counts), width="stretch")
    with right:
        st.subheader("Newest open alerts")
        newest_alerts(open_alerts[:5])
    st.subheader("Charge points")
    table(with_alerts(filtered(fleet), open_alerts))
    st.caption(f"Updated {widgets.local(now):%H:%M:%S} · select a row to open it")


def tiles(config: Settings, fleet: pd.DataFrame, open_alerts: list[Alert], now: datetime) -> None:
    statuses = fleet["statuses"].explode().dropna()
    online = int(fleet["connected"].sum())
    energy = queries.energy_since(config, widgets.local_midnight(now))
    critical = sum(1 for a in open_alerts if a.severity == "critical")
    columns = st.columns(7)
    columns[0].metric("Charge points", f"{len(fleet):,}", border=True)
    columns[1].metric("Online", f"{online:,}", border=True)
    columns[2].metric("Offline", f"{len(fleet) - online:,}", border=True)
    columns[3].metric(
        "In session",
        f"{int(statuses.isin(dataframes.SESSION_STATUSES).sum()):,}",
        help="Connectors of connected charge points that are Charging, SuspendedEV "
        "or SuspendedEVSE.",
        border=True,
    )
    columns[4].metric(
        "Faulted",
        f"{int((statuses == 'Faulted').sum()):,}",
        help="Faulted connectors",
        border=True,
    )
    columns[5].metric(
        "kWh today",
        f"{energy.kwh:,.1f}" + ("+" if energy.capped else ""),
        help=f"Sessions started since local midnight: {energy.sessions:,}"
        + (f" (only the newest {energy.sessions:,} summed)" if energy.capped else "")
        + ". Running sessions count with their energy so far.",
        border=True,
    )
    columns[6].metric(
        "Open alerts",
        f"{len(open_alerts):,}" + ("+" if len(open_alerts) >= OPEN_ALERTS else ""),
        delta=f"{critical} critical" if critical else None,
        delta_color="inverse",
        delta_arrow="off",
        border=True,
    )


def newest_alerts(alerts: list[Alert]) -> None:
    if not alerts:
        st.caption("No open alerts.")
    for alert in alerts:
        icon = ":material/error:" if alert.severity == "critical" else ":material/warning:"
        st.markdown(f"{icon} **{plain(alert.charge_point_id)}** · {plain(alert.message)}")
    st.page_link(widgets.ALERTS, label="All alerts", icon=":material/arrow_forward:")


def filtered(fleet: pd.DataFrame) -> pd.DataFrame:
    search, state, status, vendor = st.columns([3, 2, 3, 2])
    text = search.text_input(
        "Search", placeholder="id, name, location, model, serial…", key="fleet_search"
    )
    states = state.multiselect("State", list(widgets.STATE_COLOURS), key="fleet_state")
    statuses = status.multiselect("Any connector", list(charts.STATUS_COLOURS), key="fleet_status")
    vendors = vendor.multiselect(
        "Vendor", sorted(fleet["vendor"].dropna().unique()), key="fleet_vendor"
    )
    keep = pd.Series(True, index=fleet.index)
    if text:
        haystack = fleet[SEARCHED].fillna("").astype(str).agg(" ".join, axis=1)
        keep &= haystack.str.contains(text, case=False, regex=False)
    if states:
        keep &= fleet["state"].isin(states)
    if statuses:
        wanted = set(statuses)
        keep &= fleet["statuses"].map(lambda found: not wanted.isdisjoint(found))
    if vendors:
        keep &= fleet["vendor"].isin(vendors)
    return fleet[keep]


def with_alerts(fleet: pd.DataFrame, open_alerts: list[Alert]) -> pd.DataFrame:
    """The fleet with an ``alerts`` marker per charge point: "● 2 critical", "▲ 1", or ""."""
    counts: dict[str, list[int]] = {}
    for alert in open_alerts:
        found = counts.setdefault(alert.charge_point_id, [0, 0])
        found[alert.severity == "critical"] += 1
    markers = {
        cp: f"● {critical} critical" if critical else f"▲ {others}"
        for cp, (others, critical) in counts.items()
    }
    return fleet.assign(alerts=fleet["charge_point_id"].map(lambda cp: markers.get(cp, "")))


def table(fleet: pd.DataFrame) -> None:
    """The charge points, ``FLEET_PAGE`` rows a page: the table grows with its rows."""
    tags = sorted({tag for found in fleet["connectors"] for tag in found})
    pages = max(1, -(-len(fleet) // FLEET_PAGE))
    page = 1
    if pages > 1:
        page = int(
            st.number_input(
                f"Page (of {pages})",
                min_value=1,
                max_value=pages,
                value=1,
                key=f"fleet_page:{pages}",
            )
        )
    fleet = fleet.iloc[(page - 1) * FLEET_PAGE : page * FLEET_PAGE]
    event = widgets.table(
        fleet.assign(state=fleet["state"].map(lambda state: [state])),
        most=widgets.dataframe_height(FLEET_PAGE),
        column_order=[
            "charge_point_id",
            "alerts",
            "name",
            "state",
            "protocol",
            "connectors",
            "last_seen",
            "vendor",
            "model",
            "firmware",
            "serial",
            "location",
        ],
        column_config={
            "charge_point_id": st.column_config.TextColumn("Charge point", pinned=True),
            "alerts": st.column_config.TextColumn(
                "Alerts", help="Open alerts of the charge point (● critical, ▲ others)"
            ),
            "name": "Name",
            "state": widgets.tags_column("State", widgets.STATE_COLOURS),
            "protocol": "Protocol",
            "connectors": widgets.tags_column(
                "Connectors", widgets.connector_colours(tags), help="CP = the charge point itself"
            ),
            "last_seen": widgets.time_column("Last seen", relative=True),
            "vendor": "Vendor",
            "model": "Model",
            "firmware": "Firmware",
            "serial": st.column_config.TextColumn("Serial", width="medium"),
            "location": "Location",
        },
        on_select="rerun",
        selection_mode="single-row",
        key="fleet_table",
    )
    if event.selection.rows:
        chosen = fleet.iloc[event.selection.rows[0]]["charge_point_id"]
        st.switch_page(widgets.CHARGE_POINT, query_params={"cp": chosen})
    if fleet.empty:
        st.caption("No charge point matches the filters.")


render()
