"""The embedded CSMS under a fleet: ``python -m benchmarks.embedded_fleet`` (``make
bench-embedded``).

Issue 14's embedded target: 10,000 charge points at a 10 s meter interval against one
``chargestream run`` (gateway, SQLite event log, in-process derivation into the SQLite
store, API), CALL p99 < 50 ms and the views keeping up. For each fleet size a fresh CSMS
starts in its own data directory on free loopback ports with its default settings
(``benchmarks.gateway.GatewayProcess``: unknown id tags accepted, log level WARNING, no
UI). The simulated fleet (the SIMA mix, as ``benchmarks.pipeline`` builds it) connects over
a ramp-up and, after a settling time, the load is held for ``--duration`` seconds. Every
5 s the benchmark samples the frames the gateway received, the processor's lag (the log's
last position minus the ``views`` checkpoint), CPU and memory of the CSMS and of the
simulator processes. When the load has stopped and the lag has drained, the simulator's
transaction ledger is reconciled with the sessions the API serves. Results go to
docs/benchmarks/embedded-fleet.json (merged by configuration) and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.gateway import Config, GatewayProcess
from benchmarks.loadgen import raise_file_limit
from benchmarks.measure import ProcSampler, children_of, frames_in
from benchmarks.pipeline import (
    DEFAULT_LINGER_MS,
    DEFAULT_PARTITIONS,
    MAX_LAG_SECONDS,
    SAMPLE_EVERY,
    SESSION_COUNTS,
    SIMULATOR_ERRORS,
    Load,
    Plan,
    ProfileJob,
    Timeline,
    call_buckets,
    drained_cell,
    fleet_config,
    machine,
    merge,
    ms_cell,
    number_cell,
    say,
    simulator_processes,
    simulator_totals,
    summarize,
)
from benchmarks.pipeline import plans as pipeline_plans
from benchmarks.reconcile import read_ledger, reconcile_sessions
from chargestream.simulator.cli import add_protocol_option

RESULTS = Path("docs/benchmarks/embedded-fleet.json")
CALL_P99_MS = 50.0  # CALL -> CALLRESULT as the charge points see it
CSMS = Config(log_sync="full", processors=True)  # `chargestream run`'s defaults
STACK_ONLY = ("gateways", "workers", "partitions", "linger_ms")  # not in an embedded row


def io_stalled_us() -> int | None:
    """Microseconds some task of the machine waited for I/O so far (/proc/pressure/io):
    the event log's fsyncs wait with them. None where the kernel does not tell."""
    try:
        some = Path("/proc/pressure/io").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(some.rsplit("total=", 1)[1])


