"""The local list planner: what to send next, from the assignment, the id tags and what the
log shows (checks first, Differential or Full, parts of SendLocalListMaxLength)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chargestream.domain.records import (
    IdTag,
    IdTagStatus,
    LocalListAssignment,
    LocalListEntry,
    LocalListMode,
    LocalListState,
)
from chargestream.streams.local_list_plan import (
    ASK_LENGTHS,
    CHECK_VERSION,
    DEFAULT_SEND_LENGTH,
    check,
    confirmed_entries,
    desired_entries,
    problem,
    tag_info,
    update,
    waiting,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OK = {"status": "Accepted"}
CHECKED = LocalListState(
    "CP-1", T0, version=0, generation="g0", checked_at=T0, lengths_checked_at=T0
)


def tags_list(version: int = 10_000, *tags: str) -> LocalListAssignment:
    return LocalListAssignment("CP-1", LocalListMode.TAGS, version, T0, tags)


def entries(*names: str) -> dict[str, dict[str, str]]:
    return {name: OK for name in names}


def test_the_version_is_checked_after_each_connect_then_the_lengths_asked_once() -> None:
    assert check(None, T0) == CHECK_VERSION
    assert check(replace(CHECKED, checked_at=None), T0) == CHECK_VERSION
    assert check(CHECKED, T0 + timedelta(seconds=1)) == CHECK_VERSION  # reconnected since
    assert check(replace(CHECKED, lengths_checked_at=None), T0) == ASK_LENGTHS
    assert check(replace(CHECKED, lengths_checked_at=None, supported=False), T0) is None
    assert check(CHECKED, T0) is None


def test_nothing_is_sent_in_sync_unsupported_or_right_after_a_failure() -> None:
    assert waiting(tags_list(0), CHECKED, T0)
    assert waiting(tags_list(), replace(CHECKED, supported=False), T0)
    failed = replace(CHECKED, last_status="Failed", status_at=T0)
    assert waiting(tags_list(), failed, T0 + timedelta(seconds=59))
    assert not waiting(tags_list(), failed, T0 + timedelta(seconds=60))
    assert not waiting(tags_list(), CHECKED, T0)


def test_desired_entries_keep_blocked_and_expired_tags_with_their_status() -> None:
    store = [
        IdTag("A"),
        IdTag("B", IdTagStatus.BLOCKED),
        IdTag("C", IdTagStatus.ACCEPTED, datetime(2020, 1, 1, 0, 0, 0, 123456, UTC), "A"),
        IdTag("D"),
    ]
    expected = {
        "A": OK,
        "B": {"status": "Blocked"},
        "C": {"status": "Accepted", "expiryDate": "2020-01-01T00:00:00.123Z", "parentIdTag": "A"},
    }
    assert desired_entries(tags_list(1, "A", "B", "C", "MISSING"), store) == expected
    everything = LocalListAssignment("CP-1", LocalListMode.ALL, 1, T0)
    assert set(desired_entries(everything, store)) == {"A", "B", "C", "D"}


def test_confirmed_entries_are_those_of_the_generation_not_removed() -> None:
    rows = [
        LocalListEntry("CP-1", "A", "g1", "Accepted"),
        LocalListEntry("CP-1", "B", "g0", "Accepted"),  # an older Full's
        LocalListEntry("CP-1", "C", "g1"),  # removed
    ]
    state = replace(CHECKED, version=3, generation="g1")
    assert confirmed_entries(state, rows) == {"A": OK}
    assert confirmed_entries(replace(state, generation=None), rows) is None


def test_a_known_list_gets_a_differential_of_changes_and_removals() -> None:
    state = replace(CHECKED, version=10_000)
    desired = {"A": {"status": "Blocked"}, "B": OK, "D": OK}
    command = update(20_000, desired, entries("A", "B", "C"), state)
    assert command.action == "SendLocalList"
    assert command.payload == {
        "listVersion": 20_000,
        "updateType": "Differential",
        "localAuthorizationList": [
            {"idTag": "A", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "C"},
            {"idTag": "D", "idTagInfo": OK},
        ],
    }


def test_no_change_but_the_version_is_an_empty_differential() -> None:
    command = update(20_000, entries("A"), entries("A"), replace(CHECKED, version=10_000))
    assert command.payload["updateType"] == "Differential"
    assert command.payload["localAuthorizationList"] == []


def test_an_unknown_list_gets_a_full() -> None:
    command = update(10_000, entries("B", "A"), None, replace(CHECKED, generation=None))
    assert command.payload == {
        "listVersion": 10_000,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idTag": "A", "idTagInfo": OK},
            {"idTag": "B", "idTagInfo": OK},
        ],
    }


def test_parts_of_send_local_list_max_length_with_versions_up_to_the_desired_one() -> None:
    state = replace(CHECKED, version=5, generation=None, send_max_length=2)
    desired = entries("A", "B", "C", "D", "E")
    first = update(10_000, desired, None, state)
    assert (first.payload["updateType"], first.payload["listVersion"]) == ("Full", 9_998)
    assert [e["idTag"] for e in first.payload["localAuthorizationList"]] == ["A", "B"]
    after_first = replace(state, version=9_998, generation="g1")
    second = update(10_000, desired, entries("A", "B"), after_first)
    assert (second.payload["updateType"], second.payload["listVersion"]) == ("Differential", 9_999)
    assert [e["idTag"] for e in second.payload["localAuthorizationList"]] == ["C", "D"]
    third = update(
        10_000, desired, entries("A", "B", "C", "D"), replace(after_first, version=9_999)
    )
    assert third.payload["listVersion"] == 10_000
    assert [e["idTag"] for e in third.payload["localAuthorizationList"]] == ["E"]


def test_a_differential_without_room_for_its_parts_becomes_a_full() -> None:
    state = replace(CHECKED, version=9_999, send_max_length=1)
    command = update(10_000, entries("A", "B"), {}, state)  # 2 parts, 1 version of room
    assert (command.payload["updateType"], command.payload["listVersion"]) == ("Full", 9_999)


def test_parts_default_to_the_default_length() -> None:
    desired = entries(*(f"T{i:04}" for i in range(DEFAULT_SEND_LENGTH + 1)))
    command = update(10_000, desired, None, replace(CHECKED, generation=None))
    assert len(command.payload["localAuthorizationList"]) == DEFAULT_SEND_LENGTH
    assert command.payload["listVersion"] == 9_999


def test_a_list_longer_than_the_charge_point_holds_is_a_problem() -> None:
    state = replace(CHECKED, list_max_length=2)
    assert problem(entries("A", "B"), state) is None
    assert "at most 2" in (problem(entries("A", "B", "C"), state) or "")
    assert problem(10_001, None) == "more than 10000 id tags"


def test_tag_info_writes_utc_milliseconds() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, 678999, UTC)
    assert tag_info("Expired", moment, None) == {
        "status": "Expired",
        "expiryDate": "2030-01-02T03:04:05.678Z",
    }
