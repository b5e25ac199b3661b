"""Charge point detail: live state, status timeline, boot and configuration, sessions,
security (events, signed firmware and log upload status), diagnostics uploads, charging
profiles (ui/profile_views.py), the local authorization list (ui/screens/local_list.py), the
OCPP 2.0.1 device model (ui/screens/device_model.py), frames.

Nearly every string here comes from the charge point: Markdown shows it through
``text.plain``, tables and ``st.code`` as it is. Reading the configuration is a command
(role operator or admin); rotating the charge point's password is for admins.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import ChargePointState, Registration
from chargestream.domain.settings import Settings
from chargestream.ui import auth, charts, dataframes, profile_views, queries, widgets
from chargestream.ui.api_client import ApiError, CommandResult, api
from chargestream.ui.data import settings
from chargestream.ui.roles import Permission
from chargestream.ui.screens.device_model import device_model_view
from chargestream.ui.screens.local_list import local_list_view
from chargestream.ui.text import plain

RANGES = ["1 h", "6 h", "24 h", "3 d", "7 d", "Custom"]
TABS = [
    "Status timeline",
    "Boot & configuration",
    "Sessions",
    "Security",
    "Diagnostics",
    "Charging profiles",
    "Local list",
    "Device model",
    "Frames",
]
FRAME_LIMITS = [50, 100, 250, 500, 1000]
PROTOCOLS = ["http", "ftp"]  # how a charge point uploads diagnostics (POST …/diagnostics)
SECURITY_EVENTS_SHOWN = 100
TRANSFERS = {
    "firmware": "Signed firmware update",
    "log": "Log upload",
    "diagnostics": "Diagnostics upload",
}


def render() -> None:
    config = settings()
    st.title("Charge point")
    ids = queries.fleet(config)["charge_point_id"].tolist()
    charge_point_id = widgets.pick_charge_point(ids)
    if charge_point_id is None:
        st.info("No charge points yet: they appear here after their first connection.")
        return
    st.fragment(run_every=widgets.refresh_interval())(live_state)(config, charge_point_id)
    tabs = st.tabs(TABS, key="tab", bind="query-params")
    timeline, boot, sessions, security, diagnostics, profiles, local_list, device_model, frames = (
        tabs
    )
    if timeline.open:
        with timeline:
            status_timeline(config, charge_point_id)
    if boot.open:
        with boot:
            boot_and_configuration(config, charge_point_id)
    if sessions.open:
        with sessions:
            recent_sessions(config, charge_point_id)
    if security.open:
        with security:
            security_view(config, charge_point_id)
    if diagnostics.open:
        with diagnostics:
            diagnostics_view(config, charge_point_id)
    if profiles.open:
        with profiles:
            profile_views.installed_view(config, charge_point_id)
    if local_list.open:
        with local_list:
            local_list_view(config, charge_point_id)
    if device_model.open:
        with device_model:
            device_model_view(config, charge_point_id)
    if frames.open:
        with frames:
            frame_inspector(config, charge_point_id)


def live_state(config: Settings, charge_point_id: str) -> None:
    registration, state = queries.charge_point(config, charge_point_id)
    name = registration.display_name if registration and registration.display_name else None
    if name:
        st.subheader(plain(name))
    columns = st.columns(4)
    connected = bool(state and state.connected)
    now = datetime.now(UTC)
    columns[0].metric(
        "State", "Online" if connected else "Offline" if state else "Never connected", border=True
    )
    for column, label, moment in (
        (columns[1], "Last seen", state.last_seen if state else None),
        (columns[2], "Connected since", state.connected_since if state and connected else None),
        (columns[3], "Last boot", state.last_boot_at if state else None),
    ):
        column.metric(label, widgets.ago(moment, now), help=_when(moment), border=True)
    if state is None or not state.connectors:
        st.caption("No connector status reported yet.")
        return
    connectors = pd.DataFrame(
        [
            {
                "evse": None if c.evse_id is None else f"EVSE {c.evse_id}",
                "connector": charts.connector_label(c.connector_id)
                if c.evse_id is None
                else f"Connector {c.evse_connector_id or '—'}",
                "status": [c.status],
                "error_code": c.error_code,
                "info": c.info,
                "vendor_error_code": c.vendor_error_code,
                "since": c.since,
            }
            for c in state.connectors
        ]
    )
    st.dataframe(
        connectors,
        hide_index=True,
        width="stretch",
        column_order=[
            *(["evse"] if connectors["evse"].notna().any() else []),
            "connector",
            "status",
            "error_code",
            "info",
            "vendor_error_code",
            "since",
        ],
        column_config={
            "evse": st.column_config.TextColumn(
                "EVSE", help="OCPP 2.0.1: the EVSE and, under it, its connector"
            ),
            "connector": "Connector",
            "status": widgets.tags_column("Status", charts.STATUS_COLOURS),
            "error_code": "Error code",
            "info": "Info",
            "vendor_error_code": "Vendor error",
            "since": widgets.time_column("Since"),
        },
        placeholder="",
    )


def status_timeline(config: Settings, charge_point_id: str) -> None:
    choice = st.segmented_control("Range", RANGES, default="24 h", key="timeline_range")
    now = datetime.now(UTC).replace(microsecond=0)
    if choice == "Custom":
        today = widgets.local(now).date()
        picked = st.date_input("Days", (today - timedelta(days=1), today), max_value=today)
        if len(picked) != 2:
            st.caption("Pick the first and the last day.")
            return
        start, end = _day_window(picked[0], picked[1])
    else:
        start, end = widgets.window(choice or "24 h", now)
    frame = charts.timeline_frame(
        queries.status_history(config, charge_point_id, start, end), start, end
    )
    if frame.empty:
        st.info("No connector status in this window.", icon=":material/timeline:")
        return
    st.altair_chart(charts.status_timeline(frame, start, end), width="stretch")
    shares = frame.pivot_table(
        index="connector", columns="status", values="minutes", aggfunc="sum", fill_value=0
    ).rename_axis(index="Connector", columns=None)
    st.caption("Minutes per status in the window")
    st.dataframe(shares.round(1), width="stretch", placeholder="")


def _day_window(first: date, last: date) -> tuple[datetime, datetime]:
    zone = widgets.local(datetime.now(UTC)).tzinfo
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, min(end, datetime.now(UTC))


def boot_and_configuration(config: Settings, charge_point_id: str) -> None:
    registration, state = queries.charge_point(config, charge_point_id)
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Boot")
        st.table(_boot_rows(state))  # st.table renders Markdown: the rows are plain()
    with right:
        st.subheader("Registration")
        st.table(_registration_rows(registration, config.default_security_profile))
        security_profile(config, charge_point_id, registration)
        password_rotation(config, charge_point_id)
    st.subheader("Configuration")
    st.caption("Read the charge point's configuration keys now (GetConfiguration).")
    operator = auth.signed_in(config)
    if st.button(
        "Read configuration",
        icon=":material/download:",
        **auth.control(operator, Permission.SEND_COMMANDS),
    ):
        read_configuration(config, charge_point_id)
    auth.explain(operator, Permission.SEND_COMMANDS)
    changes = [
        c
        for c in queries.commands(config, charge_point_id, 200)
        if c.action == "ChangeConfiguration"
    ]
    if changes:
        st.caption("Recent ChangeConfiguration commands")
        st.dataframe(
            dataframes.commands_frame(changes[:20]),
            hide_index=True,
            width="stretch",
            column_order=["requested_at", "payload", "outcome", "answer"],
            column_config={"requested_at": widgets.time_column("Requested")},
            placeholder="",
        )


def password_rotation(config: Settings, charge_point_id: str) -> None:
    """The admin's button that sends the charge point a new random Basic-auth password."""
    operator = auth.signed_in(config)
    st.caption(
        "Rotate password sends a new random Basic-auth password (ChangeConfiguration"
        " AuthorizationKey). The current one works until the charge point connects with the"
        " new one; nobody sees the new one."
    )
    if st.button(
        "Rotate password",
        icon=":material/key:",
        **auth.control(operator, Permission.CHANGE_PASSWORDS),
    ):
        rotate_password(config, charge_point_id)
    auth.explain(operator, Permission.CHANGE_PASSWORDS)


