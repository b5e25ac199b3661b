"""Gateway → Kafka → Faust → Cassandra: ``python -m benchmarks.pipeline`` (``make bench-pipeline``).

For each fleet size, a fresh stack (``chargestream bootstrap``, then workers, gateways and
the API as real processes with ``CHARGESTREAM_MODE=stack``, on their own topic, keyspace and
worker group) runs on a local Kafka and Cassandra (``.services-bench``). Simulated charge
points (``chargestream.simulator``) connect over a ramp-up, charge with MeterValues every
``--meter-interval`` seconds, and after a settling time the load is held for
``--duration`` seconds. Every 5 s the benchmark samples CPU and memory per component
(/proc), the worker group's lag (committed against end offsets) and the gateways' frame
counters. When the load has stopped and the lag is drained, it reconciles the simulator's
transaction ledger with the sessions the API serves, and for a sample of charge points
matches the frames in Kafka with their Cassandra rows (counts and the delay from gateway
receive to ``WRITETIME``). Results go to docs/benchmarks/pipeline.json (merged by
configuration) and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cassandra.cluster import Cluster
from confluent_kafka.admin import AdminClient

from benchmarks.gateway import machine_facts
from benchmarks.loadgen import raise_file_limit
from benchmarks.measure import (
    LagProbe,
    ProcSampler,
    Sample,
    children_of,
    fetch,
    frames_in,
    processed,
)
from benchmarks.reconcile import (
    check_store,
    is_charge_point_call,
    read_frames,
    read_ledger,
    reconcile_sessions,
    topic_messages,
)
from benchmarks.stackrun import Stack, StackConfig
from chargestream.services import ServiceSet
from chargestream.services.cassandra import CASSANDRA_VERSION
from chargestream.services.kafka import KAFKA_VERSION
from chargestream.simulator import FleetConfig, FleetStats, run_processes
from chargestream.simulator.cli import add_protocol_option

RESULTS = Path("docs/benchmarks/pipeline.json")
SAMPLE_EVERY = 5.0  # seconds
SESSION_MINUTES = (5.0, 15.0)  # long sessions, short idle: most connectors charge
IDLE_SECONDS = (10.0, 60.0)
SAMPLED_STATIONS = 300  # charge points whose frames are matched with their rows
STATIONS_PER_PROCESS = 5_000  # simulator processes: one per this many stations
DEFAULT_PARTITIONS = 3  # CHARGESTREAM_FRAMES_PARTITIONS's default
EARLIER_PARTITIONS = 12  # of the results recorded before the count was recorded
DEFAULT_LINGER_MS = 10  # CHARGESTREAM_KAFKA_LINGER_MS's default
EARLIER_LINGER_MS = 5  # of the results recorded before the linger was a setting
# The fleet dials from 16 loopback addresses: a ramp-up of 150 charge points a second is then
# ~9 new connections per address and second, within the gateway's default limit (20/s), and
# 20,000 charge points stay far from one address's ~28,000 ephemeral ports.
SOURCE_ADDRESSES = tuple(f"127.0.0.{n}" for n in range(2, 18))
MAX_LAG_SECONDS = 10.0  # lag at the end of the hold, in seconds of input: "bounded"
TAIL = 10.0  # seconds of load after the hold, so the hold never sees the stop
SESSION_COUNTS = ("lost", "doubled", "mismatched", "extra", "unlisted")  # must all be 0
SIMULATOR_ERRORS = ("connect_failures", "disconnects", "call_errors", "timeouts", "protocol_errors")


@dataclass(frozen=True)
class ServiceLevels:
    """What a configuration must achieve to hold (besides no simulator errors, a drained
    lag, stored meter values and every acknowledged CALL in Kafka)."""

    store_p99_ms: float  # gateway receive -> Cassandra
    call_p99_ms: float | None = None  # CALL -> CALLRESULT as the charge points see it
    max_lag_s: float = MAX_LAG_SECONDS  # at the end of the hold, in seconds of input
    zero_counts: tuple[str, ...] = SESSION_COUNTS  # session reconciliation counts


LEVELS = ServiceLevels(store_p99_ms=500.0)


def default_ramp_up(stations: int) -> float:
    """Seconds to connect a fleet: 150 charge points a second, at least 10 s."""
    return max(10.0, stations / 150)


@dataclass(frozen=True)
class Plan:
    """One configuration to measure."""

    stations: int
    gateways: int
    workers: int
    meter_interval: float
    ramp_up: float
    settle: float  # seconds from the end of the ramp-up to the start of the hold
    hold: float
    profile: float  # seconds of py-spy after the hold (0: none)
    drain_timeout: float  # seconds the workers get to catch up once the load has stopped
    quick: bool
    session_minutes: tuple[float, float] = SESSION_MINUTES  # a charging session's length
    idle_seconds: tuple[float, float] = IDLE_SECONDS  # between two sessions
    v201_percent: int = 0  # of the charge points, how many in a hundred speak OCPP 2.0.1
    partitions: int = DEFAULT_PARTITIONS  # of the run's frames topic (and Faust changelog)
    linger_ms: int = DEFAULT_LINGER_MS  # the gateways' CHARGESTREAM_KAFKA_LINGER_MS

    @property
    def warmup(self) -> float:
        return self.ramp_up + self.settle


@dataclass
class Timeline:
    """What every 5 s sample saw, relative to the start of the load."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        self.rows.append(row)

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        return [r for r in self.rows if start <= r["t"] <= end]

    def add_sample(self, sample: Sample, **row: Any) -> dict[str, float]:
        """A row with ``sample``'s CPU (% of one core) and RSS (MB) per component; its CPU."""
        cpu = {name: round(100 * used / sample.span, 1) for name, used in sample.cpu.items()}
        rss = {name: round(used / 2**20) for name, used in sample.rss.items()}
        self.add(**row, cpu_pct=cpu, rss_mb=rss)
        return cpu

    def log_rate(self) -> float:
        """Log events a second between the last two rows (0 before there are two)."""
        if len(self.rows) < 2:
            return 0.0
        last, before = self.rows[-1], self.rows[-2]
        return (last["log_end"] - before["log_end"]) / (last["t"] - before["t"])


