"""What to send next to bring a charge point's Local Authorization List to its desired version.

Pure: the assignment, the id tags, and what the log shows (``LocalListState`` and the
entries of its generation) in; one command out, or none. Each call plans the next step only;
the answer comes back through the log and the next call plans from there, so a list sent in
parts resumes where it stopped after any restart.

- After each (re)connect the version is checked first (GetLocalListVersion), and the length
  limits asked for once (GetConfiguration SendLocalListMaxLength, LocalAuthListMaxLength).
- Differential when the confirmed entries are known: the changed and added id tags with
  their idTagInfo, the removed ones without (OCPP 1.6: an entry without idTagInfo in a
  Differential is removed). Full otherwise, and after a Failed or VersionMismatch.
- Parts: at most SendLocalListMaxLength entries per SendLocalList (``DEFAULT_SEND_LENGTH``
  when the charge point does not say). OCPP 1.6 makes a Differential's listVersion greater
  than the version held, so a list in n parts goes as the versions desired-n+1 .. desired:
  a Full (no version rule) or a Differential with the first part, then Differentials, each
  confirmed before the next. ``LOCAL_LIST_VERSION_STEP`` leaves room for every part.
- A list longer than LocalAuthListMaxLength is not sent (``problem`` says why).
- An OCPP 2.0.1 charge point gets the same steps in 2.0.1 messages: SendLocalList with
  ``versionNumber`` and entries of ``idToken``/``idTokenInfo`` (the tags as Central tokens,
  the parent as ``groupIdToken``), and its entries per message asked with GetVariables
  (LocalAuthListCtrlr ItemsPerMessage). 2.0.1 reports no maximum list length on request
  (the Entries variable's maxLimit comes only in a NotifyReport): a list beyond it is
  answered Failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chargestream.domain.id_tokens import id_token
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    MAX_LOCAL_LIST,
    IdTag,
    LocalListAssignment,
    LocalListEntry,
    LocalListMode,
    LocalListState,
)
from chargestream.streams.local_list_views import ITEMS_PER_MESSAGE, LENGTH_KEYS, LIST_CONTROLLER

DEFAULT_SEND_LENGTH = 250  # entries per SendLocalList when the charge point does not say
RETRY_AFTER = timedelta(seconds=60)  # after a Failed answer, before sending again

TagInfo = dict[str, str]
"""An entry's idTagInfo as sent: status, and expiryDate and parentIdTag when set."""


@dataclass(frozen=True)
class Command:
    action: str
    payload: dict[str, Any]


CHECK_VERSION = Command("GetLocalListVersion", {})
ASK_LENGTHS = Command("GetConfiguration", {"key": list(LENGTH_KEYS)})
ASK_LENGTHS_V201 = Command(
    "GetVariables",
    {
        "getVariableData": [
            {"component": {"name": LIST_CONTROLLER}, "variable": {"name": ITEMS_PER_MESSAGE}}
        ]
    },
)
_ASK_LENGTHS = {OcppVersion.V16: ASK_LENGTHS, OcppVersion.V201: ASK_LENGTHS_V201}


def tag_info(status: str, expiry_date: datetime | None, parent_id_tag: str | None) -> TagInfo:
    info = {"status": status}
    if expiry_date is not None:  # to the ms, as every back end keeps it
        moment = expiry_date.astimezone(UTC)
        info["expiryDate"] = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment:%f}"[:3] + "Z"
    if parent_id_tag is not None:
        info["parentIdTag"] = parent_id_tag
    return info


def desired_entries(assignment: LocalListAssignment, tags: Iterable[IdTag]) -> dict[str, TagInfo]:
    """The list's content: the id tags it holds with the store's status (a blocked or expired
    tag stays on it with that status, so the charge point refuses it offline too)."""
    named = None if assignment.mode is LocalListMode.ALL else set(assignment.tags)
    return {
        tag.id_tag: tag_info(tag.status.value, tag.expiry_date, tag.parent_id_tag)
        for tag in tags
        if named is None or tag.id_tag in named
    }


