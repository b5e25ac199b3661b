"""The password-protected reconnect storm: its pure parts (benchmarks/storm.py, faults.py)."""

from __future__ import annotations

import base64

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from benchmarks.faults import STORM_SOURCES, markdown, storm_summary, storm_verdict
from benchmarks.storm import StormResult, basic_auth, retry_after


def test_storm_charge_points_send_basic_auth_with_their_id() -> None:
    header = basic_auth("STORM-00001", "storm-password-0123456789")
    assert header is not None
    scheme, token = header["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == "STORM-00001:storm-password-0123456789"
    assert basic_auth("STORM-00001", None) is None


def refusal(status: int, retry: str | None = None) -> InvalidStatus:
    headers = Headers() if retry is None else Headers({"Retry-After": retry})
    return InvalidStatus(Response(status, "refused", headers, b""))


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (refusal(429, "7"), 7.0),
        (refusal(503, "12"), 12.0),
        (refusal(503), 1.0),
        (refusal(503, "soon"), 1.0),
        (refusal(401), None),
        (refusal(404, "5"), None),
        (TimeoutError(), None),
    ],
)
def test_only_429_and_503_say_when_to_come_back(error: BaseException, wait: float | None) -> None:
    assert retry_after(error) == wait


def test_the_storm_comes_from_many_addresses_within_the_per_address_limit() -> None:
    assert len(set(STORM_SOURCES)) == len(STORM_SOURCES) == 500
    assert all(source.startswith("127.") for source in STORM_SOURCES)
    # 10,000 charge points: 20 per address, one second's worth of the default limit
    assert 10_000 / len(STORM_SOURCES) <= 20


def storm_row(scenario: str, booted: list[float]) -> dict[str, object]:
    summary = storm_summary(StormResult(booted=booted, ready=booted), registered=len(booted))
    return {
        "scenario": scenario,
        "quick": True,
        "stations": len(booted),
        "registered_before": len(booted),
        "password": True,
        "storm": summary,
        "probe_latency_ms": {"before": {}, "during": {}, "after": {}},
        "cpu_pct_storm": {"gateway": {"cpu_pct": 97.5}, "machine": {"cpu_pct": 188.0}},
    }


def test_a_cold_storm_is_held_to_the_target_too() -> None:
    for scenario in ("reconnect-storm-cold", "reconnect-storm"):
        late = storm_row(scenario, [1.0, 95.0])
        assert storm_verdict(late)["reasons"] == ["all registered again after 95.0 s > 60"]
        assert storm_verdict(storm_row(scenario, [1.0, 59.0])) == {"holds": True, "reasons": []}


def test_both_storms_are_reported_with_their_cpu() -> None:
    runs = []
    for scenario in ("reconnect-storm", "reconnect-storm-cold"):
        row = storm_row(scenario, [1.0, 2.0])
        row["verdict"] = storm_verdict(row)
        runs.append(row)
    text = markdown({"runs": runs})
    assert "| drop, passwords | 2 | 2 |" in text
    assert "| gateway restarted (cold), passwords | 2 | 2 |" in text
    assert "| 98 / 188 |" in text
