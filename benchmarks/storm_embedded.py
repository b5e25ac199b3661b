"""The reconnect storm against the embedded CSMS: ``python -m benchmarks.storm_embedded``.

``benchmarks.faults`` storms a stack (Kafka, Cassandra, Faust); this runs the same storm
drivers (``benchmarks.storm``) against one ``chargestream run`` process with its default
settings. N registered charge points, each with its own password registration (OCPP
security profile 1: a charge point hash, as PUT /charge-points stores it), register and
idle; at one moment every connection drops and, with ``--cold``, the CSMS process is
killed and started again, so every password is checked again. Measured: the time until
all are registered again (BootNotification Accepted), its quantiles, the refused and
failed attempts, the gateway's password checks and handshake refusals, and the CPU of the
CSMS and of the drivers during the storm. Results: docs/benchmarks/storm-embedded.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from benchmarks.faults import (
    STORM_PASSWORD,
    STORM_SOURCES,
    _merge,
    _receive,
    gateway_counts,
    storm_summary,
)
from benchmarks.loadgen import raise_file_limit
from benchmarks.measure import cpu_seconds
from benchmarks.storm import INITIAL_DEADLINE, DriverSpec, Ready, Storm, StormResult, driver_main
from chargestream.domain.passwords import (
    hash_charge_point_password,
    hash_password,
    verify_basic_password,
)
from chargestream.domain.records import Registration
from chargestream.domain.settings import Settings
from chargestream.storage.sqlite import SqliteStore

RESULTS = Path("docs/benchmarks/storm-embedded.json")
LAUNCH = "import sys; from chargestream.app.cli import main; sys.exit(main(['run']))"
DEADLINE = 300.0  # seconds the storm's charge points keep trying
HEARTBEAT = 60.0
STATIONS_PER_DRIVER = 5_000
TARGET = 60.0  # seconds: all registered again within this


class Csms:
    """``chargestream run`` in its own process; started again on the same data and ports."""

    def __init__(self, data_dir: Path) -> None:
        self.ocpp_port, self.api_port = _free_port(), _free_port()
        self.env = dict(
            os.environ,
            CHARGESTREAM_DATA_DIR=str(data_dir),
            CHARGESTREAM_OCPP_PORT=str(self.ocpp_port),
            CHARGESTREAM_API_PORT=str(self.api_port),
            CHARGESTREAM_LOG_LEVEL="WARNING",
            CHARGESTREAM_RUN_UI="false",
        )
        self.process = self._start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", LAUNCH], env=self.env)

    def restart(self) -> None:
        """SIGKILL and start again: the new process has verified no password."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = self._start()

    def wait_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.metrics() is not None:
                return
            time.sleep(0.1)
        raise RuntimeError("the CSMS did not answer /metrics")

    def metrics(self) -> bytes | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.api_port}/metrics", timeout=5
            ) as response:
                body: bytes = response.read()
                return body
        except OSError:
            return None

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) or 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _register(settings: Settings, ids: list[str]) -> None:
    """Each charge point's own registration and hash, written before the CSMS starts."""
    store = SqliteStore(settings.store_path)
    await store.open()
    try:
        created = datetime.now(UTC)
        for charge_point_id in ids:
            stored = hash_charge_point_password(STORM_PASSWORD)
            await store.put_registration(
                Registration(charge_point_id, password_hash=stored, created_at=created)
            )
    finally:
        await store.close()


def check_costs() -> dict[str, float]:
    """CPU microseconds of one password check, per hash form (this process, one thread)."""
    fast = hash_charge_point_password(STORM_PASSWORD)
    slow = hash_password(STORM_PASSWORD)
    secret = STORM_PASSWORD.encode()
    runs = 20_000
    fast_s = timeit.timeit(lambda: verify_basic_password(secret, fast), number=runs) / runs
    slow_s = timeit.timeit(lambda: verify_basic_password(secret, slow), number=5) / 5
    return {"hmac_sha256_us": round(fast_s * 1e6, 2), "pbkdf2_120k_us": round(slow_s * 1e6)}


