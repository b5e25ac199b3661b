"""Remote control: OCPP commands to one charge point, its answer, and the command log; or
one command to several charge points (POST /api/v1/commands/bulk) with each one's outcome.

The forms offered are those of the charge point's OCPP version (of its last connection;
1.6 before it ever connected); the bulk form sends one version's command to the charge
points of that version.

Every role sees the log; sending needs the role operator or admin (checked again when sent),
the certificate and signed firmware commands the role admin. Text inputs are bounded to the
schema's lengths; the API validates every payload against the action's schema again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from typing import Any

import pandas as pd
import streamlit as st

from chargestream.domain.passwords import MAX_CHARGE_POINT_PASSWORD, MIN_CHARGE_POINT_PASSWORD
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.redaction import is_secret_key
from chargestream.domain.settings import Settings
from chargestream.ui import (
    auth,
    dataframes,
    device_model_forms,
    ocpp201_forms,
    ocpp_forms,
    queries,
    widgets,
)
from chargestream.ui.api_client import ApiError, CommandResult, api
from chargestream.ui.data import settings
from chargestream.ui.ocpp_forms import MAX_URL
from chargestream.ui.roles import Permission
from chargestream.ui.text import plain

OTHER_KEY = "Other key…"
SECONDS_KEYS = [
    "HeartbeatInterval",
    "MeterValueSampleInterval",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "WebSocketPingInterval",
]
MEASURAND_KEYS = ["MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData"]
BOOLEAN_KEYS = [
    "AuthorizeRemoteTxRequests",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "UnlockConnectorOnEVSideDisconnect",
]
TRIGGERS = [
    "StatusNotification",
    "MeterValues",
    "Heartbeat",
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
]
EXTENDED_TRIGGERS = [
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargePointCertificate",
    "StatusNotification",
]
CERTIFICATE_TYPES = ["CentralSystemRootCertificate", "ManufacturerRootCertificate"]
HASH_ALGORITHMS = ["SHA256", "SHA384", "SHA512"]
LOG_TYPES = ["SecurityLog", "DiagnosticsLog"]
MAX_CERTIFICATE = 5500  # PEM, the schemas' maxLength
MAX_SIGNATURE = 800
# commands only an admin may send; the others need SEND_COMMANDS
ADMIN_ONLY = frozenset(
    {
        "InstallCertificate",
        "GetInstalledCertificateIds",
        "DeleteCertificate",
        "SignedUpdateFirmware",
        "CertificateSigned",
    }
)
OUTCOME_COLOURS = {
    "answered": "#2e9d4a",
    "failed": "#d7263d",
    "rejected": "#e8710a",
    "not_connected": "#4d4d4d",
    "timed_out": "#f2a50c",
    "in flight": "#1c64c8",
}
RESULT_KEY = "last_command"
BULK_KEY = "last_bulk"
MAX_BULK = 1000  # what POST /api/v1/commands/bulk takes
BULK_CHUNK = 20  # the API's commands in flight: a chunk takes at most one command timeout
# a transaction id is one charge point's
ONE_ONLY = frozenset({"RemoteStopTransaction", "RequestStopTransaction"})
LOG_SIZE = 100


def render() -> None:
    config = settings()
    st.title("Remote control")
    fleet = queries.fleet(config)
    ids = fleet["charge_point_id"].tolist()
    operator = auth.signed_in(config)
    if ids and st.toggle(
        "Several charge points",
        key="bulk",
        help=f"One command to up to {MAX_BULK} charge points, each with its own outcome",
    ):
        form, log = st.columns([2, 3], gap="large")
        with form:
            bulk_control(config, fleet, operator)
        with log:
            bulk_results()
        return
    charge_point_id = widgets.pick_charge_point(ids)
    if charge_point_id is None:
        st.info("No charge points yet: they appear here after their first connection.")
        return
    _, state = queries.charge_point(config, charge_point_id)
    if not (state and state.connected):
        st.caption(f":material/link_off: {plain(charge_point_id)} is not connected right now.")
    version = (state.ocpp_version if state else None) or OcppVersion.V16
    forms = FORMS_BY_VERSION[version]
    form, log = st.columns([2, 3], gap="large")
    with form, st.container(border=True):
        st.caption(f"OCPP {version.label} commands")
        action = st.selectbox(
            "Command", list(forms), key=_keyed("action", version), bind="query-params"
        )
        payload = forms[action](config, charge_point_id)
        form_problem(action, payload, version)
        needed = permission(action, payload)
        if st.button(
            f"Send {action}",
            type="primary",
            icon=":material/send:",
            **auth.control(operator, needed),
        ):
            send(config, charge_point_id, action, payload)
        auth.explain(operator, needed)
        last_result(charge_point_id)
    with log:
        st.fragment(run_every=widgets.refresh_interval())(command_log)(config, charge_point_id)


def form_problem(action: str, payload: dict[str, Any], version: OcppVersion) -> None:
    """What the action's schema says against the payload, before it is sent."""
    problem = ocpp_forms.problem(action, payload, version)
    if problem is not None:
        st.caption(f":material/error: Not a valid {action} request yet: {plain(problem)}")


