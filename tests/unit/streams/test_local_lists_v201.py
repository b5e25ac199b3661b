"""Local lists of OCPP 2.0.1 charge points: the planner's 2.0.1 messages (valid against the
2.0.1 schemas) and their answers derived into the same list state and entries as 1.6."""

from __future__ import annotations

from datetime import UTC, datetime

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import LocalListState
from chargestream.streams.local_list_plan import (
    ASK_LENGTHS_V201,
    CHECK_VERSION,
    check,
    tag_info,
    update,
)
from tests.ocpp201_frames import valid, valid_as
from tests.unit.streams.test_derive_local_lists import derived, on_list, refused
from tests.unit.streams.test_derive_reservations import command
from tests.unit.streams.test_derive_v201 import Log201, booted

V201 = OcppVersion.V201
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHECKED = LocalListState("CP-1", T0, version=0, generation="g0", checked_at=T0)
BLOCKED = tag_info("Blocked", datetime(2030, 1, 1, tzinfo=UTC), "P")


def test_the_checks_in_201_messages() -> None:
    assert check(None, T0, V201) == CHECK_VERSION
    assert valid("GetLocalListVersion", CHECK_VERSION.payload) == {}
    asked = check(CHECKED, T0, V201)
    assert asked == ASK_LENGTHS_V201
    assert asked is not None and asked.action == "GetVariables"
    assert valid("GetVariables", asked.payload)["getVariableData"] == [
        {"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": "ItemsPerMessage"}}
    ]


def test_a_full_list_in_201_names() -> None:
    desired = {"A": tag_info("Accepted", None, None), "B": BLOCKED}
    sent = update(7, desired, None, CHECKED, V201)
    assert sent.action == "SendLocalList"
    assert valid("SendLocalList", sent.payload) == {
        "versionNumber": 7,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idToken": {"idToken": "A", "type": "Central"}, "idTokenInfo": {"status": "Accepted"}},
            {
                "idToken": {"idToken": "B", "type": "Central"},
                "idTokenInfo": {
                    "status": "Blocked",
                    "cacheExpiryDateTime": "2030-01-01T00:00:00.000Z",
                    "groupIdToken": {"idToken": "P", "type": "Central"},
                },
            },
        ],
    }


def test_a_differential_removes_without_id_token_info() -> None:
    confirmed = {"A": tag_info("Accepted", None, None), "B": BLOCKED}
    state = LocalListState("CP-1", T0, version=6, generation="g6", checked_at=T0)
    sent = update(7, {"B": BLOCKED}, confirmed, state, V201)
    assert valid("SendLocalList", sent.payload) == {
        "versionNumber": 7,
        "updateType": "Differential",
        "localAuthorizationList": [{"idToken": {"idToken": "A", "type": "Central"}}],
    }


def send(log: Log201, version: int, desired: dict[str, dict[str, str]], status: str) -> None:
    payload = update(version, desired, None, CHECKED, V201).payload
    command(log, "SendLocalList", payload, valid_as("SendLocalListResponse", {"status": status}))


def test_an_accepted_201_send_local_list_derives_the_version_and_entries() -> None:
    log = booted()
    send(log, 9, {"A": tag_info("Accepted", None, None), "B": BLOCKED}, "Accepted")
    state, entries = derived(log)
    assert (state.version, state.last_status, state.last_sent_version) == (9, "Accepted", 9)
    assert on_list(state, entries) == {"A": "Accepted", "B": "Blocked"}
    (blocked,) = [e for e in entries if e.id_tag == "B"]
    assert (blocked.expiry_date, blocked.parent_id_tag) == (datetime(2030, 1, 1, tzinfo=UTC), "P")


def test_a_failed_201_send_local_list_makes_the_entries_unknown() -> None:
    log = booted()
    send(log, 9, {"A": tag_info("Accepted", None, None)}, "Accepted")
    send(log, 10, {"A": tag_info("Accepted", None, None)}, "VersionMismatch")
    state, _ = derived(log)
    assert (state.version, state.generation, state.last_status) == (9, None, "VersionMismatch")


def test_get_local_list_version_and_items_per_message() -> None:
    log = booted()
    answer = valid_as("GetLocalListVersionResponse", {"versionNumber": 4})
    command(log, "GetLocalListVersion", {}, answer)
    got = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeValue": "50",
                "component": {"name": "LocalAuthListCtrlr"},
                "variable": {"name": "ItemsPerMessage"},
            }
        ]
    }
    command(log, "GetVariables", ASK_LENGTHS_V201.payload, valid_as("GetVariablesResponse", got))
    state, _ = derived(log)
    assert (state.version, state.supported, state.send_max_length) == (4, True, 50)
    assert state.checked_at is not None and state.lengths_checked_at is not None


def test_an_unsupported_local_list_or_a_refused_get_variables() -> None:
    log = booted()
    refused(log, "GetLocalListVersion", "NotSupported")
    state, _ = derived(log)
    assert (state.supported, state.last_status) == (False, "NotSupported")

    log = booted()
    refused(log, "GetVariables", "NotImplemented", ASK_LENGTHS_V201.payload)
    state, _ = derived(log)
    assert (state.send_max_length, state.lengths_checked_at is not None) == (None, True)
