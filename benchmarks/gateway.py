"""Gateway throughput and latency: ``python -m benchmarks.gateway`` (``make bench-gateway``).

For each configuration (event log sync normal/full, processors off/on) and each
station count, a fresh embedded CSMS runs as its own process; load generator
processes (benchmarks.loadgen) connect the charge points and run a paced step
and a saturation step. The gateway's CPU time (all threads, from /proc) over
each measured window turns answered MeterValues into "MeterValues/s per core";
a probe in the gateway process adds up its garbage collection time. One extra
saturation run under py-spy (if installed) shows where the rest goes. Results
go to docs/benchmarks/gateway.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from benchmarks.loadgen import (
    Connected,
    Step,
    StepResult,
    WorkerSpec,
    percentile,
    raise_file_limit,
    worker_main,
)

CONFIGS = ("normal-off", "full-off", "normal-on", "full-on")  # log sync - processors
RESULTS = Path("docs/benchmarks/gateway.json")
TICK = os.sysconf("SC_CLK_TCK")
# `chargestream run` (settings from the env) with a passive probe: the CPU time spent in
# garbage collection accumulates in an 8-byte file the benchmark reads at window edges.
LAUNCH = """
import gc, mmap, struct, sys, time
from chargestream.app.cli import main

probe = open(sys.argv[1], "r+b")
shared = mmap.mmap(probe.fileno(), 8)
began = [0.0]


def measure(phase, info):
    if phase == "start":
        began[0] = time.thread_time()
    else:
        spent = time.thread_time() - began[0]
        struct.pack_into("d", shared, 0, struct.unpack_from("d", shared)[0] + spent)


