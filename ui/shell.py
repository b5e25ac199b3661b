"""The dashboard's shell: sign-in, navigation and the sidebar around every page.

``main`` runs once per Streamlit script run; the process's entry script
(``chargestream.app.dashboard_app``) calls it with the store factory the composition
root chose. Signed out, every address shows the sign-in form; signed in, the
navigation lists every page (scripts under ui/screens/: not ui/pages/, which
Streamlit would treat as a legacy pages directory and run without this shell and
its sign-in check). Every role sees every page; what a role may change is decided
by each page and checked again by each action (ui.auth, ui.roles).
"""

from pathlib import Path

import streamlit as st

from chargestream.domain.settings import SettingsError
from chargestream.storage.base import StoreUnavailable
from chargestream.ui import auth, widgets
from chargestream.ui.api_client import api_base_url
from chargestream.ui.data import StoreFactory, runner, settings, use_store_factory
from chargestream.ui.text import plain

SECTIONS = {
    "Monitor": [
        (widgets.FLEET, "Fleet", ":material/ev_station:"),
        (widgets.CHARGE_POINT, "Charge point", ":material/ev_charger:"),
        (widgets.SESSIONS, "Charging history", ":material/history:"),
        (widgets.SESSION_DETAIL, "Session analysis", ":material/monitoring:"),
        (widgets.ALERTS, "Alerts", ":material/notifications:"),
        (widgets.REPORTS, "Reports", ":material/summarize:"),
    ],
    "Operate": [
        (widgets.REMOTE_CONTROL, "Remote control", ":material/settings_remote:"),
        (widgets.ID_TAGS, "Id tags", ":material/badge:"),
        (widgets.RESERVATIONS, "Reservations", ":material/event_available:"),
        (widgets.CHARGING_PROFILES, "Charging profiles", ":material/tune:"),
        (widgets.SITES, "Sites", ":material/electric_meter:"),
        (widgets.FIRMWARE, "Firmware", ":material/system_update:"),
    ],
}
PAGES = [page for pages in SECTIONS.values() for page in pages]


def main(open_store: StoreFactory) -> None:
    """Render the shell and run the page the address names."""
    use_store_factory(open_store)
    # an emoji favicon is drawn in the page; a :material/…: one is fetched from Google's
    # font servers (which the Content-Security-Policy of ui/headers.py blocks anyway)
    st.set_page_config(page_title="chargestream", page_icon="🔌", layout="wide")

    try:
        config = settings()
    except SettingsError as error:
        st.error(f"The dashboard's configuration is invalid: {plain(error)}")
        st.stop()

    operator = auth.signed_in(config)
    auth.cookie_requests()
    if operator is None:
        # every page's address shows the sign-in form, and that page once signed in
        sign_in = [st.Page(auth.login_page, title="Sign in", icon=":material/login:", default=True)]
        sign_in += [
            st.Page(auth.login_page, title="Sign in", url_path=Path(path).stem, visibility="hidden")
            for path, _, _ in PAGES[1:]
        ]
        st.navigation(sign_in).run()
        st.stop()

    try:
        runner(config)  # opened once per process, then cached
    except (StoreUnavailable, TimeoutError) as error:  # unreachable or silent: explain it
        st.error(f"The dashboard cannot open the store: {plain(error)}", icon=":material/database:")
        st.stop()

    navigation = st.navigation(
        {
            section: [
                st.Page(path, title=title, icon=icon, default=path == widgets.FLEET)
                for path, title, icon in pages
            ]
            for section, pages in SECTIONS.items()
        }
    )
    with st.sidebar:
        st.caption(
            f"Signed in as **{plain(operator.name)}** · role **{operator.role.value}**",
            help="viewer: reads everything; operator: also commands, id tags, alerts; "
            "admin: also alert rules and security",
        )
        st.button("Sign out", on_click=auth.sign_out, icon=":material/logout:")
        widgets.refresh_selector()
        st.caption(f"{config.mode.value} mode · API {plain(api_base_url(config))}")
    navigation.run()