def configuration(row: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a run in the results file."""
    return (
        row["stations"],
        row["meter_interval"],
        row["quick"],
        row.get("v201_percent", 0),
        row.get("derivation", "inline"),  # runs before ADR 0015 derived in the CSMS's process
    )


def cpu_ms_per_frame(row: dict[str, Any], component: str = "csms") -> float | None:
    """Milliseconds of CPU a component spent per frame the gateway received."""
    frames: float | None = row["rates"]["frames_in_per_s"]
    if not frames:
        return None
    cpu_pct: float = row["components"][component]["cpu_pct"]
    return round(10 * cpu_pct / frames, 3)


def verdict(row: dict[str, Any]) -> dict[str, Any]:
    """Whether a run holds the target, and if not, why."""
    lag_s = row["lag"]["end_of_hold_events"] / max(row["rates"]["log_events_per_s"], 1e-9)
    call_p99 = row["call_latency_ms"]["p99"]
    sessions = row["sessions"]
    failures = {
        f"CALL→CALLRESULT p99 {call_p99} ms ≥ {CALL_P99_MS:.0f}": call_p99 is None
        or call_p99 >= CALL_P99_MS,
        f"lag at the end of the hold {lag_s:.0f} s of input": lag_s > MAX_LAG_SECONDS,
        "simulator errors": any(row["simulator"][k] for k in SIMULATOR_ERRORS),
        "lag not drained, nothing reconciled": sessions is None,
    }
    if sessions is not None:
        counts = ", ".join(f"{k} {sessions[k]}" for k in SESSION_COUNTS if sessions[k])
        failures[f"sessions {counts}"] = bool(counts)
    reasons = [reason for reason, failed in failures.items() if failed]
    return {"holds": not reasons, "reasons": reasons}


# -- one fleet size


def run_plan(
    plan: Plan, workdir: Path, derivation: str = "process", *, keep: bool = False
) -> dict[str, Any]:
    """Start a fresh CSMS, load it, measure, reconcile, stop it; the result row.
    ``keep``: its data directory and the simulator's ledger stay, to look into."""
    say(f"== {plan.stations} stations, derivation {derivation}")
    csms = GatewayProcess(CSMS, workdir, derivation, keep=keep)
    if keep:
        say(f"data directory {csms.data_dir} (kept)")
    ledger = csms.data_dir.with_suffix(".ledger.jsonl")
    load: Load | None = None
    try:
        load = Load(fleet_config(plan, csms.url, ledger), simulator_processes(plan.stations))
        return {**_measure(plan, csms, load, ledger), "derivation": derivation}
    finally:
        if load is not None and load.running:
            for pid in _simulator_pids(csms):
                os.kill(pid, signal.SIGTERM)
        csms.stop()
        if not keep:
            ledger.unlink(missing_ok=True)


def _simulator_pids(csms: GatewayProcess) -> list[int]:
    return [pid for pid in children_of(os.getpid()) if pid != csms.process.pid]


def _derivation_pids(csms: GatewayProcess) -> list[int]:
    """The CSMS's children: its derivation process (and multiprocessing's idle tracker)."""
    return children_of(csms.process.pid)


def _measure(plan: Plan, csms: GatewayProcess, load: Load, ledger: Path) -> dict[str, Any]:
    metrics = [f"http://127.0.0.1:{csms.api_port}/healthz"]  # frames_in reads /metrics
    sampler = ProcSampler(
        {
            "gateway": lambda: [csms.process.pid],
            "derivation": lambda: _derivation_pids(csms),
            "simulator": lambda: _simulator_pids(csms),
            "benchmark": lambda: [os.getpid()],
        }
    )
    timeline = Timeline()
    hold = (plan.warmup, plan.warmup + plan.hold)
    marks: dict[str, Any] = {}
    profile: ProfileJob | None = None
    started = time.monotonic()
    load.start()
    while load.running:
        time.sleep(SAMPLE_EVERY - (time.monotonic() - started) % SAMPLE_EVERY)
        elapsed = time.monotonic() - started
        if csms.process.poll() is not None:
            raise RuntimeError(f"the CSMS exited with {csms.process.returncode}")
        _sample(elapsed, csms, metrics, sampler, load, timeline)
        for name, at in (("start", hold[0]), ("end", hold[1])):
            if name not in marks and elapsed >= at:
                marks[name] = (load.latest, time.time(), time.monotonic())
                marks[f"{name}_gateway_calls"] = call_buckets(metrics)
                marks[f"{name}_gc_s"] = csms.gc_seconds()
                marks[f"{name}_load_average"] = os.getloadavg()
                marks[f"{name}_io_stalled_us"] = io_stalled_us()
        if plan.profile and "end" in marks and profile is None:
            say(f"profiling the CSMS for {plan.profile:.0f} s (py-spy)")
            profile = ProfileJob(csms.process.pid, plan.profile, csms.data_dir / "csms.pyspy.txt")
    if load.error is not None:
        raise RuntimeError(f"simulator failed: {load.error!r}")
    if "end" not in marks:
        raise RuntimeError("the load ended before the hold did")
    stopped = time.monotonic() - started
    say("load stopped; waiting for the processor to drain the log")
    drain = _drain(csms, plan.drain_timeout)
    say(drained_cell(drain))
    row = summarize(plan, sampler, timeline, marks, hold, stopped, drain)
    for key in STACK_ONLY:
        row.pop(key)
    parts = row["components"]
    parts["csms"] = {  # the CSMS as a whole: its process and its derivation process
        key: round(parts["gateway"][key] + parts["derivation"][key], 1)
        for key in ("cpu_pct", "rss_mb")
    }
    row["simulator"] = simulator_totals(load.final or load.latest)
    row["sessions"] = None if drain is None else _reconcile(plan, csms, ledger)
    row["csms_ms_cpu_per_frame"] = cpu_ms_per_frame(row)
    gateway_cpu_pct = row["components"]["gateway"]["cpu_pct"]
    gateway_cpu_s = gateway_cpu_pct / 100 * (marks["end"][2] - marks["start"][2])
    gc_s = marks["end_gc_s"] - marks["start_gc_s"]  # the probe is in the gateway's process
    row["gateway_gc_pct_of_cpu"] = round(100 * gc_s / max(gateway_cpu_s, 1e-9), 1)
    row["load_average"] = {"start": marks["start_load_average"], "end": marks["end_load_average"]}
    stalled = (marks["start_io_stalled_us"], marks["end_io_stalled_us"])
    row["io_stalled_pct"] = (
        None
        if None in stalled
        else round((stalled[1] - stalled[0]) / 1e4 / (marks["end"][2] - marks["start"][2]), 1)
    )
    row["profile"] = None if profile is None else profile.result()
    row["verdict"] = verdict(row)
    row["timeline"] = timeline.rows
    return row


def _sample(
    elapsed: float,
    csms: GatewayProcess,
    metrics: list[str],
    sampler: ProcSampler,
    load: Load,
    timeline: Timeline,
) -> None:
    sample = sampler.sample()
    last, done = csms.log_positions()
    stats = load.latest
    cpu = timeline.add_sample(
        sample,
        t=round(elapsed, 1),
        frames_in=frames_in(metrics),
        log_end=last,
        committed=done,  # the `views` checkpoint: what the processor has derived
        sim_frames_sent=stats.frames_sent,
        sim_connected=stats.connected,
    )
    say(
        f"{elapsed:5.0f}s  connected {stats.connected:6d}  log +{timeline.log_rate():6.0f} ev/s"
        f"  lag {last - done:7d}  sessions {stats.sessions_active:6d} active"
        f"  errors {stats.errors}  cpu gateway {cpu['gateway']:.0f}%"
        f" derivation {cpu['derivation']:.0f}% sim {cpu['simulator']:.0f}%"
        f"  machine {100 * sample.machine / sample.span:.0f}%"
    )


def _drain(csms: GatewayProcess, timeout: float) -> float | None:
    """Seconds until the processor has derived the whole log; None on timeout."""
    since = time.monotonic()
    while time.monotonic() - since < timeout:
        last, done = csms.log_positions()
        if done >= last:
            return time.monotonic() - since
        time.sleep(1.0)
    return None


def _reconcile(plan: Plan, csms: GatewayProcess, ledger: Path) -> dict[str, Any]:
    say("reconciling the ledger with the API")
    token = (csms.data_dir / "api-token").read_text().strip()  # generated by the first start
    stations = [f"SIM-{n:05d}" for n in range(1, plan.stations + 1)]
    counts = reconcile_sessions(
        f"http://127.0.0.1:{csms.api_port}",
        {"Authorization": f"Bearer {token}"},
        read_ledger(ledger),
        stations,
    )
    return asyncio.run(counts).__dict__


# -- reporting


def markdown(report: dict[str, Any]) -> str:
    """Three tables: throughput, latency and lag; resources; reconciliation."""
    lines = [
        "| stations | frames in/s | log events/s | CALL→CALLRESULT p50 / p99 / p99.9 ms"
        " | max lag (events, s) | lag at end of hold | drained in | holds |",
        "|---:|---:|---:|---|---|---:|---:|:-:|",
    ]
    for run in report["runs"]:
        call, lag = run["call_latency_ms"], run["lag"]
        lines.append(
            f"| {_name(run)} | {number_cell(run['rates']['frames_in_per_s'])}"
            f" | {number_cell(run['rates']['log_events_per_s'])}"
            f" | {ms_cell(call['p50'])} / {ms_cell(call['p99'])} / {ms_cell(call['p99.9'])}"
            f" | {lag['max_events_hold']:,} ({lag['max_seconds_hold']} s)"
            f" | {lag['end_of_hold_events']:,}"
            f" | {drained_cell(lag['drain_s']).removeprefix('drained in ')}"
            f" | {'yes' if run['verdict']['holds'] else 'no'} |"
        )
    lines += [
        "",
        "| stations | CSMS CPU % (gateway + derivation) | CSMS ms CPU/frame"
        " | GC % of gateway CPU | gateway MB | simulator CPU % | machine CPU %"
        " | load average (1 min) | I/O stalled % |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in report["runs"]:
        parts = run["components"]
        gateway = parts.get("gateway", parts["csms"])  # runs before ADR 0015: one process
        derivation = parts.get("derivation", {"cpu_pct": 0})
        gc_pct = run.get("gateway_gc_pct_of_cpu", run.get("csms_gc_pct_of_cpu", 0))
        per_frame = run["csms_ms_cpu_per_frame"]
        lines.append(
            f"| {_name(run)} | {parts['csms']['cpu_pct']:.0f}"
            f" ({gateway['cpu_pct']:.0f} + {derivation['cpu_pct']:.0f})"
            f" | {'—' if per_frame is None else f'{per_frame:.2f}'}"
            f" | {gc_pct:.0f} | {gateway['rss_mb']}"
            f" | {parts['simulator']['cpu_pct']:.0f} | {parts['machine']['cpu_pct']:.0f}"
            f" | {run['load_average']['end'][0]:.1f} | {number_cell(run.get('io_stalled_pct'))} |"
        )
    lines += [
        "",
        "| stations | sessions completed | lost | doubled | mismatched | extra | unlisted"
        " | open | simulator errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in report["runs"]:
        errors = sum(run["simulator"][k] for k in SIMULATOR_ERRORS)
        s = run["sessions"]
        if s is None:
            lines.append(f"| {_name(run)} |" + " — |" * 7 + f" {errors} |")
            continue
        lines.append(
            f"| {_name(run)} | {s['ledger']:,} | {s['lost']} | {s['doubled']}"
            f" | {s['mismatched']} | {s['extra']} | {s['unlisted']} | {s['open']} | {errors} |"
        )
    return "\n".join(lines)


def _name(run: dict[str, Any]) -> str:
    mixed = run.get("v201_percent", 0)
    return (
        f"{run['stations']:,}"
        + (" (inline)" if run.get("derivation", "inline") == "inline" else "")
        + (f" ({mixed} % 2.0.1)" if mixed else "")
        + (" (quick)" if run["quick"] else "")
    )


# -- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.embedded_fleet", description=__doc__
    )
    add = parser.add_argument
    add("--stations", default="10000", help="fleet sizes, comma-separated (default 10000)")
    add("--meter-interval", type=float, default=10.0, help="seconds between MeterValues (10)")
    add("--duration", type=float, default=300.0, help="seconds the load is held (300)")
    add("--ramp-up", type=float, help="seconds to connect the fleet (default stations/150)")
    add("--settle", type=float, default=60.0, help="seconds after the ramp-up (60)")
    add("--quick", action="store_true", help="a 1-minute smoke run with 500 stations")
    add(
        "--derivation",
        choices=("process", "inline"),
        default="process",
        help="CHARGESTREAM_DERIVATION of the CSMS (default process: a child of its own)",
    )
    add_protocol_option(parser)
    add("--profile", type=float, default=0.0, help="py-spy seconds after the hold (0: off)")
    add("--drain-timeout", type=float, default=300.0, help="seconds for the lag to drain (300)")
    add("--keep", action="store_true", help="keep each run's data directory and ledger")
    add("--output", type=Path, default=RESULTS, help=f"results JSON (default {RESULTS})")
    add("--workdir", type=Path, default=Path(tempfile.gettempdir()), help="data directories")
    # one process: no gateways, workers or Kafka of their own to choose
    parser.set_defaults(
        gateways=1, workers=1, partitions=DEFAULT_PARTITIONS, linger_ms=DEFAULT_LINGER_MS
    )
    return parser.parse_args(argv)


def plans(args: argparse.Namespace) -> list[Plan]:
    return pipeline_plans(args, quick=(500, 30.0, 15.0))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_file_limit()
    info = {k: v for k, v in machine().items() if k not in ("kafka", "cassandra")}
    rows = []
    try:
        for plan in plans(args):
            rows.append(run_plan(plan, args.workdir, args.derivation, keep=args.keep))
            found = rows[-1]["verdict"]
            say("holds" if found["holds"] else f"does not hold: {'; '.join(found['reasons'])}")
    finally:
        if rows:
            report = merge(args.output, rows, info, configuration)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
            print(markdown(report), flush=True)
    return 0 if rows and all(row["verdict"]["holds"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