def rotate_password(config: Settings, charge_point_id: str) -> None:
    _send_and_show(
        charge_point_id,
        Permission.CHANGE_PASSWORDS,
        "The password was not rotated.",
        lambda operator: api(config).rotate_password(charge_point_id, operator=operator),
    )


def _send_and_show(
    charge_point_id: str,
    permission: Permission,
    refused: str,
    send: Callable[[str], CommandResult],
) -> None:
    """A command a button of this page sends for the signed-in operator, and its result."""
    try:
        result = send(auth.authorize(permission))
    except auth.Refused as refusal:
        st.error(f"{refused} {refusal}", icon=":material/lock:")
    except ApiError as error:
        st.error(plain(error))
    else:
        widgets.show_command_result(charge_point_id, result)
        queries.commands.clear()


def read_configuration(config: Settings, charge_point_id: str) -> None:
    try:
        operator = auth.authorize(Permission.SEND_COMMANDS)
        result = api(config).command(charge_point_id, "GetConfiguration", {}, operator=operator)
    except auth.Refused as refusal:
        st.error(f"GetConfiguration was not sent. {refusal}", icon=":material/lock:")
    except ApiError as error:
        st.error(plain(error))
    else:
        widgets.show_command_result(charge_point_id, result)
        if result.outcome == "answered":
            widgets.configuration_table(result.response or {})


