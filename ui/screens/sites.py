"""Sites: each site's limit and its sessions, allocated against measured; set or remove a site.

Every role sees the sites; setting or removing one needs the role operator or admin
(checked again by each action). Site and charge point ids are shown as text.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from chargestream.domain.records import Site
from chargestream.domain.settings import Settings
from chargestream.streams.sites import SessionView
from chargestream.ui import auth, queries, widgets
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.data import settings
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

CHANGE = Permission.CHANGE_SITES
STATUS_COLOURS = {"Accepted": "#2e9d4a", "Rejected": "#d7263d", "NotSupported": "#d7263d"}
UNITS = {"A per phase": "max_current_a", "W": "max_power_w"}


def render() -> None:
    config = settings()
    st.title("Sites")
    widgets.show_flash()
    operator = auth.signed_in(config)
    sites = queries.sites(config)
    listing, editing = st.columns([3, 2], gap="large")
    with listing:
        if not sites:
            st.info("No sites yet.", icon=":material/electric_meter:")
        for site in sites:
            site_panel(site, queries.site_sessions(config, site.site_id))
    with editing:
        auth.explain(operator, CHANGE)
        site_form(config, operator)
        remove_form(config, sites, operator)


def limit_text(site: Site) -> str:
    if site.max_current_a is not None:
        return f"{site.max_current_a:,g} A"
    return f"{site.max_power_w or 0:,.0f} W"


COLUMNS = [
    "charge_point_id",
    "connector_id",
    "transaction_id",
    "allocated_a",
    "allocated_w",
    "status",
    "measured_w",
]


def frame(views: list[SessionView]) -> pd.DataFrame:
    return pd.DataFrame([_row(view) for view in views], columns=COLUMNS)


def _row(view: SessionView) -> dict[str, object]:
    allocation = view.allocation
    return {
        "charge_point_id": view.session.charge_point_id,
        "connector_id": view.session.connector_id,
        "transaction_id": view.session.transaction_id,
        "allocated_a": allocation.limit_a if allocation else None,
        "allocated_w": allocation.limit_w if allocation else None,
        "status": [allocation.status] if allocation and allocation.status else [],
        "measured_w": view.measured_power_w,
    }


def site_panel(site: Site, views: list[SessionView]) -> None:
    with st.container(border=True):
        st.markdown(f"#### {plain(site.site_id)}")
        st.caption(
            f"{len(site.charge_points)} charge points · {site.nominal_voltage:g} V · "
            f"{site.phases} phases · at least {site.min_current_a:g} A per session"
        )
        allocated = sum(v.allocation.limit_w for v in views if v.allocation)
        measured = sum(v.measured_power_w or 0.0 for v in views)
        columns = st.columns(3)
        columns[0].metric("Limit", limit_text(site), border=True)
        columns[1].metric("Allocated", f"{allocated:,.0f} W", border=True)
        columns[2].metric("Measured", f"{measured:,.0f} W", border=True)
        if not views:
            st.caption("No open sessions.")
            return
        table = frame(views)
        widgets.table(
            table,
            column_config={
                "charge_point_id": "Charge point",
                "connector_id": "Connector",
                "transaction_id": "Session",
                "allocated_a": st.column_config.NumberColumn("Allocated (A)", format="%.1f"),
                "allocated_w": st.column_config.NumberColumn("Allocated (W)", format="%.0f"),
                "status": widgets.tags_column(
                    "Answer", STATUS_COLOURS, help="The charge point's answer to its profile"
                ),
                "measured_w": st.column_config.NumberColumn("Measured (W)", format="%.0f"),
            },
        )


def site_form(config: Settings, operator: auth.SignedIn | None) -> None:
    with st.form("site", border=True):
        st.markdown("#### Set a site")
        st.text_input("Site", max_chars=64, key="site_id")
        st.radio("Limit in", list(UNITS), horizontal=True, key="site_unit")
        st.number_input("Limit", min_value=0.1, value=32.0, key="site_limit")
        st.text_area("Charge points (one per line)", key="site_charge_points")
        st.number_input(
            "Nominal voltage (V)", min_value=1.0, max_value=1000.0, value=230.0, key="site_voltage"
        )
        st.number_input("Phases", min_value=1, max_value=3, value=3, key="site_phases")
        st.number_input(
            "Minimum per session (A)", min_value=0.0, max_value=80.0, value=6.0, key="site_min"
        )
        st.form_submit_button(
            "Save site",
            type="primary",
            icon=":material/save:",
            on_click=save,
            args=(config,),
            **auth.control(operator, CHANGE),
        )


def remove_form(config: Settings, sites: list[Site], operator: auth.SignedIn | None) -> None:
    if not sites:
        return
    with st.container(border=True):
        st.markdown("#### Remove a site")
        chosen = st.selectbox("Site", [site.site_id for site in sites], key="site_removed")
        st.button(
            "Remove site",
            icon=":material/delete:",
            on_click=remove,
            args=(config, chosen),
            **auth.control(operator, CHANGE),
        )


def save(config: Settings) -> None:
    state = st.session_state
    site_id = state["site_id"].strip()
    if not site_id:
        widgets.flash("error", "A site needs a name.")
        return
    members = [line.strip() for line in state["site_charge_points"].splitlines() if line.strip()]
    body = {
        UNITS[state["site_unit"]]: float(state["site_limit"]),
        "charge_points": members,
        "nominal_voltage": float(state["site_voltage"]),
        "phases": int(state["site_phases"]),
        "min_current_a": float(state["site_min"]),
    }
    if not _through_api(
        "The site was not saved",
        lambda operator: api(config).put_site(site_id, body, operator=operator),
    ):
        return
    _forget()
    widgets.flash("success", f"Site {plain(site_id)} saved: its limit is divided at once.")


def remove(config: Settings, site_id: str) -> None:
    if not _through_api(
        "The site was not removed",
        lambda operator: api(config).delete_site(site_id, operator=operator),
    ):
        return
    _forget()
    widgets.flash("success", f"Site {plain(site_id)} removed.")


def _through_api(failure: str, change: Callable[[str], None]) -> bool:
    """Make a change as the signed-in operator; False (and why, flashed) if it failed."""
    try:
        change(auth.authorize(CHANGE))
    except auth.Refused as refusal:
        widgets.flash("error", f"{failure}. {refusal}")
        return False
    except ApiError as error:
        widgets.flash("error", f"{failure}: {plain(error)}")
        return False
    return True


def _forget() -> None:
    queries.sites.clear()
    queries.site_sessions.clear()


render()
