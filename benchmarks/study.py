"""The scale study: ``python -m benchmarks.study`` (``make bench``).

Climbs through fleet sizes (10, 20, 40, 80, 160, 1,000, 5,000, 10,000 and 20,000
simulated charge points), each a fresh stack measured by ``benchmarks.pipeline.run_plan``
on the local Kafka and Cassandra (``.services-bench``), and stops at the first step that
breaks its service levels. Then one size (quick: 1,000; full: the largest step held) runs
with one and with two gateways and Faust workers (scale-out). Results:
docs/benchmarks/study.json, four PNG figures (throughput, latency, CPU and memory per
component against charge points), and Markdown tables on stdout and in
docs/benchmarks/study.md, including SIMA's numbers side by side.

``--quick`` (the default: 10, 40, 160 and 1,000 charge points held for 45 s, scale-out at
1,000) takes about 11 minutes on a 2-core machine. ``--full`` holds the steps below 1,000
for 5 minutes and the others for 10; it takes about 1.5 hours when 5,000 is the first
step that breaks (as on a 2-core machine), about 2 hours if every step holds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks import plots
from benchmarks.loadgen import raise_file_limit
from benchmarks.pipeline import (
    MAX_LAG_SECONDS,
    SESSION_COUNTS,
    TAIL,
    Plan,
    ServiceLevels,
    acknowledged,
    default_ramp_up,
    machine,
    run_plan,
    say,
    verdict,
)
from chargestream.services import ServiceSet
from chargestream.simulator.cli import add_protocol_option

ALL_STEPS = (10, 20, 40, 80, 160, 1_000, 5_000, 10_000, 20_000)
CALL_P99_MS = 50.0  # CALL -> CALLRESULT, as the charge points see it
STORE_P99_MS = 1_000.0  # gateway receive -> Cassandra
LEVELS = ServiceLevels(
    store_p99_ms=STORE_P99_MS,
    call_p99_ms=CALL_P99_MS,
    max_lag_s=MAX_LAG_SECONDS,
    zero_counts=(*SESSION_COUNTS, "open"),
)
STACK = ("gateway", "worker", "api", "kafka", "cassandra")  # without the load generator
CPU_TARGET_STATIONS = 160
CPU_TARGET_PCT = 25.0  # of the whole machine, for the stack at CPU_TARGET_STATIONS
METER_INTERVAL = 10.0
# a run's time besides the load (stack start, drain, reconciliation, clean-up), roughly
RUN_OVERHEAD_S = 40.0
RUN_OVERHEAD_PER_STATION_S = 0.01
OUTPUT_DIR = Path("docs/benchmarks")


@dataclass(frozen=True)
class Mode:
    name: str
    steps: tuple[int, ...]
    settle: float  # seconds between the end of the ramp-up and the hold
    hold: float  # seconds, steps below 1,000
    long_hold: float  # seconds, steps from 1,000 up
    drain_timeout: float
    scale_out: int | None  # charge points for the 2-gateway/2-worker run; None: highest held
    v201_percent: int = 0  # of the charge points, how many in a hundred speak OCPP 2.0.1

    def hold_for(self, stations: int) -> float:
        return self.long_hold if stations >= 1_000 else self.hold


QUICK = Mode("quick", (10, 40, 160, 1_000), 15, 45, 45, drain_timeout=120, scale_out=1_000)
FULL = Mode("full", ALL_STEPS, 60, 300, 600, drain_timeout=600, scale_out=None)


def step_plan(mode: Mode, stations: int, gateways: int = 1, workers: int = 1) -> Plan:
    return Plan(
        stations=stations,
        gateways=gateways,
        workers=workers,
        meter_interval=METER_INTERVAL,
        ramp_up=default_ramp_up(stations),
        settle=mode.settle,
        hold=mode.hold_for(stations),
        profile=0.0,
        drain_timeout=mode.drain_timeout,
        quick=mode.name == "quick",
        v201_percent=mode.v201_percent,
    )


def estimate_s(mode: Mode) -> float:
    """Seconds the study takes if every step holds."""
    sizes = list(mode.steps)
    scale_out = mode.scale_out if mode.scale_out is not None else max(sizes)
    plans = [step_plan(mode, n) for n in sizes]
    if scale_out:
        plans.append(step_plan(mode, scale_out, gateways=2, workers=2))
        if scale_out not in sizes:
            plans.append(step_plan(mode, scale_out))
    return sum(
        p.warmup + p.hold + TAIL + RUN_OVERHEAD_S + RUN_OVERHEAD_PER_STATION_S * p.stations
        for p in plans
    )


# -- the climb


def holds(row: dict[str, Any]) -> bool:
    return bool(row["verdict"]["holds"])


def climb(
    steps: Iterable[int], run: Callable[[int], dict[str, Any]], through: bool = False
) -> Iterator[dict[str, Any]]:
    """Run the steps in order, up to and including the first that does not hold (or all of
    them ``through``: a tail-latency miss at a small step then hides nothing above it)."""
    for stations in steps:
        row = run(stations)
        yield row
        if not holds(row) and not through:
            return


def highest_held(rows: list[dict[str, Any]]) -> int | None:
    held = [row["stations"] for row in rows if holds(row)]
    return max(held, default=None)


def scale_out_size(mode: Mode, rows: list[dict[str, Any]]) -> int | None:
    """Where the scale-out runs: the mode's size, else the highest step held."""
    return mode.scale_out if mode.scale_out is not None else highest_held(rows)


