"""The charge point page's Local list tab: the assigned Local Authorization List, the
version the charge point confirmed, and (role operator) a form to set which id tags it holds.

The CSMS sends the list by itself (``streams/local_lists.py``); this only assigns it through
the API. Id tags and statuses are text, shown in tables and as plain text.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from chargestream.domain.settings import Settings
from chargestream.ui import auth
from chargestream.ui.api_client import ApiError, api
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

MODES = {"tags": "The id tags below", "all": "Every id tag"}


def local_list_view(config: Settings, charge_point_id: str) -> None:
    try:
        shown = api(config).local_list(charge_point_id)
    except ApiError as error:
        st.error(plain(error))
        return
    if shown is None:
        st.info("No local list assigned.", icon=":material/playlist_remove:")
    else:
        _progress(shown)
    _assign_form(config, charge_point_id, shown)


def _progress(shown: dict[str, Any]) -> None:
    desired, confirmed, synced = st.columns(3)
    desired.metric("Desired version", shown["desired_version"], border=True)
    confirmed.metric(
        "Confirmed version",
        "None" if shown["confirmed_version"] is None else shown["confirmed_version"],
        border=True,
    )
    synced.metric("In sync", "Yes" if shown["in_sync"] else "No", border=True)
    if not shown["supported"]:
        st.warning("The charge point has no local list (NotSupported).")
    if shown["problem"]:
        st.error(plain(f"Not sent: {shown['problem']}"))
    details = {
        "Mode": MODES[shown["mode"]],
        "Last SendLocalList answer": shown["last_status"] or "",
        "Answered at": shown["status_at"] or "",
        "Version checked at": shown["checked_at"] or "",
        # 1.6 SendLocalListMaxLength, 2.0.1 ItemsPerMessage; 1.6 LocalAuthListMaxLength
        "Entries per SendLocalList": _number(shown["send_max_length"]),
        "List capacity": _number(shown["list_max_length"]),
    }
    st.dataframe(
        pd.DataFrame({"Field": list(details), "Value": [str(v) for v in details.values()]}),
        hide_index=True,
        width="stretch",
        placeholder="",
    )
    if shown["mode"] == "tags":
        st.dataframe(
            pd.DataFrame({"Id tag": shown["tags"]}),
            hide_index=True,
            width="stretch",
            placeholder="",
        )


def _number(value: int | None) -> str:
    return "not reported" if value is None else str(value)


def _assign_form(config: Settings, charge_point_id: str, shown: dict[str, Any] | None) -> None:
    operator = auth.signed_in(config)
    control = auth.control(operator, Permission.SEND_COMMANDS)
    with st.form("local_list"):
        mode = st.radio(
            "Holds",
            list(MODES),
            format_func=MODES.__getitem__,
            index=0 if shown is None or shown["mode"] == "tags" else 1,
            horizontal=True,
            key="local_list_mode",
        )
        tags = st.text_area(
            "Id tags (one per line or separated by commas)",
            value="\n".join(shown["tags"]) if shown else "",
            key="local_list_tags",
        )
        if st.form_submit_button("Set local list", icon=":material/playlist_add_check:", **control):
            _assign(config, charge_point_id, mode, tags)
    auth.explain(operator, Permission.SEND_COMMANDS)


def _assign(config: Settings, charge_point_id: str, mode: str, tags: str) -> None:
    body: dict[str, Any] = {"mode": "all"}
    if mode == "tags":
        body = {"tags": [tag for tag in re.split(r"[\s,]+", tags) if tag]}
    try:
        operator = auth.authorize(Permission.SEND_COMMANDS)
        result = api(config).put_local_list(charge_point_id, body, operator=operator)
    except auth.Refused as refusal:
        st.error(f"The local list was not set. {refusal}", icon=":material/lock:")
    except ApiError as error:
        st.error(plain(error))
    else:
        st.success(
            f"Local list set: version {result['desired_version']}; the CSMS sends it while"
            " the charge point is connected."
        )