gc.callbacks.append(measure)
sys.exit(main(["run"]))
"""


@dataclass(frozen=True)
class Config:
    log_sync: str  # full or normal
    processors: bool

    @classmethod
    def parse(cls, text: str) -> Config:
        sync, _, processors = text.partition("-")
        if sync not in ("full", "normal") or processors not in ("on", "off"):
            raise argparse.ArgumentTypeError(f"{text!r}: use e.g. full-off or normal-on")
        return cls(sync, processors == "on")

    @property
    def name(self) -> str:
        return f"{self.log_sync}-{'on' if self.processors else 'off'}"


@dataclass(frozen=True)
class Cpu:
    user: float
    system: float
    loop: float  # the event loop (main) thread, user + system

    @property
    def total(self) -> float:
        return self.user + self.system


@dataclass
class Row:
    """One measured step."""

    config: str
    stations: int
    load: str  # paced or saturation
    target_rate: float | None
    rate: float  # MeterValues answered per second
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    gateway_cores: float  # gateway CPU seconds per second, all threads
    loop_cores: float  # the same for the event loop thread alone
    kernel_share: float  # share of the gateway's CPU time spent in the kernel
    gc_share: float  # share of the gateway's CPU time spent collecting garbage
    per_core: float  # MeterValues answered per gateway CPU second
    rss_mb: float
    peak_rss_mb: float
    loadgen_cores: float
    other_cores: float  # CPU used by everything else on the machine
    server_mean_ms: float | None  # gateway's own frame-received to answer-sent mean
    processor_lag: int | None  # events logged but not yet derived at the end
    processed_rate: float | None  # events derived per second


@dataclass
class Report:
    date: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    profile: dict[str, Any] | None = None


# -- the gateway process


class GatewayProcess:
    """A fresh embedded CSMS in its own process and data directory."""

    def __init__(
        self, config: Config, workdir: Path, derivation: str = "inline", *, keep: bool = False
    ) -> None:
        """``derivation``: where the views are derived (``CHARGESTREAM_DERIVATION``); this
        benchmark measures one process, the embedded-fleet one the default, a child.
        ``keep``: leave the data directory when stopped, to look into."""
        self.config = config
        self.keep = keep
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"gw-{config.name}-", dir=workdir))
        self.ocpp_port, self.api_port = _free_port(), _free_port()
        env = dict(
            os.environ,
            CHARGESTREAM_DATA_DIR=str(self.data_dir),
            CHARGESTREAM_OCPP_PORT=str(self.ocpp_port),
            CHARGESTREAM_OCPP_TLS_PORT="0",
            CHARGESTREAM_API_PORT=str(self.api_port),
            CHARGESTREAM_ACCEPT_UNKNOWN_ID_TAGS="true",
            CHARGESTREAM_LOG_FORMAT="json",
            CHARGESTREAM_LOG_LEVEL="WARNING",
            CHARGESTREAM_LOG_SYNC=config.log_sync,
            CHARGESTREAM_RUN_PROCESSORS=str(config.processors).lower(),
            CHARGESTREAM_DERIVATION=derivation,
            CHARGESTREAM_RUN_UI="false",
        )
        self._gc_probe = self.data_dir.with_suffix(".gc")
        self._gc_probe.write_bytes(bytes(8))
        self.process = subprocess.Popen([sys.executable, "-c", LAUNCH, self._gc_probe], env=env)
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    def _wait_until_up(self, timeout: float = 30.0) -> None:
        """Until /healthz answers (whatever it says: the API starts after the gateway)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self.process.returncode}")
            try:
                self._get("/healthz")
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the gateway did not answer /healthz")

    def _get(self, path: str) -> bytes:
        url = f"http://127.0.0.1:{self.api_port}{path}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()

    def cpu(self) -> Cpu:
        """CPU seconds of the process (all threads) and of its event loop thread."""
        user, system = _stat_cpu(f"/proc/{self.process.pid}/stat")
        loop = _stat_cpu(f"/proc/{self.process.pid}/task/{self.process.pid}/stat")
        return Cpu(user, system, sum(loop))

    def gc_seconds(self) -> float:
        """CPU seconds the gateway spent collecting garbage so far."""
        return struct.unpack("d", self._gc_probe.read_bytes())[0]

    def memory_mb(self) -> tuple[float, float]:
        """Resident and peak resident memory."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def call_seconds(self) -> tuple[float, float] | None:
        """The gateway's own CALL histogram from /metrics: (sum of seconds, count)."""
        try:
            text = self._get("/metrics").decode()
        except OSError:
            return None
        values = dict(
            line.removeprefix("chargestream_call_seconds_").split()
            for line in text.splitlines()
            if line.startswith(("chargestream_call_seconds_sum", "chargestream_call_seconds_count"))
        )
        return (float(values["sum"]), float(values["count"])) if len(values) == 2 else None

    def log_positions(self) -> tuple[int, int]:
        """Last position in the event log and the processor's checkpoint."""
        uri = f"file:{self.data_dir / 'events.db'}?mode=ro"
        with sqlite3.connect(uri, uri=True) as db:
            last = db.execute("SELECT coalesce(max(position), 0) FROM frames").fetchone()[0]
            done = db.execute("SELECT position FROM checkpoints WHERE name = 'views'").fetchone()
        return last, done[0] if done else 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self._gc_probe.unlink(missing_ok=True)


def _stat_cpu(path: str) -> tuple[float, float]:
    """User and system CPU seconds from a /proc stat file."""
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def wait_for_quiet(limit: float, timeout: float) -> None:
    """Wait (at most ``timeout`` s) until the rest of the machine uses under ``limit`` cores.

    Call it while the gateway and the load generators are idle.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _machine_busy()
        time.sleep(1)
        busy = _machine_busy() - before
        if busy < limit:
            return
        print(f"  waiting: other processes use {busy:.2f} cores", flush=True)


def _machine_busy() -> float:
    """CPU seconds spent outside idle and iowait by the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- load generator processes


