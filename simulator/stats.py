"""Fleet counters, a mergeable latency histogram, and the progress and summary text.

Every process of a fleet keeps one ``FleetStats`` that its stations update in
place; snapshots travel between processes and are summed with ``combine``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

_SUB_BITS = 4  # 16 buckets per power of two: at most 6 % between bucket edges
_SUB = 1 << _SUB_BITS
_EXACT = _SUB << 1  # below 32 µs every microsecond has its own bucket
_MAX_BITS = 36  # about 19 hours; anything longer lands in the last bucket
SIZE = (_MAX_BITS - _SUB_BITS - 1) * _SUB + _EXACT


def _bucket(micros: int) -> int:
    if micros < _EXACT:
        return max(micros, 0)
    shift = micros.bit_length() - _SUB_BITS - 1
    return min(shift * _SUB + (micros >> shift), SIZE - 1)


def _bounds(index: int) -> tuple[int, int]:
    """The smallest and largest microsecond value of a bucket."""
    if index < _EXACT:
        return index, index
    shift = index // _SUB - 1
    mantissa = index - shift * _SUB
    return mantissa << shift, ((mantissa + 1) << shift) - 1


class Histogram:
    """CALL→answer latencies in log-linear microsecond buckets (HDR-histogram style)."""

    __slots__ = ("counts",)

    def __init__(self, counts: list[int] | None = None) -> None:
        self.counts = counts if counts is not None else [0] * SIZE

    def add(self, micros: int) -> None:
        self.counts[_bucket(micros)] += 1

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]

    def since(self, earlier: Histogram) -> Histogram:
        """The samples added after ``earlier`` was copied from this histogram."""
        return Histogram([a - b for a, b in zip(self.counts, earlier.counts, strict=True)])

    @property
    def total(self) -> int:
        return sum(self.counts)

    def quantile_ms(self, q: float) -> float | None:
        """The ``q`` quantile in milliseconds (bucket midpoint), None when empty."""
        total = self.total
        if not total:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                low, high = _bounds(index)
                return (low + high) / 2000
        raise AssertionError("unreachable: rank <= total")

    def buckets(self) -> list[tuple[int, int, int]]:
        """Non-empty buckets as (lowest µs, highest µs, count)."""
        return [(*_bounds(i), count) for i, count in enumerate(self.counts) if count]


@dataclass(slots=True)
class FleetStats:
    """Counters of one process, or the sum over processes.

    ``connected`` and ``sessions_active`` are gauges; everything else only grows.
    ``latency`` leaves out the answers that arrive once the fleet is stopping.
    """

    stations: int = 0
    stations_v201: int = 0  # of those, speaking OCPP 2.0.1
    connected: int = 0
    connects: int = 0  # successful WebSocket handshakes
    connect_failures: int = 0
    disconnects: int = 0  # connections lost without the simulator asking for it
    drops: int = 0  # connections dropped on purpose (--reconnect-rate)
    frames_sent: int = 0
    frames_received: int = 0
    calls_sent: int = 0
    calls_answered: int = 0  # CALLRESULTs and CALLERRORs to our CALLs, stopping or not
    resends: int = 0  # transaction messages sent again, same message id, after a reconnect
    csms_calls: int = 0  # CALLs the CSMS sent us
    call_errors: int = 0  # CALLERRORs the CSMS sent us
    timeouts: int = 0
    protocol_errors: int = 0  # malformed or unexpected frames
    sessions_started: int = 0
    sessions_completed: int = 0  # StopTransaction answered
    sessions_active: int = 0
    energy_wh: int = 0  # of completed sessions
    faults: int = 0
    cpu_seconds: float = 0.0
    last_error: str = ""
    latency: Histogram = field(default_factory=Histogram)
    _cpu_start: float = field(default_factory=time.process_time, repr=False)

    @property
    def errors(self) -> int:
        return (
            self.connect_failures
            + self.disconnects
            + self.call_errors
            + self.timeouts
            + self.protocol_errors
        )

    def snapshot(self) -> FleetStats:
        """A copy of this process's live counters, with its CPU time so far."""
        return replace(
            self,
            latency=Histogram(list(self.latency.counts)),
            cpu_seconds=time.process_time() - self._cpu_start,
        )

    @classmethod
    def combine(cls, parts: list[FleetStats]) -> FleetStats:
        """The sum of snapshots from several processes."""
        total = cls()
        for part in parts:
            for f in _SUMMED:
                setattr(total, f, getattr(total, f) + getattr(part, f))
            total.latency.merge(part.latency)
            total.last_error = part.last_error or total.last_error
        return total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: counters, latency quantiles in ms and the non-empty buckets."""
        data: dict[str, Any] = {f: getattr(self, f) for f in _SUMMED}
        data["errors"] = self.errors
        data["last_error"] = self.last_error
        data["latency_ms"] = {name: self.latency.quantile_ms(q) for name, q in _QUANTILES.items()}
        data["latency_samples"] = self.latency.total
        data["latency_buckets_us"] = self.latency.buckets()
        return data


_SUMMED = tuple(
    f.name for f in fields(FleetStats) if f.name not in ("last_error", "latency", "_cpu_start")
)
_QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "p99.9": 0.999, "max": 1.0}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


class Progress:
    """Turns successive snapshots into one status line every ``interval`` seconds."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.started = time.monotonic()
        self._due = self.started + interval
        self._last_time = self.started
        self._last = FleetStats()

    def due_in(self) -> float:
        return max(0.0, self._due - time.monotonic())

    def line(self, stats: FleetStats) -> str | None:
        """The status line if one is due, else None."""
        now = time.monotonic()
        if now < self._due:
            return None
        self._due = now + self.interval
        elapsed = now - self._last_time
        last, self._last, self._last_time = self._last, stats, now
        recent = stats.latency.since(last.latency)
        text = (
            f"{now - self.started:6.0f}s  connected {stats.connected}/{stats.stations}"
            f"  sent {(stats.frames_sent - last.frames_sent) / elapsed:.1f} frames/s"
            f"  latency p50 {_ms(recent.quantile_ms(0.5))} p99 {_ms(recent.quantile_ms(0.99))}"
            f"  sessions {stats.sessions_active} active {stats.sessions_completed} done"
            f"  errors {stats.errors}"
            f"  cpu {100 * (stats.cpu_seconds - last.cpu_seconds) / elapsed:.0f}%"
        )
        if stats.errors > last.errors and stats.last_error:
            text += f"  (last: {stats.last_error})"
        return text