class Load:
    """The simulated fleet, run by ``run_processes`` in a thread; the latest stats on hand."""

    def __init__(self, config: FleetConfig, processes: int) -> None:
        self.config = config
        self.processes = processes
        self.latest = FleetStats()
        self.final: FleetStats | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fleet", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.final = run_processes(
                self.config, self.processes, log_level="WARNING", on_snapshot=self._update
            )
        except BaseException as error:  # reported by the main thread
            self.error = error

    def _update(self, stats: FleetStats) -> None:
        self.latest = stats

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


# -- one configuration


# (seconds since the load started, the stack, a function returning the fleet's latest stats)
OnSample = Callable[[float, Stack, Callable[[], FleetStats]], None]


def run_plan(
    plan: Plan,
    services: ServiceSet,
    root: Path,
    port_base: int = 29000,
    on_sample: OnSample | None = None,
) -> dict[str, Any]:
    """Start a fresh stack, load it, measure, reconcile, stop it; the result row.

    ``on_sample`` runs after every 5 s sample (fault injection) and gets a function that
    returns the fleet's latest stats (also once the run is over: its final stats). The
    stack's ports are ``port_base`` (OCPP), + 80 (API) and + 81 (health) and up.
    """
    run_id = f"{plan.stations}_{datetime.now(UTC):%H%M%S}"
    config = StackConfig(
        run_id=run_id,
        kafka_bootstrap=services.kafka_bootstrap,
        cassandra_port=services.cassandra_contact[1],
        gateways=plan.gateways,
        workers=plan.workers,
        partitions=plan.partitions,
        linger_ms=plan.linger_ms,
        work_dir=root / run_id,
        ocpp_port=port_base,
        api_port=port_base + 80,
        health_port=port_base + 81,
    )
    say(f"== {plan.stations} stations, {plan.gateways} gateway(s), {plan.workers} worker(s)")
    stack = Stack(config)
    load: Load | None = None
    try:
        stack.start()
        say(f"stack up: topic {config.topic}, keyspace {config.keyspace}")
        fleet = fleet_config(plan, config.ocpp_url, config.work_dir / "ledger.jsonl")
        load = Load(fleet, simulator_processes(plan.stations))
        return _measure(plan, stack, services, load, on_sample)
    finally:
        if load is not None and load.running:
            _stop_simulator(stack)
        stack.stop()
        drop(config, services)


