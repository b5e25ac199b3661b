"""Processes for the reconnect storm of ``benchmarks.faults``, driven over a pipe.

A *storm driver* connects its charge points (WebSocket with HTTP Basic auth when they have
a password: OCPP security profile 1, BootNotification Accepted, StatusNotification), keeps
them idle with Heartbeats, and on ``Storm`` drops every connection at the same moment (the
TCP connection is aborted, as when a network link fails) and registers them all again at
once, retrying what fails. It reports when each charge point had its BootNotification
accepted and its StatusNotification answered. While the fleet first registers, what fails is
tried again until ``INITIAL_DEADLINE`` (after ``Retry-After`` for a 429 or 503); in the storm
every failure is tried again after 1 to 3 s, as chargers that ignore ``Retry-After`` do.

A *probe* keeps a few charge points busy (MeterValues and Heartbeat alternately) through
the storm and records the latency of every CALL, to show what the storm does to charge
points that stay connected. A probe charge point whose connection fails (the gateway was
restarted) records the error and registers again.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from benchmarks.loadgen import BOOT_FRAME, SUBPROTOCOL, raise_file_limit

CALL_TIMEOUT = 30.0  # seconds without an answer: the attempt failed
OPEN_TIMEOUT = 30.0  # seconds for TCP connect and WebSocket handshake
RETRY_DELAY = (1.0, 3.0)  # seconds between attempts, uniform (real chargers back off)
INITIAL_CONCURRENCY = 100  # connects in flight while the fleet first registers
INITIAL_DEADLINE = 2400.0  # seconds the fleet may take to register first
RETRY_STATUSES = (429, 503)  # refusals that say when to come back (Retry-After)
STATUS_FRAME = orjson.dumps(
    [
        2,
        "status",
        "StatusNotification",
        {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
    ]
).decode()


class Refused(Exception):
    """The CSMS answered a CALL with something other than what registration needs."""


# -- messages between the parent and a process


@dataclass(frozen=True)
class DriverSpec:
    url: str  # ws://host:port/ocpp
    station_ids: list[str]
    source_addresses: tuple[str, ...]  # local addresses, round-robin (spreads ephemeral ports)
    heartbeat_interval: float
    deadline: float  # seconds a charge point keeps trying to register again after the drop
    password: str | None = None  # Basic auth (security profile 1) for every charge point


@dataclass(frozen=True)
class Ready:
    stations: int  # registered
    failures: int  # charge points that could not register
    seconds: float
    first_error: str | None


@dataclass(frozen=True)
class Storm:
    at: float  # time.time() at which every connection drops


@dataclass
class StormResult:
    booted: list[float] = field(default_factory=list)  # s from the drop to Boot accepted
    ready: list[float] = field(default_factory=list)  # s from the drop to Status answered
    attempts: int = 0  # connection attempts after the drop
    failures: Counter[str] = field(default_factory=Counter)  # failed attempts by error
    heartbeats: int = 0  # Heartbeats answered before the drop
    heartbeat_errors: int = 0
    cpu_seconds: float = 0.0  # this process, from the drop until all were done


@dataclass(frozen=True)
class ProbeSpec:
    url: str
    station_ids: list[str]
    period: float  # seconds between CALLs of one charge point


@dataclass
class ProbeResult:
    calls: list[tuple[float, float]] = field(default_factory=list)  # (time.time() sent, s)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (time.time(), error)


# -- one charge point


async def _call(websocket: ClientConnection, frame: str, message_id: str) -> list[object]:
    """Send a CALL and wait for the answer with its message id; Refused on a CALLERROR."""
    await websocket.send(frame)
    async with asyncio.timeout(CALL_TIMEOUT):
        while True:
            message = orjson.loads(await websocket.recv())
            if message[0] in (3, 4) and message[1] == message_id:
                if message[0] == 4:
                    raise Refused(f"CALLERROR {message[2]}")
                return message


def basic_auth(station_id: str, password: str | None) -> dict[str, str] | None:
    """The Authorization header of security profile 1 (None: no password)."""
    if password is None:
        return None
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def retry_after(error: BaseException) -> float | None:
    """Seconds a 429/503 refusal asks to wait (None: not such a refusal)."""
    if not isinstance(error, InvalidStatus):
        return None
    response = error.response
    if response.status_code not in RETRY_STATUSES:
        return None
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


async def _open(
    url: str, station_id: str, source: str | None, password: str | None = None
) -> ClientConnection:
    return await connect(
        f"{url}/{station_id}",
        subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        open_timeout=OPEN_TIMEOUT,
        close_timeout=2,
        local_addr=(source, 0) if source else None,
        additional_headers=basic_auth(station_id, password),
    )


async def _boot(websocket: ClientConnection) -> None:
    """BootNotification; Refused unless Accepted."""
    answer = await _call(websocket, BOOT_FRAME, "boot")
    if not isinstance(answer[2], dict) or answer[2].get("status") != "Accepted":
        raise Refused(f"BootNotification {answer[2]!r:.80}")


async def register(
    url: str, station_id: str, source: str | None, password: str | None = None
) -> ClientConnection:
    """Connect, BootNotification (must be Accepted), StatusNotification; the open socket."""
    websocket = await _open(url, station_id, source, password)
    try:
        await _boot(websocket)
        await _call(websocket, STATUS_FRAME, "status")
    except BaseException:
        websocket.transport.abort()
        raise
    return websocket


# -- the storm driver


class _Station:
    def __init__(self, station_id: str, source: str | None) -> None:
        self.id = station_id
        self.source = source
        self.websocket: ClientConnection | None = None
        self.idle: asyncio.Task[None] | None = None


_ATTEMPT_ERRORS = (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, Refused)


async def _reregister(
    spec: DriverSpec, station: _Station, dropped: float, result: StormResult
) -> None:
    """Register again after the drop until it works or the deadline passes."""
    while True:
        result.attempts += 1
        try:
            station.websocket = await _open(spec.url, station.id, station.source, spec.password)
            await _boot(station.websocket)
            result.booted.append(time.perf_counter() - dropped)
            await _call(station.websocket, STATUS_FRAME, "status")
            result.ready.append(time.perf_counter() - dropped)
            return
        except _ATTEMPT_ERRORS as error:
            if station.websocket is not None:
                station.websocket.transport.abort()
                station.websocket = None
            result.failures[type(error).__name__] += 1
            if time.perf_counter() - dropped > spec.deadline:
                return
            await asyncio.sleep(random.uniform(*RETRY_DELAY))


async def _heartbeats(station: _Station, interval: float, result: StormResult) -> None:
    await asyncio.sleep(random.uniform(0, interval))
    sequence = 0
    while station.websocket is not None:
        sequence += 1
        message_id = f"hb{sequence}"
        try:
            await _call(station.websocket, f'[2,"{message_id}","Heartbeat",{{}}]', message_id)
            result.heartbeats += 1
        except _ATTEMPT_ERRORS:
            result.heartbeat_errors += 1
            return
        await asyncio.sleep(interval)


async def _first_registration(spec: DriverSpec, stations: list[_Station]) -> Ready:
    gate = asyncio.Semaphore(INITIAL_CONCURRENCY)
    began = time.perf_counter()

    async def one(station: _Station) -> None:
        while True:
            async with gate:
                try:
                    station.websocket = await register(
                        spec.url, station.id, station.source, spec.password
                    )
                    return
                except _ATTEMPT_ERRORS as error:
                    if time.perf_counter() - began > INITIAL_DEADLINE:
                        raise
                    wait = retry_after(error)
            await asyncio.sleep(random.uniform(*RETRY_DELAY) if wait is None else wait)

    outcomes = await asyncio.gather(*(one(s) for s in stations), return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    return Ready(
        len(stations) - len(errors),
        len(errors),
        time.perf_counter() - began,
        repr(errors[0]) if errors else None,
    )


async def _drive(pipe: Connection, spec: DriverSpec) -> None:
    loop = asyncio.get_running_loop()
    sources = spec.source_addresses or (None,)
    stations = [
        _Station(station_id, sources[n % len(sources)])
        for n, station_id in enumerate(spec.station_ids)
    ]
    pipe.send(await _first_registration(spec, stations))
    result = StormResult()
    for station in stations:
        if station.websocket is not None:
            station.idle = asyncio.create_task(
                _heartbeats(station, spec.heartbeat_interval, result)
            )
    storm: Storm = await loop.run_in_executor(None, pipe.recv)
    await asyncio.sleep(max(0.0, storm.at - time.time()))
    for station in stations:
        if station.idle is not None:
            station.idle.cancel()
        if station.websocket is not None:
            station.websocket.transport.abort()
            station.websocket = None
    dropped = time.perf_counter()
    cpu = _cpu()
    await asyncio.gather(*(_reregister(spec, s, dropped, result) for s in stations))
    result.cpu_seconds = _cpu() - cpu
    pipe.send(result)
    await loop.run_in_executor(None, pipe.recv)  # None: close and exit
    await asyncio.gather(
        *(s.websocket.close() for s in stations if s.websocket is not None),
        return_exceptions=True,
    )


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def driver_main(pipe: Connection, spec: DriverSpec) -> None:
    """Entry point of a storm driver process."""
    raise_file_limit()
    try:
        asyncio.run(_drive(pipe, spec))
    finally:
        pipe.close()


# -- the probe


def _probe_frame(sequence: int) -> tuple[str, str]:
    """A Heartbeat or a MeterValues (no transaction) CALL, alternately; (frame, message id)."""
    message_id = f"p{sequence}"
    if sequence % 2:
        return f'[2,"{message_id}","Heartbeat",{{}}]', message_id
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sampled = [{"value": str(sequence), "measurand": "Energy.Active.Import.Register"}]
    payload = {"connectorId": 1, "meterValue": [{"timestamp": stamp, "sampledValue": sampled}]}
    return orjson.dumps([2, message_id, "MeterValues", payload]).decode(), message_id


async def _probe_station(
    spec: ProbeSpec,
    station: _Station,
    offset: float,
    stop: asyncio.Event,
    out: ProbeResult,
) -> None:
    await asyncio.sleep(offset)
    sequence = 0
    while not stop.is_set():
        if station.websocket is None:  # lost: register again, once a second
            try:
                station.websocket = await register(spec.url, station.id, None)
            except _ATTEMPT_ERRORS:
                await asyncio.sleep(1.0)
                continue
        sequence += 1
        frame, message_id = _probe_frame(sequence)
        sent, began = time.time(), time.perf_counter()
        try:
            await _call(station.websocket, frame, message_id)
            out.calls.append((sent, time.perf_counter() - began))
        except _ATTEMPT_ERRORS as error:
            out.errors.append((sent, repr(error)))
            station.websocket.transport.abort()
            station.websocket = None
            continue
        await asyncio.sleep(max(0.0, spec.period - (time.perf_counter() - began)))


async def _probe(pipe: Connection, spec: ProbeSpec) -> None:
    loop = asyncio.get_running_loop()
    stations = [_Station(station_id, None) for station_id in spec.station_ids]
    for station in stations:
        station.websocket = await register(spec.url, station.id, None)
    pipe.send(Ready(len(stations), 0, 0.0, None))
    stop = asyncio.Event()
    result = ProbeResult()
    spread = spec.period / len(stations)
    tasks = [
        asyncio.create_task(_probe_station(spec, station, n * spread, stop, result))
        for n, station in enumerate(stations)
    ]
    await loop.run_in_executor(None, pipe.recv)  # None: stop
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(result)
    await asyncio.gather(
        *(s.websocket.close() for s in stations if s.websocket is not None),
        return_exceptions=True,
    )


def probe_main(pipe: Connection, spec: ProbeSpec) -> None:
    """Entry point of the probe process."""
    try:
        asyncio.run(_probe(pipe, spec))
    finally:
        pipe.close()
