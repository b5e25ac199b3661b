"""Altair charts and the connector status colour map shared by every page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

from chargestream.domain.records import StatusInterval

# One colour per OCPP 1.6 connector status, everywhere in the dashboard.
STATUS_COLOURS = {
    "Available": "#2e9d4a",
    "Preparing": "#8ec5f2",
    "Occupied": "#8ec5f2",  # OCPP 2.0.1: in use, not (yet) charging, like Preparing
    "EVConnected": "#8ec5f2",  # OCPP 2.0.1 chargingState
    "Charging": "#1c64c8",
    "SuspendedEVSE": "#f2a50c",
    "SuspendedEV": "#f7c04a",
    "Finishing": "#b5d9f7",
    "Reserved": "#8e6cc0",
    "Unavailable": "#a3a3a3",
    "Faulted": "#d7263d",
    "Offline": "#4d4d4d",
}
UNKNOWN_COLOUR = "#c8c8c8"

_STATUS_SCALE = alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))


def connector_label(connector_id: int) -> str:
    """Connector 0 is the charge point as a whole."""
    return "Charge point" if connector_id == 0 else f"Connector {connector_id}"


def timeline_frame(
    intervals: Sequence[StatusInterval], start: datetime, end: datetime
) -> pd.DataFrame:
    """Intervals clipped to [start, end); an open interval lasts until ``end``."""
    rows = []
    for interval in intervals:
        since = max(interval.start, start)
        until = min(interval.end or end, end)
        if until <= since:
            continue
        rows.append(
            {
                "connector": connector_label(interval.connector_id),
                "connector_id": interval.connector_id,
                "status": interval.status,
                "error_code": interval.error_code,
                "info": interval.info or "",
                "start": since,
                "end": until,
                "minutes": round((until - since).total_seconds() / 60, 1),
                "ongoing": interval.end is None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "connector",
            "connector_id",
            "status",
            "error_code",
            "info",
            "start",
            "end",
            "minutes",
            "ongoing",
        ],
    )


def status_timeline(frame: pd.DataFrame, start: datetime, end: datetime) -> alt.Chart:
    """A Gantt chart: one row per connector, one bar per status interval."""
    order = frame.drop_duplicates("connector").sort_values("connector_id")["connector"].tolist()
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "start:T",
                title=None,
                scale=alt.Scale(domain=[start.isoformat(), end.isoformat()]),
            ),
            x2="end:T",
            y=alt.Y("connector:N", title=None, sort=order, scale=alt.Scale(paddingInner=0.3)),
            color=alt.Color("status:N", scale=_STATUS_SCALE, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("connector:N"),
                alt.Tooltip("status:N"),
                alt.Tooltip("error_code:N", title="error code"),
                alt.Tooltip("info:N"),
                alt.Tooltip("start:T", format="%Y-%m-%d %H:%M:%S"),
                alt.Tooltip("end:T", format="%Y-%m-%d %H:%M:%S"),
                alt.Tooltip("minutes:Q"),
            ],
        )
        .properties(height=alt.Step(44))
    )
    return chart


def status_counts(counts: pd.DataFrame) -> alt.LayerChart:
    """Horizontal bars of ``count`` per ``status``, in the status colours."""
    base = alt.Chart(counts).encode(
        x=alt.X("count:Q", title="connectors", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("status:N", title=None, sort=list(STATUS_COLOURS)),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("status:N", scale=_STATUS_SCALE, legend=None),
        tooltip=["status:N", "count:Q"],
    )
    labels = base.mark_text(align="left", dx=4).encode(text="count:Q")
    layered: alt.LayerChart = (bars + labels).properties(height=alt.Step(30))
    return layered


def measurand_charts(values: pd.DataFrame, measurands: Sequence[str]) -> alt.VConcatChart:
    """One line chart per measurand (own unit and y axis), time axes shared."""
    charts = []
    for measurand in measurands:
        series = values[values["measurand"] == measurand]
        unit = series["unit"].iloc[0] if len(series) else ""
        charts.append(
            alt.Chart(series)
            .mark_line(point=len(series) < 60)
            .encode(
                x=alt.X("timestamp:T", title=None),
                y=alt.Y("value:Q", title=f"{measurand} ({unit})" if unit else measurand),
                color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
                tooltip=["timestamp:T", "series:N", "value:Q", "unit:N"],
            )
            .properties(height=180)
        )
    stacked: alt.VConcatChart = alt.vconcat(*charts).resolve_scale(x="shared", color="independent")
    return stacked


def comparison_chart(values: pd.DataFrame, measurands: Sequence[str]) -> alt.Chart:
    """Selected measurands on one axis, each scaled to 0-1 of its own range."""
    selected = values[values["measurand"].isin(measurands)].copy()
    grouped = selected.groupby("series")["value"]
    low, high = grouped.transform("min"), grouped.transform("max")
    selected["scaled"] = ((selected["value"] - low) / (high - low).where(high > low, 1)).fillna(0)
    chart: alt.Chart = (
        alt.Chart(selected)
        .mark_line()
        .encode(
            x=alt.X("timestamp:T", title=None),
            y=alt.Y("scaled:Q", title="share of each series' range", axis=alt.Axis(format="%")),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["timestamp:T", "series:N", "value:Q", "unit:N"],
        )
        .properties(height=320)
    )
    return chart


def schedule_frame(
    periods: Sequence[dict[str, Any]], start: datetime, duration: int | None
) -> pd.DataFrame:
    """An OCPP chargingSchedulePeriod list as (time, limit) steps from ``start``; the last
    limit is repeated at the schedule's end (``duration``), so the chart draws it too."""
    rows = []
    for period in periods:
        offset, limit = period.get("startPeriod"), period.get("limit")
        if isinstance(offset, int) and isinstance(limit, int | float):
            rows.append({"time": start + timedelta(seconds=offset), "limit": float(limit)})
    if rows and duration:
        rows.append({"time": start + timedelta(seconds=duration), "limit": rows[-1]["limit"]})
    return pd.DataFrame(rows, columns=["time", "limit"])


def schedule_chart(frame: pd.DataFrame, unit: str) -> alt.Chart:
    """A step chart of a charging schedule's limit over time."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("time:T", title="Time"),
            y=alt.Y("limit:Q", title=f"Limit ({unit})", scale=alt.Scale(zero=True)),
            tooltip=[alt.Tooltip("time:T", format="%Y-%m-%d %H:%M:%S"), "limit:Q"],
        )
    )
    return chart