def _boot_rows(state: ChargePointState | None) -> pd.DataFrame:
    fields = {
        "Protocol": dataframes.protocol(state),
        "Vendor": state.vendor if state else None,
        "Model": state.model if state else None,
        "Serial number": state.serial_number if state else None,
        "Charge box serial": state.charge_box_serial_number if state else None,
        "Firmware": state.firmware_version if state else None,
        "ICCID": state.iccid if state else None,
        "IMSI": state.imsi if state else None,
        "Meter type": state.meter_type if state else None,
        "Meter serial": state.meter_serial_number if state else None,
        "Last boot": _when(state.last_boot_at if state else None),
        "Boot answer": state.registration_status if state else None,
        "Gateway node": state.node if state else None,
    }
    return pd.DataFrame({"value": [plain(v or "—") for v in fields.values()]}, index=list(fields))


PROFILES = {
    0: "0: no authentication",
    1: "1: Basic auth",
    2: "2: TLS + Basic auth",
    3: "3: TLS + client certificate",
}


def security_profile(
    config: Settings, charge_point_id: str, registration: Registration | None
) -> None:
    """The charge point's security profile, pinned by an admin (docs/security.md)."""
    widgets.show_flash()
    operator = auth.signed_in(config)
    default = config.default_security_profile
    choices: list[int | None] = [None, *PROFILES]
    current = registration.security_profile if registration else None
    with st.form(f"security-profile-{charge_point_id}", border=False):
        st.selectbox(
            "Security profile",
            choices,
            index=choices.index(current),
            format_func=lambda p: f"Default ({PROFILES[default]})" if p is None else PROFILES[p],
            key="security_profile",
            **auth.control(operator, Permission.CHANGE_SECURITY_PROFILES),
        )
        st.form_submit_button(  # the callback runs before the page is drawn again
            "Set profile",
            on_click=set_security_profile,
            args=(config, charge_point_id),
            **auth.control(operator, Permission.CHANGE_SECURITY_PROFILES),
        )
    st.caption("Profiles 2 and 3 are refused on the plain ws:// port (no downgrade).")
    auth.explain(operator, Permission.CHANGE_SECURITY_PROFILES)


def set_security_profile(config: Settings, charge_point_id: str) -> None:
    chosen = st.session_state["security_profile"]
    try:
        name = auth.authorize(Permission.CHANGE_SECURITY_PROFILES)
        api(config).set_security_profile(charge_point_id, chosen, operator=name)
    except auth.Refused as refusal:
        widgets.flash("error", f"The profile was not changed. {refusal}")
        return
    except ApiError as error:
        widgets.flash("error", f"The profile was not changed: {plain(error)}")
        return
    queries.charge_point.clear()
    widgets.flash("success", "Security profile set.")


def _registration_rows(registration: Registration | None, default_profile: int) -> pd.DataFrame:
    if registration is None:
        fields = {
            "Registered": "no (seen only)",
            "Security profile": f"{default_profile} (the default)",
        }
    else:
        fields = {
            "Registered": _when(registration.created_at),
            "Display name": plain(registration.display_name or "—"),
            "Location": plain(registration.location or "—"),
            "Basic auth password": _password_state(registration),
            "Lenient schema checks": "yes" if registration.lenient else "no",
            "Security profile": (
                f"{default_profile} (the default)"
                if registration.security_profile is None
                else str(registration.security_profile)
            ),
        }
    return pd.DataFrame({"value": list(fields.values())}, index=list(fields))