def simulator_processes(stations: int) -> int:
    return max(1, -(-stations // STATIONS_PER_PROCESS))


def fleet_config(plan: Plan, url: str, ledger: Path) -> FleetConfig:
    """The plan's fleet dialing ``url``; its transactions go to ``ledger`` (emptied)."""
    ledger.write_bytes(b"")
    return FleetConfig(
        url=url,
        stations=plan.stations,
        v201_percent=plan.v201_percent,
        meter_interval=plan.meter_interval,
        duration=plan.warmup + plan.hold + plan.profile + TAIL,
        ramp_up=plan.ramp_up,
        session_minutes=plan.session_minutes,
        idle_seconds=plan.idle_seconds,
        fault_rate=0.0,
        reconnect_rate=0.0,
        seed=plan.stations,
        ledger_file=ledger,
        source_addresses=SOURCE_ADDRESSES,
    )


def _simulator_pids(stack: Stack) -> list[int]:
    """This process's children that are not the stack's: the simulator and its helpers."""
    ours = {pid for role in ("gateway", "worker", "api") for pid in stack.pids(role)}
    return [pid for pid in children_of(os.getpid()) if pid not in ours]


def _stop_simulator(stack: Stack) -> None:
    for pid in _simulator_pids(stack):
        os.kill(pid, signal.SIGTERM)


def _measure(
    plan: Plan, stack: Stack, services: ServiceSet, load: Load, on_sample: OnSample | None
) -> dict[str, Any]:
    config = stack.config
    pids = {s.name: s.pid for s in services.status()}
    sampler = ProcSampler(
        {
            "gateway": lambda: stack.pids("gateway"),
            "worker": lambda: stack.pids("worker"),
            "api": lambda: stack.pids("api"),
            "kafka": lambda: [pids["kafka"]] if pids["kafka"] else [],
            "cassandra": lambda: [pids["cassandra"]] if pids["cassandra"] else [],
            "simulator": lambda: _simulator_pids(stack),
            "benchmark": lambda: [os.getpid()],
        }
    )
    lag = LagProbe(config.kafka_bootstrap, config.topic, config.group)
    timeline = Timeline()
    hold = (plan.warmup, plan.warmup + plan.hold)
    marks: dict[str, Any] = {}
    profiles: dict[str, ProfileJob] = {}
    started = time.monotonic()
    load.start()
    while load.running:
        time.sleep(SAMPLE_EVERY - (time.monotonic() - started) % SAMPLE_EVERY)
        elapsed = time.monotonic() - started
        stack.check_alive()
        _sample(elapsed, stack, sampler, lag, load, timeline)
        if on_sample is not None:
            on_sample(elapsed, stack, lambda: load.latest)
        for name, at in (("start", hold[0]), ("end", hold[1])):
            if name not in marks and elapsed >= at:
                marks[name] = (load.latest, time.time(), time.monotonic())
                marks[f"{name}_gateway_calls"] = call_buckets(stack.health_urls("gateway"))
        if plan.profile and "end" in marks and not profiles:
            profiles = _profile(stack, plan.profile, config.work_dir)
    if load.error is not None:
        raise RuntimeError(f"simulator failed: {load.error!r}")
    stopped = time.monotonic() - started
    say("load stopped; waiting for the workers to drain the log")
    drain = _drain(lag, time.monotonic(), plan.drain_timeout)
    say(f"lag: {drained_cell(drain)}")
    if "end" not in marks:
        raise RuntimeError("the load ended before the hold did")
    row = summarize(plan, sampler, timeline, marks, hold, stopped, drain)
    row["simulator"] = simulator_totals(load.final or load.latest)
    row["reconciliation"] = None  # what is stored is still changing: nothing to count
    if drain is not None:
        row["reconciliation"] = _reconcile(plan, config, services, marks)
        row["reconciliation"]["acknowledged"] = _acknowledged(
            config, row["simulator"]["calls_answered"]
        )
    row["profile"] = {name: job.result() for name, job in profiles.items()}
    row["verdict"] = verdict(row, LEVELS)
    row["timeline"] = timeline.rows
    return row


def _sample(
    elapsed: float,
    stack: Stack,
    sampler: ProcSampler,
    lag: LagProbe,
    load: Load,
    timeline: Timeline,
) -> None:
    sample = sampler.sample()
    end, committed = lag.sample()
    stats = load.latest
    cpu = timeline.add_sample(
        sample,
        t=round(elapsed, 1),
        frames_in=frames_in(stack.health_urls("gateway")),
        log_end=end,
        committed=committed,
        processed=processed(stack.health_urls("worker")),
        sim_frames_sent=stats.frames_sent,
        sim_connected=stats.connected,
    )
    say(
        f"{elapsed:5.0f}s  connected {stats.connected:6d}  log +{timeline.log_rate():6.0f} ev/s"
        f"  lag {end - committed:7d}  sessions {stats.sessions_active:6d} active"
        f"  errors {stats.errors}  cpu gw {cpu['gateway']:.0f}% wk {cpu['worker']:.0f}%"
        f" api {cpu['api']:.0f}% kafka {cpu['kafka']:.0f}% cass {cpu['cassandra']:.0f}%"
        f" sim {cpu['simulator']:.0f}%  machine {100 * sample.machine / sample.span:.0f}%"
    )


def _drain(lag: LagProbe, since: float, timeout: float) -> float | None:
    """Seconds until the group has committed everything in the topic; None on timeout."""
    while time.monotonic() - since < timeout:
        end, committed = lag.sample()
        if committed >= end:
            return time.monotonic() - since
        time.sleep(1.0)
    return None


def _profile(stack: Stack, seconds: float, work_dir: Path) -> dict[str, ProfileJob]:
    """py-spy on the first worker and the first gateway, in the background."""
    jobs = {}
    for role in ("worker", "gateway"):
        pids = stack.pids(role)
        if pids:
            jobs[role] = ProfileJob(pids[0], seconds, work_dir / f"{role}.pyspy.txt")
    say(f"profiling {', '.join(jobs)} for {seconds:.0f} s (py-spy)")
    return jobs


class ProfileJob:
    """``py-spy record --gil`` of one process: only samples holding the GIL, i.e. Python at
    work, 100 a second; ``result`` summarizes the stacks."""

    RATE = 100

    def __init__(self, pid: int, seconds: float, output: Path) -> None:
        self.output = output
        self.seconds = int(seconds)
        argv = ["record", "--pid", str(pid), "--duration", str(self.seconds), "--gil"]
        argv += ["--rate", str(self.RATE), "--full-filenames", "--format", "raw"]
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("py-spy")), *argv, "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def result(self) -> dict[str, Any]:
        self.process.wait()
        if not self.output.exists():
            return {"error": f"py-spy exited with {self.process.returncode}"}
        summary = summarize_profile(self.output.read_text())
        summary["gil_busy_pct"] = round(100 * summary["samples"] / (self.RATE * self.seconds), 1)
        return summary


def summarize_profile(collapsed: str, top: int = 15) -> dict[str, Any]:
    """Shares of the samples by package of the innermost Python frame, and by function."""
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        leaf = stack.rsplit(";", 1)[-1]
        samples = int(count)
        total += samples
        functions[_short(leaf)] += samples
        packages[_package(leaf)] += samples

    def shares(counter: Counter[str]) -> dict[str, float]:
        return {name: round(100 * n / max(total, 1), 1) for name, n in counter.most_common(top)}

    return {
        "samples": total,
        "by_package_pct": shares(packages),
        "top_functions_pct": shares(functions),
    }


def _location(frame: str) -> tuple[str, str]:
    """'func (/path/to/file.py:12)' -> ('func', '/path/to/file.py')."""
    name, _, where = frame.rpartition(" (")
    return name, where.rstrip(")").rpartition(":")[0]


def _short(frame: str) -> str:
    name, path = _location(frame)
    return f"{name} ({_package(frame)}/{Path(path).name})"


def _package(frame: str) -> str:
    """The installed package, project folder or standard module the frame's file is in."""
    path = Path(_location(frame)[1])
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if Path.cwd() in path.parents:
        return path.relative_to(Path.cwd()).parts[0]
    library = next((p for p in parts if p.startswith("python3")), None)
    if library is not None:
        return "stdlib " + parts[parts.index(library) + 1].removesuffix(".py")
    return str(path)


def summarize(
    plan: Plan,
    sampler: ProcSampler,
    timeline: Timeline,
    marks: dict[str, Any],
    hold: tuple[float, float],
    stopped: float,
    drain: float | None,
) -> dict[str, Any]:
    """The result row from the samples: rows carry ``frames_in``, ``log_end`` and
    ``committed`` (what the views have derived); ``marks`` the fleet's stats and the
    gateways' CALL histograms at the start and the end of the hold."""
    inside = timeline.between(*hold)
    first, last = inside[0], inside[-1]
    span = max(last["t"] - first["t"], 1e-9)
    log_rate = (last["log_end"] - first["log_end"]) / span
    lags = [r["log_end"] - r["committed"] for r in inside]
    whole = [r["log_end"] - r["committed"] for r in timeline.rows]
    before, after = marks["start"][0], marks["end"][0]
    window = after.latency.since(before.latency)
    seconds = marks["end"][2] - marks["start"][2]
    connected = [r["sim_connected"] for r in inside]
    frames = None
    if first["frames_in"] is not None and last["frames_in"] is not None:
        frames = round((last["frames_in"] - first["frames_in"]) / span, 1)
    return {
        "stations": plan.stations,
        "gateways": plan.gateways,
        "workers": plan.workers,
        "meter_interval": plan.meter_interval,
        "quick": plan.quick,
        "v201_percent": plan.v201_percent,
        "partitions": plan.partitions,
        "linger_ms": plan.linger_ms,
        "ramp_up_s": plan.ramp_up,
        "settle_s": plan.settle,
        "hold_s": plan.hold,
        "load_s": round(stopped),
        "connected": {"min": min(connected), "max": max(connected)},  # during the hold
        "rates": {
            "frames_in_per_s": frames,  # CALLs (and answers) the gateways received
            "sim_sent_per_s": round((after.frames_sent - before.frames_sent) / seconds, 1),
            "log_events_per_s": round(log_rate, 1),  # CALLs with their answers + connects
            "committed_per_s": round((last["committed"] - first["committed"]) / span, 1),
        },
        "call_latency_ms": {
            name: _round(window.quantile_ms(q))
            for name, q in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0))
        },
        "calls_in_hold": window.total,
        "gateway_call_ms": bucket_quantiles(
            marks["start_gateway_calls"], marks["end_gateway_calls"]
        ),
        "lag": {
            "max_events_hold": max(lags),
            "max_events_run": max(whole),
            "end_of_hold_events": lags[-1],
            "max_seconds_hold": round(max(lags) / max(log_rate, 1e-9), 1),
            "drain_s": None if drain is None else round(drain, 1),
        },
        "components": sampler.window(marks["start"][2], marks["end"][2]),  # CPU % of one core
    }


