"""Counters behind the gateway's limits, pure and with an injected clock.

Each answers one question for a key (a source address, a connection) at a moment ``now``
(monotonic seconds, given by the caller): may this go on, and if not, for how long not.
Nothing here sleeps, reads a clock or touches a socket, so the rules are unit tested with
made-up times. Memory is bounded: a limiter keeps at most ``max_keys`` keys and forgets
the ones whose window has passed first.

The limits themselves (what is counted, the defaults, what the charge point gets) are in
docs/configuration.md under "Limits".
"""

from __future__ import annotations

import ipaddress
import math
from collections import deque

DEFAULT_MAX_KEYS = 100_000


def address_key(address: str | None) -> str:
    """The key a source address is counted under: IPv4 as is, IPv6 by its /64 network.

    One IPv6 host usually holds a whole /64, so counting single addresses would let it
    choose a fresh one per attempt. Unparseable addresses (unix sockets, tests) count as
    themselves.
    """
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def retry_after(seconds: float) -> int:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return max(1, math.ceil(seconds))


class FailureWindow:
    """At most ``limit`` failures per key in any ``window`` seconds (a sliding window).

    Once a key has ``limit`` failures in the window, ``blocked_for`` is the time until the
    oldest of them leaves the window; everything from the key waits until then, whatever
    it brings. ``limit`` 0 switches the limit off.
    """

    def __init__(self, limit: int, window: float, *, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def blocked_for(self, key: str, now: float) -> float:
        """Seconds ``key`` must still wait (0: it may try)."""
        if self.limit <= 0:
            return 0.0
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        self._expire(failures, now)
        if not failures:
            del self._failures[key]
            return 0.0
        if len(failures) < self.limit:
            return 0.0
        return failures[0] + self.window - now

    def failed(self, key: str, now: float) -> None:
        if self.limit <= 0:
            return
        failures = self._failures.get(key)
        if failures is None:
            if len(self._failures) >= self._max_keys:
                self._forget_idle(now)
            failures = self._failures[key] = deque(maxlen=self.limit)
        self._expire(failures, now)
        failures.append(now)

    def __len__(self) -> int:
        return len(self._failures)

    def _expire(self, failures: deque[float], now: float) -> None:
        while failures and failures[0] <= now - self.window:
            failures.popleft()

    def _forget_idle(self, now: float) -> None:
        """Drop keys without a failure in the window; if none, the oldest half."""
        for key in [k for k, f in self._failures.items() if not f or f[-1] <= now - self.window]:
            del self._failures[key]
        if len(self._failures) >= self._max_keys:
            for key in list(self._failures)[: len(self._failures) // 2 + 1]:
                del self._failures[key]


class TokenBucket:
    """``rate`` events per second with bursts of ``burst``, for one key.

    ``take`` spends a token if there is one; otherwise it answers how long until there
    is. ``rate`` 0 switches the limit off.
    """

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._tokens = self.burst
        self._at = now

    def take(self, now: float) -> float:
        """0 if the event may happen (a token is spent), else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def full_at(self, now: float) -> bool:
        """True when the bucket would be full at ``now`` (its key can be forgotten)."""
        return self.rate <= 0 or self._tokens + (now - self._at) * self.rate >= self.burst


class RatePerKey:
    """A ``TokenBucket`` per key (``rate`` per second, bursts of ``burst``), bounded."""

    def __init__(
        self, rate: float, burst: float | None = None, *, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        self.rate = rate
        self.burst = rate if burst is None else burst
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float) -> float:
        """0 if ``key`` may go on (counted), else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
        return bucket.take(now)

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_full(self, now: float) -> None:
        """Buckets that have refilled carry no information; if none, drop the oldest half."""
        for key in [k for k, bucket in self._buckets.items() if bucket.full_at(now)]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            for key in list(self._buckets)[: len(self._buckets) // 2 + 1]:
                del self._buckets[key]