def _password_state(registration: Registration) -> str:
    state = "set" if registration.password_hash else "none"
    if registration.next_password_hash:
        state += " (a rotated one waits for the charge point's next connection)"
    return state


def recent_sessions(config: Settings, charge_point_id: str) -> None:
    sessions = queries.sessions(config, charge_point_id, 20, None)
    if not sessions:
        st.info("No charging sessions yet.", icon=":material/history:")
        return
    widgets.sessions_table(
        dataframes.sessions_frame(sessions, queries.live_progress(config, sessions)),
        key="cp_sessions",
        show_charge_point=False,
    )
    st.page_link(
        widgets.SESSIONS,
        label="Full charging history",
        icon=":material/arrow_forward:",
        query_params={"cp": charge_point_id},
    )


def security_view(config: Settings, charge_point_id: str) -> None:
    """Transfer statuses and security events: the charge point's text, in dataframes only."""
    st.subheader("Firmware, log and diagnostics upload")
    statuses = {s.transfer: s for s in queries.transfer_statuses(config, charge_point_id)}
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "transfer": label,
                    "status": statuses[kind].status if kind in statuses else None,
                    "request_id": statuses[kind].request_id if kind in statuses else None,
                    "at": statuses[kind].at if kind in statuses else None,
                }
                for kind, label in TRANSFERS.items()
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "transfer": "Transfer",
            "status": "Last status",
            "request_id": st.column_config.NumberColumn("Request id", format="%d"),
            "at": widgets.time_column("Received"),
        },
        placeholder="",
    )
    st.subheader("Security events")
    events = queries.security_events(config, charge_point_id, SECURITY_EVENTS_SHOWN)
    if not events:
        st.info("No security events reported.", icon=":material/shield:")
        return
    st.caption(
        f"The newest {SECURITY_EVENTS_SHOWN} by the charge point's clock. Critical ones "
        "(and a rejected certificate signing request) open a security alert."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "timestamp": e.timestamp,
                    "event_type": e.event_type,
                    "critical": e.critical,
                    "tech_info": e.tech_info,
                    "received_at": e.received_at,
                }
                for e in events
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "timestamp": widgets.time_column("Time (charge point)"),
            "event_type": "Type",
            "critical": st.column_config.CheckboxColumn("Critical"),
            "tech_info": "Details",
            "received_at": widgets.time_column("Received"),
        },
        placeholder="",
    )


def diagnostics_view(config: Settings, charge_point_id: str) -> None:
    """Request a diagnostics upload, the last DiagnosticsStatusNotification (2.0.1:
    LogStatusNotification), the files (operators download them; the file names are the
    charge point's text)."""
    operator = auth.signed_in(config)
    statuses = {s.transfer: s for s in queries.transfer_statuses(config, charge_point_id)}
    _, state = queries.charge_point(config, charge_point_id)
    v201 = state is not None and state.ocpp_version is OcppVersion.V201
    last = statuses.get("log" if v201 else "diagnostics")
    st.metric(
        "Last diagnostics status",
        last.status if last else "None reported",
        help=_when(last.at) if last else None,
        border=True,
    )
    st.caption(
        "Request diagnostics sends GetDiagnostics (to an OCPP 2.0.1 charge point GetLog)"
        " with a one-time upload location of this"
        " CSMS, over HTTP or FTP (for chargers that upload only by FTP; credentials and file"
        " travel in clear); the file the charge point uploads appears below."
    )
    protocol = st.radio(
        "Upload by",
        PROTOCOLS,
        index=PROTOCOLS.index(config.diagnostics_protocol),
        format_func=str.upper,
        horizontal=True,
        key="diagnostics_protocol",
    )
    if st.button(
        "Request diagnostics",
        icon=":material/upload_file:",
        **auth.control(operator, Permission.DIAGNOSTICS),
    ):
        request_diagnostics(config, charge_point_id, protocol)
    auth.explain(operator, Permission.DIAGNOSTICS)
    try:
        files = api(config).diagnostics(charge_point_id)
    except ApiError as error:
        st.error(plain(error))
        return
    if not files:
        st.info("No diagnostics files uploaded.", icon=":material/folder_open:")
        return
    st.dataframe(
        pd.DataFrame(files),
        hide_index=True,
        width="stretch",
        column_order=["received_at", "file_name", "size", "sha256", "file_id"],
        column_config={
            "received_at": widgets.time_column("Received"),
            "file_name": "File name",
            "size": st.column_config.NumberColumn("Bytes", format="%d"),
            "sha256": "SHA-256",
            "file_id": "File id",
        },
        placeholder="",
    )
    if operator is None or not operator.may(Permission.DIAGNOSTICS):
        return
    chosen = st.selectbox(
        "File",
        files,
        format_func=lambda f: f"{f['file_name']} ({f['size']} bytes, {f['received_at']})",
        key="diagnostics_file",
    )
    if chosen is not None:
        st.download_button(
            "Download",
            data=lambda: download_diagnostics(config, charge_point_id, str(chosen["file_id"])),
            file_name=str(chosen["file_name"]),
            mime="application/octet-stream",
            icon=":material/download:",
            on_click="ignore",
        )