def study_verdict(row: dict[str, Any]) -> dict[str, Any]:
    """The study's service levels applied to a pipeline result row."""
    return verdict(row, LEVELS)


def failed_row(plan: Plan, error: BaseException) -> dict[str, Any]:
    """A step whose run did not get to measuring (the stack or the load failed)."""
    return {
        "stations": plan.stations,
        "gateways": plan.gateways,
        "workers": plan.workers,
        "quick": plan.quick,
        "error": repr(error),
        "verdict": {"holds": False, "reasons": [f"run failed: {error}"]},
    }


def stack_share(row: dict[str, Any], cores: int) -> float:
    """CPU of the stack's processes (not the load generator) in % of the whole machine."""
    return sum(row["components"][name]["cpu_pct"] for name in STACK) / cores


def cpu_check(rows: list[dict[str, Any]], cores: int) -> dict[str, Any]:
    """The target 'whole stack under 25 % of the machine at 160 charge points'."""
    row = next(
        (r for r in plots.measured(rows) if r["stations"] == CPU_TARGET_STATIONS),
        None,
    )
    share = None if row is None else round(stack_share(row, cores), 1)
    return {
        "stations": CPU_TARGET_STATIONS,
        "max_pct_of_machine": CPU_TARGET_PCT,
        "stack_pct_of_machine": share,
        "met": None if share is None else share < CPU_TARGET_PCT,
    }


def conclusions(report: dict[str, Any]) -> dict[str, Any]:
    steps = report["steps"]
    broken = next((row for row in steps if not holds(row)), None)
    return {
        "highest_held": highest_held(steps),
        "stopped_at": None
        if broken is None
        else {"stations": broken["stations"], "reasons": broken["verdict"]["reasons"]},
        "cpu_target": cpu_check(steps, report["machine"]["nproc"]),
    }


# -- SIMA (the paper's section 5): average CPU and memory use of each machine in %, as the
# text describing figures 9 (CPU) and 10 (memory) states them; table 2 gives the machines.

SIMA = {  # charge points -> machine -> (CPU %, memory %)
    10: {"docker-compose": (17, 96), "worker 01": (12, 94), "worker 02": (14, 96)},
    20: {"docker-compose": (17, 95), "worker 01": (13, 94), "worker 02": (15, 96)},
    40: {"docker-compose": (20, 96), "worker 01": (14, 95), "worker 02": (17, 96)},
    80: {"docker-compose": (24, 96), "worker 01": (17, 95), "worker 02": (21, 95)},
    160: {"docker-compose": (30, 96), "worker 01": (22, 95), "worker 02": (26, 95)},
}


