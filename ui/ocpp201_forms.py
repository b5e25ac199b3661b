"""Remote-control forms for the OCPP 2.0.1 commands whose request differs from 1.6's: starting
and stopping transactions, Reset, UnlockConnector, ChangeAvailability, TriggerMessage, smart
charging and UpdateFirmware.

Each form turns bounded widgets into a 2.0.1 request payload; ``ocpp_forms.problem`` checks
it against the 2.0.1 schema before it is sent (the API checks it again). An EVSE is numbered
like a 1.6 connector in the views, so the session list offers the station's own
transaction ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import streamlit as st

from chargestream.domain.profile_messages import (
    clear_charging_profile_in,
    get_composite_schedule_in,
)
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.settings import Settings
from chargestream.ui import queries
from chargestream.ui.ocpp_forms import (
    MAX_PROFILE_JSON,
    MAX_URL,
    clear_criteria,
    composite_schedule_fields,
    iso,
    moment,
    request_id,
    retries,
)

MAX_ID_TOKEN = 36  # IdTokenType.idToken
MAX_TRANSACTION_ID = 36  # the station's transactionId
ID_TOKEN_TYPES = [
    "ISO14443",
    "ISO15693",
    "eMAID",
    "KeyCode",
    "Local",
    "Central",
    "MacAddress",
    "NoAuthorization",
]
TRIGGERS = [
    "StatusNotification",
    "MeterValues",
    "TransactionEvent",
    "Heartbeat",
    "BootNotification",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "SignChargingStationCertificate",
]
PURPOSES = ["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile"]
PROFILE_EXAMPLE = """{
  "id": 1,
  "stackLevel": 0,
  "chargingProfilePurpose": "TxDefaultProfile",
  "chargingProfileKind": "Absolute",
  "chargingSchedule": [{
    "id": 1,
    "startSchedule": "2030-01-01T00:00:00Z",
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]
  }]
}"""


def _evse(key: str, *, whole: bool = True) -> int | None:
    """An EVSE number, or None for "all" / the whole station when ``whole``."""
    value = st.number_input(
        "EVSE",
        min_value=1,
        max_value=1000,
        value=None if whole else 1,
        placeholder="the whole station" if whole else None,
        key=key,
    )
    return None if value is None else int(value)


def _with_evse(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """``payload`` with the optional ``evse`` (id, connector) the operator names."""
    evse_column, connector_column = st.columns(2)
    with evse_column:
        evse = _evse(f"{key}_evse")
    connector = connector_column.number_input(
        "Connector", min_value=1, max_value=100, value=None, placeholder="any", key=f"{key}_conn"
    )
    if evse is not None:
        payload["evse"] = {"id": evse} | ({} if connector is None else {"connectorId": connector})
    return payload


def request_start(config: Settings, charge_point_id: str) -> dict[str, Any]:
    token_column, type_column = st.columns([3, 2])
    token = token_column.text_input("Id token", max_chars=MAX_ID_TOKEN, key="start201_token")
    kind = type_column.selectbox("Type", ID_TOKEN_TYPES, key="start201_type")
    payload: dict[str, Any] = {
        "idToken": {"idToken": token.strip(), "type": kind},
        "remoteStartId": request_id("start201_id", "Remote start id"),
    }
    evse = _evse("start201_evse")
    if evse is not None:
        payload["evseId"] = evse
    return payload


def request_stop(config: Settings, charge_point_id: str) -> dict[str, Any]:
    running = [
        s.station_transaction_id
        for s in queries.sessions(config, charge_point_id, 20, None)
        if s.active and s.station_transaction_id
    ]
    if running:
        st.caption("Running: " + ", ".join(running))
    transaction = st.text_input(
        "Transaction id (the station's)",
        value=running[0] if running else "",
        max_chars=MAX_TRANSACTION_ID,
        key="stop201_transaction",
    )
    return {"transactionId": transaction.strip()}


def reset(config: Settings, charge_point_id: str) -> dict[str, Any]:
    kind = st.radio(
        "When",
        ["OnIdle", "Immediate"],
        horizontal=True,
        key="reset201_type",
        help="OnIdle waits for running transactions to end",
    )
    payload: dict[str, Any] = {"type": kind}
    evse = _evse("reset201_evse")
    if evse is not None:
        payload["evseId"] = evse
    return payload


def unlock_connector(config: Settings, charge_point_id: str) -> dict[str, Any]:
    evse_column, connector_column = st.columns(2)
    with evse_column:
        evse = _evse("unlock201_evse", whole=False)
    connector = connector_column.number_input(
        "Connector", min_value=1, max_value=100, value=1, key="unlock201_conn"
    )
    return {"evseId": evse, "connectorId": int(connector)}


def change_availability(config: Settings, charge_point_id: str) -> dict[str, Any]:
    kind = st.radio(
        "Status", ["Operative", "Inoperative"], horizontal=True, key="availability201_type"
    )
    return _with_evse({"operationalStatus": kind}, "availability201")


def trigger_message(config: Settings, charge_point_id: str) -> dict[str, Any]:
    message = st.selectbox("Message", TRIGGERS, key="trigger201")
    return _with_evse({"requestedMessage": message}, "trigger201")


def set_charging_profile(config: Settings, charge_point_id: str) -> dict[str, Any]:
    evse = st.number_input(
        "EVSE", min_value=0, max_value=1000, value=0, help="0 = the whole station", key="sp201_evse"
    )
    text = st.text_area(
        "Charging profile (JSON, chargingProfile)",
        value=PROFILE_EXAMPLE,
        max_chars=MAX_PROFILE_JSON,
        height=280,
        key="sp201_json",
        help="A TxProfile's transactionId is the station's own id (as RequestStopTransaction).",
    )
    try:
        profile = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        st.warning(f"Not JSON: {error}", icon=":material/data_object:")
        profile = None
    return {"evseId": int(evse), "chargingProfile": profile}


def clear_charging_profile(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return clear_charging_profile_in(OcppVersion.V201, *clear_criteria(PURPOSES, "EVSE"))


def get_composite_schedule(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return get_composite_schedule_in(OcppVersion.V201, *composite_schedule_fields("EVSE"))


def update_firmware(config: Settings, charge_point_id: str) -> dict[str, Any]:
    location = st.text_input("Firmware URL", max_chars=MAX_URL, key="update201_location")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    payload: dict[str, Any] = {
        "requestId": request_id("update201_request"),
        "firmware": {
            "location": location.strip(),
            "retrieveDateTime": iso(moment("Retrieve on", "update201_retrieve", now)),
        },
    }
    return retries(payload, "update201")
