"""Firmware: campaigns with their progress and each charge point's state; create one, cancel.

Every role sees the campaigns; creating and cancelling need the role operator or admin
(checked again by each). Charge point ids, firmware versions and statuses are shown as text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from chargestream.domain.firmware import MAX_LOCATION, CampaignStatus, TargetState
from chargestream.domain.settings import Settings
from chargestream.streams.firmware_campaigns import CampaignProgress
from chargestream.ui import auth, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.data import settings
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

SEND = Permission.SEND_COMMANDS
LIMIT = 20
STATE_COLOURS = {
    "pending": "#9e9e9e",
    "sent": "#1c64c8",
    "downloading": "#1c64c8",
    "downloaded": "#1c64c8",
    "installing": "#f2a50c",
    "installed": "#2e9d4a",
    "failed": "#d7263d",
}
COLUMNS = [
    "charge_point_id",
    "state",
    "status",
    "status_at",
    "firmware_before",
    "firmware_after",
    "sent_at",
    "command_outcome",
    "reason",
]


def render() -> None:
    config = settings()
    st.title("Firmware")
    widgets.show_flash()
    operator = auth.signed_in(config)
    campaigns = queries.firmware_campaigns(config, LIMIT)
    listing, editing = st.columns([3, 2], gap="large")
    with listing:
        campaign_list(config, campaigns, operator)
    with editing:
        auth.explain(operator, SEND)
        create_form(config, operator)


def campaign_list(
    config: Settings, campaigns: list[CampaignProgress], operator: auth.SignedIn | None
) -> None:
    if not campaigns:
        st.info("No firmware campaigns yet.", icon=":material/system_update:")
        return
    for progress in campaigns:
        campaign = progress.campaign
        total = len(campaign.targets)
        done = progress.counts[TargetState.INSTALLED] + progress.counts[TargetState.FAILED]
        title = f"{campaign.campaign_id} · {progress.status} · {done}/{total} done"
        with st.expander(title, expanded=progress.status is CampaignStatus.RUNNING):
            st.text(f"{campaign.location}\nretrieve {campaign.retrieve_date:%Y-%m-%d %H:%M} UTC")
            st.progress(done / total if total else 1.0, text=f"{done} of {total} done")
            counts = st.columns(3)
            counts[0].metric("Installed", progress.counts[TargetState.INSTALLED], border=True)
            counts[1].metric("Failed", progress.counts[TargetState.FAILED], border=True)
            in_flight = total - done - progress.counts[TargetState.PENDING]
            counts[2].metric("In flight", in_flight, border=True)
            target_table(progress)
            if progress.status is CampaignStatus.RUNNING:
                st.button(
                    "Cancel campaign",
                    key=f"cancel_{campaign.campaign_id}",
                    icon=":material/cancel:",
                    on_click=cancel,
                    args=(config, campaign.campaign_id),
                    **auth.control(operator, SEND),
                )


def frame(progress: CampaignProgress) -> pd.DataFrame:
    rows = [{name: getattr(t, name) for name in COLUMNS} for t in progress.targets]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["state"] = [[str(t.state)] for t in progress.targets]
    table["command_outcome"] = [
        None if t.command_outcome is None else str(t.command_outcome) for t in progress.targets
    ]
    for column in ("status_at", "sent_at"):
        table[column] = pd.to_datetime(table[column], utc=True)
    return table


def target_table(progress: CampaignProgress) -> None:
    table = frame(progress)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=widgets.dataframe_height(len(table)),
        column_config={
            "charge_point_id": "Charge point",
            "state": widgets.tags_column("State", STATE_COLOURS),
            "status": "Last status",
            "status_at": widgets.time_column("Reported"),
            "firmware_before": "Firmware before",
            "firmware_after": "Firmware after",
            "sent_at": widgets.time_column("Sent"),
            "command_outcome": "UpdateFirmware",
            "reason": "Why failed",
        },
        placeholder="",
    )


def create_form(config: Settings, operator: auth.SignedIn | None) -> None:
    with st.form("firmware_campaign", border=True):
        st.markdown("#### New campaign")
        st.text_input("Firmware URL", max_chars=MAX_LOCATION, key="fw_location")
        st.number_input(
            "Retrieve in (minutes)", min_value=0, max_value=43_200, value=0, key="fw_minutes"
        )
        st.number_input(
            "Wave size", min_value=1, max_value=1000, value=config.firmware_wave_size, key="fw_wave"
        )
        st.number_input("Retries", min_value=0, max_value=100, value=0, key="fw_retries")
        st.text_area(
            "Charge points (one per line; empty: every one the filter matches)", key="fw_cps"
        )
        st.checkbox("Filter: only connected ones", value=True, key="fw_connected")
        st.text_input("Filter: vendor", max_chars=50, key="fw_vendor")
        st.text_input("Filter: model", max_chars=50, key="fw_model")
        st.form_submit_button(
            "Start campaign",
            type="primary",
            icon=":material/system_update:",
            on_click=create,
            args=(config,),
            **auth.control(operator, SEND),
        )


def campaign_body() -> dict[str, Any]:
    """The API request the form describes."""
    state = st.session_state
    retrieve = datetime.now(UTC) + timedelta(minutes=int(state["fw_minutes"]))
    body: dict[str, Any] = {
        "location": state["fw_location"].strip(),
        "retrieve_date": retrieve.isoformat(),
        "wave_size": int(state["fw_wave"]),
    }
    if int(state["fw_retries"]):
        body["retries"] = int(state["fw_retries"])
    listed = [line.strip() for line in state["fw_cps"].splitlines() if line.strip()]
    if listed:
        body["charge_points"] = listed
    else:
        wanted: dict[str, Any] = {"connected": True} if state["fw_connected"] else {}
        for field in ("vendor", "model"):
            if state[f"fw_{field}"].strip():
                wanted[field] = state[f"fw_{field}"].strip()
        body["filter"] = wanted
    return body


def create(config: Settings) -> None:
    body = campaign_body()
    if not body["location"]:
        widgets.flash("error", "A campaign needs the firmware's URL.")
        return
    try:
        operator = auth.authorize(SEND)
        made = api(config).create_firmware_campaign(body, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"No campaign was started. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"No campaign was started: {plain(error)}")
        return
    queries.firmware_campaigns.clear()
    count = len(made["campaign"]["targets"])
    widgets.flash(
        "success",
        f"Campaign {plain(made['campaign']['campaign_id'])} started for {count} charge points.",
    )


def cancel(config: Settings, campaign_id: str) -> None:
    try:
        operator = auth.authorize(SEND)
        api(config).cancel_firmware_campaign(campaign_id, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"Campaign {plain(campaign_id)} was not cancelled. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Campaign {plain(campaign_id)} was not cancelled: {plain(error)}")
        return
    queries.firmware_campaigns.clear()
    widgets.flash("success", f"Campaign {plain(campaign_id)} cancelled: no further waves.")


render()