def sima_table(report: dict[str, Any]) -> str:
    info = report["machine"]
    cores, ram_mb = info["nproc"], info["ram_gb"] * 1024
    by_size = {row["stations"]: row for row in plots.measured(report["steps"])}
    lines = [
        "| charge points | SIMA docker-compose CPU % / memory % | SIMA k8s worker 01 CPU % /"
        " memory % | SIMA k8s worker 02 CPU % / memory % | chargestream stack CPU % of machine"
        " | stack RSS MB (% of RAM) | frames in/s |",
        "|---:|---|---|---|---:|---:|---:|",
    ]
    for stations, machines in SIMA.items():
        cells = " | ".join(f"{cpu} / {memory}" for cpu, memory in machines.values())
        row = by_size.get(stations)
        if row is None:
            ours = "not run | — | —"
        else:
            rss = sum(row["components"][name]["rss_mb"] for name in STACK)
            ours = (
                f"{stack_share(row, cores):.1f} | {rss:,} ({100 * rss / ram_mb:.0f} %)"
                f" | {_n(row['rates']['frames_in_per_s'], 1)}"
            )
        lines.append(f"| {stations} | {cells} | {ours} |")
    lines += [
        "",
        "SIMA: Dojot on docker-compose (one machine, 4 cores, 16 GB) and on a Kubernetes"
        " cluster (two workers, 4 cores and 8 GB each; table 2), average use of the whole"
        " machine over 10 minutes per step. The numbers are the ones section 5 states in the"
        " text for figures 9 (CPU) and 10 (memory), not read off the plots. chargestream:"
        f" this machine ({cores} cores, {info['ram_gb']} GB); CPU is the sum of the gateway,"
        " worker, API, Kafka and Cassandra processes over the hold, in % of all cores (load"
        " generator excluded); memory is the sum of their peak RSS, whereas SIMA gives each"
        " machine's memory use (what it counts, such as the page cache, is not stated).",
    ]
    return "\n".join(lines)


# -- Markdown


def markdown(report: dict[str, Any]) -> str:
    facts = conclusions(report)
    cores = report["machine"]["nproc"]
    parts = [
        _headline(report, facts),
        _levels_table(report["service_levels"]),
        _steps_table(report["steps"]),
        _resources_table(plots.measured(report["steps"]), cores),
        _reconciliation_table(plots.measured(report["steps"])),
    ]
    if report.get("scale_out"):
        parts.append(_scale_out_table(report["scale_out"], cores))
    parts.append(sima_table(report))
    return "\n\n".join(parts) + "\n"


def _headline(report: dict[str, Any], facts: dict[str, Any]) -> str:
    held = facts["highest_held"]
    outcome = "no step held" if held is None else f"highest step held **{held:,} charge points**"
    lines = [
        f"Mode {report['mode']}, {report['date']}, commit {report['machine']['commit']}: {outcome}."
    ]
    stopped = facts["stopped_at"]
    if stopped is not None:
        lines.append(f"Stopped at {stopped['stations']:,}: {'; '.join(stopped['reasons'])}.")
    target = facts["cpu_target"]
    if target["met"] is not None:
        lines.append(
            f"{target['stations']} charge points: the stack used"
            f" {target['stack_pct_of_machine']} % of the machine (target under"
            f" {target['max_pct_of_machine']:.0f} %): {'met' if target['met'] else 'NOT met'}."
        )
    return "\n".join(lines)


def levels_dict(levels: ServiceLevels) -> dict[str, Any]:
    return {
        "call_p99_ms": levels.call_p99_ms,
        "store_p99_ms": levels.store_p99_ms,
        "max_lag_s": levels.max_lag_s,
        "zero_counts": list(levels.zero_counts),
    }


def _levels_table(levels: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| service level of a step | limit |",
            "|---|---|",
            f"| CALL→CALLRESULT p99 (hold) | < {levels['call_p99_ms']:.0f} ms |",
            f"| receive→Cassandra p99 (hold) | < {levels['store_p99_ms']:,.0f} ms |",
            f"| lag at the end of the hold | ≤ {levels['max_lag_s']:.0f} s of input,"
            " drained after the load |",
            f"| sessions {', '.join(levels['zero_counts'])} | 0 |",
            "| meter value rows missing or extra (sampled charge points) | 0 |",
            "| CALLs answered but not in Kafka | 0 |",
            "| simulator errors (connect failures, disconnects, CALLERRORs, timeouts,"
            " bad frames) | 0 |",
        ]
    )


def _steps_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| charge points | connected | frames in/s | CALLs in hold"
        " | CALL→CALLRESULT p50 / p99 / p99.9 ms | in the gateway: p99 ≤ ms (> 50 ms)"
        " | receive→Cassandra p50 / p99 ms | max lag (events, s) | drained in | errors"
        " | holds |",
        "|---:|---:|---:|---:|---|---|---|---|---:|---:|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['stations']:,} |" + " — |" * 9 + f" no: {row['error']} |")
            continue
        call, store, lag = row["call_latency_ms"], plots.store_delay(row), row["lag"]
        connected = row["connected"]
        outcome = "yes" if holds(row) else "no: " + "; ".join(row["verdict"]["reasons"])
        lines.append(
            f"| {row['stations']:,} | {_range(connected['min'], connected['max'])}"
            f" | {_n(row['rates']['frames_in_per_s'], 1)} | {row['calls_in_hold']:,}"
            f" | {_ms(call['p50'])} / {_ms(call['p99'])} / {_ms(call['p99.9'])}"
            f" | {_in_gateway(row.get('gateway_call_ms'))}"
            f" | {_ms(store['p50'])} / {_ms(store['p99'])}"
            f" | {lag['max_events_hold']:,} ({lag['max_seconds_hold']} s)"
            f" | {_drained(lag['drain_s'])}"
            f" | {row['simulator']['errors']} | {outcome} |"
        )
    return "\n".join(lines)


