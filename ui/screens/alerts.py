"""Alerts: open ones to acknowledge, the history, the threshold rules that raise them, and
where they are sent (notifications).

Every role sees them; acknowledging needs the role operator or admin, changing a rule the
role admin (each checked again when it runs).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from chargestream.domain.records import AlertRule
from chargestream.domain.settings import Settings
from chargestream.ui import auth, dataframes, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.data import settings
from chargestream.ui.notification_channels import render_notifications
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

OPEN_LIMIT = 500
PAGE_SIZE = 50
NEW_RULE = "New rule"
SEVERITIES = ["info", "warning", "critical"]
SEVERITY_COLOURS = {"critical": "#d7263d", "warning": "#f2a50c", "info": "#1c64c8"}
COLUMNS = {
    "severity": widgets.tags_column("Severity", SEVERITY_COLOURS),
    "kind": "Kind",
    "charge_point_id": "Charge point",
    "connector_id": st.column_config.NumberColumn("Conn.", format="%d"),
    "message": "Message",
    "opened_at": widgets.time_column("Opened"),
    "closed_at": widgets.time_column("Closed"),
    "acknowledged_by": "Acknowledged by",
    "acknowledged_at": widgets.time_column("Acknowledged"),
}


def render() -> None:
    config = settings()
    st.title("Alerts")
    widgets.show_flash()
    open_tab, history_tab, rules_tab, notifications_tab = st.tabs(
        ["Open", "History", "Threshold rules", "Notifications"],
        key="alerts_tab",
        bind="query-params",
    )
    if open_tab.open:
        with open_tab:
            open_alerts(config)
    if history_tab.open:
        with history_tab:
            history(config)
    if rules_tab.open:
        with rules_tab:
            rules(config)
    if notifications_tab.open:
        with notifications_tab:
            render_notifications(config)


def alert_table(frame: pd.DataFrame, *, key: str, closed: bool) -> list[int]:
    """The alerts; returns the positions of the selected rows."""
    columns = [c for c in COLUMNS if closed or c != "closed_at"]
    event = widgets.table(
        frame.assign(severity=frame["severity"].map(lambda severity: [severity])),
        column_order=columns,
        column_config=COLUMNS,
        on_select="rerun",
        selection_mode="multi-row",
        key=key,
    )
    return list(event.selection.rows)


def open_alerts(config: Settings) -> None:
    alerts = queries.alerts(config, True, OPEN_LIMIT)
    if not alerts:
        st.success("No open alerts.", icon=":material/notifications_off:")
        return
    frame = dataframes.alerts_frame(alerts)
    selected = alert_table(frame, key="open_alerts", closed=False)
    unacknowledged = frame[frame["acknowledged_by"].isna()]
    chosen = frame.iloc[selected] if selected else unacknowledged
    if selected:
        label = f"Acknowledge {len(chosen)} selected"
    elif chosen.empty:
        label = "All acknowledged"
    else:
        label = f"Acknowledge all {len(chosen)} unacknowledged"
    operator = auth.signed_in(config)
    allowed = auth.control(operator, Permission.ACKNOWLEDGE_ALERTS)
    buttons = st.container(horizontal=True)
    buttons.button("Reload", icon=":material/refresh:")
    buttons.button(
        label,
        type="primary",
        icon=":material/done_all:",
        on_click=acknowledge_alerts,
        args=(config, chosen["alert_id"].tolist()),
        disabled=allowed["disabled"] or chosen.empty,
        help=allowed.get("help"),
    )
    auth.explain(operator, Permission.ACKNOWLEDGE_ALERTS)
    if len(alerts) >= OPEN_LIMIT:
        st.caption(f"Showing the newest {OPEN_LIMIT} open alerts.")


def acknowledge_alerts(config: Settings, alert_ids: list[str]) -> None:
    try:
        operator = auth.authorize(Permission.ACKNOWLEDGE_ALERTS)
    except auth.Refused as refusal:
        widgets.flash("error", f"Nothing was acknowledged. {refusal}")
        return
    try:
        for alert_id in alert_ids:
            api(config).acknowledge_alert(alert_id, operator=operator)
    except ApiError as error:
        widgets.flash("error", f"Acknowledging failed: {plain(error)}")
    else:
        widgets.flash("success", f"{len(alert_ids)} alert(s) acknowledged by {plain(operator)}.")
    queries.alerts.clear()


def history(config: Settings) -> None:
    cursors = st.session_state.setdefault("alert_cursors", [None])
    alerts = queries.alerts(config, False, PAGE_SIZE, cursors[-1])
    if not alerts and len(cursors) == 1:
        st.info("No alerts yet.", icon=":material/notifications:")
        return
    alert_table(dataframes.alerts_frame(alerts), key="alert_history", closed=True)
    last = alerts[-1].opened_at if alerts else None
    with st.container(horizontal=True, vertical_alignment="center"):
        widgets.pager(cursors, last, has_older=len(alerts) == PAGE_SIZE)


def rules(config: Settings) -> None:
    current = {r.rule_id: r for r in queries.alert_rules(config)}
    if current:
        st.dataframe(
            dataframes.rules_frame(list(current.values())),
            hide_index=True,
            width="stretch",
            column_config={
                "rule_id": "Rule",
                "measurand": "Measurand",
                "operator": "Operator",
                "threshold": "Threshold",
                "severity": "Severity",
                "enabled": st.column_config.CheckboxColumn("Enabled"),
            },
            placeholder="",
        )
    else:
        st.info(
            "No threshold rules. A rule opens an alert while a meter value is above or below "
            "its threshold, e.g. Temperature > 60.",
            icon=":material/rule:",
        )
    operator = auth.signed_in(config)
    with st.container(border=True):
        auth.explain(operator, Permission.CHANGE_ALERT_RULES)
        chosen = st.selectbox("Edit", [NEW_RULE, *current], key="rule_chosen")
        rule_form(
            config, current.get(chosen), auth.control(operator, Permission.CHANGE_ALERT_RULES)
        )


def rule_form(config: Settings, rule: AlertRule | None, allowed: dict[str, Any]) -> None:
    """Fields for a new rule, or prefilled from ``rule`` (keys follow the rule edited)."""
    suffix = rule.rule_id if rule else "new"
    measurands = widgets.MEASURANDS
    with st.form(f"rule_form_{suffix}", border=False):
        if rule is None:
            st.text_input("Rule id", placeholder="generated from the rule", key="rule_id_new")
        measurand, operator, threshold = st.columns([3, 1, 2])
        measurand.selectbox(
            "Measurand",
            measurands,
            index=measurands.index(rule.measurand)
            if rule and rule.measurand in measurands
            else measurands.index("Temperature"),
            accept_new_options=True,
            key=f"rule_measurand_{suffix}",
        )
        operator.selectbox(
            "Operator",
            [">", "<"],
            index=0 if not rule or rule.operator == ">" else 1,
            key=f"rule_operator_{suffix}",
        )
        threshold.number_input(
            "Threshold", value=rule.threshold if rule else 60.0, key=f"rule_threshold_{suffix}"
        )
        severity, enabled = st.columns([3, 1], vertical_alignment="bottom")
        severity.selectbox(
            "Severity",
            SEVERITIES,
            index=SEVERITIES.index(rule.severity) if rule and rule.severity in SEVERITIES else 1,
            key=f"rule_severity_{suffix}",
        )
        enabled.checkbox("Enabled", value=rule.enabled if rule else True, key=f"rule_on_{suffix}")
        st.form_submit_button(
            "Save rule",
            type="primary",
            icon=":material/save:",
            on_click=save_rule,
            args=(config, rule.rule_id if rule else None, suffix),
            **allowed,
        )
    if rule is not None:
        with st.popover("Delete rule", icon=":material/delete:", disabled=allowed["disabled"]):
            st.button(
                f"Delete {plain(rule.rule_id)} for good",
                type="primary",
                on_click=delete_rule,
                args=(config, rule.rule_id),
                **allowed,
            )


def save_rule(config: Settings, rule_id: str | None, suffix: str) -> None:
    state = st.session_state
    body = {
        "measurand": state[f"rule_measurand_{suffix}"],
        "operator": state[f"rule_operator_{suffix}"],
        "threshold": float(state[f"rule_threshold_{suffix}"]),
        "severity": state[f"rule_severity_{suffix}"],
        "enabled": state[f"rule_on_{suffix}"],
    }
    rule_id = rule_id or state["rule_id_new"].strip() or generated_id(body)
    try:
        operator = auth.authorize(Permission.CHANGE_ALERT_RULES)
        api(config).put_alert_rule(rule_id, body, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"Rule {plain(rule_id)} was not saved. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Rule {plain(rule_id)} was not saved: {plain(error)}")
        return
    queries.alert_rules.clear()
    widgets.flash(
        "success", f"Rule {plain(rule_id)} saved; it applies from the next meter values on."
    )


def generated_id(body: dict[str, object]) -> str:
    """e.g. "temperature-above-60" for Temperature > 60."""
    direction = "above" if body["operator"] == ">" else "below"
    text = f"{body['measurand']}-{direction}-{body['threshold']:g}"
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def delete_rule(config: Settings, rule_id: str) -> None:
    try:
        operator = auth.authorize(Permission.CHANGE_ALERT_RULES)
        api(config).delete_alert_rule(rule_id, operator=operator)
    except auth.Refused as refusal:
        widgets.flash("error", f"Rule {plain(rule_id)} was not deleted. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"Rule {plain(rule_id)} was not deleted: {plain(error)}")
        return
    queries.alert_rules.clear()
    widgets.flash("success", f"Rule {plain(rule_id)} deleted.")


render()
