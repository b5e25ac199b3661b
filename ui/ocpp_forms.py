"""Remote-control forms for the OCPP 1.6 commands beyond the everyday ones: reservations,
the local authorization list, smart charging, firmware and diagnostics, data transfer.

Each form turns bounded widgets into a request payload; ``problem`` checks a payload against
the action's schema in the charge point's OCPP version before it is sent (the API checks it
again): the one check of every dashboard form, 2.0.1's (``ocpp201_forms``,
``device_model_forms``) too.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
import streamlit as st

from chargestream.domain.profile_messages import (
    clear_charging_profile_in,
    get_composite_schedule_in,
)
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.settings import Settings
from chargestream.gateway.schemas import SchemaViolation, validate_request

MAX_URL = 512
MAX_ID_TAG = 20
MAX_REQUEST_ID = 2**31 - 1
MAX_LOCAL_LIST = 500  # entries one SendLocalList form sends
MAX_PROFILE_JSON = 20_000
MAX_DATA = 5_000
MAX_CERTIFICATE_CHAIN = 10_000  # the CertificateSigned schema's maxLength
ID_TAG_STATUSES = ["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]
PURPOSES = ["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
PROFILE_EXAMPLE = """{
  "chargingProfileId": 1,
  "stackLevel": 0,
  "chargingProfilePurpose": "TxDefaultProfile",
  "chargingProfileKind": "Absolute",
  "chargingSchedule": {
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]
  }
}"""


def problem(
    action: str, payload: dict[str, Any], version: OcppVersion = OcppVersion.V16
) -> str | None:
    """Why the payload is not a valid ``version`` request for ``action``, or None (checked on
    a copy: the validator fills in the schema's defaults)."""
    try:
        validate_request(action, copy.deepcopy(payload), version)
    except SchemaViolation as violation:
        return str(violation)
    return None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_id(key: str, label: str = "Request id") -> int:
    return int(
        st.number_input(label, min_value=0, max_value=MAX_REQUEST_ID, value=1, step=1, key=key)
    )


def retries(payload: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``payload`` with the optional retries and retryInterval."""
    count_column, interval_column = st.columns(2)
    count = count_column.number_input(
        "Retries", min_value=0, max_value=100, value=None, placeholder="default", key=f"{prefix}_r"
    )
    seconds = interval_column.number_input(
        "Retry interval (s)",
        min_value=0,
        max_value=86_400,
        value=None,
        placeholder="default",
        key=f"{prefix}_ri",
    )
    if count is not None:
        payload["retries"] = int(count)
    if seconds is not None:
        payload["retryInterval"] = int(seconds)
    return payload


def moment(label: str, key: str, default: datetime) -> datetime:
    day_column, time_column = st.columns(2)
    day = day_column.date_input(f"{label} (UTC)", value=default.date(), key=f"{key}_day")
    at = time_column.time_input("at (UTC)", value=default.time(), key=f"{key}_time")
    assert isinstance(day, date)
    return datetime.combine(day, at if isinstance(at, time) else time(0, 0), UTC)


def _connector(key: str, *, whole: bool = True) -> int:
    return int(
        st.number_input(
            "Connector",
            min_value=0 if whole else 1,
            max_value=1000,
            value=0 if whole else 1,
            help="0 = the whole charge point" if whole else None,
            key=key,
        )
    )


# -- reservations


def reserve_now(config: Settings, charge_point_id: str) -> dict[str, Any]:
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
    payload: dict[str, Any] = {
        "connectorId": _connector("reserve_connector"),
        "expiryDate": iso(moment("Expires on", "reserve_expiry", soon)),
        "idTag": st.text_input("Id tag", max_chars=MAX_ID_TAG, key="reserve_tag").strip(),
        "reservationId": request_id("reserve_id", "Reservation id"),
    }
    parent = st.text_input("Parent id tag", max_chars=MAX_ID_TAG, key="reserve_parent").strip()
    if parent:
        payload["parentIdTag"] = parent
    return payload


def cancel_reservation(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return {"reservationId": request_id("cancel_id", "Reservation id")}


# -- local authorization list


def send_local_list(config: Settings, charge_point_id: str) -> dict[str, Any]:
    version = request_id("local_version", "List version")
    kind = st.radio("Update", ["Differential", "Full"], horizontal=True, key="local_update")
    text = st.text_area(
        "Entries",
        max_chars=MAX_LOCAL_LIST * 40,
        height=140,
        key="local_entries",
        placeholder="04A2B3C4,Accepted\nDEADBEEF,Blocked\nOLDTAG",
        help=f"One id tag a line, at most {MAX_LOCAL_LIST}: TAG,STATUS (status one of "
        f"{', '.join(ID_TAG_STATUSES)}), or TAG alone to remove it (Differential).",
    )
    entries: list[dict[str, Any]] = []
    for line in text.splitlines()[:MAX_LOCAL_LIST]:
        tag, _, status = (part.strip() for part in line.partition(","))
        if not tag:
            continue
        entry: dict[str, Any] = {"idTag": tag}
        if status:
            entry["idTagInfo"] = {"status": status}
        entries.append(entry)
    payload: dict[str, Any] = {"listVersion": version, "updateType": kind}
    if entries:
        payload["localAuthorizationList"] = entries
    return payload


def get_local_list_version(config: Settings, charge_point_id: str) -> dict[str, Any]:
    st.caption("Asks for the version of the charge point's local authorization list.")
    return {}


# -- smart charging


def set_charging_profile(config: Settings, charge_point_id: str) -> dict[str, Any]:
    connector = _connector("profile_connector")
    text = st.text_area(
        "Charging profile (JSON, csChargingProfiles)",
        value=PROFILE_EXAMPLE,
        max_chars=MAX_PROFILE_JSON,
        height=260,
        key="profile_json",
    )
    try:
        profile = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        st.warning(f"Not JSON: {error}", icon=":material/data_object:")
        profile = None
    return {"connectorId": connector, "csChargingProfiles": profile}


def clear_charging_profile(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return clear_charging_profile_in(OcppVersion.V16, *clear_criteria(PURPOSES, "Connector"))


def clear_criteria(
    purposes: list[str], where: str
) -> tuple[int | None, int | None, str | None, int | None]:
    """ClearChargingProfile's widgets: profile id, connector (or EVSE), purpose, stack level."""
    st.caption("Clears the profiles matching every field given; none given clears them all.")
    profile_id = st.number_input(
        "Profile id", min_value=0, max_value=MAX_REQUEST_ID, value=None, key="clear_id"
    )
    connector = st.number_input(
        where, min_value=0, max_value=1000, value=None, placeholder="any", key="clear_conn"
    )
    purpose = st.selectbox("Purpose", purposes, index=None, placeholder="any", key="clear_purpose")
    level = st.number_input(
        "Stack level", min_value=0, max_value=100, value=None, placeholder="any", key="clear_lvl"
    )
    return (
        None if profile_id is None else int(profile_id),
        None if connector is None else int(connector),
        purpose,
        None if level is None else int(level),
    )


def get_composite_schedule(config: Settings, charge_point_id: str) -> dict[str, Any]:
    return get_composite_schedule_in(OcppVersion.V16, *composite_schedule_fields("Connector"))


def composite_schedule_fields(where: str) -> tuple[int, int, str | None]:
    """GetCompositeSchedule's widgets: connector (or EVSE), duration, rate unit."""
    connector = st.number_input(
        where,
        min_value=0,
        max_value=1000,
        value=0,
        help="0 = the whole charge point",
        key="composite_connector",
    )
    duration = st.number_input(
        "Duration (s)", min_value=1, max_value=604_800, value=3600, key="composite_s"
    )
    unit = st.radio("Rate unit", ["any", "A", "W"], horizontal=True, key="composite_unit")
    return int(connector), int(duration), None if unit == "any" else unit


# -- firmware and diagnostics


def update_firmware(config: Settings, charge_point_id: str) -> dict[str, Any]:
    location = st.text_input("Firmware URL", max_chars=MAX_URL, key="update_location")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    payload: dict[str, Any] = {
        "location": location.strip(),
        "retrieveDate": iso(moment("Retrieve on", "update_retrieve", now)),
    }
    return retries(payload, "update")


def get_diagnostics(config: Settings, charge_point_id: str) -> dict[str, Any]:
    location = st.text_input("Upload URL", max_chars=MAX_URL, key="diagnostics_location")
    payload: dict[str, Any] = {"location": location.strip()}
    if st.toggle("Only a time window", key="diagnostics_window"):
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        payload["startTime"] = iso(moment("From", "diagnostics_start", now - timedelta(days=1)))
        payload["stopTime"] = iso(moment("To", "diagnostics_stop", now))
    return retries(payload, "diagnostics")


# -- vendor specific


def data_transfer(config: Settings, charge_point_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "vendorId": st.text_input("Vendor id", max_chars=255, key="transfer_vendor").strip()
    }
    message = st.text_input("Message id", max_chars=50, key="transfer_message").strip()
    data = st.text_area("Data", max_chars=MAX_DATA, height=100, key="transfer_data")
    if message:
        payload["messageId"] = message
    if data:
        payload["data"] = data
    return payload


def certificate_signed(config: Settings, charge_point_id: str) -> dict[str, Any]:
    st.caption(
        "The CSMS sends this itself after signing a charge point's CSR; this sends a chain by hand."
    )
    chain = st.text_area(
        "Certificate chain (PEM)", max_chars=MAX_CERTIFICATE_CHAIN, height=160, key="signed_pem"
    )
    return {"certificateChain": chain.strip()}