def call_buckets(gateway_health_urls: list[str]) -> dict[float, float] | None:
    """The gateways' ``chargestream_call_seconds`` histogram (receive to answer sent, in the
    gateway): cumulative count per upper bound in seconds, summed; None if one is silent."""
    prefix = 'chargestream_call_seconds_bucket{le="'
    total: dict[float, float] = {}
    for url in gateway_health_urls:
        body = fetch(url.replace("/healthz", "/metrics"))
        if body is None:
            return None
        for line in body.decode().splitlines():
            if line.startswith(prefix):
                bound = float(line[len(prefix) :].split('"', 1)[0])
                total[bound] = total.get(bound, 0.0) + float(line.rsplit(" ", 1)[1])
    return total


def bucket_quantiles(
    before: dict[float, float] | None, after: dict[float, float] | None
) -> dict[str, float | int | None] | None:
    """Bucket bounds (ms) holding p50 and p99 of the answers between two histograms, and how
    many took more than 50 ms; None when a gateway restarted or did not answer."""
    if before is None or after is None or before.keys() != after.keys():
        return None
    counts = {bound: after[bound] - before[bound] for bound in sorted(after)}
    if any(n < 0 for n in counts.values()):
        return None
    total = counts[math.inf]

    def bound(q: float) -> float | None:
        if not total:
            return None
        first = next(b for b, n in counts.items() if n >= q * total)
        return None if first == math.inf else round(first * 1000, 1)

    return {
        "p50_le": bound(0.5),
        "p99_le": bound(0.99),
        "over_50ms": int(total - counts.get(0.05, total)),
        "answers": int(total),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def simulator_totals(stats: FleetStats) -> dict[str, Any]:
    names = (
        "stations",
        "connects",
        "connect_failures",
        "disconnects",
        "errors",
        "frames_sent",
        "calls_sent",
        "calls_answered",
        "call_errors",
        "timeouts",
        "protocol_errors",
        "resends",
        "sessions_started",
        "sessions_completed",
        "sessions_active",
        "cpu_seconds",
    )
    return {name: getattr(stats, name) for name in names} | {"last_error": stats.last_error}


def _reconcile(
    plan: Plan, config: StackConfig, services: ServiceSet, marks: dict[str, Any]
) -> dict[str, Any]:
    say("reconciling the ledger with the API")
    stations = [f"SIM-{n:05d}" for n in range(1, plan.stations + 1)]
    ledger = read_ledger(config.work_dir / "ledger.jsonl")
    sessions = asyncio.run(reconcile_sessions(config.api_url, config.api_headers, ledger, stations))
    sample = sorted(
        random.Random(plan.stations).sample(stations, min(SAMPLED_STATIONS, plan.stations))
    )
    say(f"matching the frames of {len(sample)} charge points with their Cassandra rows")
    meters, stops = read_frames(config.kafka_bootstrap, config.topic, sample)
    window = (int(marks["start"][1] * 1e6), int(marks["end"][1] * 1e6))
    store = check_store(services.cassandra_contact[1], config.keyspace, meters, stops, window)
    return {
        "sessions": sessions.__dict__,
        "store": store.to_dict(),
        "sampled_stations": len(sample),
    }


def _acknowledged(config: StackConfig, answered: int) -> dict[str, int]:
    """The charge points' CALLs in the topic against the answers the simulator received:
    the gateway logs a CALL before answering it, so none may be missing."""
    say("counting the charge points' CALLs in Kafka")
    events, logged = count_logged_calls(config.kafka_bootstrap, config.topic)
    return {
        "answered": answered,
        "in_kafka": logged,
        "events": events,  # with the copies of CALLs sent again after a reconnect
        "missing": max(answered - logged, 0),
    }


def count_logged_calls(bootstrap: str, topic: str) -> tuple[int, int]:
    """(CALL events from charge points in the topic, distinct (charge point, message id))."""
    events, distinct = 0, set[bytes]()
    for message in topic_messages(bootstrap, topic):
        headers = dict(message.headers() or ())
        if is_charge_point_call(headers):
            events += 1
            distinct.add(message.key() + b" " + headers.get("mid", b""))
    return events, len(distinct)


def verdict(row: dict[str, Any], levels: ServiceLevels) -> dict[str, Any]:
    """Whether a result row meets the service levels, and if not, why."""
    lag_s = row["lag"]["end_of_hold_events"] / max(row["rates"]["log_events_per_s"], 1e-9)
    simulator = row["simulator"]
    call_p99 = row["call_latency_ms"]["p99"]
    failures = {
        f"lag at the end of the hold {lag_s:.0f} s of input": lag_s > levels.max_lag_s,
        "simulator errors": any(simulator[k] for k in SIMULATOR_ERRORS),
        "lag not drained, nothing reconciled": row["reconciliation"] is None,
    }
    if levels.call_p99_ms is not None:
        failures[f"CALL→CALLRESULT p99 {call_p99} ms ≥ {levels.call_p99_ms:.0f}"] = (
            call_p99 is None or call_p99 >= levels.call_p99_ms
        )
    if row["reconciliation"] is not None:
        failures |= _reconciliation_failures(row["reconciliation"], levels)
    reasons = [reason for reason, failed in failures.items() if failed]
    return {"holds": not reasons, "reasons": reasons}


def _reconciliation_failures(found: dict[str, Any], levels: ServiceLevels) -> dict[str, bool]:
    sessions, store = found["sessions"], found["store"]
    p99 = store["meter_delay_ms"]["p99"]
    counts = ", ".join(f"{k} {sessions[k]}" for k in levels.zero_counts if sessions[k])
    failures = {
        f"receive→Cassandra p99 {p99} ms ≥ {levels.store_p99_ms:.0f}": p99 is None
        or p99 >= levels.store_p99_ms,
        f"sessions {counts}": bool(counts),
        "meter value rows missing or extra": bool(
            store["frames_missing"]
            or store["rows_found"] != store["rows_expected"]
            or store["rows_extra"]
        ),
    }
    acknowledged = found.get("acknowledged")
    if acknowledged is not None:
        missing = acknowledged["missing"]
        failures[f"{missing} acknowledged CALLs not in Kafka"] = missing > 0
    return failures


def drop(config: StackConfig, services: ServiceSet) -> None:
    """Delete the run's keyspace and topics (the stack is stopped)."""
    cluster = Cluster(["127.0.0.1"], port=services.cassandra_contact[1], protocol_version=5)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {config.keyspace}", timeout=120)
    finally:
        cluster.shutdown()
    admin = AdminClient({"bootstrap.servers": config.kafka_bootstrap})
    topics = [config.topic, f"{config.group}-cp-derivation-changelog"]
    for future in admin.delete_topics(topics, operation_timeout=30).values():
        future.exception()  # a topic that was never created is fine


# -- reporting


def machine() -> dict[str, Any]:
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return {
        **machine_facts(),
        "ram_gb": round(int(memory) / 2**20, 1),
        "kafka": KAFKA_VERSION,
        "cassandra": CASSANDRA_VERSION,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def configuration(row: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a pipeline run's configuration in the results file."""
    fields = ("stations", "gateways", "workers", "meter_interval", "quick")
    return (
        *(row[k] for k in fields),
        row.get("v201_percent", 0),
        row.get("partitions", EARLIER_PARTITIONS),
        row.get("linger_ms", EARLIER_LINGER_MS),
    )


def merge(
    output: Path,
    rows: list[dict[str, Any]],
    info: dict[str, Any],
    key: Callable[[dict[str, Any]], tuple[Any, ...]] = configuration,
) -> dict[str, Any]:
    """The results file with these rows replacing earlier ones of the same configuration."""
    report = orjson.loads(output.read_bytes()) if output.exists() else {"runs": []}
    fresh = {key(row) for row in rows}
    kept = [row for row in report["runs"] if key(row) not in fresh]
    runs = sorted(kept + rows, key=key)
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": info, "runs": runs}


def markdown(report: dict[str, Any]) -> str:
    """Three tables: throughput and latency, resources, reconciliation."""
    lines = [
        "| stations | gw/wk | frames in/s | log events/s | CALL→CALLRESULT p50 / p99 / p99.9 ms"
        " | receive→Cassandra p50 / p99 / max ms | max lag (events, s) | drained in | holds |",
        "|---:|:-:|---:|---:|---|---|---|---:|:-:|",
    ]
    for run in report["runs"]:
        call, store = run["call_latency_ms"], _delays(run)
        lag = run["lag"]
        lines.append(
            f"| {_name(run)} | {run['gateways']}/{run['workers']}"
            f" | {number_cell(run['rates']['frames_in_per_s'])}"
            f" | {number_cell(run['rates']['log_events_per_s'])}"
            f" | {ms_cell(call['p50'])} / {ms_cell(call['p99'])} / {ms_cell(call['p99.9'])}"
            f" | {ms_cell(store['p50'])} / {ms_cell(store['p99'])} / {ms_cell(store['max'])}"
            f" | {lag['max_events_hold']:,} ({lag['max_seconds_hold']} s)"
            f" | {drained_cell(lag['drain_s']).removeprefix('drained in ')}"
            f" | {'yes' if run['verdict']['holds'] else 'no'} |"
        )
    roles = ("gateway", "worker", "api", "kafka", "cassandra", "simulator")
    lines += [
        "",
        "| stations | gw/wk | " + " | ".join(f"{r} CPU % / MB" for r in roles) + " | other CPU % |",
        "|---:|:-:|" + "---:|" * (len(roles) + 1),
    ]
    for run in report["runs"]:
        parts = run["components"]
        cells = " | ".join(f"{parts[r]['cpu_pct']:.0f} / {parts[r]['rss_mb']}" for r in roles)
        lines.append(
            f"| {_name(run)} | {run['gateways']}/{run['workers']} | {cells}"
            f" | {parts['other']['cpu_pct']:.0f} |"
        )
    lines += ["", *cpu_per_frame_table(report["runs"])]
    lines += [
        "",
        "| stations | gw/wk | sessions completed | lost | doubled | mismatched | extra | open"
        " | sampled frames | rows expected / found | missing frames | CALLs answered / in Kafka |",
        "|---:|:-:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for run in report["runs"]:
        if run["reconciliation"] is None:
            lines.append(f"| {_name(run)} | {run['gateways']}/{run['workers']} |" + " — |" * 10)
            continue
        s, m = run["reconciliation"]["sessions"], run["reconciliation"]["store"]
        lines.append(
            f"| {_name(run)} | {run['gateways']}/{run['workers']} | {s['ledger']:,} | {s['lost']}"
            f" | {s['doubled']} | {s['mismatched']} | {s['extra']} | {s['open']}"
            f" | {m['frames']:,} | {m['rows_expected']:,} / {m['rows_found']:,}"
            f" | {m['frames_missing']} | {acknowledged(run)} |"
        )
    return "\n".join(lines)


STACK_ROLES = ("gateway", "worker", "api", "kafka", "cassandra")  # the simulator excluded


def cpu_per_frame(run: dict[str, Any]) -> dict[str, float] | None:
    """Milliseconds of CPU per frame received, per component and for the stack (issue 14's
    measure); None when the gateways' frame counters were not read."""
    frames = run["rates"]["frames_in_per_s"]
    if not frames:
        return None
    parts = run["components"]
    costs = {role: 10 * parts[role]["cpu_pct"] / frames for role in (*STACK_ROLES, "simulator")}
    costs["stack"] = sum(costs[role] for role in STACK_ROLES)
    return {name: round(value, 3) for name, value in costs.items()}


def cpu_per_frame_table(runs: list[dict[str, Any]]) -> list[str]:
    columns = (*STACK_ROLES, "stack", "simulator")
    lines = [
        "| stations | gw/wk | frames in/s | "
        + " | ".join(f"{c} ms CPU/frame" for c in columns)
        + " |",
        "|---:|:-:|---:|" + "---:|" * len(columns),
    ]
    for run in runs:
        costs = cpu_per_frame(run)
        cells = " | ".join("—" if costs is None else f"{costs[c]:.2f}" for c in columns)
        lines.append(
            f"| {_name(run)} | {run['gateways']}/{run['workers']}"
            f" | {number_cell(run['rates']['frames_in_per_s'])} | {cells} |"
        )
    return lines


def acknowledged(run: dict[str, Any]) -> str:
    """'answered / in Kafka' CALLs, '—' for runs from before that was counted."""
    counts = (run["reconciliation"] or {}).get("acknowledged")
    return "—" if counts is None else f"{counts['answered']:,} / {counts['in_kafka']:,}"


def _delays(run: dict[str, Any]) -> dict[str, float | None]:
    if run["reconciliation"] is None:
        return {"p50": None, "p99": None, "max": None}
    return run["reconciliation"]["store"]["meter_delay_ms"]


def _name(run: dict[str, Any]) -> str:
    mixed = run.get("v201_percent", 0)
    partitions = run.get("partitions", EARLIER_PARTITIONS)
    linger = run.get("linger_ms", EARLIER_LINGER_MS)
    return (
        f"{run['stations']:,}"
        + (f" ({mixed} % 2.0.1)" if mixed else "")
        + (f" ({partitions} partitions)" if partitions != DEFAULT_PARTITIONS else "")
        + (f" (linger {linger} ms)" if linger != DEFAULT_LINGER_MS else "")
        + (" (quick)" if run["quick"] else "")
    )


def number_cell(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def drained_cell(value: float | None) -> str:
    return "not drained" if value is None else f"drained in {value:.0f} s"


def ms_cell(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def say(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


# -- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline", description=__doc__)
    add = parser.add_argument
    add("--stations", default="10000", help="fleet sizes, comma-separated (default 10000)")
    add("--meter-interval", type=float, default=10.0, help="seconds between MeterValues (10)")
    add("--duration", type=float, default=600.0, help="seconds the load is held (600)")
    add("--ramp-up", type=float, help="seconds to connect the fleet (default stations/150)")
    add("--settle", type=float, default=60.0, help="seconds after the ramp-up (60)")
    add("--quick", action="store_true", help="a 2-minute smoke run with 1,000 stations")
    add_protocol_option(parser)
    add("--gateways", type=int, default=1, help="gateway processes (1)")
    add("--workers", type=int, default=1, help="Faust workers (1)")
    add(
        "--partitions",
        type=int,
        default=DEFAULT_PARTITIONS,
        help=f"partitions of the frames topic ({DEFAULT_PARTITIONS})",
    )
    add(
        "--linger-ms",
        type=int,
        default=DEFAULT_LINGER_MS,
        help=f"the gateways' Kafka linger.ms ({DEFAULT_LINGER_MS})",
    )
    add("--profile", type=float, default=0.0, help="py-spy seconds after the hold (0: off)")
    add(
        "--drain-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the lag to drain after the load (600)",
    )
    add("--output", type=Path, default=RESULTS, help=f"results JSON (default {RESULTS})")
    add("--services-dir", default=".services-bench", help="Kafka/Cassandra files")
    add("--kafka-port", type=int, default=29092)
    add("--cassandra-port", type=int, default=29042)
    add("--port-base", type=int, default=29000, help="OCPP port; API +80, health +81 (29000)")
    return parser.parse_args(argv)


QUICK = (1000, 60.0, 30.0)  # --quick: charge points, hold and settle seconds


def plans(args: argparse.Namespace, quick: tuple[int, float, float] = QUICK) -> list[Plan]:
    """A plan per fleet size of the command line (``quick``: the one of ``--quick``)."""
    if args.quick:
        sizes, hold, settle = [quick[0]], quick[1], quick[2]
    else:
        sizes, hold, settle = [int(n) for n in args.stations.split(",")], args.duration, args.settle
    return [
        Plan(
            stations=n,
            gateways=args.gateways,
            workers=args.workers,
            meter_interval=args.meter_interval,
            ramp_up=args.ramp_up if args.ramp_up is not None else default_ramp_up(n),
            settle=settle,
            hold=hold,
            profile=args.profile,
            drain_timeout=args.drain_timeout,
            quick=args.quick,
            v201_percent=args.v201_percent,
            partitions=args.partitions,
            linger_ms=args.linger_ms,
        )
        for n in sizes
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_file_limit()
    info = machine()
    services = ServiceSet(args.services_dir, args.kafka_port, args.cassandra_port, echo=say)
    rows = []
    try:
        with services.held():
            for plan in plans(args):
                rows.append(run_plan(plan, services, services.base_dir / "runs", args.port_base))
                verdict = rows[-1]["verdict"]
                reasons = "; ".join(verdict["reasons"])
                say("holds" if verdict["holds"] else f"does not hold: {reasons}")
    finally:
        if rows:
            report = merge(args.output, rows, info)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
            print(markdown(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
