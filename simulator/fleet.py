"""Run many simulated stations in this process's event loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import resource
import secrets

from chargestream.simulator.config import FleetConfig
from chargestream.simulator.ledger import Ledger
from chargestream.simulator.station import Station
from chargestream.simulator.stats import FleetStats

log = logging.getLogger(__name__)

_SHUTDOWN_MARGIN = 5.0  # beyond stop_grace: time for close handshakes
_FREEZE_AFTER_RAMP_UP = 5.0  # seconds; by then the connections should exist


def _raise_file_limit(connections: int) -> None:
    """Each connection is a file descriptor; the usual soft limit of 1024 is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 100
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        if new < wanted:
            log.warning("open file limit is %d; %d connections may not fit", new, connections)


async def run_fleet(
    config: FleetConfig,
    stop: asyncio.Event | None = None,
    stats: FleetStats | None = None,
) -> FleetStats:
    """Simulate ``config.stations`` charge points until ``stop`` is set or the duration ends.

    Pass ``stats`` to watch the live counters while the fleet runs. Stopping
    ends running sessions (StopTransaction, reason Local) and waits up to
    ``config.stop_grace`` seconds for their answers. Returns a final snapshot.
    The ledger file, if any, is appended to, never truncated.
    """
    stats = stats if stats is not None else FleetStats()
    stop = stop if stop is not None else asyncio.Event()
    _raise_file_limit(config.stations)
    seed = config.seed if config.seed is not None else int.from_bytes(os.urandom(8))
    token = secrets.token_hex(4)  # message ids must not repeat across runs
    ledger = Ledger(config.ledger_file) if config.ledger_file is not None else None
    stations = [
        Station(index, config, stats, seed=seed, token=token, ledger=ledger)
        for index in range(config.first_station, config.first_station + config.stations)
    ]
    stats.stations += len(stations)
    stats.stations_v201 += sum(station.cp.version == "2.0.1" for station in stations)
    spacing = config.ramp_up / len(stations) if stations else 0.0
    tasks = [
        asyncio.create_task(station.run(i * spacing), name=station.id)
        for i, station in enumerate(stations)
    ]
    try:
        try:
            async with asyncio.timeout(config.duration):
                await stop.wait()
        except TimeoutError:
            pass
        for station in stations:
            station.request_stop()
        if tasks:
            await asyncio.wait(tasks, timeout=config.stop_grace + _SHUTDOWN_MARGIN)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if ledger is not None:
            ledger.close()
    return stats.snapshot()


async def run_fleet_process(
    config: FleetConfig,
    stop: asyncio.Event | None = None,
    stats: FleetStats | None = None,
) -> FleetStats:
    """``run_fleet`` in a process that does nothing else, with the garbage collector tuned.

    Thousands of connections are some 100 tracked objects each; with default
    settings full collections then take hundreds of milliseconds, about a
    tenth of the CPU, and show up as latency. Fewer young collections, and
    freezing what exists once the fleet is connected, keep them cheap.
    """
    gc.set_threshold(10_000, 50, 100)
    freeze = asyncio.get_running_loop().call_later(
        config.ramp_up + _FREEZE_AFTER_RAMP_UP, gc.freeze
    )
    try:
        return await run_fleet(config, stop, stats)
    finally:
        freeze.cancel()
