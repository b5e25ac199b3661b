"""Split a fleet over several OS processes and add up their statistics.

Each child runs ``run_fleet_process`` on a contiguous block of stations and sends a
stats snapshot every second over a queue. Children ignore SIGINT; the parent
turns the first Ctrl-C into SIGTERM (children stop their sessions and send a
final snapshot) and a second one into SIGKILL. A child whose parent is gone (killed)
stops its sessions and exits without waiting for a reader of its queue.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue

from chargestream.simulator.config import FleetConfig
from chargestream.simulator.fleet import run_fleet_process
from chargestream.simulator.stats import FleetStats

log = logging.getLogger(__name__)

_SNAPSHOT_EVERY = 1.0  # seconds; also how often a child looks for its parent
_Report = tuple[int, bool, FleetStats]  # (child number, final, snapshot)


def run_processes(
    config: FleetConfig,
    processes: int,
    *,
    log_level: str = "INFO",
    on_snapshot: Callable[[FleetStats], None] | None = None,
) -> FleetStats:
    """Run the fleet in ``processes`` children; blocks until they are done.

    ``on_snapshot`` receives the combined stats whenever a child reports.
    """
    context = multiprocessing.get_context("spawn")
    reports: Queue[_Report] = context.Queue()
    children: list[BaseProcess] = [
        context.Process(
            target=_child, args=(part, number, reports, log_level), name=f"simulate-{number}"
        )
        for number, part in enumerate(config.split(processes))
    ]
    for child in children:
        child.start()
    latest: dict[int, FleetStats] = {}
    finished: set[int] = set()
    interrupted = 0
    while len(finished) < len(children):
        try:
            try:
                number, final, snapshot = reports.get(timeout=0.5)
            except queue.Empty:
                if not any(child.is_alive() for child in children):
                    log.warning("simulator processes ended without a final report")
                    break
                continue
            latest[number] = snapshot
            if final:
                finished.add(number)
            if on_snapshot is not None:
                on_snapshot(FleetStats.combine(list(latest.values())))
        except KeyboardInterrupt:
            interrupted += 1
            if interrupted == 1:
                log.warning("stopping sessions; Ctrl-C again to quit at once")
            for child in children:
                if not child.is_alive():
                    continue
                if interrupted == 1:
                    child.terminate()  # SIGTERM: stop sessions, send a final report
                else:
                    child.kill()
            if interrupted > 1:
                break
    for child in children:
        child.join(timeout=config.stop_grace + 10)
        if child.is_alive():
            child.kill()
            child.join()
    return FleetStats.combine(list(latest.values()))


def _child(config: FleetConfig, number: int, reports: Queue[_Report], log_level: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format=f"%(asctime)s %(levelname)s [{number}] %(message)s")
    asyncio.run(_report_while_running(config, number, reports, os.getppid()))


async def _report_while_running(
    config: FleetConfig, number: int, reports: Queue[_Report], parent: int
) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    stats = FleetStats()
    fleet = asyncio.create_task(run_fleet_process(config, stop, stats))
    while not fleet.done():
        await asyncio.wait([fleet], timeout=_SNAPSHOT_EVERY)
        if os.getppid() != parent:  # orphaned: nobody reads the reports any more
            log.warning("simulator parent gone; stopping")
            reports.cancel_join_thread()  # else exiting waits for a reader forever
            stop.set()
            await fleet
            return
        reports.put((number, False, stats.snapshot()))
    reports.put((number, True, fleet.result()))
