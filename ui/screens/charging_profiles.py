"""Charging profiles: the defined profiles, define one (checked here against OCPP's rules
before it is sent), install one on a charge point's connector, delete a definition.

Every role sees the list; defining, installing and deleting need the role operator or admin
(checked again by each). What a charge point has installed is on its page (Charging profiles
tab). Names and charge point ids are shown as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from chargestream.domain.charging_profiles import MAX_PERIODS, problems
from chargestream.domain.records import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    RecurrencyKind,
    SchedulePeriod,
)
from chargestream.domain.settings import Settings
from chargestream.ui import auth, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.data import settings
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

SEND = Permission.SEND_COMMANDS
NO_RECURRENCE = "None"
PERIODS_HELP = (
    f"One period a line (at most {MAX_PERIODS}): seconds from the start, limit[, phases];"
    " the first starts at 0."
)


def render() -> None:
    config = settings()
    st.title("Charging profiles")
    widgets.show_flash()
    operator = auth.signed_in(config)
    profiles = queries.charging_profiles(config)
    listing, editing = st.columns([3, 2], gap="large")
    with listing:
        profile_list(profiles)
    with editing:
        auth.explain(operator, SEND)
        if profiles:
            install_form(config, profiles, operator)
            delete_form(config, profiles, operator)
        create_form(config, operator)


def describe_periods(profile: ChargingProfile) -> str:
    unit = profile.unit.value
    return "; ".join(
        f"{p.start_period} s: {p.limit:g} {unit}"
        + ("" if p.number_phases is None else f" ({p.number_phases} ph)")
        for p in profile.periods
    )


def profile_list(profiles: list[ChargingProfile]) -> None:
    if not profiles:
        st.info("No charging profiles defined yet.", icon=":material/tune:")
        return
    rows = [
        {
            "profile_id": p.profile_id,
            "name": p.name,
            "purpose": p.purpose.value,
            "kind": p.kind.value + (f" ({p.recurrency_kind.value})" if p.recurrency_kind else ""),
            "stack_level": p.stack_level,
            "periods": describe_periods(p),
            "duration": p.duration,
            "start_schedule": p.start_schedule,
            "valid_from": p.valid_from,
            "valid_to": p.valid_to,
        }
        for p in profiles
    ]
    table = pd.DataFrame(rows)
    for column in ("start_schedule", "valid_from", "valid_to"):
        table[column] = pd.to_datetime(table[column], utc=True)
    widgets.table(
        table,
        column_config={
            "profile_id": "Id",
            "name": "Name",
            "purpose": "Purpose",
            "kind": "Kind",
            "stack_level": "Stack level",
            "periods": "Periods",
            "duration": st.column_config.NumberColumn("Duration (s)", format="%d"),
            "start_schedule": widgets.time_column("Starts"),
            "valid_from": widgets.time_column("Valid from"),
            "valid_to": widgets.time_column("Valid to"),
        },
    )


def _label(profile: ChargingProfile) -> str:
    return f"{profile.profile_id} · {profile.name} · {profile.purpose.value}"


def install_form(
    config: Settings, profiles: list[ChargingProfile], operator: auth.SignedIn | None
) -> None:
    with st.form("install_profile", border=True):
        st.markdown("#### Install on a charge point")
        st.selectbox("Profile", profiles, format_func=_label, key="install_profile")
        st.text_input("Charge point", key="install_cp")
        st.number_input(
            "Connector",
            min_value=0,
            max_value=100,
            value=1,
            help="For an OCPP 2.0.1 charge point: the EVSE (0 = the station)",
            key="install_connector",
        )
        st.number_input(
            "Transaction (TxProfile only)",
            min_value=1,
            value=None,
            help="The session's id as listed (OCPP 2.0.1: the station's own id is sent)",
            key="install_transaction",
        )
        st.form_submit_button(
            "Install",
            type="primary",
            icon=":material/upload:",
            on_click=install,
            args=(config,),
            **auth.control(operator, SEND),
        )


def delete_form(
    config: Settings, profiles: list[ChargingProfile], operator: auth.SignedIn | None
) -> None:
    with st.container(border=True):
        st.markdown("#### Delete a definition")
        st.caption("Charge points keep what is installed: clear it on the charge point's page.")
        chosen = st.selectbox("Profile", profiles, format_func=_label, key="delete_profile")
        st.button(
            "Delete profile",
            icon=":material/delete:",
            on_click=delete,
            args=(config, chosen.profile_id if chosen else None),
            **auth.control(operator, SEND),
        )


def create_form(config: Settings, operator: auth.SignedIn | None) -> None:
    with st.form("create_profile", border=True):
        st.markdown("#### Define a charging profile")
        st.text_input("Name", max_chars=100, key="profile_name")
        st.selectbox("Purpose", [p.value for p in ChargingProfilePurpose], key="profile_purpose")
        st.selectbox("Kind", [k.value for k in ChargingProfileKind], key="profile_kind")
        st.selectbox(
            "Recurrency (Recurring only)",
            [NO_RECURRENCE, *(r.value for r in RecurrencyKind)],
            key="profile_recurrency",
        )
        st.number_input("Stack level", min_value=0, max_value=100, value=0, key="profile_level")
        st.radio("Unit", [u.value for u in ChargingRateUnit], horizontal=True, key="profile_unit")
        st.text_input("Start schedule (ISO 8601, UTC; Absolute and Recurring)", key="profile_start")
        st.number_input("Duration (s)", min_value=1, value=None, key="profile_duration")
        st.number_input("Minimum charging rate", min_value=0.0, value=None, key="profile_min")
        st.text_area("Periods", value="0, 16", help=PERIODS_HELP, key="profile_periods")
        st.form_submit_button(
            "Define",
            type="primary",
            icon=":material/add:",
            on_click=create,
            args=(config,),
            **auth.control(operator, SEND),
        )


def parse_periods(text: str) -> tuple[SchedulePeriod, ...]:
    """``start, limit[, phases]`` per line; ValueError naming the line that is none."""
    periods = []
    for number, line in enumerate(text.strip().splitlines()[: MAX_PERIODS + 1], start=1):
        parts = [part.strip() for part in line.split(",")]
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            phases = int(parts[2]) if len(parts) == 3 else None
            periods.append(SchedulePeriod(int(parts[0]), float(parts[1]), phases))
        except ValueError:
            raise ValueError(f"period line {number} is not `start, limit[, phases]`") from None
    return tuple(periods)


def drafted(state: Any) -> ChargingProfile:
    """The form's profile (id and time are the store's); ValueError for what does not parse."""
    start_text = state["profile_start"].strip()
    start = datetime.fromisoformat(start_text) if start_text else None
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    recurrency = state["profile_recurrency"]
    return ChargingProfile(
        profile_id=1,
        name=state["profile_name"].strip(),
        stack_level=int(state["profile_level"]),
        purpose=ChargingProfilePurpose(state["profile_purpose"]),
        kind=ChargingProfileKind(state["profile_kind"]),
        unit=ChargingRateUnit(state["profile_unit"]),
        periods=parse_periods(state["profile_periods"]),
        created_at=datetime.now(UTC),
        recurrency_kind=None if recurrency == NO_RECURRENCE else RecurrencyKind(recurrency),
        duration=None if state["profile_duration"] is None else int(state["profile_duration"]),
        start_schedule=start,
        min_charging_rate=state["profile_min"],
    )


def body_of(profile: ChargingProfile) -> dict[str, Any]:
    """The API's body for ``profile``."""
    return {
        "name": profile.name,
        "stack_level": profile.stack_level,
        "purpose": profile.purpose.value,
        "kind": profile.kind.value,
        "recurrency_kind": profile.recurrency_kind.value if profile.recurrency_kind else None,
        "unit": profile.unit.value,
        "duration": profile.duration,
        "start_schedule": profile.start_schedule.isoformat() if profile.start_schedule else None,
        "min_charging_rate": profile.min_charging_rate,
        "periods": [
            {"start_period": p.start_period, "limit": p.limit, "number_phases": p.number_phases}
            for p in profile.periods
        ],
    }


