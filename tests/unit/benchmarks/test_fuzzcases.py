"""The fuzz engine's pure parts: valid payloads are valid, the oracle, replay by seed."""

from __future__ import annotations

import pytest

from benchmarks.fuzzcases import (
    CHARGE_POINT_ACTIONS,
    KNOWN_ISSUES,
    Answer,
    Expect,
    FrameFuzzer,
    HandshakeFuzzer,
    check_answer,
    classify,
    payload_valid,
    read_answer,
)

LIMIT = 65536


def fuzzer(
    seed: int = 7, *, lenient: bool = False, avoid: frozenset[str] = frozenset()
) -> FrameFuzzer:
    return FrameFuzzer(
        seed, "w0", max_frame_bytes=LIMIT, hard_limit=16 * LIMIT, lenient=lenient, avoid=avoid
    )


def test_a_case_depends_only_on_seed_stream_and_index() -> None:
    first, again, other = fuzzer(7), fuzzer(7), fuzzer(8)
    assert [first.case(i) for i in range(200)] == [again.case(i) for i in range(200)]
    assert [first.case(i).data for i in range(50)] != [other.case(i).data for i in range(50)]
    assert HandshakeFuzzer(3, protected="P", password="x" * 20).case(9) == HandshakeFuzzer(
        3, protected="P", password="x" * 20
    ).case(9)


def test_valid_cases_are_valid_against_the_official_schemas_and_cover_every_action() -> None:
    seen = set()
    engine = fuzzer()
    for index in range(3000):
        case = engine.case(index)
        if case.kind == "valid":
            assert isinstance(case.data, str)
            assert classify(case.data) == case.expect, case.describe()
            seen.add(case.expect.action)
    assert seen == set(CHARGE_POINT_ACTIONS)


@pytest.mark.parametrize(
    ("text", "answers", "ids", "outcome"),
    [
        ('[2,"a","Heartbeat",{}]', 1, {"a"}, "result"),
        ('[2,"a","Heartbeat",{"x":1}]', 1, {"a"}, "error"),
        ('[2,"a","Reset",{"type":"Hard"}]', 1, {"a"}, "error"),  # sent by a CSMS only
        ('[2,"a","NoSuchAction",{}]', 1, {"a"}, "error"),
        ('[2,"a","Heartbeat"]', 1, {"a"}, "error"),
        ('[2,7,"Heartbeat",{}]', 1, {"-1"}, "error"),
        ('[5,"a","Heartbeat",{}]', 1, {"a", "-1"}, "error"),
        ('[3,"a",{}]', 0, None, "any"),
        ('[4,"a","GenericError","",{}]', 0, None, "any"),
        ("[3]", None, None, "any"),  # a broken answer: answering it is up to the gateway
        ('[2,"a","Heartbeat",{}', 1, None, "error"),  # not JSON
        ("{}", 1, {"-1"}, "error"),
        ('[2,"a","Heartbeat",{"x":1e400}]', 1, None, "any"),  # beyond a double
        ('[2,"a","Authorize",{"idTag":"\\ud800"}]', 1, None, "any"),  # lone surrogate
        ('[2.0,"a","Heartbeat",{}]', 1, {"a", "-1"}, "any"),
    ],
)
def test_the_oracle_says_what_the_gateway_owes(
    text: str, answers: int | None, ids: set[str] | None, outcome: str
) -> None:
    expect = classify(text)
    assert (expect.answers, expect.outcome) == (answers, outcome)
    assert expect.ids == (frozenset(ids) if ids is not None else None)


def test_a_lenient_charge_point_may_get_a_result_for_a_schema_violation() -> None:
    assert classify('[2,"a","Heartbeat",{"x":1}]', lenient=True).outcome == "any"


def test_a_date_time_only_one_validator_may_accept_is_uncertain() -> None:
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    assert (
        payload_valid("StatusNotification", {**payload, "timestamp": "2026-11-27T10:00Z"}) is None
    )
    assert payload_valid("StatusNotification", {**payload, "timestamp": "2026-11-27T10:00:00Z"})


def test_answers_are_read_strictly_and_checked_against_the_response_schema() -> None:
    assert read_answer('[3,"a",{}]') == Answer(3, "a", {})
    for broken in ('[3,"a"]', '[4,"a","Oops","",{}]', '[2,"a","X",{}]', "[3,"):
        with pytest.raises(ValueError):
            read_answer(broken)
    expect = Expect(1, frozenset({"a"}), "result", "Heartbeat")
    assert check_answer(expect, Answer(3, "a", {"currentTime": "2026-11-27T10:00:00Z"}), "") is None
    assert "HeartbeatResponse" in str(check_answer(expect, Answer(3, "a", {}), ""))
    assert "CALLRESULT" in str(check_answer(expect, Answer(4, "a", {}, "GenericError"), ""))
    assert "answer id" in str(check_answer(expect, Answer(3, "b", {}), ""))


def test_the_fixed_findings_inputs_are_sent_again_and_only_known_issues_can_be_avoided() -> None:
    texts = [t for t in (fuzzer().case(i).data for i in range(4000)) if isinstance(t, str)]
    assert any("18446744073709551615" in t for t in texts)  # uint64
    assert any("9999-12-31T23:59:59.999Z" in t for t in texts)  # far dates
    assert any("[" * 300 in t or '{"a":' * 300 in t for t in texts)  # 255-1024 levels deep
    assert not KNOWN_ISSUES  # none open
    with pytest.raises(ValueError):
        fuzzer(avoid=frozenset({"no-such-issue"}))
