"""The Alerts page's Notifications tab: where alerts are sent, a test message, the delivery log.

Anyone sees channels and the log (a webhook's secret never: only whether it has one); the
role operator may send a test message, the role admin change channels (checked again when
the action runs).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from chargestream.domain.records import AlertKind, ChannelKind
from chargestream.domain.settings import Settings
from chargestream.ui import auth, dataframes, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

LOG_LIMIT = 200
EVERY_KIND = "every kind"
CHANNEL_COLUMNS = {
    "channel_id": "Channel",
    "kind": "Kind",
    "target": "URL or address",
    "alerts": "Alerts",
    "rule_id": "Rule",
    "cooldown_min": st.column_config.NumberColumn("Cooldown (min)", format="%.0f"),
    "signed": st.column_config.CheckboxColumn("Signed"),
    "enabled": st.column_config.CheckboxColumn("Enabled"),
    "digest": st.column_config.CheckboxColumn("Daily digest"),
}
LOG_COLUMNS = {
    "created_at": widgets.time_column("Created"),
    "status": "Status",
    "channel_id": "Channel",
    "transition": "Alert",
    "charge_point_id": "Charge point",
    "attempts": st.column_config.NumberColumn("Attempts", format="%d"),
    "last_error": "Last error",
    "delivered_at": widgets.time_column("Delivered"),
}


def render_notifications(config: Settings) -> None:
    channels = queries.notification_channels(config)
    operator = auth.signed_in(config)
    if channels:
        widgets.table(
            pd.DataFrame(channels),
            column_order=list(CHANNEL_COLUMNS),
            column_config=CHANNEL_COLUMNS,
        )
        test_and_delete(config, [c["channel_id"] for c in channels], operator)
    else:
        st.info(
            "No notification channels. A channel sends each alert's opening and closing to a "
            "webhook (JSON, signed) or an e-mail address.",
            icon=":material/notifications_active:",
        )
    with st.expander("Add or replace a channel", icon=":material/add_alert:"):
        auth.explain(operator, Permission.CHANGE_NOTIFICATIONS)
        channel_form(config, auth.control(operator, Permission.CHANGE_NOTIFICATIONS))
    st.subheader("Delivery log")
    entries = queries.notifications(config, LOG_LIMIT)
    if not entries:
        st.caption("Nothing sent yet.")
        return
    widgets.table(
        dataframes.notifications_frame(entries),
        column_order=list(LOG_COLUMNS),
        column_config=LOG_COLUMNS,
    )


def test_and_delete(config: Settings, channel_ids: list[str], operator: Any) -> None:
    row = st.container(horizontal=True, vertical_alignment="bottom")
    chosen = row.selectbox("Channel", channel_ids, key="channel_chosen")
    row.button(
        "Send test",
        icon=":material/send:",
        on_click=send_test,
        args=(config, chosen),
        **auth.control(operator, Permission.TEST_NOTIFICATIONS),
    )
    row.button(
        "Delete channel",
        icon=":material/delete:",
        on_click=delete_channel,
        args=(config, chosen),
        **auth.control(operator, Permission.CHANGE_NOTIFICATIONS),
    )
    auth.explain(operator, Permission.TEST_NOTIFICATIONS)


def channel_form(config: Settings, allowed: dict[str, Any]) -> None:
    with st.form("channel_form", border=False):
        name, kind = st.columns([2, 1])
        name.text_input("Channel id", placeholder="ops-webhook", key="channel_id")
        kind.selectbox("Kind", [k.value for k in ChannelKind], key="channel_kind")
        st.text_input("Webhook URL or e-mail address", key="channel_target")
        st.text_input(
            "Webhook secret (16+ characters; empty keeps the current one)",
            type="password",
            key="channel_secret",
        )
        alerts, rule, cooldown = st.columns(3)
        alerts.selectbox(
            "Alerts", [EVERY_KIND, *(k.value for k in AlertKind)], key="channel_alert_kind"
        )
        rule.text_input("Threshold rule (optional)", key="channel_rule")
        cooldown.number_input(
            "Cooldown (minutes)", min_value=0, max_value=10_080, key="channel_cooldown"
        )
        enabled, digest = st.columns(2)
        enabled.checkbox("Enabled", value=True, key="channel_enabled")
        digest.checkbox(
            "Daily digest instead of each alert",
            key="channel_digest",
            help="One message a day (UTC) with the alerts of the day before.",
        )
        st.form_submit_button(
            "Save channel",
            type="primary",
            icon=":material/save:",
            on_click=save_channel,
            args=(config,),
            **allowed,
        )


def save_channel(config: Settings) -> None:
    state = st.session_state
    channel_id = state["channel_id"].strip()
    alert_kind = state["channel_alert_kind"]
    body = {
        "kind": state["channel_kind"],
        "target": state["channel_target"].strip(),
        "secret": state["channel_secret"] or None,
        "alert_kind": None if alert_kind == EVERY_KIND else alert_kind,
        "rule_id": state["channel_rule"].strip() or None,
        "cooldown": int(state["channel_cooldown"]) * 60,
        "enabled": state["channel_enabled"],
        "digest": state["channel_digest"],
    }
    state["channel_secret"] = ""  # not kept in the session once sent
    _act(
        config,
        Permission.CHANGE_NOTIFICATIONS,
        lambda client, operator: client.put_notification_channel(
            channel_id, body, operator=operator
        ),
        f"Channel {plain(channel_id)} saved.",
        f"Channel {plain(channel_id)} was not saved",
    )


def send_test(config: Settings, channel_id: str) -> None:
    _act(
        config,
        Permission.TEST_NOTIFICATIONS,
        lambda client, operator: client.test_notification_channel(channel_id, operator=operator),
        f"A test message went to {plain(channel_id)}.",
        f"The test message to {plain(channel_id)} failed",
    )


def delete_channel(config: Settings, channel_id: str) -> None:
    _act(
        config,
        Permission.CHANGE_NOTIFICATIONS,
        lambda client, operator: client.delete_notification_channel(channel_id, operator=operator),
        f"Channel {plain(channel_id)} deleted.",
        f"Channel {plain(channel_id)} was not deleted",
    )


def _act(config: Settings, permission: Permission, action: Any, done: str, failed: str) -> None:
    """Run ``action(client, operator)`` if the role allows it; a flash says how it went."""
    try:
        operator = auth.authorize(permission)
        action(api(config), operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"{failed}. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"{failed}: {plain(error)}")
        return
    queries.notification_channels.clear()
    widgets.flash("success", done)
