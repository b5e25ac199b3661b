"""The gateway's limit counters, driven by made-up times (gateway/limits.py)."""

from __future__ import annotations

import pytest

from chargestream.gateway.limits import (
    FailureWindow,
    RatePerKey,
    TokenBucket,
    address_key,
    retry_after,
)

# -- failed authentications per source address


def test_failures_below_the_limit_block_nothing() -> None:
    window = FailureWindow(limit=10, window=60.0)
    for second in range(9):
        window.failed("10.0.0.7", float(second))
    assert window.blocked_for("10.0.0.7", 9.0) == 0.0


def test_the_tenth_failure_blocks_the_address_until_the_first_leaves_the_window() -> None:
    window = FailureWindow(limit=10, window=60.0)
    for second in range(10):  # failures at t = 0 .. 9
        window.failed("10.0.0.7", float(second))

    assert window.blocked_for("10.0.0.7", 10.0) == pytest.approx(50.0)
    assert window.blocked_for("10.0.0.7", 59.5) == pytest.approx(0.5)
    # t = 60: the failure at 0 has left the window: one more try is allowed
    assert window.blocked_for("10.0.0.7", 60.0) == 0.0
    window.failed("10.0.0.7", 60.5)  # and it failed: blocked until the one at 1 leaves
    assert window.blocked_for("10.0.0.7", 60.5) == pytest.approx(0.5)


def test_failures_are_counted_per_address() -> None:
    window = FailureWindow(limit=2, window=60.0)
    window.failed("10.0.0.7", 0.0)
    window.failed("10.0.0.7", 1.0)
    assert window.blocked_for("10.0.0.7", 2.0) > 0
    assert window.blocked_for("10.0.0.8", 2.0) == 0.0


def test_a_failure_window_of_limit_zero_never_blocks() -> None:
    window = FailureWindow(limit=0, window=60.0)
    for second in range(100):
        window.failed("10.0.0.7", float(second))
    assert window.blocked_for("10.0.0.7", 100.0) == 0.0
    assert len(window) == 0


def test_failure_window_forgets_idle_addresses_when_it_is_full() -> None:
    window = FailureWindow(limit=3, window=60.0, max_keys=100)
    for n in range(100):
        window.failed(f"10.0.{n}.1", 0.0)
    window.failed("10.1.0.1", 120.0)  # the others are idle by now
    assert len(window) == 1


def test_failure_window_stays_bounded_when_every_address_is_busy() -> None:
    window = FailureWindow(limit=3, window=60.0, max_keys=100)
    for n in range(1000):
        window.failed(f"10.{n // 256}.{n % 256}.1", 1.0)
    assert len(window) <= 100


# -- rates


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=4.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [0.0] * 4
    assert bucket.take(0.0) == pytest.approx(0.5)  # one token every 0.5 s
    assert bucket.take(0.5) == 0.0
    assert bucket.take(0.5) == pytest.approx(0.5)


def test_token_bucket_refills_only_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=3.0, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    allowed = [bucket.take(1000.0) == 0.0 for _ in range(5)]
    assert allowed == [True, True, True, False, False]


def test_token_bucket_of_rate_zero_never_limits() -> None:
    bucket = TokenBucket(rate=0.0, burst=0.0, now=0.0)
    assert all(bucket.take(0.0) == 0.0 for _ in range(10_000))


def test_token_bucket_does_not_go_back_with_a_clock_that_does() -> None:
    bucket = TokenBucket(rate=1.0, burst=1.0, now=10.0)
    assert bucket.take(10.0) == 0.0
    assert bucket.take(5.0) > 0  # no tokens from an earlier time


def test_rate_per_key_counts_each_address_on_its_own() -> None:
    rate = RatePerKey(2.0)
    assert [rate.take("10.0.0.7", 0.0) == 0.0 for _ in range(3)] == [True, True, False]
    assert rate.take("10.0.0.8", 0.0) == 0.0
    assert rate.take("10.0.0.7", 0.5) == 0.0  # refilled one token


def test_rate_per_key_stays_bounded_and_forgets_refilled_buckets_first() -> None:
    rate = RatePerKey(1.0, max_keys=100)
    for n in range(100):
        rate.take(f"10.0.{n}.1", 0.0)
    rate.take("10.1.0.1", 10.0)  # every bucket has refilled by then
    assert len(rate) == 1
    for n in range(1000):
        rate.take(f"10.2.{n // 256}.{n % 256}", 10.0)
    assert len(rate) <= 100


def test_rate_per_key_of_zero_keeps_nothing() -> None:
    rate = RatePerKey(0.0)
    assert rate.take("10.0.0.7", 0.0) == 0.0
    assert len(rate) == 0


# -- keys and headers


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("not an address", "not an address"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_address_key_counts_ipv6_by_its_64_network(address: str | None, key: str) -> None:
    assert address_key(address) == key


@pytest.mark.parametrize(("seconds", "header"), [(0.01, 1), (1.0, 1), (1.2, 2), (59.1, 60)])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(
    seconds: float, header: int
) -> None:
    assert retry_after(seconds) == header