def _resources_table(rows: list[dict[str, Any]], cores: int) -> str:
    roles = (*STACK, "simulator")
    header = " | ".join(f"{plots.LABELS.get(r, r)} CPU % / MB" for r in roles)
    lines = [
        f"| charge points | gw/wk | {header} | stack % of machine | machine busy % |",
        "|---:|:-:|" + "---:|" * (len(roles) + 2),
    ]
    for row in rows:
        parts = row["components"]
        cells = " | ".join(f"{parts[r]['cpu_pct']:.0f} / {parts[r]['rss_mb']:,}" for r in roles)
        lines.append(
            f"| {row['stations']:,} | {row['gateways']}/{row['workers']} | {cells}"
            f" | {stack_share(row, cores):.1f} | {parts['machine']['cpu_pct'] / cores:.0f} |"
        )
    lines += [
        "",
        f"CPU in % of one core (the machine has {cores * 100} %), averaged over the hold; MB is"
        " peak RSS. *Stack* is gateway, workers, API, Kafka and Cassandra in % of the whole"
        " machine; *machine busy* counts every process on it, other users' too.",
    ]
    return "\n".join(lines)


def _reconciliation_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| charge points | sessions completed | lost | doubled | mismatched | extra | open"
        " | meter rows expected / found | CALLs answered / in Kafka |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        found = row["reconciliation"]
        if found is None:
            lines.append(f"| {row['stations']:,} |" + " — |" * 8)
            continue
        s, m = found["sessions"], found["store"]
        lines.append(
            f"| {row['stations']:,} | {s['ledger']:,} | {s['lost']} | {s['doubled']}"
            f" | {s['mismatched']} | {s['extra']} | {s['open']}"
            f" | {m['rows_expected']:,} / {m['rows_found']:,} | {acknowledged(row)} |"
        )
    return "\n".join(lines)


