"""Faults under load, each followed by reconciliation: ``python -m benchmarks.faults``.

Scenarios (``--scenario a,b``; default all):

- ``gateway-kill``: two gateways; gateway 1 gets SIGKILL, its charge points reconnect to
  gateway 2 and resend what was unanswered; gateway 1 is started again.
- ``worker-kill``: the Faust worker gets SIGKILL and is started again.
- ``kafka-stop`` / ``cassandra-stop``: the service is stopped (SIGTERM) for 30 s and
  started again.
- ``reconnect-storm``: N registered charge points, each with a password (OCPP security
  profile 1, HTTP Basic auth), drop their connections at the same moment and register
  again at once; the time until all are registered again, and the latency of a probe
  fleet that stays connected (``benchmarks.storm``). The gateway remembers the passwords
  it verified, so this storm costs no password hash.
- ``reconnect-storm-cold``: the same, but the gateway process is restarted at the drop:
  it has forgotten every verified password and checks each one again.
  ``benchmarks.storm_embedded`` runs the same storm against ``chargestream run``.

The first four run ``benchmarks.pipeline.run_plan`` (a fresh stack, a simulated fleet,
drain, reconciliation of sessions and meter rows) with a hook that injects the fault once
the load has settled, samples every second while the fault lasts and until the stack has
recovered, and restarts whatever the fault left dead. Results go to
docs/benchmarks/faults.json (merged by scenario and size) and faults.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks import pipeline
from benchmarks.loadgen import raise_file_limit
from benchmarks.measure import LagProbe, ProcSampler, counter, fetch
from benchmarks.pipeline import Plan, default_ramp_up, say
from benchmarks.reconcile import quantiles
from benchmarks.stackrun import Stack, StackConfig
from benchmarks.storm import (
    INITIAL_DEADLINE,
    DriverSpec,
    ProbeResult,
    ProbeSpec,
    Ready,
    Storm,
    StormResult,
    driver_main,
    probe_main,
)
from chargestream.app.backends import create_stack_store
from chargestream.domain.passwords import hash_charge_point_password
from chargestream.domain.records import Registration
from chargestream.domain.settings import Settings
from chargestream.services import ServiceError, ServiceSet
from chargestream.simulator import FleetStats
from chargestream.simulator.stats import Histogram

RESULTS = Path("docs/benchmarks/faults.json")
REPORT = Path("docs/benchmarks/faults.md")
SERVICES_DIR = ".services-faults"
# Below 32768: outside the ephemeral port range, see FaultHook._start_service.
KAFKA_PORT, CASSANDRA_PORT, PORT_BASE = 30092, 30042, 30000

LOAD_FAULTS = ("gateway-kill", "worker-kill", "kafka-stop", "cassandra-stop")
STORMS = ("reconnect-storm", "reconnect-storm-cold")
SCENARIOS = (*LOAD_FAULTS, *STORMS)
# Short sessions, so that StartTransactions and StopTransactions happen during the fault.
SESSION_MINUTES = (1.0, 3.0)
IDLE_SECONDS = (5.0, 20.0)
OUTAGE = 30.0  # seconds Kafka or Cassandra stays stopped
RESTART_TIMEOUT = 120.0  # seconds to get a stopped service running again
PROCESS_DOWN = 5.0  # seconds a killed process stays dead before it is started again
WATCH_EVERY = 1.0  # seconds between samples while a fault lasts
LAG_FACTOR = 2.0  # recovered: lag back under this times the largest lag before the fault
# A CALL's latency counts once its answer arrives, so CALLs held up by the fault count
# after it: the fault's latency window runs this many seconds past the recovery.
AFTER_RECOVERY = 30.0
STORM_DEADLINE = 180.0  # seconds the storm's charge points keep trying
COLD_STORM_DEADLINE = 900.0  # after a gateway restart every password is checked again
STORM_TARGET = 60.0  # seconds: all charge points registered again within this
STORM_SETTLE = 20.0  # seconds of probing before the storm and after it
STORM_HEARTBEAT = 60.0  # seconds; the CSMS's 300 s would leave the idle fleet silent
STATIONS_PER_DRIVER = 5_000
PROBE_STATIONS, PROBE_PERIOD = 50, 1.0
# Every storm charge point authenticates (security profile 1) with this password; each has
# its own registration, all with one charge point hash made once (the gateway verifies each charge
# point on its own: what it remembers is per charge point).
STORM_PASSWORD = "storm-password-0123456789"
# The storm comes from many loopback addresses, as real charge points come from many: the
# gateway's per-address limits (20 new connections a second) stay at their defaults.
STORM_SOURCES = tuple(f"127.0.{n // 250 + 1}.{n % 250 + 1}" for n in range(500))


@dataclass(frozen=True)
class Sizes:
    stations: int  # fleet of the load scenarios
    settle: float  # seconds after the ramp-up before the fault
    lead: float  # seconds of the hold before the fault
    hold: float
    storm: int  # charge points in the reconnect storm
    quick: bool


QUICK = Sizes(stations=400, settle=20.0, lead=15.0, hold=150.0, storm=2_000, quick=True)
FULL = Sizes(stations=1_000, settle=30.0, lead=30.0, hold=300.0, storm=10_000, quick=False)


def select(text: str | None) -> list[str]:
    """The scenarios named in ``--scenario`` (comma-separated), in their canonical order."""
    if not text:
        return list(SCENARIOS)
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - set(SCENARIOS)
    if unknown:
        raise ValueError(
            f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}"
        )
    return [name for name in SCENARIOS if name in names]


# -- recovery, from samples (pure)


def first_at(
    samples: list[dict[str, Any]], since: float, condition: Callable[[dict, dict], bool]
) -> float | None:
    """The time of the first sample at or after ``since`` for which ``condition(previous,
    sample)`` holds; samples without Kafka figures (it did not answer) are skipped."""
    known = [s for s in samples if s.get("log_end") is not None]
    for previous, sample in itertools.pairwise(known):
        if sample["t"] >= since and condition(previous, sample):
            return sample["t"]
    return None


def recovery(
    samples: list[dict[str, Any]], fault: float, restored: float | None, stations: int
) -> dict[str, Any]:
    """When frames reached Kafka again, when the workers committed again, and when the
    stack was whole again: every charge point connected, and the lag back under
    ``LAG_FACTOR`` times its largest value in the minute before the fault. Seconds from
    the fault; None: not seen."""
    before = [
        s["log_end"] - s["committed"]
        for s in samples
        if fault - 60 <= s["t"] < fault and s.get("log_end") is not None
    ]
    limit = LAG_FACTOR * max(before, default=0)
    result: dict[str, Any] = {"lag_limit": limit, "logging_s": None, "consuming_s": None}
    result["recovered_s"] = None
    if restored is None:
        return result

    def since_fault(t: float | None) -> float | None:
        return None if t is None else round(t - fault, 1)

    logging = first_at(samples, restored, lambda p, s: s["log_end"] > p["log_end"])
    consuming = first_at(samples, restored, lambda p, s: s["committed"] > p["committed"])
    whole = None
    if consuming is not None:
        whole = first_at(
            samples,
            max(restored, consuming),
            lambda p, s: s["sim_connected"] >= stations and s["log_end"] - s["committed"] <= limit,
        )
    result |= {
        "logging_s": since_fault(logging),
        "consuming_s": since_fault(consuming),
        "recovered_s": since_fault(whole),
    }
    return result


def latency_between(
    snapshots: list[tuple[float, Histogram]], start: float, end: float
) -> dict[str, Any]:
    """CALL→answer quantiles (ms) of the answers received between the snapshots nearest
    before ``start`` and nearest after ``end``."""
    before = [h for t, h in snapshots if t <= start]
    after = [h for t, h in snapshots if t >= end]
    if not before or not after:
        return {}
    return histogram_summary(after[0].since(before[-1]))


def histogram_summary(histogram: Histogram) -> dict[str, Any]:
    quantile = {"p50": 0.5, "p99": 0.99, "max": 1.0}
    summary: dict[str, Any] = {
        name: _round(histogram.quantile_ms(q)) for name, q in quantile.items()
    }
    return summary | {"calls": histogram.total}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """Holds when nothing was lost, doubled or changed, the stack recovered by itself (no
    process died that was not killed on purpose) and the lag drained. Sessions still open
    at the end count only beyond those the simulator had not finished either."""
    reasons = [
        f"{c['process']} exited ({c['returncode']}) at {c['t']} s" for c in result["crashes"]
    ]
    if result.get("recovery", {}).get("recovered_s") is None:
        reasons.append("did not recover while the load ran")
    reconciliation = result.get("reconciliation")
    if reconciliation is None:
        reasons.append("lag not drained: nothing reconciled")
    else:
        sessions = reconciliation["sessions"]
        for name in ("lost", "doubled", "mismatched", "unlisted", "extra"):
            if sessions[name]:
                reasons.append(f"{sessions[name]} sessions {name}")
        simulator = result["simulator"]
        unfinished = simulator["sessions_started"] - simulator["sessions_completed"]
        if sessions["open"] > unfinished:  # open in the store, finished at the charge point
            reasons.append(f"{sessions['open']} sessions open ({unfinished} unfinished)")
        store = reconciliation["store"]
        if store["frames_missing"]:
            reasons.append(f"{store['frames_missing']} sampled MeterValues without rows")
        if store["rows_extra"]:
            reasons.append(f"{store['rows_extra']} meter rows no frame explains")
    return {"holds": not reasons, "reasons": reasons}


# -- injecting a fault


class FaultHook:
    """``on_sample`` hook: once ``at`` seconds of load have passed, inject the fault (which
    blocks while it lasts), sample every second until the stack has recovered, and restart
    what died. Before and after, it samples at the pipeline's pace."""

    def __init__(
        self, scenario: str, services: ServiceSet, stations: int, at: float, watch: float
    ) -> None:
        self.scenario = scenario
        self.services = services
        self.stations = stations
        self.at = at
        self.watch = watch  # seconds to sample after the restore, at most
        self.origin = 0.0  # monotonic time of the load's start
        self.samples: list[dict[str, Any]] = []
        self.latency: list[tuple[float, Histogram]] = []
        self.events: list[dict[str, Any]] = []
        self.crashes: list[dict[str, Any]] = []
        self.killed: set[str] = set()
        self.work_dir: Path | None = None
        self.fleet_stats: Callable[[], FleetStats] = FleetStats  # pipeline's, from its first call
        self._lag: LagProbe | None = None
        self._seen_exits: set[tuple[str, int]] = set()

    def __call__(self, elapsed: float, stack: Stack, fleet_stats: Callable[[], FleetStats]) -> None:
        if self.work_dir is None:
            self.origin = time.monotonic() - elapsed
            self.work_dir = stack.config.work_dir
            self.fleet_stats = fleet_stats  # read while the fault lasts, and after the run
            config = stack.config
            # retry_for 0: while Kafka is down, a sample notes that and goes on
            self._lag = LagProbe(config.kafka_bootstrap, config.topic, config.group, retry_for=0.0)
        self._sample(stack)
        if elapsed >= self.at and not self.events:
            self._inject(stack)

    def now(self) -> float:
        return round(time.monotonic() - self.origin, 1)

    def mark(self, event: str) -> float:
        t = self.now()
        self.events.append({"t": t, "event": event})
        say(f"{self.scenario}: {event} at {t:.0f} s")
        return t

    def time_of(self, event: str) -> float | None:
        return next((e["t"] for e in self.events if e["event"] == event), None)

    def _sample(self, stack: Stack) -> None:
        assert self._lag is not None
        stats = self.fleet_stats()
        t = self.now()
        try:
            log_end, committed = self._lag.sample()
        except Exception:  # Kafka is down: the sample keeps what else it saw
            log_end = committed = None
        self._note_exits(stack, t)
        self.latency.append((t, Histogram(list(stats.latency.counts))))
        self.samples.append(
            {
                "t": t,
                "log_end": log_end,
                "committed": committed,
                "gateway_connected": _gauges(stack.health_urls("gateway")),
                "sim_connected": stats.connected,
                "sim_timeouts": stats.timeouts,
                "sim_disconnects": stats.disconnects,
                "sim_resends": stats.resends,
                "sim_call_errors": stats.call_errors,
            }
        )

    def _note_exits(self, stack: Stack, t: float) -> None:
        for child in stack.exited():
            assert child.process is not None
            key = (child.name, child.process.pid)
            if child.name in self.killed or key in self._seen_exits:
                continue
            self._seen_exits.add(key)
            self.crashes.append(
                {"process": child.name, "returncode": child.process.returncode, "t": t}
            )
            say(f"{self.scenario}: {child.name} exited with {child.process.returncode} at {t} s")

    def _watch(self, stack: Stack, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Sample every second for ``seconds`` or until ``until()``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until is not None and until()):
            time.sleep(WATCH_EVERY)
            self._sample(stack)

    def _inject(self, stack: Stack) -> None:
        fault = self.mark("fault")
        down = OUTAGE if self.scenario in ("kafka-stop", "cassandra-stop") else PROCESS_DOWN
        restart = self._stop(stack)
        self.mark("stopped")
        self._watch(stack, down)
        restart()
        self.mark("restored")
        self._restart_crashed(stack)
        self.killed.clear()
        self._watch(stack, self.watch, lambda: self._recovered(fault))
        self._restart_crashed(stack)

    def _stop(self, stack: Stack) -> Callable[[], None]:
        """Inject the fault; the function that undoes it."""
        if self.scenario in ("gateway-kill", "worker-kill"):
            child = stack.kill(self.scenario.split("-")[0], 1)
            self.killed.add(child.name)
            return lambda: stack.restart(child)
        only = self.scenario.split("-")[0]
        service = ServiceSet(
            self.services.base_dir,
            self.services.kafka.port,
            self.services.cassandra.port,
            only=only,
            echo=say,
        )
        service.down()
        return lambda: self._start_service(service)

    def _start_service(self, service: ServiceSet) -> None:
        """``up``, retried while its port is taken.

        With a port in the ephemeral range (32768-60999 here), a client reconnecting to the
        stopped service can get that port as its own local port and connect to itself (TCP
        self-connect); its TIME_WAIT then blocks the bind for minutes. The default ports
        are below the range; this only reports and outwaits a busy port.
        """
        deadline = time.monotonic() + RESTART_TIMEOUT
        while True:
            try:
                service.up()
                return
            except ServiceError as error:
                if "in use" not in str(error) or time.monotonic() > deadline:
                    raise
                holders = subprocess.run(
                    ["ss", "-tanpH", f"sport = :{service.services[0].ports()[0]}"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                self.mark(f"port busy, retrying: {' | '.join(holders.splitlines()[:3])}")
                time.sleep(2.0)

    def _restart_crashed(self, stack: Stack) -> None:
        self._note_exits(stack, self.now())
        for child in stack.exited():
            if child.name not in self.killed:
                try:
                    stack.restart(child)
                except RuntimeError as error:  # pipeline's next check_alive ends the run
                    self.mark(f"{child.name} did not restart: {error}")
                else:
                    self.mark(f"{child.name} restarted")

    def _recovered(self, fault: float) -> bool:
        done = recovery(self.samples, fault, self.time_of("restored"), self.stations)
        return done["recovered_s"] is not None


def _gauges(health_urls: list[str]) -> list[float | None]:
    """Charge points connected to each gateway (None: it does not answer)."""
    values = []
    for url in health_urls:
        body = fetch(url.replace("/healthz", "/metrics"), timeout=2.0)
        values.append(
            None if body is None else counter(body, "chargestream_connected_charge_points")
        )
    return values


# -- one load scenario


def load_plan(scenario: str, sizes: Sizes) -> Plan:
    return Plan(
        stations=sizes.stations,
        gateways=2 if scenario == "gateway-kill" else 1,
        workers=1,
        meter_interval=10.0,
        ramp_up=default_ramp_up(sizes.stations),
        settle=sizes.settle,
        hold=sizes.hold,
        profile=0.0,
        drain_timeout=300.0,
        quick=sizes.quick,
        session_minutes=SESSION_MINUTES,
        idle_seconds=IDLE_SECONDS,
    )


def run_load_fault(
    scenario: str, sizes: Sizes, services: ServiceSet, port_base: int = PORT_BASE
) -> dict[str, Any]:
    plan = load_plan(scenario, sizes)
    fault_at = plan.warmup + sizes.lead
    watch = max(30.0, plan.warmup + plan.hold - fault_at - OUTAGE)
    hook = FaultHook(scenario, services, plan.stations, fault_at, watch)
    say(f"=== {scenario}: {plan.stations} charge points, fault at {fault_at:.0f} s")
    row: dict[str, Any] | None = None
    error = None
    try:
        row = pipeline.run_plan(plan, services, services.base_dir / "runs", port_base, hook)
    except Exception as failure:  # keep what the hook saw: it is the evidence
        error = repr(failure)
        say(f"{scenario}: the run failed: {error}")
    result = summarize(scenario, plan, hook, row)
    if error is not None:
        result["error_in_run"] = error
        result["verdict"]["holds"] = False
        result["verdict"]["reasons"].append(f"the run failed: {error}")
    return result


def summarize(
    scenario: str, plan: Plan, hook: FaultHook, row: dict[str, Any] | None
) -> dict[str, Any]:
    """The scenario's result row; ``row`` is pipeline's (None if the run failed)."""
    fault, restored = hook.time_of("fault"), hook.time_of("restored")
    if fault is None:
        raise RuntimeError("the run ended before the fault was injected")
    final = hook.fleet_stats()  # the load is over: the fleet's final stats
    timeline = recovery(hook.samples, fault, restored, plan.stations)
    end = fault_window_end(fault, timeline["recovered_s"], hook.samples[-1]["t"])
    row = row or {"reconciliation": None, "lag": {"drain_s": None}, "rates": None}
    result = {
        "scenario": scenario,
        "stations": plan.stations,
        "gateways": plan.gateways,
        "workers": plan.workers,
        "quick": plan.quick,
        "work_dir": str(hook.work_dir),
        "events": hook.events,
        "recovery": timeline,
        "crashes": hook.crashes,
        "reconciliation": row["reconciliation"],
        "simulator": _simulator(final),
        "call_latency_ms": {
            "run": histogram_summary(final.latency),
            "before_fault": latency_between(hook.latency, plan.warmup, fault),
            "fault_to_after_recovery": latency_between(hook.latency, fault, end),
        },
        "lag": {
            "max_events": max(
                (s["log_end"] - s["committed"] for s in hook.samples if s["log_end"] is not None),
                default=None,
            ),
            "drain_s": row["lag"]["drain_s"],
        },
        "rates": row["rates"],
        "logs": log_findings(hook.work_dir) if hook.work_dir is not None else {},
        "samples": hook.samples,
    }
    result["verdict"] = verdict(result)
    return result


def fault_window_end(fault: float, recovered: float | None, last: float) -> float:
    """The end of the "fault" latency window: ``AFTER_RECOVERY`` seconds past the recovery,
    or the last sample (``last``) if that comes first or the stack did not recover."""
    return last if recovered is None else min(fault + recovered + AFTER_RECOVERY, last)


def _simulator(stats: FleetStats) -> dict[str, Any]:
    names = ("stations", "connects", "connect_failures", "disconnects", "timeouts", "resends")
    names += ("call_errors", "protocol_errors", "sessions_started", "sessions_completed")
    return {name: getattr(stats, name) for name in names} | {"last_error": stats.last_error}


def log_findings(work_dir: Path, examples: int = 3) -> dict[str, Any]:
    """Per log file of the stack: warnings and errors by event, with a few example lines."""
    findings: dict[str, Any] = {}
    for path in sorted(work_dir.glob("*.log")):
        events: Counter[str] = Counter()
        lines: list[str] = []
        for line in path.read_text(errors="replace").splitlines():
            event = _notable(line)
            if event is None:
                continue
            events[event] += 1
            if events[event] <= examples:
                lines.append(line[:400])
        if events:
            findings[path.name] = {"events": dict(events.most_common(12)), "examples": lines[:12]}
    return findings


def _notable(line: str) -> str | None:
    """What a warning or error log line is about (None for anything else): the event of a
    JSON line, the message of a ``[LEVEL]`` line (Faust, aiokafka), the facility of a
    librdkafka line (``%3|...|FAIL|``), or 'traceback'."""
    if line.startswith("{"):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        level = str(record.get("level", "")).upper()
        return str(record.get("event")) if level in ("WARNING", "ERROR", "CRITICAL") else None
    for level in ("[WARNING] ", "[ERROR] ", "[CRITICAL] "):
        if level in line:
            return line.split(level, 1)[1].split(":", 1)[0][:80]
    if line.startswith("%") and line[1:2] in "01234":
        return "librdkafka " + line.split("|")[2] if line.count("|") > 2 else None
    return "traceback" if line.startswith("Traceback") else None


# -- the reconnect storm


def run_storm(
    stations: int,
    quick: bool,
    services: ServiceSet,
    *,
    cold: bool = False,
    port_base: int = PORT_BASE,
) -> dict[str, Any]:
    run_id = f"storm{'_cold' if cold else ''}_{stations}_{datetime.now(UTC):%H%M%S}"
    config = StackConfig(
        run_id=run_id,
        kafka_bootstrap=services.kafka_bootstrap,
        cassandra_port=services.cassandra_contact[1],
        gateways=1,
        workers=1,
        work_dir=services.base_dir / "runs" / run_id,
        ocpp_port=port_base,
        api_port=port_base + 80,
        health_port=port_base + 81,
    )
    scenario = "reconnect-storm-cold" if cold else "reconnect-storm"
    say(f"=== {scenario}: {stations} charge points with passwords and {PROBE_STATIONS} probes")
    stack = Stack(config)
    storm = StormRun(config, stations, services, cold=cold)
    try:
        stack.start()
        result = storm.run(stack)
    finally:
        storm.close()
        stack.stop()
        pipeline.drop(config, services)
    result |= {"quick": quick, "work_dir": str(config.work_dir)}
    result["logs"] = log_findings(config.work_dir)
    result["verdict"] = storm_verdict(result)
    return result


async def _register_with_password(config: StackConfig, ids: list[str], password: str) -> None:
    """A registration with ``password`` for every id, written straight to the run's store."""
    store = create_stack_store(Settings.from_env(config.environment()))
    stored = hash_charge_point_password(password)
    created = datetime.now(UTC)
    await store.open()
    try:
        gate = asyncio.Semaphore(64)

        async def one(charge_point_id: str) -> None:
            async with gate:
                await store.put_registration(
                    Registration(charge_point_id, password_hash=stored, created_at=created)
                )

        await asyncio.gather(*(one(i) for i in ids))
    finally:
        await store.close()


class StormRun:
    """The storm drivers and the probe as child processes, and what they report."""

    def __init__(
        self, config: StackConfig, stations: int, services: ServiceSet, *, cold: bool = False
    ) -> None:
        self.config = config
        self.services = services
        self.stations = stations
        self.cold = cold
        self.deadline = COLD_STORM_DEADLINE if cold else STORM_DEADLINE
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self.drivers: list[Connection] = []
        self.probe: Connection | None = None

    def _spawn(self, target: Callable[..., None], spec: Any) -> Connection:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=target, args=(child, spec), daemon=True)
        process.start()
        child.close()
        self.processes.append(process)
        return parent

    def run(self, stack: Stack) -> dict[str, Any]:
        config = self.config
        ids = [f"STORM-{n:05d}" for n in range(1, self.stations + 1)]
        asyncio.run(_register_with_password(config, ids, STORM_PASSWORD))
        self.probe = self._spawn(
            probe_main,
            ProbeSpec(
                config.ocpp_url,
                [f"WATCH-{n:03d}" for n in range(1, PROBE_STATIONS + 1)],
                PROBE_PERIOD,
            ),
        )
        _receive(self.probe, Ready, 120)
        parts = max(1, -(-self.stations // STATIONS_PER_DRIVER))
        for part in range(parts):
            spec = DriverSpec(
                config.ocpp_url,
                ids[part::parts],
                STORM_SOURCES[part::parts],
                STORM_HEARTBEAT,
                self.deadline,
                password=STORM_PASSWORD,
            )
            self.drivers.append(self._spawn(driver_main, spec))
        readies = [_receive(pipe, Ready, INITIAL_DEADLINE + 300) for pipe in self.drivers]
        registered = sum(r.stations for r in readies)
        say(
            f"registered {registered} of {self.stations} in"
            f" {max(r.seconds for r in readies):.0f} s; probing {STORM_SETTLE:.0f} s first"
        )
        sampler = _storm_sampler(stack, [p.pid for p in self.processes], self.services)
        lag = LagProbe(config.kafka_bootstrap, config.topic, config.group)
        watch = _Watch(stack, sampler, lag)
        watch.run(STORM_SETTLE)
        at = time.time() + 1.0
        for pipe in self.drivers:
            pipe.send(Storm(at))
        restarted = None
        if self.cold:  # the gateway goes down with the connections and comes back cold
            time.sleep(max(0.0, at - time.time()))
            stack.restart(stack.kill("gateway"))
            restarted = round(time.time() - at, 1)
            say(f"storm: the gateway was restarted ({restarted} s after the drop)")
        say("storm: every connection drops now")
        results = watch.collect(self.drivers, self.deadline + 60)
        storm = _merge(results)
        say(
            f"storm: {len(storm.booted)} of {registered} registered again; "
            f"last after {max(storm.booted, default=0):.1f} s"
        )
        watch.run(STORM_SETTLE)
        self.probe.send(None)
        probe: ProbeResult = _receive(self.probe, ProbeResult, 60)
        drain = watch.drain(300)
        all_back = max(storm.booted) if len(storm.booted) == registered else None
        return {
            "scenario": "reconnect-storm-cold" if self.cold else "reconnect-storm",
            "stations": self.stations,
            "password": True,
            "gateway_restarted_s": restarted,
            "registered_before": registered,
            "first_registration_s": round(max(r.seconds for r in readies), 1),
            "first_registration_failures": sum(r.failures for r in readies),
            "first_registration_error": next(
                (r.first_error for r in readies if r.first_error), None
            ),
            "storm": storm_summary(storm, registered),
            "probe_latency_ms": probe_windows(probe, at, all_back),
            "probe_errors": probe.errors[:10],
            "gateway_after": _gateway_counts(stack),
            "api_after": _api_connected(config, at) if drain is not None else None,
            "lag": {"max_events": watch.max_lag, "drain_s": drain},
            "cpu_pct_storm": sampler.window(watch.storm_began, watch.storm_ended),
            "samples": watch.rows,
        }

    def close(self) -> None:
        for pipe in self.drivers:
            with suppress(OSError):
                pipe.send(None)
        for process in self.processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
                process.join()


def _receive(pipe: Connection, kind: type, timeout: float) -> Any:
    if not pipe.poll(timeout):
        raise RuntimeError(f"no {kind.__name__} from a storm process in {timeout:.0f} s")
    message = pipe.recv()
    if not isinstance(message, kind):
        raise RuntimeError(f"expected {kind.__name__}, got {message!r:.200}")
    return message


def _storm_sampler(stack: Stack, ours: list[int], service_set: ServiceSet) -> ProcSampler:
    """CPU per component; ``ours`` is the probe's pid, then the drivers'."""
    services = {s.name: s.pid for s in service_set.status()}
    return ProcSampler(
        {
            "gateway": lambda: stack.pids("gateway"),
            "worker": lambda: stack.pids("worker"),
            "api": lambda: stack.pids("api"),
            "kafka": lambda: [p for p in [services["kafka"]] if p],
            "cassandra": lambda: [p for p in [services["cassandra"]] if p],
            "storm drivers": lambda: ours[1:],
            "probe": lambda: ours[:1],
        }
    )


class _Watch:
    """Samples every second: connected charge points, lag, CPU."""

    def __init__(self, stack: Stack, sampler: ProcSampler, lag: LagProbe) -> None:
        self.stack, self.sampler, self.lag = stack, sampler, lag
        self.rows: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.storm_began = self.storm_ended = 0.0
        self.max_lag = 0

    def sample(self) -> None:
        self.sampler.sample()
        end, committed = self.lag.sample()
        self.max_lag = max(self.max_lag, end - committed)
        self.rows.append(
            {
                "t": round(time.monotonic() - self.started, 1),
                "gateway_connected": _gauges(self.stack.health_urls("gateway")),
                "lag": end - committed,
            }
        )

    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(WATCH_EVERY)
            self.sample()

    def collect(self, pipes: list[Connection], timeout: float) -> list[StormResult]:
        """Sample until every driver has reported its storm result."""
        self.storm_began = time.monotonic()
        results: dict[int, StormResult] = {}
        deadline = self.storm_began + timeout
        while len(results) < len(pipes) and time.monotonic() < deadline:
            for n, pipe in enumerate(pipes):
                if n not in results and pipe.poll(0):
                    results[n] = pipe.recv()
            time.sleep(WATCH_EVERY)
            self.sample()
        self.storm_ended = time.monotonic()
        if len(results) < len(pipes):
            raise RuntimeError("a storm driver did not report in time")
        return list(results.values())

    def drain(self, timeout: float) -> float | None:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            end, committed = self.lag.sample()
            if committed >= end:
                return round(time.monotonic() - began, 1)
            time.sleep(1.0)
        return None


def _merge(results: list[StormResult]) -> StormResult:
    total = StormResult()
    for part in results:
        total.booted += part.booted
        total.ready += part.ready
        total.attempts += part.attempts
        total.failures += part.failures
        total.heartbeats += part.heartbeats
        total.heartbeat_errors += part.heartbeat_errors
        total.cpu_seconds += part.cpu_seconds
    return total


def storm_summary(storm: StormResult, registered: int) -> dict[str, Any]:
    """Time from the drop to registration again (s), per charge point and for all."""
    booted = [b * 1000 for b in storm.booted]
    # charge points that failed to register before the storm try again in it, too
    return {
        "registered_again": len(storm.booted),
        "not_registered": max(0, registered - len(storm.booted)),
        "all_booted_s": round(max(storm.booted), 1) if len(storm.booted) >= registered else None,
        "all_ready_s": round(max(storm.ready), 1) if len(storm.ready) >= registered else None,
        "boot_ms": quantiles(booted),
        "attempts": storm.attempts,
        "failed_attempts": dict(storm.failures),
        "heartbeats_before": storm.heartbeats,
        "heartbeat_errors": storm.heartbeat_errors,
        "driver_cpu_s": round(storm.cpu_seconds, 1),
    }


def probe_windows(probe: ProbeResult, at: float, all_back: float | None) -> dict[str, Any]:
    """Probe CALL latency (ms) before the storm, during it (until all were registered
    again, or the end) and after it."""
    end = at + all_back if all_back is not None else float("inf")
    windows = {
        "before": lambda sent: sent < at,
        "during": lambda sent: at <= sent < end,
        "after": lambda sent: sent >= end,
    }
    return {
        name: quantiles([1000 * seconds for sent, seconds in probe.calls if inside(sent)])
        for name, inside in windows.items()
    }


def _gateway_counts(stack: Stack) -> dict[str, Any]:
    body = fetch(stack.health_urls("gateway")[0].replace("/healthz", "/metrics"))
    if body is None:
        return {"connected": None, "boot_notifications": None}
    return gateway_counts(body)


def gateway_counts(body: bytes) -> dict[str, Any]:
    """What a storm reads from a gateway's /metrics: connections, boots, password checks
    and handshake refusals by reason."""
    return {
        "connected": counter(body, "chargestream_connected_charge_points"),
        "boot_notifications": counter(body, 'chargestream_calls_total{action="BootNotification"}'),
        "password_checks": {
            result: counter(body, f'chargestream_password_checks_total{{result="{result}"}}')
            for result in ("verified", "failed", "remembered")
        },
        "refusals": {
            reason: counter(body, f'chargestream_handshake_refusals_total{{reason="{reason}"}}')
            for reason in ("auth", "auth_blocked", "connect_rate", "capacity", "password_queue")
        },
    }


def _api_connected(config: StackConfig, since: float) -> dict[str, int]:
    """Storm charge points the API lists as connected, and as booted since the drop."""
    response = httpx.get(
        f"{config.api_url}/api/v1/charge-points?limit=10000",
        headers=config.api_headers,
        timeout=120,
    )
    response.raise_for_status()
    storm = [cp for cp in response.json() if cp["charge_point_id"].startswith("STORM-")]
    connected = [cp for cp in storm if cp["state"] and cp["state"]["connected"]]
    booted = [
        cp
        for cp in storm
        if cp["state"]
        and cp["state"]["last_boot_at"]
        and datetime.fromisoformat(cp["state"]["last_boot_at"]).timestamp() >= since
    ]
    return {"listed": len(storm), "connected": len(connected), "booted_since_drop": len(booted)}


def storm_verdict(result: dict[str, Any]) -> dict[str, Any]:
    """All registered before and again, within STORM_TARGET: the cold storm too, since a
    charge point hash costs microseconds to check (docs/security.md)."""
    storm = result["storm"]
    reasons = []
    if result["registered_before"] < result["stations"]:
        reasons.append(f"only {result['registered_before']} registered before the storm")
    if storm["all_booted_s"] is None:
        reasons.append(f"{storm['not_registered']} not registered again")
    elif storm["all_booted_s"] > STORM_TARGET:
        reasons.append(f"all registered again after {storm['all_booted_s']} s > {STORM_TARGET:.0f}")
    return {"holds": not reasons, "reasons": reasons}


# -- reporting


def merge(output: Path, rows: list[dict[str, Any]], info: dict[str, Any]) -> dict[str, Any]:
    """The results file with these rows replacing earlier ones of the same scenario and size."""
    report = orjson.loads(output.read_bytes()) if output.exists() else {"runs": []}

    def key(row: dict[str, Any]) -> tuple[int, bool]:
        return SCENARIOS.index(row["scenario"]), row["quick"]

    fresh = {key(row) for row in rows}
    runs = sorted([r for r in report["runs"] if key(r) not in fresh] + rows, key=key)
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": info, "runs": runs}


def markdown(report: dict[str, Any]) -> str:
    loads = [r for r in report["runs"] if r["scenario"] in LOAD_FAULTS and "error" not in r]
    storms = [r for r in report["runs"] if r["scenario"] in STORMS and "error" not in r]
    failed = [r for r in report["runs"] if "error" in r]
    lines = [
        "| scenario | stations | fault → restored → frames logged → committed → recovered (s)"
        " | sessions completed | lost | doubled | mismatched | extra | open"
        " | timeouts / reconnects / resends | CALL p50 / p99 / max ms: run"
        f" | fault→recovery+{AFTER_RECOVERY:.0f} s"
        " | max lag (events) | drained in | holds |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|---:|:-:|",
    ]
    lines += [_load_line(run) for run in loads]
    if storms:
        lines += [
            "",
            "| storm | charge points | registered again | all booted in | all ready in"
            " | boot p50 / p99 ms | failed attempts | gateway / machine CPU % | probe p50 / p99"
            " / max ms: before | during | after | holds |",
            "|---|---:|---:|---:|---:|---|---|---|---|---|---|:-:|",
        ]
        lines += [_storm_line(run) for run in storms]
    for run in failed:
        lines.append(f"\n{run['scenario']}: failed: {run['error']}")
    notes = [
        f"- {run['scenario']}: {'; '.join(run['verdict']['reasons'])}"
        for run in loads + storms
        if not run["verdict"]["holds"]
    ]
    return "\n".join(lines + (["", *notes] if notes else []))


def _load_line(run: dict[str, Any]) -> str:
    events = {e["event"]: e["t"] for e in run["events"]}
    fault = events["fault"]
    rec = run["recovery"]
    timeline = " → ".join(
        _s(v)
        for v in (
            0.0,
            round(events["restored"] - fault, 1) if "restored" in events else None,
            rec["logging_s"],
            rec["consuming_s"],
            rec["recovered_s"],
        )
    )
    sim = run["simulator"]
    call = run["call_latency_ms"]
    # rows from before the window ran past the recovery have none: shown as —
    during = call.get("fault_to_after_recovery", {})
    recon = run["reconciliation"]
    counts = (
        " | ".join(
            str(recon["sessions"][k])
            for k in ("ledger", "lost", "doubled", "mismatched", "extra", "open")
        )
        if recon
        else " | ".join(["—"] * 6)
    )
    return (
        f"| {run['scenario']} | {run['stations']:,} | {timeline} | {counts}"
        f" | {sim['timeouts']} / {sim['connects'] - sim['stations']} / {sim['resends']}"
        f" | {_triple(call['run'])} | {_triple(during)}"
        f" | {_n(run['lag']['max_events'])} | {_s(run['lag']['drain_s'])}"
        f" | {'yes' if run['verdict']['holds'] else 'no'} |"
    )


def _storm_line(run: dict[str, Any]) -> str:
    storm, probe = run["storm"], run["probe_latency_ms"]
    failed = ", ".join(f"{k} {v}" for k, v in storm["failed_attempts"].items()) or "0"
    kind = "gateway restarted (cold)" if run["scenario"] == "reconnect-storm-cold" else "drop"
    if run.get("password"):
        kind += ", passwords"
    cpu = run.get("cpu_pct_storm", {})
    gateway, machine = cpu.get("gateway", {}).get("cpu_pct"), cpu.get("machine", {}).get("cpu_pct")
    return (
        f"| {kind} | {run['stations']:,} | {storm['registered_again']:,}"
        f" | {_s(storm['all_booted_s'])}"
        f" | {_s(storm['all_ready_s'])}"
        f" | {_ms(storm['boot_ms']['p50'])} / {_ms(storm['boot_ms']['p99'])} | {failed}"
        f" | {_n(gateway)} / {_n(machine)}"
        f" | {_triple(probe['before'])} | {_triple(probe['during'])} | {_triple(probe['after'])}"
        f" | {'yes' if run['verdict']['holds'] else 'no'} |"
    )


def _triple(window: dict[str, Any]) -> str:
    if not window:
        return "—"
    return " / ".join(_ms(window.get(k)) for k in ("p50", "p99", "max"))


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


# -- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__)
    add = parser.add_argument
    add("--scenario", help=f"comma-separated, from {', '.join(SCENARIOS)} (default all)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="400 charge points, storm of 2,000 (default)"
    )
    size.add_argument("--full", action="store_true", help="1,000 charge points, storm of 10,000")
    add("--output", type=Path, default=RESULTS, help=f"results JSON (default {RESULTS})")
    add("--report", type=Path, default=REPORT, help=f"results table (default {REPORT})")
    add(
        "--services-dir", default=SERVICES_DIR, help=f"Kafka and Cassandra (default {SERVICES_DIR})"
    )
    add("--kafka-port", type=int, default=KAFKA_PORT, help=f"default {KAFKA_PORT}")
    add("--cassandra-port", type=int, default=CASSANDRA_PORT, help=f"default {CASSANDRA_PORT}")
    add(
        "--port-base",
        type=int,
        default=PORT_BASE,
        help=f"gateway port; API and health ports above it (default {PORT_BASE})",
    )
    return parser.parse_args(argv)


def run_scenario(
    name: str, sizes: Sizes, services: ServiceSet, port_base: int = PORT_BASE
) -> dict[str, Any]:
    """One scenario's result row; a failure of the run itself becomes an error row."""
    try:
        if name in STORMS:
            cold = name == "reconnect-storm-cold"
            return run_storm(sizes.storm, sizes.quick, services, cold=cold, port_base=port_base)
        return run_load_fault(name, sizes, services, port_base)
    except Exception as error:
        say(f"{name} failed: {error!r}")
        return {"scenario": name, "quick": sizes.quick, "error": repr(error)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        names = select(args.scenario)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    sizes = FULL if args.full else QUICK
    raise_file_limit()
    info = pipeline.machine()
    services = ServiceSet(args.services_dir, args.kafka_port, args.cassandra_port, echo=say)
    rows = []
    with services.held():
        for name in names:
            rows.append(run_scenario(name, sizes, services, args.port_base))
            services.up()  # a scenario that failed half-way may have left one stopped
            verdict = rows[-1].get("verdict")
            if verdict is not None:
                reasons = "; ".join(verdict["reasons"])
                say(f"{name}: " + ("holds" if verdict["holds"] else reasons))
    report = merge(args.output, rows, info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    text = markdown(report)
    args.report.write_text(text + "\n")
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