def request_diagnostics(config: Settings, charge_point_id: str, protocol: str) -> None:
    _send_and_show(
        charge_point_id,
        Permission.DIAGNOSTICS,
        "The diagnostics request was not sent.",
        lambda operator: api(config).request_diagnostics(
            charge_point_id, protocol, operator=operator
        ),
    )


def download_diagnostics(config: Settings, charge_point_id: str, file_id: str) -> bytes:
    """The file's content, fetched when the operator clicks (the role checked again)."""
    auth.authorize(Permission.DIAGNOSTICS)
    return api(config).diagnostics_file(charge_point_id, file_id)


def frame_inspector(config: Settings, charge_point_id: str) -> None:
    size, kinds, names, reload = st.columns([2, 2, 3, 1], vertical_alignment="bottom")
    limit = size.selectbox("Newest", FRAME_LIMITS, index=1, format_func=lambda n: f"{n} frames")
    try:
        frames = dataframes.frames_frame(api(config).frames(charge_point_id, limit))
    except ApiError as error:
        if error.status == 501:  # the API serves frames in embedded mode only
            st.info("The frame inspector is available in embedded mode.")
        else:
            st.error(f"The frame inspector needs the HTTP API: {plain(error)}")
        return
    types = kinds.multiselect("Types", sorted(frames["type"].dropna().unique()), key="frame_types")
    actions = names.multiselect(
        "Actions", sorted(a for a in frames["action"].unique() if a), key="frame_actions"
    )
    reload.button("Reload", icon=":material/refresh:")
    if types:
        frames = frames[frames["type"].isin(types)]
    if actions:
        frames = frames[frames["action"].isin(actions)]
    if frames.empty:
        st.info("No frames match.", icon=":material/data_object:")
        return
    event = st.dataframe(
        frames,
        hide_index=True,
        width="stretch",
        height=widgets.dataframe_height(len(frames), most=400),
        column_order=["received_at", "direction", "type", "action", "message_id"],
        column_config={
            "received_at": widgets.time_column("Time", milliseconds=True),
            "direction": "Direction",
            "type": "Type",
            "action": "Action",
            "message_id": "Message id",
        },
        on_select="rerun",
        selection_mode="single-row",
        key="frames_table",
        placeholder="",
    )
    row = frames.iloc[event.selection.rows[0] if event.selection.rows else 0]
    received = f"{widgets.local(row['received_at']):%Y-%m-%d %H:%M:%S.%f}"[:-3]
    st.markdown(
        f"**{plain(row['type'])}** {plain(row['action'])} · {row['direction'] or ''} · {received}"
    )
    payload, raw = st.columns(2)
    with payload:
        st.caption("Payload")
        st.json(dataframes.frame_payload(row["frame"]), expanded=True)
    with raw:
        st.caption("Frame as sent")
        st.code(row["frame"], language="json", wrap_lines=True)


def _when(moment: datetime | None) -> str:
    return f"{widgets.local(moment):%Y-%m-%d %H:%M:%S}" if moment else "—"


render()
