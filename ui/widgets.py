"""Streamlit pieces several pages share: pickers, column formats, command results.

Strings that come from charge points (or the API) go through ``text.plain`` wherever
Streamlit renders Markdown; tables show them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from chargestream.ui.api_client import CommandResult
from chargestream.ui.charts import STATUS_COLOURS, UNKNOWN_COLOUR
from chargestream.ui.dataframes import SESSION_COLUMNS
from chargestream.ui.text import plain

# page files for st.Page, st.switch_page and st.page_link: absolute, since the entry
# script that Streamlit resolves relative paths against lives in the composition root
_SCREENS = Path(__file__).with_name("screens")
FLEET = str(_SCREENS / "fleet.py")
CHARGE_POINT = str(_SCREENS / "charge_point.py")
SESSIONS = str(_SCREENS / "sessions.py")
SESSION_DETAIL = str(_SCREENS / "session_detail.py")
ALERTS = str(_SCREENS / "alerts.py")
REMOTE_CONTROL = str(_SCREENS / "remote_control.py")
ID_TAGS = str(_SCREENS / "id_tags.py")
RESERVATIONS = str(_SCREENS / "reservations.py")
CHARGING_PROFILES = str(_SCREENS / "charging_profiles.py")
SITES = str(_SCREENS / "sites.py")
FIRMWARE = str(_SCREENS / "firmware.py")
REPORTS = str(_SCREENS / "reports.py")

REFRESH_KEY = "refresh"
REFRESH_CHOICES = {"Off": None, "2 s": 2.0, "5 s": 5.0, "15 s": 15.0, "60 s": 60.0}
DEFAULT_REFRESH = "5 s"

# OCPP 1.6 measurands (SampledValue.measurand)
MEASURANDS = [
    "Energy.Active.Import.Register",
    "Energy.Active.Export.Register",
    "Power.Active.Import",
    "Power.Active.Export",
    "Power.Offered",
    "Current.Import",
    "Current.Export",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "Power.Factor",
    "SoC",
    "Temperature",
    "RPM",
]

STATE_COLOURS = {"Online": "#2e9d4a", "Offline": "#4d4d4d", "Never connected": "#a3a3a3"}
_FLASH_KEY = "flash"
_ANSWERED_OK = frozenset({"Accepted", "Unlocked"})
_ANSWERED_LATER = frozenset({"Scheduled", "RebootRequired"})


def refresh_interval() -> float | None:
    """Seconds between live refreshes the operator chose in the sidebar (None: off)."""
    return REFRESH_CHOICES.get(st.session_state.get(REFRESH_KEY, DEFAULT_REFRESH))


def refresh_selector() -> None:
    st.selectbox(
        "Live refresh",
        list(REFRESH_CHOICES),
        index=list(REFRESH_CHOICES).index(DEFAULT_REFRESH),
        key=REFRESH_KEY,
        help="How often live tiles and tables reload. Only the changed parts redraw.",
    )


def timezone() -> str:
    """The browser's time zone, or UTC if it is unknown."""
    zone = st.context.timezone
    try:
        return zone if zone and ZoneInfo(zone) else "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"


def local(moment: datetime) -> datetime:
    """``moment`` in the browser's time zone."""
    return moment.astimezone(ZoneInfo(timezone()))


def local_midnight(now: datetime) -> datetime:
    """The start of today in the browser's time zone."""
    return local(now).replace(hour=0, minute=0, second=0, microsecond=0)


def time_column(label: str, relative: bool = False, milliseconds: bool = False) -> Any:
    """A datetime column in the browser's time zone, 24-hour, the zone in its header (or
    "5 minutes ago")."""
    exact = "YYYY-MM-DD HH:mm:ss" + (".SSS" if milliseconds else "")
    zone = timezone()
    return st.column_config.DatetimeColumn(
        label if relative else f"{label} ({zone})",
        format="distance" if relative else exact,
        timezone=zone,
    )


def ago(moment: datetime | None, now: datetime) -> str:
    """ "12 s ago", "5 min ago", "3 h ago", "2 d ago", or "—"."""
    if moment is None:
        return "—"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def tags_column(label: str, colours: dict[str, str], help: str | None = None) -> Any:
    """A read-only list column shown as coloured labels, one colour per option."""
    return st.column_config.MultiselectColumn(
        label, options=list(colours), color=list(colours.values()), help=help
    )


def connector_colours(tags: Sequence[str]) -> dict[str, str]:
    """Colours for connector tags such as "1 · Charging" (see dataframes.connector_tag)."""
    return {tag: STATUS_COLOURS.get(tag.split(" · ", 1)[-1], UNKNOWN_COLOUR) for tag in tags}


def pick_charge_point(ids: Sequence[str], *, label: str = "Charge point") -> str | None:
    """A charge point picker bound to the ``cp`` query parameter (shareable links)."""
    if not ids:
        return None
    return st.selectbox(label, ids, key="cp", bind="query-params")  # options are plain text


