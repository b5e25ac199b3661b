"""A charge point's Local Authorization List as the log shows it (pure helpers for ``derive``).

Derived from the answers to the commands the CSMS (or an operator) sent: an Accepted
SendLocalList sets the list's version and entries (Full replaces them: a new generation;
Differential updates or removes them), a Failed or VersionMismatch makes the entries
unknown (the next update is Full), a GetLocalListVersion answer says the version (-1: no
local list), a GetConfiguration answer the two length limits. A CALLERROR NotImplemented or
NotSupported to either list command says the charge point has no local list.

An OCPP 2.0.1 charge point's answers say the same in 2.0.1 names (``versionNumber``,
``idToken``, ``idTokenInfo``); ``*_v201`` read them as their 1.6 counterparts. Its length
limit is the device model's LocalAuthListCtrlr ItemsPerMessage (asked with GetVariables).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chargestream.domain.records import (
    MAX_LOCAL_LIST,
    DeviceVariable,
    LocalListEntry,
    LocalListState,
)
from chargestream.streams.parse import EARLIEST, get_dict, get_int, get_list, get_str, parse_time

SEND_MAX_LENGTH = "SendLocalListMaxLength"
LIST_MAX_LENGTH = "LocalAuthListMaxLength"
LENGTH_KEYS = (SEND_MAX_LENGTH, LIST_MAX_LENGTH)
NOT_SUPPORTED = "NotSupported"
UNKNOWN_ENTRIES = frozenset({"Failed", "VersionMismatch"})
UNSUPPORTED_ERRORS = frozenset({"NotImplemented", NOT_SUPPORTED})
SEND_LIST_ANSWERS = frozenset({"Accepted", *UNKNOWN_ENTRIES, NOT_SUPPORTED})
MAX_ID_TAG = 20  # OCPP 1.6 IdToken
LIST_CONTROLLER = "LocalAuthListCtrlr"  # the 2.0.1 device model's component
ITEMS_PER_MESSAGE = "ItemsPerMessage"  # its variable: entries per SendLocalList


def list_sent(
    state: LocalListState, request: dict[str, Any], answer: dict[str, Any], generation: str
) -> tuple[LocalListState, list[LocalListEntry]]:
    """A SendLocalList answered; ``generation`` names the entries of an Accepted Full."""
    status = get_str(answer, "status")
    version = get_int(request, "listVersion")
    if status not in SEND_LIST_ANSWERS or version is None:
        return state, []
    state = replace(
        state, last_status=status, last_sent_version=version, status_at=state.updated_at
    )
    if status in UNKNOWN_ENTRIES:
        return replace(state, generation=None), []
    if status == NOT_SUPPORTED:
        return replace(state, supported=False), []
    update = get_str(request, "updateType")
    if update == "Differential" and state.generation is not None:
        generation = state.generation
    elif update != "Full":  # a Differential on entries not known: still not known
        return replace(state, version=version, generation=None), []
    items = get_list(request, "localAuthorizationList")[:MAX_LOCAL_LIST]
    entries = [entry for item in items if (entry := _entry(state, item, generation))]
    return replace(state, version=version, generation=generation), entries


def _entry(state: LocalListState, item: Any, generation: str) -> LocalListEntry | None:
    id_tag = get_str(item, "idTag") if isinstance(item, dict) else None
    if not id_tag:
        return None
    info = item.get("idTagInfo")
    if not isinstance(info, dict):  # removed (Differential)
        return LocalListEntry(state.charge_point_id, id_tag[:MAX_ID_TAG], generation)
    expiry = parse_time(info.get("expiryDate"), EARLIEST)
    parent = get_str(info, "parentIdTag")
    return LocalListEntry(
        state.charge_point_id,
        id_tag[:MAX_ID_TAG],
        generation,
        (get_str(info, "status") or "Invalid")[:MAX_ID_TAG],
        None if expiry == EARLIEST else expiry,
        None if parent is None else parent[:MAX_ID_TAG],
    )


def version_reported(state: LocalListState, answer: dict[str, Any], empty: str) -> LocalListState:
    """A GetLocalListVersion answered: -1 no local list, 0 an empty one (its entries known:
    generation ``empty``), the version confirmed so far keeps its entries, another loses them.
    """
    version = get_int(answer, "listVersion")
    if version is None:
        return state
    checked = replace(state, checked_at=state.updated_at)
    if version < 0:
        return replace(checked, supported=False)
    known = state.generation if version == state.version else None
    generation = empty if version == 0 else known
    return replace(checked, supported=True, version=version, generation=generation)


def asks_lengths(request: dict[str, Any]) -> bool:
    """A GetConfiguration for every key or for one of the length limits."""
    keys = get_list(request, "key")
    return not keys or any(key in LENGTH_KEYS for key in keys)


def lengths_reported(state: LocalListState, answer: dict[str, Any]) -> LocalListState:
    """A GetConfiguration answered: the length limits it gives (positive integers)."""
    values = {
        item.get("key"): item.get("value")
        for item in get_list(answer, "configurationKey")
        if isinstance(item, dict)
    }
    return replace(
        state,
        send_max_length=_length(values.get(SEND_MAX_LENGTH), state.send_max_length),
        list_max_length=_length(values.get(LIST_MAX_LENGTH), state.list_max_length),
        lengths_checked_at=state.updated_at,
    )


def _length(value: Any, known: int | None) -> int | None:
    text = value.strip() if isinstance(value, str) else ""
    if text.isdigit() and 0 < int(text) <= 2**31 - 1:
        return int(text)
    return known


def refused(state: LocalListState, error_code: str) -> LocalListState:
    """A CALLERROR to SendLocalList or GetLocalListVersion: unsupported if it says so."""
    if error_code not in UNSUPPORTED_ERRORS:
        return state
    return replace(state, supported=False, last_status=NOT_SUPPORTED, status_at=state.updated_at)


def send_local_list_v201(request: dict[str, Any]) -> dict[str, Any]:
    """A 2.0.1 SendLocalList request as 1.6 writes it, for ``list_sent``."""
    items = get_list(request, "localAuthorizationList")[:MAX_LOCAL_LIST]
    return {
        "listVersion": request.get("versionNumber"),
        "updateType": request.get("updateType"),
        "localAuthorizationList": [_item_v16(item) for item in items if isinstance(item, dict)],
    }


def _item_v16(item: dict[str, Any]) -> dict[str, Any]:
    legacy: dict[str, Any] = {"idTag": get_str(get_dict(item, "idToken"), "idToken")}
    info = item.get("idTokenInfo")
    if isinstance(info, dict):
        legacy["idTagInfo"] = {
            "status": info.get("status"),
            "expiryDate": info.get("cacheExpiryDateTime"),
            "parentIdTag": get_str(get_dict(info, "groupIdToken"), "idToken"),
        }
    return legacy


def version_answer_v201(answer: dict[str, Any]) -> dict[str, Any]:
    """A 2.0.1 GetLocalListVersion answer as 1.6 writes it, for ``version_reported``."""
    return {"listVersion": answer.get("versionNumber")}


def asks_lengths_v201(request: dict[str, Any]) -> bool:
    """A GetVariables asking for the LocalAuthListCtrlr's ItemsPerMessage."""
    return any(
        get_str(get_dict(item, "component"), "name") == LIST_CONTROLLER
        and get_str(get_dict(item, "variable"), "name") == ITEMS_PER_MESSAGE
        for item in get_list(request, "getVariableData")
        if isinstance(item, dict)
    )


def lengths_got(state: LocalListState, values: list[DeviceVariable]) -> LocalListState:
    """The accepted GetVariables values: ItemsPerMessage is the entries per SendLocalList."""
    items = next(
        (
            v.value
            for v in values
            if (v.component, v.variable, v.attribute_type)
            == (LIST_CONTROLLER, ITEMS_PER_MESSAGE, "Actual")
        ),
        None,
    )
    return replace(
        state,
        send_max_length=_length(items, state.send_max_length),
        lengths_checked_at=state.updated_at,
    )