def permission(action: str, payload: dict[str, Any]) -> Permission:
    """Certificates, signed firmware and charge point passwords are for admins; other
    commands for operators."""
    if action in ADMIN_ONLY:
        return Permission.MANAGE_CERTIFICATES
    if action == "ChangeConfiguration" and is_secret_key(payload.get("key")):
        return Permission.CHANGE_PASSWORDS
    return Permission.SEND_COMMANDS


def send(config: Settings, charge_point_id: str, action: str, payload: dict[str, Any]) -> None:
    try:
        operator = auth.authorize(permission(action, payload))
    except auth.Refused as refusal:
        st.session_state[RESULT_KEY] = (charge_point_id, action, refusal)
        return
    with st.spinner(f"Waiting for {plain(charge_point_id)}…"):
        try:
            result = api(config).command(charge_point_id, action, payload, operator=operator)
        except ApiError as error:
            st.session_state[RESULT_KEY] = (charge_point_id, action, str(error))
        else:
            st.session_state[RESULT_KEY] = (charge_point_id, action, result)
    queries.commands.clear()


def last_result(charge_point_id: str) -> None:
    if RESULT_KEY not in st.session_state:
        return
    sent_to, action, result = st.session_state[RESULT_KEY]
    if sent_to != charge_point_id:
        return
    if isinstance(result, auth.Refused):
        st.error(f"{plain(action)} was not sent. {result}", icon=":material/lock:")
        return
    if isinstance(result, str):
        st.error(f"{plain(action)} could not be sent: {plain(result)}", icon=":material/cloud_off:")
        return
    widgets.show_command_result(charge_point_id, result)
    if result.outcome == "answered" and action == "GetConfiguration":
        widgets.configuration_table(result.response or {})
    elif result.response and set(result.response) != {"status"}:
        with st.expander("Full answer"):
            st.json(result.response)


def command_log(config: Settings, charge_point_id: str) -> None:
    st.subheader("Command log")
    everyone = st.toggle("All charge points", key="log_all")
    commands = queries.commands(config, None if everyone else charge_point_id, LOG_SIZE)
    if not commands:
        st.caption("No commands sent yet.")
        return
    frame = dataframes.commands_frame(commands)
    sent_by = ["sent_by"] if frame["sent_by"].notna().any() else []
    st.dataframe(
        frame.assign(outcome=frame["outcome"].map(lambda outcome: [outcome])),
        hide_index=True,
        width="stretch",
        height=widgets.dataframe_height(len(frame), most=520),
        column_order=[
            "requested_at",
            *(["charge_point_id"] if everyone else []),
            "action",
            "payload",
            "outcome",
            "answer",
            "latency_ms",
            *sent_by,
        ],
        column_config={
            "requested_at": widgets.time_column("Requested"),
            "charge_point_id": "Charge point",
            "action": "Command",
            "outcome": widgets.tags_column("Outcome", OUTCOME_COLOURS),
            "answer": st.column_config.TextColumn("Answer", width="medium"),
            "payload": st.column_config.TextColumn("Request", width="medium"),
            "latency_ms": st.column_config.NumberColumn("Latency", format="%.0f ms", width=90),
            "sent_by": st.column_config.TextColumn(
                "Sent by", help="operator:NAME from the dashboard, or the API token's name"
            ),
        },
        placeholder="",
    )