def show_command_result(charge_point_id: str, result: CommandResult) -> None:
    """The charge point's answer, or why there is none, unmistakably."""
    action, charge_point_id = plain(result.action), plain(charge_point_id)
    if result.outcome == "answered":
        raw_status = (result.response or {}).get("status")
        status = plain(raw_status)
        if raw_status is None:
            st.success(f"{charge_point_id} answered {action}.", icon=":material/check_circle:")
        elif raw_status in _ANSWERED_OK:
            st.success(
                f"{charge_point_id} answered {action}: **{status}**", icon=":material/check_circle:"
            )
        elif raw_status in _ANSWERED_LATER:
            st.info(
                f"{charge_point_id} answered {action}: **{status}**", icon=":material/schedule:"
            )
        else:
            st.warning(
                f"{charge_point_id} answered {action}: **{status}**", icon=":material/block:"
            )
    elif result.outcome == "not_connected":
        st.error(
            f"{action} was not sent: {charge_point_id} is not connected.",
            icon=":material/link_off:",
        )
    elif result.outcome == "timed_out":
        st.error(f"{charge_point_id} did not answer {action} in time.", icon=":material/timer_off:")
    elif result.outcome == "rejected":
        st.error(
            f"{action} was not sent: the request is invalid ({plain(result.error)}).",
            icon=":material/error:",
        )
    else:
        st.error(
            f"{charge_point_id} refused {action} with a CALLERROR: {plain(result.error)}",
            icon=":material/error:",
        )


def configuration_table(response: dict[str, Any]) -> None:
    """A GetConfiguration answer: known keys as a table, unknown keys named."""
    keys = response.get("configurationKey") or []
    if keys:
        st.dataframe(
            pd.DataFrame(keys, columns=["key", "value", "readonly"]).sort_values("key"),
            hide_index=True,
            width="stretch",
            column_config={
                "key": "Key",
                "value": "Value",
                "readonly": st.column_config.CheckboxColumn("Read-only"),
            },
            placeholder="",
        )
    else:
        st.caption("The charge point reported no configuration keys.")
    unknown = response.get("unknownKey") or []
    if unknown:
        st.warning(f"Unknown to the charge point: {plain(', '.join(map(str, unknown)))}")


def sessions_table(sessions: pd.DataFrame, *, key: str, show_charge_point: bool = True) -> None:
    """Sessions, newest first; selecting one opens its analysis."""
    columns = list(SESSION_COLUMNS)
    if not show_charge_point:
        columns.remove("charge_point_id")
    event = table(
        sessions,
        column_order=columns,
        column_config={
            "transaction_id": st.column_config.NumberColumn("Transaction", format="%d"),
            "station_transaction_id": st.column_config.TextColumn(
                "Station tx", help="The station's own transaction id (OCPP 2.0.1)"
            ),
            "charge_point_id": "Charge point",
            "connector_id": st.column_config.NumberColumn("Conn.", format="%d"),
            "id_tag": "Id tag",
            "start_time": time_column("Start"),
            "stop_time": time_column("Stop"),
            "duration_min": st.column_config.NumberColumn("Duration", format="%.1f min"),
            "energy_kwh": st.column_config.NumberColumn(
                "Energy", format="%.2f kWh", help="Running sessions: the energy so far"
            ),
            "power_kw": st.column_config.NumberColumn(
                "Power now", format="%.1f kW", help="A running session's last active power"
            ),
            "stop_reason": "Stop reason",
            "peak_power_kw": st.column_config.NumberColumn("Peak power", format="%.1f kW"),
            "soc_start": st.column_config.NumberColumn("SoC start", format="%.0f %%", width=90),
            "soc_end": st.column_config.NumberColumn("SoC end", format="%.0f %%", width=90),
        },
        on_select="rerun",
        selection_mode="single-row",
        key=key,
    )
    if event.selection.rows:
        chosen = sessions.iloc[event.selection.rows[0]]["transaction_id"]
        st.switch_page(SESSION_DETAIL, query_params={"tx": str(chosen)})


def flash(kind: str, message: str) -> None:
    """Show ``message`` (success, warning or error) at the next ``show_flash``."""
    st.session_state[_FLASH_KEY] = (kind, message)


def show_flash() -> None:
    """The message a callback left for this run, once."""
    if _FLASH_KEY in st.session_state:
        kind, message = st.session_state.pop(_FLASH_KEY)
        {"success": st.success, "warning": st.warning, "error": st.error}[kind](message)


def pager(cursors: list[Any], older: Any, has_older: bool) -> None:
    """Newer/Older buttons over a stack of ``before`` cursors (the last one is shown)."""
    st.button(
        "Newer", icon=":material/chevron_left:", disabled=len(cursors) == 1, on_click=cursors.pop
    )
    st.caption(f"Page {len(cursors)}", width="content")
    st.button(
        "Older",
        icon=":material/chevron_right:",
        disabled=not has_older,
        on_click=cursors.append,
        args=(older,),
    )


def window(choice: str, now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of a "last N hours/days" choice such as "24 h" or "7 d"."""
    amount, unit = choice.split()
    span = timedelta(hours=int(amount)) if unit == "h" else timedelta(days=int(amount))
    return now - span, now


def table(data: pd.DataFrame, *, most: int = 560, **options: Any) -> Any:
    """``st.dataframe`` as every page shows a table: no index, full width, fitted height up
    to ``most`` pixels, empty cells for missing values (never "None")."""
    return st.dataframe(
        data,
        hide_index=True,
        width="stretch",
        height=dataframe_height(len(data), most),
        placeholder="",
        **options,
    )


def dataframe_height(rows: int, most: int = 560) -> int:
    """A table height that fits ``rows`` rows, scrolling beyond ``most`` pixels."""
    return min(most, 38 + 35 * max(rows, 1))