def confirmed_entries(
    state: LocalListState, entries: Iterable[LocalListEntry]
) -> dict[str, TagInfo] | None:
    """What the charge point holds as the log shows it, or None when that is not known."""
    if state.generation is None or state.version is None:
        return None
    return {
        entry.id_tag: tag_info(entry.status, entry.expiry_date, entry.parent_id_tag)
        for entry in entries
        if entry.generation == state.generation and entry.status is not None
    }


def check(
    state: LocalListState | None,
    connected_since: datetime | None,
    version: OcppVersion = OcppVersion.V16,
) -> Command | None:
    """A question to ask before any update: the version once per connection, the lengths once
    (in ``version``, the charge point's)."""
    if state is None or state.checked_at is None:
        return CHECK_VERSION
    if connected_since is not None and state.checked_at < connected_since:
        return CHECK_VERSION
    if state.supported and state.lengths_checked_at is None:
        return _ASK_LENGTHS[version]
    return None


def in_sync(assignment: LocalListAssignment, state: LocalListState | None) -> bool:
    return state is not None and state.version == assignment.desired_version


def waiting(assignment: LocalListAssignment, state: LocalListState, now: datetime) -> bool:
    """No update now: in sync, no local list on the charge point, or it failed lately."""
    if in_sync(assignment, state) or not state.supported:
        return True
    failed_at = state.status_at if state.last_status == "Failed" else None
    return failed_at is not None and now - failed_at < RETRY_AFTER


def problem(desired: Mapping[str, TagInfo] | int, state: LocalListState | None) -> str | None:
    """Why the list cannot be sent (``desired``: the entries, or how many there are)."""
    size = desired if isinstance(desired, int) else len(desired)
    if size > MAX_LOCAL_LIST:
        return f"more than {MAX_LOCAL_LIST} id tags"
    limit = None if state is None else state.list_max_length
    if limit is not None and size > limit:
        return f"{size} id tags, the charge point holds at most {limit} (LocalAuthListMaxLength)"
    return None


def update(
    desired_version: int,
    desired: Mapping[str, TagInfo],
    confirmed: Mapping[str, TagInfo] | None,
    state: LocalListState,
    version: OcppVersion = OcppVersion.V16,
) -> Command:
    """The next SendLocalList (in ``version``): the first part of a Differential, else of
    a Full."""
    size = state.send_max_length or DEFAULT_SEND_LENGTH
    if confirmed is not None and state.version is not None:
        changes = _changes(desired, confirmed)
        first_version = desired_version - _parts(len(changes), size) + 1
        if first_version > state.version:
            return _send("Differential", first_version, changes[:size], version)
    full = [{"idTag": tag, "idTagInfo": desired[tag]} for tag in sorted(desired)]
    return _send("Full", desired_version - _parts(len(full), size) + 1, full[:size], version)


def _changes(
    desired: Mapping[str, TagInfo], confirmed: Mapping[str, TagInfo]
) -> list[dict[str, Any]]:
    changed = [
        {"idTag": tag, "idTagInfo": info}
        for tag, info in desired.items()
        if confirmed.get(tag) != info
    ]
    removed = [{"idTag": tag} for tag in confirmed if tag not in desired]
    return sorted([*changed, *removed], key=lambda entry: entry["idTag"])


def _parts(entries: int, size: int) -> int:
    return max(1, -(-entries // size))


def _send(
    update_type: str, list_version: int, entries: list[dict[str, Any]], version: OcppVersion
) -> Command:
    if version is OcppVersion.V201:
        payload = {
            "versionNumber": list_version,
            "updateType": update_type,
            "localAuthorizationList": [_entry_v201(entry) for entry in entries],
        }
    else:
        payload = {
            "listVersion": list_version,
            "updateType": update_type,
            "localAuthorizationList": entries,
        }
    return Command("SendLocalList", payload)


def _entry_v201(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry in 2.0.1 names; without ``idTagInfo`` (removed) without ``idTokenInfo``."""
    made: dict[str, Any] = {"idToken": id_token(entry["idTag"])}
    info: TagInfo | None = entry.get("idTagInfo")
    if info is not None:
        token_info: dict[str, Any] = {"status": info["status"]}
        if "expiryDate" in info:
            token_info["cacheExpiryDateTime"] = info["expiryDate"]
        if "parentIdTag" in info:
            token_info["groupIdToken"] = id_token(info["parentIdTag"])
        made["idTokenInfo"] = token_info
    return made
