"""CPU per MeterValues frame of the Cassandra store's writes: this process and the server.

A worker's derived stream without the rest of the stack: for each of ``--charge-points``
charge points with a running transaction, a MeterValues frame every ``--interval``
seconds (8 sampled values: energy, power, 3 currents, 3 voltages), the charge point's
state every 30 s and its session refreshed every 60 s (ADR 0006). The frames due in a
``--tick`` go in one upsert, as a worker upserts what one batch of the log derived. After
``--warmup`` seconds, ``--seconds`` are measured: this process's CPU time
(``time.process_time``) and the Cassandra JVM's (``/proc/<pid>/stat`` of the process
listening on the CQL port), each divided by the frames written. The JVM's CPU while
idle (``--idle`` seconds before the writes start) is reported, and subtracted in
``server_net_us_per_frame``.

Its own keyspace on the node, dropped at the end. Run under ``flock /tmp/stack.lock`` on a
shared machine::

    python -m benchmarks.cassandra_writes --contact 127.0.0.1:19042

The module imports only ``chargestream.domain`` and ``chargestream.storage``, so the same
file measures another checkout's store: ``PYTHONPATH=<checkout> python
benchmarks/cassandra_writes.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cassandra.cluster import Cluster

from chargestream.domain.records import (
    ChargePointState,
    ConnectorStatus,
    DerivedRecord,
    MeterValue,
    Session,
)
from chargestream.storage.cassandra import CassandraStore

TICK = os.sysconf("SC_CLK_TCK")
STATE_EVERY = 30.0  # seconds between a charge point's state rows
REFRESH_EVERY = 60.0  # seconds between a running session's refreshes
_SAMPLES = (
    ("Energy.Active.Import.Register", "Wh", None),
    ("Power.Active.Import", "W", None),
    *(("Current.Import", "A", phase) for phase in ("L1", "L2", "L3")),
    *(("Voltage", "V", phase) for phase in ("L1-N", "L2-N", "L3-N")),
)


@dataclass
class _ChargePoint:
    charge_point_id: str
    transaction_id: int
    started: datetime
    next_frame: float
    next_state: float
    next_refresh: float
    energy_wh: float = 0.0


def listening_pid(port: int) -> int:
    """The process with a socket listening on TCP ``port`` (found through /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    return int(entry)
        except OSError:
            continue
    raise SystemExit(f"nothing listens on port {port}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _frame(cp: _ChargePoint, now: datetime) -> list[DerivedRecord]:
    cp.energy_wh += 20.0
    values = {"Wh": cp.energy_wh, "W": 7200.0, "A": 10.4, "V": 230.1}
    return [
        MeterValue(
            cp.charge_point_id,
            1,
            now,
            measurand,
            values[unit],
            unit,
            cp.transaction_id,
            phase,
            "Outlet",
            "Sample.Periodic",
        )
        for measurand, unit, phase in _SAMPLES
    ]


def _state(cp: _ChargePoint, now: datetime) -> ChargePointState:
    return ChargePointState(
        cp.charge_point_id,
        connected=True,
        last_seen=now,
        connected_since=cp.started,
        node="bench",
        vendor="Bench",
        model="AC-22",
        firmware_version="1.0.0",
        connectors=(ConnectorStatus(1, "Charging", "NoError", cp.started),),
    )


def _session(cp: _ChargePoint) -> Session:
    return Session(
        cp.transaction_id,
        cp.charge_point_id,
        1,
        "TAG-1",
        cp.started,
        0,
        peak_power_w=7200.0,
        soc_start=20.0,
    )


async def run(args: argparse.Namespace) -> dict[str, float]:
    host, port = args.contact.rsplit(":", 1)
    keyspace = f"bench_writes_{uuid.uuid4().hex[:8]}"
    store = CassandraStore([host], int(port), keyspace)
    await store.open()
    server = listening_pid(int(port))
    # what the two processes spend without writes (the JVM's gossip, GC, compaction...)
    idle_cpu, idle_server = time.process_time(), cpu_seconds(server)
    await asyncio.sleep(args.idle)
    idle_cpu = (time.process_time() - idle_cpu) / args.idle
    idle_server = (cpu_seconds(server) - idle_server) / args.idle
    loop = asyncio.get_running_loop()
    start = loop.time()
    now = datetime.now(UTC)
    fleet = [
        _ChargePoint(
            f"CP-{i:05}",
            i + 1,
            now - timedelta(minutes=5),
            start + args.interval * i / args.charge_points,
            start + STATE_EVERY * i / args.charge_points,
            start + REFRESH_EVERY * i / args.charge_points,
        )
        for i in range(args.charge_points)
    ]
    await store.upsert([_session(cp) for cp in fleet])  # the transactions' starts
    measure_from, measure_to = start + args.warmup, start + args.warmup + args.seconds
    frames = upserts = 0
    cpu = server_cpu = 0.0
    measuring = False
    tick = start
    try:
        while tick < measure_to:
            tick += args.tick
            await asyncio.sleep(max(0.0, tick - loop.time()))
            if not measuring and tick >= measure_from:
                measuring = True
                cpu, server_cpu = time.process_time(), cpu_seconds(server)
            at = datetime.now(UTC)
            records: list[DerivedRecord] = []
            due = 0
            for cp in fleet:
                if cp.next_frame <= tick:
                    cp.next_frame += args.interval
                    records += _frame(cp, at)
                    due += 1
                if cp.next_state <= tick:
                    cp.next_state += STATE_EVERY
                    records.append(_state(cp, at))
                if cp.next_refresh <= tick:
                    cp.next_refresh += REFRESH_EVERY
                    records.append(_session(cp))
            if records:
                await store.upsert(records)
                if measuring:
                    frames += due
                    upserts += 1
        cpu = time.process_time() - cpu
        server_cpu = cpu_seconds(server) - server_cpu
    finally:
        await store.close()
        cluster = Cluster([host], port=int(port))
        try:
            cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        finally:
            cluster.shutdown()
    return {
        "frames": frames,
        "upserts": upserts,
        "frames_per_s": frames / args.seconds,
        "client_us_per_frame": cpu / frames * 1e6,
        "server_us_per_frame": server_cpu / frames * 1e6,
        "client_idle_pct": idle_cpu * 100,
        "server_idle_pct": idle_server * 100,
        "server_net_us_per_frame": (server_cpu - idle_server * args.seconds) / frames * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--contact", default="127.0.0.1:19042", help="host:port of CQL")
    parser.add_argument("--charge-points", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between frames")
    parser.add_argument("--tick", type=float, default=0.1, help="seconds per upsert")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds measured idle")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    result = asyncio.run(run(parser.parse_args()))
    print(" ".join(f"{name}={value:.1f}" for name, value in result.items()))


if __name__ == "__main__":
    main()
