"""A lean OCPP 1.6-J load generator, one asyncio loop per worker process.

Each simulated charge point opens a WebSocket, sends a BootNotification, then
sends MeterValues (one meterValue, eight sampledValues) either paced at a fixed
rate or back to back, awaiting every answer. CALL -> CALLRESULT latencies go
into a log-bucketed histogram that merges across workers by adding counts.

The parent drives a worker through a pipe: the worker reports ``Connected``,
then answers each ``Step`` with a ``StepResult``, and exits on ``None``.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import orjson
from websockets.asyncio.client import ClientConnection, connect

SUBPROTOCOL = "ocpp1.6"
CONNECT_CONCURRENCY = 100
BUCKETS_PER_E = 100  # histogram resolution: buckets are 1% apart

_MEASURANDS = (
    ("Current.Import", "A", "16.02"),
    ("Energy.Active.Import.Register", "Wh", "%(energy)d"),
    ("Power.Active.Import", "W", "11040.5"),
    ("SoC", "Percent", "54"),
    ("Voltage", "V", "230.1"),
    ("Current.Offered", "A", "32"),
    ("Power.Offered", "W", "22080"),
    ("Temperature", "Celsius", "31.5"),
)


def _meter_template() -> str:
    """The MeterValues CALL as a %-template (message id, timestamp, energy)."""
    sampled = [
        {
            "value": value,
            "context": "Sample.Periodic",
            "measurand": measurand,
            "location": "Outlet" if measurand != "SoC" else "EV",
            "unit": unit,
        }
        for measurand, unit, value in _MEASURANDS
    ]
    payload = {
        "connectorId": 1,
        "transactionId": 4242,
        "meterValue": [{"timestamp": "%(timestamp)s", "sampledValue": sampled}],
    }
    return '[2,"%(id)s","MeterValues",' + orjson.dumps(payload).decode() + "]"


METER_TEMPLATE = _meter_template()
BOOT_FRAME = orjson.dumps(
    [
        2,
        "boot",
        "BootNotification",
        {
            "chargePointVendor": "chargestream",
            "chargePointModel": "bench-22kW",
            "firmwareVersion": "1.0.0",
        },
    ]
).decode()


# -- histogram


def bucket(seconds: float) -> int:
    """Histogram bucket of a latency (1% wide, from 1 µs)."""
    return int(math.log(max(seconds * 1e6, 1.0)) * BUCKETS_PER_E)


def percentile(histogram: Counter[int], fraction: float) -> float | None:
    """The latency in ms below which ``fraction`` of the samples lie (bucket midpoint)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return math.exp((index + 0.5) / BUCKETS_PER_E) / 1000
    raise AssertionError("unreachable")


# -- messages between the parent and a worker


@dataclass(frozen=True)
class WorkerSpec:
    url: str  # ws://host:port/ocpp
    station_ids: list[str]
    source_address: str  # local address of the sockets (spreads ephemeral ports)


@dataclass(frozen=True)
class Connected:
    stations: int
    failures: int
    seconds: float
    first_error: str | None


@dataclass(frozen=True)
class Step:
    rate_per_station: float | None  # CALLs per second and station; None: back to back
    start_at: float  # time.time() when sending starts
    warmup: float  # seconds before the measured window
    duration: float  # seconds measured


@dataclass
class StepResult:
    answered: int = 0  # CALLRESULTs received within the window
    errors: int = 0  # anything else received, or a failed send
    cpu_seconds: float = 0.0  # this worker's CPU time within the window
    histogram: Counter[int] = field(default_factory=Counter)


# -- a worker


class _Clock:
    """ISO 8601 timestamps, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        return self._text


class _Window:
    """The measured window of a step, as perf_counter() times."""

    def __init__(self, step: Step) -> None:
        self.start = time.perf_counter() + (step.start_at - time.time())
        self.begin = self.start + step.warmup
        self.end = self.begin + step.duration


class _Station:
    def __init__(self, websocket: ClientConnection, clock: _Clock) -> None:
        self.websocket = websocket
        self._clock = clock
        self._calls = 0

    async def drive(
        self, window: _Window, interval: float, offset: float, result: StepResult
    ) -> None:
        """Send MeterValues until the window ends (paced when interval > 0)."""
        websocket = self.websocket
        histogram = result.histogram
        perf_counter = time.perf_counter
        due = window.start + offset
        while True:
            if interval:
                delay = due - perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                due += interval
            self._calls += 1
            frame = METER_TEMPLATE % {
                "id": self._calls,
                "timestamp": self._clock.now(),
                "energy": 1000 + self._calls,
            }
            sent = perf_counter()
            if sent >= window.end:
                return
            await websocket.send(frame)
            answer = await websocket.recv()
            received = perf_counter()
            if window.begin <= received < window.end:
                if isinstance(answer, str) and answer.startswith("[3,"):
                    result.answered += 1
                    histogram[bucket(received - sent)] += 1
                else:
                    result.errors += 1


async def _open(spec: WorkerSpec, station_id: str, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        websocket = await connect(
            f"{spec.url}/{station_id}",
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            compression=None,
            ping_interval=None,
            open_timeout=120,
            close_timeout=5,
            local_addr=(spec.source_address, 0),
        )
        await websocket.send(BOOT_FRAME)
        answer = await websocket.recv()
        if not isinstance(answer, str) or '"Accepted"' not in answer:
            raise RuntimeError(f"BootNotification not accepted: {answer!r}")
        return websocket


async def _run_step(stations: list[_Station], step: Step) -> StepResult:
    window = _Window(step)
    result = StepResult()
    interval = 1 / step.rate_per_station if step.rate_per_station else 0.0
    spread = interval / max(len(stations), 1)
    delay = window.begin - time.perf_counter()
    cpu_at_begin = asyncio.get_running_loop().call_later(delay, _cpu_mark, result, -1)
    tasks = [
        asyncio.create_task(station.drive(window, interval, index * spread, result))
        for index, station in enumerate(stations)
    ]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    _cpu_mark(result, 1)
    cpu_at_begin.cancel()
    result.errors += sum(isinstance(outcome, BaseException) for outcome in outcomes)
    return result


def _cpu_mark(result: StepResult, sign: int) -> None:
    times = os.times()
    result.cpu_seconds += sign * (times.user + times.system)


async def _serve(pipe: Connection, spec: WorkerSpec) -> None:
    loop = asyncio.get_running_loop()
    clock = _Clock()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    began = time.perf_counter()
    opened = await asyncio.gather(
        *(_open(spec, station_id, gate) for station_id in spec.station_ids),
        return_exceptions=True,
    )
    sockets = [item for item in opened if isinstance(item, ClientConnection)]
    errors = [item for item in opened if not isinstance(item, ClientConnection)]
    pipe.send(
        Connected(
            len(sockets),
            len(errors),
            time.perf_counter() - began,
            repr(errors[0]) if errors else None,
        )
    )
    stations = [_Station(websocket, clock) for websocket in sockets]
    while (step := await loop.run_in_executor(None, pipe.recv)) is not None:
        pipe.send(await _run_step(stations, step))
    await asyncio.gather(*(websocket.close() for websocket in sockets), return_exceptions=True)


def raise_file_limit() -> int:
    """Raise the soft limit of open files to the hard limit; returns it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def worker_main(pipe: Connection, spec: WorkerSpec) -> None:
    """Entry point of a load generator process."""
    raise_file_limit()
    try:
        asyncio.run(_serve(pipe, spec))
    finally:
        pipe.close()
