"""Simulated OCPP 1.6-J charge points: ``chargestream simulate``.

Each station is one asyncio task speaking OCPP-J with ``websockets`` and
orjson (no schema validation on the hot path). In tests and benchmarks::

    stop, stats = asyncio.Event(), FleetStats()
    fleet = asyncio.create_task(run_fleet(FleetConfig(url=url, stations=3), stop, stats))
    ...  # watch stats, talk to the CSMS
    stop.set()
    final = await fleet

``run_processes`` spreads a fleet over several OS processes (blocking).
"""

from chargestream.simulator.config import FleetConfig
from chargestream.simulator.fleet import run_fleet, run_fleet_process
from chargestream.simulator.processes import run_processes
from chargestream.simulator.stats import FleetStats, Histogram

__all__ = [
    "FleetConfig",
    "FleetStats",
    "Histogram",
    "run_fleet",
    "run_fleet_process",
    "run_processes",
]