def listen_overflows() -> int:
    """The machine's count of connections dropped because an accept queue was full."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=True))
            return int(table.get("ListenOverflows", 0))
    return 0


def _profiler(pid: int, output: Path | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the CSMS from now on (collapsed stacks, for a flame graph)."""
    if output is None:
        return None
    installed = Path(sys.executable).parent / "py-spy"
    spy = str(installed) if installed.exists() else "py-spy"
    command = [spy, "record", "--nonblocking", "--format", "raw", "-r", "50"]
    return subprocess.Popen([*command, "-o", str(output), "--pid", str(pid)])


def run(stations: int, cold: bool, workdir: Path, profile: Path | None = None) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="storm-", dir=workdir))
    ids = [f"STORM-{n:05d}" for n in range(1, stations + 1)]
    asyncio.run(_register(Settings(data_dir=data_dir), ids))
    csms = Csms(data_dir)
    context = multiprocessing.get_context("spawn")
    processes = []
    pipes: list[Connection] = []
    try:
        csms.wait_up()
        parts = max(1, -(-stations // STATIONS_PER_DRIVER))
        for part in range(parts):
            parent, child = context.Pipe()
            spec = DriverSpec(
                csms.url, ids[part::parts], STORM_SOURCES[part::parts], HEARTBEAT, DEADLINE,
                password=STORM_PASSWORD,
            )  # fmt: skip
            process = context.Process(target=driver_main, args=(child, spec), daemon=True)
            process.start()
            child.close()
            processes.append(process)
            pipes.append(parent)
        readies: list[Ready] = [_receive(p, Ready, INITIAL_DEADLINE) for p in pipes]
        registered = sum(r.stations for r in readies)
        print(f"registered {registered} in {max(r.seconds for r in readies):.0f} s", flush=True)
        time.sleep(5)
        at = time.time() + 1.0
        for pipe in pipes:
            pipe.send(Storm(at))
        time.sleep(max(0.0, at - time.time()))
        if cold:
            csms.restart()
        cpu_before, overflows = csms.cpu(), listen_overflows()
        profiler = _profiler(csms.process.pid, profile)
        results: list[StormResult] = [_receive(p, StormResult, DEADLINE + 120) for p in pipes]
        storm_cpu = csms.cpu() - cpu_before
        overflows = listen_overflows() - overflows
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(60)
        storm = _merge(results)
        summary = storm_summary(storm, registered)
        body = csms.metrics()
        counts = {} if body is None else gateway_counts(body)
        for pipe in pipes:
            pipe.send(None)
        print(f"storm: {summary}", flush=True)
        return {
            "stations": stations,
            "cold": cold,
            "registered_before": registered,
            "first_registration_s": round(max(r.seconds for r in readies), 1),
            "storm": summary,
            "csms_cpu_s": round(storm_cpu, 1),
            "listen_overflows": overflows,  # machine-wide: other processes' too
            "gateway_after": counts,
            "check_cost": check_costs(),
            "cpus": os.cpu_count(),
            "target_s": TARGET,
            "holds": summary["all_booted_s"] is not None and summary["all_booted_s"] <= TARGET,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
                process.join()
        csms.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.storm_embedded", description=__doc__
    )
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--cold", action="store_true", help="restart the CSMS at the drop")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--profile", type=Path, help="py-spy's collapsed stacks of the storm")
    args = parser.parse_args(argv)
    raise_file_limit()
    result = run(args.stations, args.cold, args.workdir, args.profile)
    runs = orjson.loads(args.output.read_bytes())["runs"] if args.output.exists() else []
    runs = [r for r in runs if (r["stations"], r["cold"]) != (args.stations, args.cold)]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps({"runs": [*runs, result]}, option=orjson.OPT_INDENT_2))
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode(), flush=True)
    return 0 if result["holds"] else 1


if __name__ == "__main__":
    sys.exit(main())