def _scale_out_table(rows: list[dict[str, Any]], cores: int) -> str:
    rows = plots.measured(rows)
    metrics: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("frames in/s", lambda r: _n(r["rates"]["frames_in_per_s"], 1)),
        ("log events/s", lambda r: _n(r["rates"]["log_events_per_s"], 1)),
        ("CALL→CALLRESULT p50 / p99 ms", lambda r: _pair(r["call_latency_ms"])),
        ("receive→Cassandra p50 / p99 ms", lambda r: _pair(plots.store_delay(r))),
        ("max lag, s of input", lambda r: f"{r['lag']['max_seconds_hold']}"),
        *(
            (f"{plots.LABELS.get(name, name)} CPU %", _cpu_of(name))
            for name in (*STACK, "simulator")
        ),
        ("stack % of machine", lambda r: f"{stack_share(r, cores):.1f}"),
        ("holds", lambda r: "yes" if holds(r) else "no"),
    ]
    names = [f"{r['gateways']} gateway(s) / {r['workers']} worker(s)" for r in rows]
    stations = f"{rows[0]['stations']:,}" if rows else "—"
    lines = [
        f"| {stations} charge points | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    lines += [f"| {label} | " + " | ".join(f(r) for r in rows) + " |" for label, f in metrics]
    return "\n".join(lines)


def _drained(seconds: float | None) -> str:
    return "not drained" if seconds is None else f"{seconds:.0f} s"


def _in_gateway(buckets: dict[str, Any] | None) -> str:
    """The gateway's own receive->answer histogram: the bucket bound of p99, slow answers."""
    if buckets is None or buckets["p99_le"] is None:
        return "—"
    return f"{_ms(buckets['p99_le'])} ({buckets['over_50ms']:,})"


def _cpu_of(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: f"{row['components'][name]['cpu_pct']:.0f}"


def _pair(quantiles: dict[str, Any]) -> str:
    return f"{_ms(quantiles['p50'])} / {_ms(quantiles['p99'])}"


def _range(low: int, high: int) -> str:
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


def _n(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


# -- running


def publish(report: dict[str, Any], directory: Path) -> None:
    """study.json, the figures and study.md; the Markdown on stdout."""
    report |= conclusions(report)
    _save(report, directory)
    plots.render(report, directory)
    text = markdown(report)
    (directory / "study.md").write_text(text)
    print(text, end="", flush=True)


def _save(report: dict[str, Any], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "study.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))


class Runner:
    """Runs one step on a fresh stack and judges it by the study's service levels."""

    def __init__(self, args: argparse.Namespace, mode: Mode) -> None:
        self.args, self.mode = args, mode
        self.services = ServiceSet(
            args.services_dir, args.kafka_port, args.cassandra_port, echo=say
        )

    def run(self, stations: int, gateways: int = 1, workers: int = 1) -> dict[str, Any]:
        plan = step_plan(self.mode, stations, gateways, workers)
        root = self.services.base_dir / "runs"
        began = time.monotonic()
        try:
            row = run_plan(plan, self.services, root, self.args.port_base)
        except Exception as error:  # the step fails; the study goes on to report it
            say(f"run failed: {error!r}")
            row = failed_row(plan, error)
        else:
            row["verdict"] = study_verdict(row)
        row["elapsed_s"] = round(time.monotonic() - began)
        reasons = row["verdict"]["reasons"]
        name = f"{stations:,} charge points, {gateways} gateway(s), {workers} worker(s)"
        say(f"{name}: " + ("holds" if holds(row) else f"breaks: {'; '.join(reasons)}"))
        return row


def _mode(args: argparse.Namespace) -> Mode:
    mode = FULL if args.full else QUICK
    if args.steps:
        mode = replace(mode, steps=tuple(int(n) for n in args.steps.split(",")))
    if args.hold is not None:
        mode = replace(mode, hold=args.hold, long_hold=args.hold)
    if args.settle is not None:
        mode = replace(mode, settle=args.settle)
    mode = replace(mode, v201_percent=args.v201_percent)
    if args.scale_out is not None:
        mode = replace(mode, scale_out=args.scale_out)
    return mode


def study(args: argparse.Namespace) -> int:
    mode = _mode(args)
    runner = Runner(args, mode)
    say(
        f"scale study, {mode.name}: steps {', '.join(f'{n:,}' for n in mode.steps)};"
        f" about {estimate_s(mode) / 60:.0f} min if every step holds"
    )
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode.name,
        "machine": machine(),
        "service_levels": levels_dict(LEVELS),
        "steps": [],
        "scale_out": [],
    }
    raise_file_limit()
    try:
        with runner.services.held():
            for row in climb(mode.steps, runner.run, through=args.through):
                report["steps"].append(row)
                _save(report, args.output_dir)
            size = scale_out_size(mode, report["steps"])
            if size:
                say(f"scale-out at {size:,} charge points: 2 gateways, 2 workers")
                same = [r for r in report["steps"] if r["stations"] == size and "error" not in r]
                single = same[0] if same else runner.run(size)
                report["scale_out"] = [single, runner.run(size, gateways=2, workers=2)]
    finally:
        report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        publish(report, args.output_dir)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.study", description=__doc__)
    add = parser.add_argument
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true", help="steps 10, 40, 160, 1,000 (default)")
    which.add_argument("--full", action="store_true", help="every step, 10-minute holds")
    which.add_argument(
        "--plot-only", action="store_true", help="re-render figures and Markdown from study.json"
    )
    add("--steps", help="fleet sizes to climb, comma-separated (overrides the mode's)")
    add("--hold", type=float, help="seconds each step is held (overrides the mode's)")
    add("--through", action="store_true", help="run every step, even after one breaks")
    add("--settle", type=float, help="seconds between ramp-up and hold (overrides the mode's)")
    add(
        "--scale-out",
        type=int,
        help="charge points for the 2-gateway/2-worker run (quick: 1000; full: the highest"
        " step held; 0: none)",
    )
    add_protocol_option(parser)
    add("--output-dir", type=Path, default=OUTPUT_DIR, help=f"results (default {OUTPUT_DIR})")
    add("--services-dir", default=".services-bench", help="Kafka/Cassandra files")
    add("--kafka-port", type=int, default=29092)
    add("--cassandra-port", type=int, default=29042)
    add("--port-base", type=int, default=29000, help="OCPP port; API +80, health +81 (29000)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.plot_only:
        report = orjson.loads((args.output_dir / "study.json").read_bytes())
        publish(report, args.output_dir)
        return 0
    return study(args)


if __name__ == "__main__":
    sys.exit(main())