def summary(stats: FleetStats, elapsed: float) -> str:
    latency = stats.latency
    lines = [
        f"simulated {stats.stations} charge points ({stats.stations_v201} OCPP 2.0.1)"
        f" for {elapsed:.0f} s",
        f"  connections  {stats.connects} made, {stats.connect_failures} failed,"
        f" {stats.disconnects} lost, {stats.drops} dropped on purpose",
        f"  frames       {stats.frames_sent} sent, {stats.frames_received} received,"
        f" {stats.csms_calls} CSMS calls answered, {stats.resends} resent",
        f"  latency      p50 {_ms(latency.quantile_ms(0.5))}  p99 {_ms(latency.quantile_ms(0.99))}"
        f"  p99.9 {_ms(latency.quantile_ms(0.999))}  max {_ms(latency.quantile_ms(1.0))}"
        f"  ({latency.total} answers)",
        f"  sessions     {stats.sessions_started} started, {stats.sessions_completed} completed,"
        f" {stats.sessions_active} open at exit, {stats.energy_wh / 1000:.1f} kWh delivered",
        f"  errors       {stats.call_errors} CALLERRORs, {stats.timeouts} timeouts,"
        f" {stats.protocol_errors} bad frames; {stats.faults} simulated faults",
        f"  cpu          {stats.cpu_seconds:.1f} s"
        f" ({100 * stats.cpu_seconds / max(elapsed, 1e-9):.0f}% of one core)",
    ]
    if stats.last_error:
        lines.append(f"  last error   {stats.last_error}")
    return "\n".join(lines)
