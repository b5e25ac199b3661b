"""Altair charts and the connector status colour map shared by every page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

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

# Vega's default time labels use a 12-hour clock without AM/PM; these are 24-hour, with the
# day at midnight. Vega draws times in the browser's time zone, which the axis title names.
_TIME_LABELS = (
    "hours(datum.value) == 0 && minutes(datum.value) == 0 && seconds(datum.value) == 0"
    " ? timeFormat(datum.value, '%d %b') : seconds(datum.value)"
    " ? timeFormat(datum.value, '%H:%M:%S') : timeFormat(datum.value, '%H:%M')"
)
TOOLTIP_TIME = "%Y-%m-%d %H:%M:%S"


def time_axis(field: str, zone: str, **options: Any) -> alt.X:
    """An x axis of times labelled in 24-hour format, titled with the time zone."""
    axis = alt.Axis(labelExpr=_TIME_LABELS, labelOverlap=True)
    return alt.X(field, title=f"Time ({zone})", axis=axis, **options)


def time_tooltip(field: str, title: str | None = None) -> alt.Tooltip:
    return alt.Tooltip(field, format=TOOLTIP_TIME, title=title or field.split(":")[0])


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


def status_timeline(
    frame: pd.DataFrame, start: datetime, end: datetime, zone: str = "UTC"
) -> alt.Chart:
    """A Gantt chart: one row per connector, one bar per status interval."""
    order = frame.drop_duplicates("connector").sort_values("connector_id")["connector"].tolist()
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=time_axis(
                "start:T", zone, scale=alt.Scale(domain=[start.isoformat(), end.isoformat()])
            ),
            x2="end:T",
            y=alt.Y("connector:N", title=None, sort=order, scale=alt.Scale(paddingInner=0.3)),
            color=alt.Color("status:N", scale=_STATUS_SCALE, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("connector:N"),
                alt.Tooltip("status:N"),
                alt.Tooltip("error_code:N", title="error code"),
                alt.Tooltip("info:N"),
                time_tooltip("start:T"),
                time_tooltip("end:T"),
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


def measurand_charts(
    values: pd.DataFrame, measurands: Sequence[str], zone: str = "UTC"
) -> alt.VConcatChart:
    """One line chart per measurand (own unit and y axis), time axes shared."""
    shown = in_display_units(values)
    charts = [
        _series_chart(shown[shown["measurand"] == measurand], zone).properties(height=180)
        for measurand in measurands
    ]
    stacked: alt.VConcatChart = alt.vconcat(*charts).resolve_scale(x="shared", color="independent")
    return stacked


def comparison_chart(
    values: pd.DataFrame, measurands: Sequence[str], zone: str = "UTC"
) -> alt.LayerChart:
    """Selected measurands over one time axis in their real units, one y axis per unit: the
    first two units (``display_units``), left and right."""
    selected = in_display_units(values[values["measurand"].isin(measurands)])
    layers = [
        _series_chart(selected[selected["unit"] == unit], zone, orient)
        for unit, orient in zip(display_units(values, measurands), _SIDES, strict=False)
    ]
    layered: alt.LayerChart = (
        alt.layer(*layers).resolve_scale(y="independent", color="shared").properties(height=320)
    )
    return layered


Side = Literal["left", "right"]
_SIDES: tuple[Side, Side] = ("left", "right")  # a comparison's two y axes
COMPARABLE_UNITS = len(_SIDES)
_KILO = {"W": "kW", "Wh": "kWh"}


def in_display_units(values: pd.DataFrame) -> pd.DataFrame:
    """Meter values (``meter_frame``, base units) with W and Wh as kW and kWh."""
    shown = values.copy()
    kilo = shown["unit"].isin(list(_KILO))
    shown.loc[kilo, "value"] = shown.loc[kilo, "value"] / 1000
    shown["unit"] = shown["unit"].replace(_KILO)
    return shown


def display_units(values: pd.DataFrame, measurands: Sequence[str]) -> list[str]:
    """The display units of ``measurands`` in ``values``, in order of appearance."""
    selected = values[values["measurand"].isin(measurands)]
    return in_display_units(selected)["unit"].drop_duplicates().tolist()


def _series_chart(series: pd.DataFrame, zone: str, orient: Side = "left") -> alt.Chart:
    """Lines of ``value`` over ``timestamp``, one per ``series``, titled with their unit."""
    units = series["unit"].drop_duplicates().tolist()
    names = series["measurand"].drop_duplicates().tolist()
    title = ", ".join(names) + (f" ({units[0]})" if units and units[0] else "")
    chart: alt.Chart = (
        alt.Chart(series)
        .mark_line(point=len(series) < 60)
        .encode(
            x=time_axis("timestamp:T", zone),
            y=alt.Y("value:Q", title=title, axis=alt.Axis(orient=orient)),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[time_tooltip("timestamp:T", "time"), "series:N", "value:Q", "unit:N"],
        )
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


def schedule_chart(frame: pd.DataFrame, unit: str, zone: str = "UTC") -> alt.Chart:
    """A step chart of a charging schedule's limit over time."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=time_axis("time:T", zone),
            y=alt.Y("limit:Q", title=f"Limit ({unit})", scale=alt.Scale(zero=True)),
            tooltip=[time_tooltip("time:T"), "limit:Q"],
        )
    )
    return chart