# -- one command to several charge points


def bulk_control(config: Settings, fleet: pd.DataFrame, operator: auth.SignedIn | None) -> None:
    with st.container(border=True):
        label = st.radio(
            "OCPP version",
            [v.label for v in OcppVersion],
            horizontal=True,
            key="bulk_version",
            help="One command goes to the charge points of one version (of their last connection)",
        )
        version = next(v for v in OcppVersion if v.label == label)
        of_version = fleet[
            fleet["protocol"].fillna(f"OCPP {OcppVersion.V16.label}") == f"OCPP {label}"
        ]
        connected = of_version.loc[of_version["connected"], "charge_point_id"].tolist()
        if st.checkbox(f"Every connected charge point ({len(connected)})", key="bulk_connected"):
            targets = connected[:MAX_BULK]
        else:
            targets = st.multiselect(
                "Charge points",
                of_version["charge_point_id"].tolist(),
                max_selections=MAX_BULK,
                key=_keyed("bulk_ids", version),
            )
        forms = FORMS_BY_VERSION[version]
        action = st.selectbox(
            "Command", [a for a in forms if a not in ONE_ONLY], key=_keyed("bulk_action", version)
        )
        payload = forms[action](config, "")
        form_problem(action, payload, version)
        needed = permission(action, payload)
        allowed = auth.control(operator, needed)
        if st.button(
            f"Send {action} to {len(targets)} charge points",
            type="primary",
            icon=":material/send:",
            **{**allowed, "disabled": allowed["disabled"] or not targets},
        ):
            send_bulk(config, targets, action, payload)
        auth.explain(operator, needed)


def send_bulk(config: Settings, targets: list[str], action: str, payload: dict[str, Any]) -> None:
    """Sent in chunks of BULK_CHUNK, each a POST /commands/bulk, so the bar shows progress."""
    try:
        operator = auth.authorize(permission(action, payload))
    except auth.Refused as refusal:
        st.session_state[BULK_KEY] = (action, [], str(refusal))
        return
    results: list[tuple[str, CommandResult]] = []
    bar = st.progress(0.0, text=f"Sending {action} to {len(targets)} charge points…")
    failure = None
    for start in range(0, len(targets), BULK_CHUNK):
        try:
            results += api(config).bulk_command(
                targets[start : start + BULK_CHUNK], action, payload, operator=operator
            )
        except ApiError as error:
            failure = str(error)
            break
        bar.progress(len(results) / len(targets), text=f"{len(results)} of {len(targets)} done")
    bar.empty()
    st.session_state[BULK_KEY] = (action, results, failure)
    queries.commands.clear()