class LoadGenerator:
    """Worker processes holding ``stations`` connected charge points between them."""

    _next_source = 0

    def __init__(self, url: str, stations: int, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        ids = [f"cp{index:05d}" for index in range(stations)]
        for worker in range(workers):
            LoadGenerator._next_source += 1
            number = LoadGenerator._next_source
            source = f"127.1.{number // 250}.{number % 250 + 1}"
            parent, child = context.Pipe()
            spec = WorkerSpec(url, ids[worker::workers], source)
            process = context.Process(target=worker_main, args=(child, spec), daemon=True)
            process.start()
            child.close()
            self._pipes.append(parent)
            self._processes.append(process)

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def connected(self) -> Connected:
        reports: list[Connected] = [pipe.recv() for pipe in self._pipes]
        errors = [report.first_error for report in reports if report.first_error]
        return Connected(
            sum(report.stations for report in reports),
            sum(report.failures for report in reports),
            max(report.seconds for report in reports),
            errors[0] if errors else None,
        )

    def start(self, step: Step) -> None:
        for pipe in self._pipes:
            pipe.send(step)

    def results(self) -> StepResult:
        merged = StepResult()
        for pipe in self._pipes:
            result: StepResult = pipe.recv()
            merged.answered += result.answered
            merged.errors += result.errors
            merged.cpu_seconds += result.cpu_seconds
            merged.histogram.update(result.histogram)
        return merged

    def close(self) -> None:
        for pipe in self._pipes:
            with suppress(OSError):
                pipe.send(None)
        for process in self._processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join()


# -- one step


@dataclass(frozen=True)
class Sample:
    """Counters read at one edge of a measured window."""

    gateway: Cpu
    gc_seconds: float
    machine: float
    call_seconds: tuple[float, float] | None
    log_positions: tuple[int, int] | None

    @classmethod
    def read(cls, gateway: GatewayProcess) -> Sample:
        positions = gateway.log_positions() if gateway.config.processors else None
        return cls(
            gateway.cpu(),
            gateway.gc_seconds(),
            _machine_busy(),
            gateway.call_seconds(),
            positions,
        )


@dataclass(frozen=True)
class Window:
    """What the parent observed over one measured window."""

    first: Sample
    last: Sample
    seconds: float
    rss_mb: float
    peak_rss_mb: float


def run_step(
    gateway: GatewayProcess,
    loadgen: LoadGenerator,
    stations: int,
    target_rate: float | None,
    timing: argparse.Namespace,
) -> tuple[StepResult, Window]:
    """One paced (target_rate) or saturation (None) step; the window after warmup is measured."""
    start_at = time.time() + 0.5
    begin = start_at + timing.warmup
    per_station = target_rate / stations if target_rate else None
    loadgen.start(Step(per_station, start_at, timing.warmup, timing.duration))
    time.sleep(max(begin - time.time(), 0))
    first = Sample.read(gateway)
    time.sleep(max(begin + timing.duration - time.time(), 0))
    last = Sample.read(gateway)
    rss, peak = gateway.memory_mb()
    return loadgen.results(), Window(first, last, timing.duration, rss, peak)


def make_row(
    config: Config, stations: int, target_rate: float | None, result: StepResult, window: Window
) -> Row:
    first, last, seconds = window.first, window.last, window.seconds
    gateway_cpu = last.gateway.total - first.gateway.total
    server_mean = None
    if first.call_seconds and last.call_seconds:
        calls = last.call_seconds[1] - first.call_seconds[1]
        spent = last.call_seconds[0] - first.call_seconds[0]
        server_mean = spent / calls * 1000 if calls else None
    lag = processed = None
    if first.log_positions and last.log_positions:
        lag = last.log_positions[0] - last.log_positions[1]
        processed = (last.log_positions[1] - first.log_positions[1]) / seconds
    machine_cpu = last.machine - first.machine
    return Row(
        config=config.name,
        stations=stations,
        load="paced" if target_rate else "saturation",
        target_rate=target_rate,
        rate=result.answered / seconds,
        errors=result.errors,
        p50_ms=percentile(result.histogram, 0.5),
        p99_ms=percentile(result.histogram, 0.99),
        p999_ms=percentile(result.histogram, 0.999),
        gateway_cores=gateway_cpu / seconds,
        loop_cores=(last.gateway.loop - first.gateway.loop) / seconds,
        kernel_share=_ratio(last.gateway.system - first.gateway.system, gateway_cpu),
        gc_share=_ratio(last.gc_seconds - first.gc_seconds, gateway_cpu),
        per_core=_ratio(result.answered, gateway_cpu),
        rss_mb=window.rss_mb,
        peak_rss_mb=window.peak_rss_mb,
        loadgen_cores=result.cpu_seconds / seconds,
        other_cores=max(machine_cpu - gateway_cpu - result.cpu_seconds, 0.0) / seconds,
        server_mean_ms=server_mean,
        processor_lag=lag,
        processed_rate=processed,
    )


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# -- profiling


@contextmanager
def profiling(pid: int, seconds: float, output: Path) -> Iterator[bool]:
    """Sample ``pid`` with py-spy for ``seconds`` (yields False without py-spy)."""
    binary = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if binary is None:
        yield False
        return
    command = [binary, "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", "200", "--format", "raw", "--threads", "--nonblocking"]
    recorder = subprocess.Popen(
        [*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield True
    finally:
        _, errors = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0:
            print(f"  py-spy failed: {errors.decode().strip()[-300:]}", flush=True)


# Where a sample's time goes, by the innermost frame that matches (first rule wins). py-spy
# shows no frame for garbage collection: its time lands on the frame that allocated.
CATEGORIES = (
    ("garbage collection probe", ("measure (<string>",)),
    ("schema validation (fastjsonschema)", ("fastjsonschema", "gateway/schemas.py", "<string>")),
    ("OCPP-J parse/serialise (orjson)", ("gateway/ocppj.py",)),
    ("event log append (SQLite)", ("eventlog/sqlite.py",)),
    ("thread pool hand-off", ("concurrent/futures", "threading.py")),
    ("Prometheus metrics", ("prometheus_client",)),
    ("websockets framing", ("websockets/",)),
    ("gateway logic (events, handlers)", ("gateway/", "domain/frames.py", "uuid.py")),
    ("derivation processors", ("streams/", "storage/")),
    ("HTTP API", ("uvicorn", "fastapi", "starlette")),
    ("socket I/O (transports, epoll)", ("selector_events.py", "selectors.py")),
    ("asyncio scheduling", ("asyncio/",)),
)


def summarise_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Category shares and hottest functions of the event loop thread; helper thread load."""
    categories: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1]
        threads[thread] += int(count)
        if frames[-1].startswith("_worker (concurrent/futures/thread.py"):
            waiting[thread] += int(count)  # an idle executor thread waiting for work
        if thread != "MainThread":
            continue
        categories[_category(frames[1:])] += int(count)
        functions[frames[-1]] += int(count)
    main = threads["MainThread"] or 1
    return {
        "samples": dict(threads),
        "idle_executor_samples": dict(waiting),
        "main_thread_categories": {name: n / main for name, n in categories.most_common()},
        "main_thread_top_functions": {name: n / main for name, n in functions.most_common(top)},
    }


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in CATEGORIES:
            if any(marker in frame for marker in markers):
                return name
    return "other"


def run_profile(args: argparse.Namespace, workdir: Path, report: Report) -> None:
    config = Config("full", False)
    stations = args.stations[0]
    raw = workdir / "profile.txt"
    with (
        GatewayProcess(config, workdir) as gateway,
        LoadGenerator(gateway.url, stations, args.workers) as loadgen,
    ):
        loadgen.connected()
        wait_for_quiet(args.quiet_below, args.quiet_timeout)
        with profiling(gateway.process.pid, args.warmup + args.duration, raw) as sampling:
            measured = run_step(gateway, loadgen, stations, None, args)
    row = make_row(config, stations, None, *measured)
    print(f"[profile {config.name}] {stations} stations, saturation: {_line(row)}", flush=True)
    if sampling and raw.exists():
        report.profile = {"config": config.name, "stations": stations, "load": "saturation"}
        report.profile |= {"rate": row.rate, **summarise_profile(raw)}


# -- the matrix


def run_matrix(args: argparse.Namespace, workdir: Path, report: Report) -> None:
    for config in args.configs:
        for stations, rate in zip(args.stations, args.rates, strict=True):
            with (
                GatewayProcess(config, workdir) as gateway,
                LoadGenerator(gateway.url, stations, args.workers) as loadgen,
            ):
                connected = loadgen.connected()
                print(f"[{config.name}] {_connected(stations, connected)}", flush=True)
                for target in (rate, None):
                    _drain(gateway)
                    wait_for_quiet(args.quiet_below, args.quiet_timeout)
                    measured = run_step(gateway, loadgen, connected.stations, target, args)
                    row = make_row(config, connected.stations, target, *measured)
                    report.rows.append(row)
                    print(f"[{config.name}] {stations} stations, {_load(row)}: {_line(row)}")
                    sys.stdout.flush()
            _save(report, args.output)


def _drain(gateway: GatewayProcess, timeout: float = 60.0) -> None:
    """Let the processors catch up with the log before the next step."""
    deadline = time.monotonic() + timeout
    while gateway.config.processors and time.monotonic() < deadline:
        last, done = gateway.log_positions()
        if done >= last - 10:
            return
        time.sleep(0.5)


def _connected(stations: int, connected: Connected) -> str:
    text = f"{connected.stations}/{stations} stations connected in {connected.seconds:.1f} s"
    if connected.failures:
        text += f", {connected.failures} failed (first: {connected.first_error})"
    return text


def _load(row: Row) -> str:
    return f"paced {row.target_rate:,.0f}/s" if row.target_rate else "saturation"


def _line(row: Row) -> str:
    text = (
        f"{row.rate:,.0f} MeterValues/s, p50 {_ms(row.p50_ms)} p99 {_ms(row.p99_ms)}"
        f" p99.9 {_ms(row.p999_ms)} ms, gateway {row.gateway_cores:.2f} cores"
        f" ({row.gc_share:.0%} GC) -> {row.per_core:,.0f}/s per core,"
        f" loadgen {row.loadgen_cores:.2f} cores, others {row.other_cores:.2f} cores"
    )
    if row.errors:
        text += f", {row.errors} errors"
    if row.processor_lag is not None:
        text += f", processor lag {row.processor_lag:,} events"
    return text


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# -- output


def _save(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(asdict(report), option=orjson.OPT_INDENT_2) + b"\n")


def markdown(report: Report) -> str:
    """The results as a Markdown table."""
    lines = [
        "| Config (sync-processors) | Stations | Load | MeterValues/s | p50 ms | p99 ms"
        " | p99.9 ms | Gateway cores | Loop thread cores | Kernel | GC"
        " | MeterValues/s per core | RSS MB | Loadgen cores | Other cores | Processor lag |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in report.rows:
        lag = "-" if row.processor_lag is None else f"{row.processor_lag:,}"
        lines.append(
            f"| {row.config} | {row.stations:,} | {_load(row)} | {row.rate:,.0f}"
            f" | {_ms(row.p50_ms)} | {_ms(row.p99_ms)} | {_ms(row.p999_ms)}"
            f" | {row.gateway_cores:.2f} | {row.loop_cores:.2f} | {row.kernel_share:.0%}"
            f" | {row.gc_share:.0%}"
            f" | {row.per_core:,.0f} | {row.rss_mb:.0f} | {row.loadgen_cores:.2f}"
            f" | {row.other_cores:.2f} | {lag} |"
        )
    if report.profile:
        lines += ["", "Event loop thread, share of samples (py-spy, saturation):", ""]
        for name, share in report.profile["main_thread_categories"].items():
            lines.append(f"- {name}: {share:.0%}")
    return "\n".join(lines)


def machine_facts() -> dict[str, Any]:
    """CPU, Python and kernel of this machine, and its load when the run starts."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_at_start": os.getloadavg(),
    }


# -- command line


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway", description=__doc__)
    parser.add_argument("--stations", type=_ints, default=[1000, 5000], help="e.g. 1000,5000")
    parser.add_argument(
        "--rate",
        type=_ints,
        help="total MeterValues/s of each paced step, one value or one per station count"
        " (default: 1 per station and second)",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured per step")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--configs",
        type=lambda text: [Config.parse(part) for part in text.split(",")],
        default=[Config.parse(name) for name in CONFIGS],
        help=f"log sync and processors, e.g. full-off (default: {','.join(CONFIGS)})",
    )
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=0.3,
        help="before each step, wait until other processes use fewer cores than this",
    )
    parser.add_argument("--quiet-timeout", type=float, default=60.0, help="but no longer (s)")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s steps")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
    rates = args.rate or args.stations
    args.rates = rates * len(args.stations) if len(rates) == 1 else rates
    if len(args.rates) != len(args.stations):
        parser.error("--rate needs one value or one per station count")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit = raise_file_limit()  # inherited by the gateway and the load generators
    if limit < max(args.stations) + 1000:
        print(f"open files limited to {limit}: not enough for {max(args.stations)} stations")
        return 1
    report = Report(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine_facts(),
        settings={
            "duration": args.duration,
            "warmup": args.warmup,
            "workers": args.workers,
            "stations": args.stations,
            "paced_rates": args.rates,
            "open_files": limit,
            "quiet_below": args.quiet_below,
        },
    )
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as workdir:
        run_matrix(args, Path(workdir), report)
        if args.profile:
            run_profile(args, Path(workdir), report)
    _save(report, args.output)
    print(f"\nresults: {args.output}\n\n{markdown(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
