"""The charge point page's Charging profiles tab: what is installed (derived from the log),
clearing one, and the charge point's composite schedule drawn as a step chart.

Sending (ClearChargingProfile, GetCompositeSchedule) needs the role operator or admin,
checked again when sent. The schedule is the charge point's answer: drawn from numbers only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from chargestream.domain.records import InstalledChargingProfile
from chargestream.domain.settings import Settings
from chargestream.ui import auth, charts, queries, widgets
from chargestream.ui.api_client import ApiError, CommandResult, api
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

SEND = Permission.SEND_COMMANDS
DURATIONS = {"1 h": 3600, "6 h": 21_600, "24 h": 86_400, "7 d": 604_800}
COLUMNS = [
    "connector_id",
    "charging_profile_id",
    "purpose",
    "stack_level",
    "transaction_id",
    "installed_at",
    "removed_at",
    "removed_by",
]


def installed_view(config: Settings, charge_point_id: str) -> None:
    operator = auth.signed_in(config)
    rows = queries.installed_profiles(config, charge_point_id)
    installed = [p for p in rows if p.installed]
    st.caption(
        "Charging profiles the charge point accepted (SetChargingProfile), from the log:"
        " sent from here, through the API or by the site load manager."
    )
    if installed:
        profile_table(installed, "installed_profiles")
    else:
        st.info("No charging profile installed.", icon=":material/tune:")
    removed = [p for p in rows if not p.installed]
    if removed:
        with st.expander(f"Replaced, cleared or ended ({len(removed)})"):
            profile_table(removed, "removed_profiles")
    auth.explain(operator, SEND)
    if installed:
        clear_form(config, charge_point_id, installed, operator)
    composite_schedule(config, charge_point_id, operator)


def profile_table(profiles: list[InstalledChargingProfile], key: str) -> None:
    table = pd.DataFrame([{name: getattr(p, name) for name in COLUMNS} for p in profiles])
    for column in ("installed_at", "removed_at"):
        table[column] = pd.to_datetime(table[column], utc=True)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "connector_id": "Connector",
            "charging_profile_id": "Profile id",
            "purpose": "Purpose",
            "stack_level": "Stack level",
            "transaction_id": "Transaction",
            "installed_at": widgets.time_column("Installed"),
            "removed_at": widgets.time_column("Removed"),
            "removed_by": "Why",
        },
        placeholder="",
    )


def clear_form(
    config: Settings,
    charge_point_id: str,
    installed: list[InstalledChargingProfile],
    operator: auth.SignedIn | None,
) -> None:
    ids = sorted({p.charging_profile_id for p in installed})
    chosen = st.selectbox("Profile to clear", ids, key="clear_profile_id")
    if st.button("Clear profile", icon=":material/delete_sweep:", **auth.control(operator, SEND)):
        _sent(
            charge_point_id,
            "ClearChargingProfile was not sent.",
            lambda who: api(config).clear_charging_profile(charge_point_id, chosen, operator=who),
        )
        queries.installed_profiles.clear()


def composite_schedule(
    config: Settings, charge_point_id: str, operator: auth.SignedIn | None
) -> None:
    st.markdown("#### Composite schedule")
    columns = st.columns(3)
    connector = columns[0].number_input(
        "Connector", min_value=0, max_value=100, value=0, step=1, key="composite_connector"
    )
    duration = DURATIONS[columns[1].selectbox("Duration", list(DURATIONS), key="composite_span")]
    unit = columns[2].radio("Unit", ["A", "W"], horizontal=True, key="composite_unit")
    if not st.button(
        "Get composite schedule", icon=":material/show_chart:", **auth.control(operator, SEND)
    ):
        return
    result = _sent(
        charge_point_id,
        "GetCompositeSchedule was not sent.",
        lambda who: api(config).composite_schedule(
            charge_point_id, int(connector), duration, unit, operator=who
        ),
    )
    if result is not None and result.outcome == "answered":
        draw_schedule(result.response or {}, unit)


def draw_schedule(answer: dict[str, object], unit: str) -> None:
    """The charge point's schedule as a step chart (nothing drawn without one): 1.6's
    ``chargingSchedule`` (its start ``scheduleStart`` beside it), 2.0.1's ``schedule`` (with
    its ``scheduleStart`` inside)."""
    schedule = answer.get("chargingSchedule", answer.get("schedule"))
    if not isinstance(schedule, dict):
        return
    periods = schedule.get("chargingSchedulePeriod")
    start = _start_of(
        answer.get("scheduleStart"), schedule.get("scheduleStart"), schedule.get("startSchedule")
    )
    duration = schedule.get("duration")
    frame = charts.schedule_frame(
        periods if isinstance(periods, list) else [],
        start,
        duration if isinstance(duration, int) else None,
    )
    if frame.empty:
        st.info("The schedule has no periods.", icon=":material/show_chart:")
        return
    shown_unit = schedule.get("chargingRateUnit")
    st.altair_chart(
        charts.schedule_chart(frame, shown_unit if shown_unit in ("A", "W") else unit),
        width="stretch",
    )


def _start_of(*candidates: object) -> datetime:
    """The first candidate that is an ISO 8601 time (UTC), else now."""
    for candidate in candidates:
        if isinstance(candidate, str):
            try:
                moment = datetime.fromisoformat(candidate)
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _sent(
    charge_point_id: str, refused: str, send: Callable[[str], CommandResult]
) -> CommandResult | None:
    """Send for the signed-in operator and show the outcome; the result, or None if unsent."""
    try:
        who = auth.authorize(SEND)
        result = send(who)
    except auth.Refused as refusal:
        st.error(f"{refused} {refusal}", icon=":material/lock:")
        return None
    except ApiError as error:
        st.error(plain(error))
        return None
    widgets.show_command_result(charge_point_id, result)
    queries.commands.clear()
    return result