def bulk_results() -> None:
    if BULK_KEY not in st.session_state:
        st.caption("Choose charge points and a command: each one's outcome is listed here.")
        return
    action, results, failure = st.session_state[BULK_KEY]
    st.subheader(f"{plain(action)} to {len(results)} charge points")
    if failure is not None:
        st.error(
            f"{plain(action)} was not sent to every charge point: {plain(failure)}",
            icon=":material/cloud_off:",
        )
    if not results:
        return
    outcomes = Counter(result.outcome for _, result in results)
    st.caption(" · ".join(f"{outcome}: {count}" for outcome, count in sorted(outcomes.items())))
    frame = pd.DataFrame(
        {
            "charge_point_id": [cp for cp, _ in results],
            "outcome": [[result.outcome] for _, result in results],
            "answer": [str((r.response or {}).get("status", "")) for _, r in results],
            "error": [r.error or "" for _, r in results],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=widgets.dataframe_height(len(frame), most=520),
        column_config={
            "charge_point_id": "Charge point",
            "outcome": widgets.tags_column("Outcome", OUTCOME_COLOURS),
            "answer": "Answer",
            "error": st.column_config.TextColumn("Error", width="medium"),
        },
        placeholder="",
    )


# -- one form per command: widgets in, OCPP request payload out


def change_configuration(config: Settings, charge_point_id: str) -> dict[str, Any]:
    keys = [*SECONDS_KEYS, *MEASURAND_KEYS, *BOOLEAN_KEYS, OTHER_KEY]
    key = st.selectbox("Key", keys, key="config_key")
    if key == OTHER_KEY:
        key = st.text_input("Key name", max_chars=50, key="config_other").strip()
    if key in SECONDS_KEYS:
        value = str(
            st.number_input("Value (seconds)", min_value=0, value=300, key="config_seconds")
        )
    elif key in MEASURAND_KEYS:
        value = ",".join(
            st.multiselect(
                "Measurands",
                widgets.MEASURANDS,
                default=widgets.MEASURANDS[:1],
                key="config_measurands",
            )
        )
    elif key in BOOLEAN_KEYS:
        value = st.radio("Value", ["true", "false"], horizontal=True, key="config_bool")
    elif is_secret_key(key):  # a charge point password: admins only, never shown
        value = st.text_input(
            "Password",
            type="password",
            max_chars=MAX_CHARGE_POINT_PASSWORD,
            key="config_password",
            help=f"{MIN_CHARGE_POINT_PASSWORD} to {MAX_CHARGE_POINT_PASSWORD} characters; the"
            " charge point page's Rotate password generates one.",
        )
        if value and len(value) < MIN_CHARGE_POINT_PASSWORD:
            st.warning(f"Passwords need at least {MIN_CHARGE_POINT_PASSWORD} characters.")
    else:
        value = st.text_input("Value", max_chars=500, key="config_value")
    return {"key": key, "value": value}


def get_configuration(config: Settings, charge_point_id: str) -> dict[str, Any]:
    keys = st.multiselect(
        "Keys",
        [*SECONDS_KEYS, *MEASURAND_KEYS, *BOOLEAN_KEYS],
        accept_new_options=True,
        placeholder="All keys",
        key="get_keys",
    )
    return {"key": keys} if keys else {}


def remote_start(config: Settings, charge_point_id: str) -> dict[str, Any]:
    id_tag = st.text_input("Id tag", max_chars=20, key="start_tag").strip()
    connector = st.number_input(
        "Connector", min_value=1, value=None, placeholder="any", key="start_connector"
    )
    payload: dict[str, Any] = {"idTag": id_tag}
    if connector is not None:
        payload["connectorId"] = int(connector)
    return payload


def remote_stop(config: Settings, charge_point_id: str) -> dict[str, Any]:
    running = [s for s in queries.sessions(config, charge_point_id, 20, None) if s.active]
    if running:
        st.caption("Running: " + ", ".join(f"{s.transaction_id}" for s in running))
    transaction = st.number_input(
        "Transaction id",
        min_value=0,
        value=running[0].transaction_id if running else None,
        key="stop_transaction",
    )
    return {"transactionId": int(transaction)} if transaction is not None else {}


def reset(config: Settings, charge_point_id: str) -> dict[str, Any]:
    kind = st.radio("Type", ["Soft", "Hard"], horizontal=True, key="reset_type")
    return {"type": kind}


def unlock_connector(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return {"connectorId": int(st.number_input("Connector", min_value=1, value=1, key="unlock"))}


def change_availability(config: Settings, charge_point_id: str) -> dict[str, Any]:
    connector = st.number_input(
        "Connector", min_value=0, value=0, help="0 = the whole charge point", key="availability"
    )
    kind = st.radio("Type", ["Operative", "Inoperative"], horizontal=True, key="availability_type")
    return {"connectorId": int(connector), "type": kind}


def clear_cache(config: Settings, charge_point_id: str) -> dict[str, Any]:
    st.caption("Clears the charge point's authorization cache.")
    return {}


def trigger_message(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return _trigger(TRIGGERS, "trigger")


def _trigger(messages: Sequence[str], key: str) -> dict[str, Any]:
    """TriggerMessage and ExtendedTriggerMessage: a message, optionally of one connector."""
    message = st.selectbox("Message", messages, key=key)
    connector = st.number_input(
        "Connector", min_value=1, value=None, placeholder="all", key=f"{key}_connector"
    )
    payload: dict[str, Any] = {"requestedMessage": message}
    if connector is not None:
        payload["connectorId"] = int(connector)
    return payload


# -- the security extension's commands (OCPP 1.6 security whitepaper)


def install_certificate(config: Settings, charge_point_id: str) -> dict[str, Any]:
    kind = st.selectbox("Certificate type", CERTIFICATE_TYPES, key="install_type")
    certificate = st.text_area(
        "Certificate (PEM)", max_chars=MAX_CERTIFICATE, height=160, key="install_pem"
    )
    return {"certificateType": kind, "certificate": certificate.strip()}


def get_installed_certificate_ids(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return {"certificateType": st.selectbox("Certificate type", CERTIFICATE_TYPES, key="ids_type")}


def delete_certificate(config: Settings, charge_point_id: str) -> dict[str, Any]:
    st.caption("The certificate's hash data, as GetInstalledCertificateIds lists it.")
    algorithm = st.selectbox("Hash algorithm", HASH_ALGORITHMS, key="delete_algorithm")
    issuer_name = st.text_input("Issuer name hash", max_chars=128, key="delete_name")
    issuer_key = st.text_input("Issuer key hash", max_chars=128, key="delete_key")
    serial = st.text_input("Serial number", max_chars=40, key="delete_serial")
    return {
        "certificateHashData": {
            "hashAlgorithm": algorithm,
            "issuerNameHash": issuer_name.strip(),
            "issuerKeyHash": issuer_key.strip(),
            "serialNumber": serial.strip(),
        }
    }


def extended_trigger_message(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return _trigger(EXTENDED_TRIGGERS, "extended_trigger")


def signed_update_firmware(config: Settings, charge_point_id: str) -> dict[str, Any]:
    request_id = ocpp_forms.request_id("firmware_request")
    location = st.text_input("Firmware URL", max_chars=MAX_URL, key="firmware_location")
    day, at = st.columns(2)
    retrieve_day = day.date_input("Retrieve on (UTC)", key="firmware_day")
    retrieve_time = at.time_input("at (UTC)", value=time(0, 0), key="firmware_time")
    certificate = st.text_area(
        "Signing certificate (PEM)", max_chars=MAX_CERTIFICATE, height=120, key="firmware_cert"
    )
    signature = st.text_area(
        "Signature (base64)", max_chars=MAX_SIGNATURE, height=80, key="firmware_signature"
    )
    retrieve = datetime.combine(retrieve_day, retrieve_time, UTC)
    payload: dict[str, Any] = {
        "requestId": request_id,
        "firmware": {
            "location": location.strip(),
            "retrieveDateTime": ocpp_forms.iso(retrieve),
            "signingCertificate": certificate.strip(),
            "signature": signature.strip(),
        },
    }
    return ocpp_forms.retries(payload, "firmware")


def get_log(config: Settings, charge_point_id: str) -> dict[str, Any]:
    log_type = st.radio("Log", LOG_TYPES, horizontal=True, key="log_type")
    request_id = ocpp_forms.request_id("log_request")
    location = st.text_input("Upload URL", max_chars=MAX_URL, key="log_location")
    payload: dict[str, Any] = {
        "logType": log_type,
        "requestId": request_id,
        "log": {"remoteLocation": location.strip()},
    }
    return ocpp_forms.retries(payload, "log")


FORMS: dict[str, Callable[[Settings, str], dict[str, Any]]] = {
    "ChangeConfiguration": change_configuration,
    "GetConfiguration": get_configuration,
    "RemoteStartTransaction": remote_start,
    "RemoteStopTransaction": remote_stop,
    "Reset": reset,
    "UnlockConnector": unlock_connector,
    "ChangeAvailability": change_availability,
    "ClearCache": clear_cache,
    "TriggerMessage": trigger_message,
    "ExtendedTriggerMessage": extended_trigger_message,
    "GetLog": get_log,
    "InstallCertificate": install_certificate,
    "GetInstalledCertificateIds": get_installed_certificate_ids,
    "DeleteCertificate": delete_certificate,
    "SignedUpdateFirmware": signed_update_firmware,
    "CertificateSigned": ocpp_forms.certificate_signed,
    "ReserveNow": ocpp_forms.reserve_now,
    "CancelReservation": ocpp_forms.cancel_reservation,
    "SendLocalList": ocpp_forms.send_local_list,
    "GetLocalListVersion": ocpp_forms.get_local_list_version,
    "SetChargingProfile": ocpp_forms.set_charging_profile,
    "ClearChargingProfile": ocpp_forms.clear_charging_profile,
    "GetCompositeSchedule": ocpp_forms.get_composite_schedule,
    "UpdateFirmware": ocpp_forms.update_firmware,
    "GetDiagnostics": ocpp_forms.get_diagnostics,
    "DataTransfer": ocpp_forms.data_transfer,
}


def _device_model(form: Callable[[], dict[str, Any]]) -> Callable[[Settings, str], dict[str, Any]]:
    """A device model form (ui/device_model_forms.py) as a remote-control form."""
    return lambda config, charge_point_id: form()


FORMS_V201: dict[str, Callable[[Settings, str], dict[str, Any]]] = {
    "RequestStartTransaction": ocpp201_forms.request_start,
    "RequestStopTransaction": ocpp201_forms.request_stop,
    "Reset": ocpp201_forms.reset,
    "UnlockConnector": ocpp201_forms.unlock_connector,
    "ChangeAvailability": ocpp201_forms.change_availability,
    "TriggerMessage": ocpp201_forms.trigger_message,
    "ClearCache": clear_cache,
    "GetVariables": _device_model(device_model_forms.get_variables),
    "SetVariables": _device_model(device_model_forms.set_variables),
    "GetBaseReport": _device_model(device_model_forms.get_base_report),
    "GetReport": _device_model(device_model_forms.get_report),
    "SetChargingProfile": ocpp201_forms.set_charging_profile,
    "ClearChargingProfile": ocpp201_forms.clear_charging_profile,
    "GetCompositeSchedule": ocpp201_forms.get_composite_schedule,
    "UpdateFirmware": ocpp201_forms.update_firmware,
    "GetLog": get_log,
    "GetLocalListVersion": ocpp_forms.get_local_list_version,
    "CancelReservation": ocpp_forms.cancel_reservation,
    "CertificateSigned": ocpp_forms.certificate_signed,
    "DataTransfer": ocpp_forms.data_transfer,
}
"""The 2.0.1 forms: 2.0.1's own where its request differs from 1.6's, 1.6's where it does
not (ClearCache, GetLog, DataTransfer, ...)."""

FORMS_BY_VERSION = {OcppVersion.V16: FORMS, OcppVersion.V201: FORMS_V201}


def _keyed(key: str, version: OcppVersion) -> str:
    """A widget's key per version (the 1.6 one as it always was), so each keeps its choice."""
    return key if version is OcppVersion.V16 else f"{key}_v201"


render()