def create(config: Settings) -> None:
    try:
        profile = drafted(st.session_state)
    except ValueError as error:
        widgets.flash("error", f"Nothing was defined: {plain(error)}")
        return
    found = problems(profile)
    if found:
        widgets.flash("error", "Nothing was defined: " + plain("; ".join(found)))
        return
    try:
        operator = auth.authorize(SEND)
        profile_id = api(config).create_charging_profile(body_of(profile), operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"Nothing was defined. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Nothing was defined: {plain(error)}")
        return
    queries.charging_profiles.clear()
    widgets.flash("success", f"Charging profile {profile_id} ({plain(profile.name)}) defined.")


def install(config: Settings) -> None:
    state = st.session_state
    profile: ChargingProfile | None = state["install_profile"]
    charge_point_id = state["install_cp"].strip()
    if profile is None or not charge_point_id:
        widgets.flash("error", "Installing needs a profile and a charge point.")
        return
    transaction = state["install_transaction"]
    who = plain(charge_point_id)
    try:
        operator = auth.authorize(SEND)
        result = api(config).install_charging_profile(
            charge_point_id,
            profile.profile_id,
            int(state["install_connector"]),
            None if transaction is None else int(transaction),
            operator=operator,
        )
    except auth.Refused as refusal:
        widgets.flash("error", f"Nothing was installed. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Nothing was installed: {plain(error)}")
        return
    queries.installed_profiles.clear()
    answer = (result.response or {}).get("status")
    if answer == "Accepted":
        widgets.flash("success", f"{who} installed charging profile {profile.profile_id}.")
    elif result.outcome == "answered":
        widgets.flash("warning", f"{who} answered SetChargingProfile: **{plain(str(answer))}**")
    else:
        reason = result.error or result.outcome
        widgets.flash("error", f"SetChargingProfile did not reach {who}: {plain(reason)}")


def delete(config: Settings, profile_id: int | None) -> None:
    if profile_id is None:
        return
    try:
        operator = auth.authorize(SEND)
        api(config).delete_charging_profile(profile_id, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"Charging profile {profile_id} was not deleted. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Charging profile {profile_id} was not deleted: {plain(error)}")
        return
    queries.charging_profiles.clear()
    widgets.flash("success", f"Charging profile {profile_id} deleted.")


render()
