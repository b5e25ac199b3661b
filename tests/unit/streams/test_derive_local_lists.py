"""Derivation of local lists: what SendLocalList, GetLocalListVersion and GetConfiguration
answers (and CALLERRORs) show of the list a charge point holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from chargestream.domain.frames import Direction, EventKind, MessageType
from chargestream.domain.records import LocalListEntry, LocalListState
from chargestream.streams.state import ChargePointDerivation
from tests.unit.streams.test_derive import CP, Log, at, final, run
from tests.unit.streams.test_derive_reservations import command, started_log


def send_list(log: Log, version: int, kind: str, entries: list[Any], status: str | None) -> None:
    payload = {"listVersion": version, "updateType": kind, "localAuthorizationList": entries}
    command(log, "SendLocalList", payload, None if status is None else {"status": status})


def refused(log: Log, action: str, code: str, payload: dict[str, Any] | None = None) -> None:
    """A CSMS command the charge point answered with a CALLERROR ``code``."""
    command(log, action, payload or {}, None)
    message_id = log.events[-1].event.message_id
    log.add(
        EventKind.FRAME,
        orjson.dumps([4, message_id, code, "", {}]).decode(),
        0,
        direction=Direction.IN,
        message_type=MessageType.CALLERROR,
        message_id=message_id,
        action=action,
    )


def derived(log: Log) -> tuple[LocalListState, list[LocalListEntry]]:
    state, records = run(log.events)
    held = final(records).values()
    (list_state,) = [r for r in held if isinstance(r, LocalListState)]
    assert state.local_list == list_state
    assert ChargePointDerivation.from_json(state.to_json()) == state
    return list_state, [r for r in held if isinstance(r, LocalListEntry)]


def on_list(state: LocalListState, entries: list[LocalListEntry]) -> dict[str, str | None]:
    return {e.id_tag: e.status for e in entries if e.generation == state.generation}


A = {"idTag": "A", "idTagInfo": {"status": "Accepted"}}
B = {
    "idTag": "B",
    "idTagInfo": {"status": "Blocked", "expiryDate": "2030-01-01T00:00:00Z", "parentIdTag": "P"},
}


def test_an_accepted_full_then_differential_sets_version_and_entries() -> None:
    log = started_log()
    send_list(log, 9, "Full", [A, B], "Accepted")
    send_list(
        log,
        10,
        "Differential",
        [{"idTag": "A"}, {"idTag": "C", "idTagInfo": A["idTagInfo"]}],
        "Accepted",
    )
    state, entries = derived(log)
    assert (state.version, state.last_status, state.last_sent_version) == (10, "Accepted", 10)
    assert on_list(state, entries) == {"A": None, "B": "Blocked", "C": "Accepted"}
    (blocked,) = [e for e in entries if e.id_tag == "B"]
    assert (blocked.expiry_date, blocked.parent_id_tag) == (datetime(2030, 1, 1, tzinfo=UTC), "P")


def test_a_new_full_replaces_the_entries_of_the_one_before() -> None:
    log = started_log()
    send_list(log, 1, "Full", [A, B], "Accepted")
    send_list(log, 2, "Full", [{"idTag": "C", "idTagInfo": {"status": "Accepted"}}], "Accepted")
    state, entries = derived(log)
    assert on_list(state, entries) == {"C": "Accepted"}


def test_failed_or_version_mismatch_makes_the_entries_unknown_and_keeps_the_version() -> None:
    for answer in ("Failed", "VersionMismatch"):
        log = started_log()
        send_list(log, 1, "Full", [A], "Accepted")
        send_list(log, 2, "Differential", [B], answer)
        state, _ = derived(log)
        assert (state.version, state.generation, state.last_status) == (1, None, answer)
        assert (state.last_sent_version, state.status_at) == (2, at(5))


def test_an_unanswered_send_local_list_derives_nothing() -> None:
    log = started_log()
    send_list(log, 1, "Full", [A], None)
    _, records = run(log.events)
    assert not [r for r in records if isinstance(r, LocalListState | LocalListEntry)]


def test_get_local_list_version_keeps_known_entries_only_for_the_same_version() -> None:
    log = started_log()
    send_list(log, 5, "Full", [A], "Accepted")
    command(log, "GetLocalListVersion", {}, {"listVersion": 5})
    state, _ = derived(log)
    assert (state.version, state.checked_at, state.supported) == (5, at(5), True)
    assert state.generation is not None
    command(log, "GetLocalListVersion", {}, {"listVersion": 3})
    state, _ = derived(log)
    assert (state.version, state.generation) == (3, None)
    command(log, "GetLocalListVersion", {}, {"listVersion": 0})
    state, entries = derived(log)
    assert state.version == 0 and state.generation is not None
    assert on_list(state, entries) == {}  # empty, and known to be


def test_no_local_list_minus_one_or_a_not_supported_error() -> None:
    log = started_log()
    command(log, "GetLocalListVersion", {}, {"listVersion": -1})
    assert not derived(log)[0].supported
    command(log, "GetLocalListVersion", {}, {"listVersion": 0})
    assert derived(log)[0].supported
    refused(log, "SendLocalList", "NotImplemented")
    state, _ = derived(log)
    assert (state.supported, state.last_status) == (False, "NotSupported")
    log = started_log()
    refused(log, "GetLocalListVersion", "InternalError")  # says nothing about support
    assert derived(log)[0].supported


def test_get_configuration_gives_the_length_limits() -> None:
    log = started_log()
    keys = {"key": ["SendLocalListMaxLength", "LocalAuthListMaxLength"]}
    answer = {
        "configurationKey": [
            {"key": "SendLocalListMaxLength", "readonly": True, "value": "20"},
            {"key": "LocalAuthListMaxLength", "readonly": True, "value": "nonsense"},
        ]
    }
    command(log, "GetConfiguration", keys, answer)
    state, _ = derived(log)
    assert (state.send_max_length, state.list_max_length, state.lengths_checked_at) == (
        20,
        None,
        at(3),
    )


def test_a_get_configuration_of_other_keys_is_not_about_the_list() -> None:
    log = started_log()
    command(log, "GetConfiguration", {"key": ["HeartbeatInterval"]}, {"configurationKey": []})
    _, records = run(log.events)
    assert not [r for r in records if isinstance(r, LocalListState)]


def test_a_refused_get_configuration_for_the_lengths_counts_as_asked() -> None:
    log = started_log()
    refused(log, "GetConfiguration", "NotImplemented")
    state, _ = derived(log)
    assert state.lengths_checked_at == at(2)
    assert state.charge_point_id == CP
