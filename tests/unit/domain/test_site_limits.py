"""Dividing a site's limit: equal shares, capacities, minimums, pausing, units, rounding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargestream.domain.records import MeterValue, Site
from chargestream.domain.site_limits import (
    SiteSession,
    allocate,
    divide,
    measured_power_w,
    round_down,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def site(**fields: float) -> Site:
    return Site("depot", ("CP-1", "CP-2", "CP-3"), T0, **fields)  # type: ignore[arg-type]


def session(
    n: int, capacity: float | None = None, phases: int | None = None, started: int | None = None
) -> SiteSession:
    start = T0 + timedelta(minutes=n if started is None else started)
    return SiteSession(f"CP-{n}", 1, 100 + n, start, capacity, phases)


def amperes(site_: Site, *sessions: SiteSession) -> list[float]:
    return [share.limit_a for share in allocate(site_, sessions)]


def test_one_session_gets_the_whole_site_limit() -> None:
    assert amperes(site(max_current_a=32), session(1)) == [32.0]


def test_sessions_share_equally() -> None:
    assert amperes(site(max_current_a=32), session(1), session(2)) == [16.0, 16.0]


def test_a_session_never_gets_more_than_its_connector_takes() -> None:
    assert amperes(site(max_current_a=32), session(1, capacity=16)) == [16.0]


def test_what_a_capped_session_leaves_goes_to_the_others() -> None:
    shares = amperes(site(max_current_a=60), session(1, capacity=10), session(2), session(3))
    assert shares == [10.0, 25.0, 25.0]


def test_shares_are_rounded_down_so_they_never_exceed_the_limit() -> None:
    shares = amperes(site(max_current_a=32), session(1), session(2), session(3))
    assert shares == [10.6, 10.6, 10.6]
    assert sum(shares) <= 32


def test_no_session_gets_less_than_the_minimum_and_the_newest_waits() -> None:
    shares = amperes(site(max_current_a=16), session(1), session(2), session(3))
    assert shares == [8.0, 8.0, 0.0]  # 3 x 6 A do not fit in 16 A: the newest is paused


def test_the_minimum_is_the_sites_setting() -> None:
    shares = amperes(site(max_current_a=20, min_current_a=10), session(1), session(2), session(3))
    assert shares == [10.0, 10.0, 0.0]


def test_a_connector_below_the_minimum_gets_its_capacity() -> None:
    assert amperes(site(max_current_a=32), session(1, capacity=4), session(2)) == [4.0, 28.0]


def test_every_session_at_its_capacity_leaves_the_rest_unused() -> None:
    shares = amperes(site(max_current_a=100), session(1, capacity=16), session(2, capacity=32))
    assert shares == [16.0, 32.0]


def test_a_session_of_unknown_start_counts_as_the_oldest() -> None:
    unknown = SiteSession("CP-9", 1, 99, None)
    shares = allocate(site(max_current_a=6), [session(1), unknown])
    assert [share.limit_a for share in shares] == [0.0, 6.0]


def test_watts_convert_at_the_nominal_voltage_and_the_phases() -> None:
    [share] = allocate(site(max_current_a=16), [session(1)])
    assert (share.limit_a, share.limit_w, share.phases) == (16.0, 11040.0, 3)
    [single] = allocate(site(max_current_a=16), [session(1, phases=1)])
    assert (single.limit_w, single.phases) == (3680.0, 1)


def test_a_power_limit_divides_watts_with_capacities_in_watts() -> None:
    shares = allocate(site(max_power_w=22000), [session(1, capacity=16, phases=1), session(2)])
    assert [(s.limit_w, s.limit_a) for s in shares] == [(3680.0, 16.0), (18320.0, 26.5)]


def test_a_power_limit_keeps_each_sessions_minimum_in_its_own_watts() -> None:
    # 6 A: 1380 W on one phase, 4140 W on three; 5520 W of minimums fit in 5600 W
    shares = allocate(site(max_power_w=5600), [session(1, phases=1), session(2)])
    assert [s.limit_w for s in shares] == [1460.0, 4140.0]
    assert sum(s.limit_w for s in shares) <= 5600


def test_no_sessions_no_shares() -> None:
    assert allocate(site(max_current_a=32), []) == []


@pytest.mark.parametrize("limit", [7.0, 13.3, 32.0, 63.9, 200.0])
def test_divide_never_exceeds_the_limit(limit: float) -> None:
    values = divide(limit, [6.0] * 5, [None, 10.0, 16.0, None, 3.0], [0, 1, 2, 3, 4])
    assert sum(round_down(v, 0.1) for v in values) <= limit + 1e-9
    admitted = [v for v in values if v > 0]
    assert all(v >= 3.0 for v in admitted)


def test_measured_power_is_the_latest_total_or_the_sum_of_phases() -> None:
    def value(seconds: int, number: float, unit: str = "W", phase: str | None = None) -> MeterValue:
        return MeterValue(
            "CP-1",
            1,
            T0 + timedelta(seconds=seconds),
            "Power.Active.Import",
            number,
            unit,
            transaction_id=1,
            phase=phase,
        )

    assert measured_power_w([]) is None
    assert measured_power_w([value(0, 5000), value(10, 7.2, "kW")]) == 7200.0
    phases = [value(10, 1000, phase=p) for p in ("L1-N", "L2-N", "L3-N")]
    assert measured_power_w([value(0, 9), *phases]) == 3000.0
