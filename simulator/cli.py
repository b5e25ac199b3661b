"""``chargestream simulate``: drive simulated OCPP 1.6 and 2.0.1 charge points against a CSMS."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import orjson

from chargestream.simulator.config import DEFAULT_ID_TAGS, FleetConfig
from chargestream.simulator.fleet import run_fleet_process
from chargestream.simulator.processes import run_processes
from chargestream.simulator.stats import FleetStats, Progress, summary

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 10.0
_MAX_SOURCE_ADDRESSES = 65_536


def _range(text: str) -> tuple[float, float]:
    """MIN-MAX (or one number for both)."""
    low, _, high = text.partition("-")
    try:
        values = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN-MAX") from None
    if not 0 <= values[0] <= values[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= MIN <= MAX")
    return values


def _addresses(text: str) -> tuple[str, ...]:
    """Comma-separated addresses or FIRST-LAST ranges, e.g. 127.0.0.2-127.0.0.9."""
    found: list[str] = []
    try:
        for item in text.split(","):
            first, _, last = item.strip().partition("-")
            start = ipaddress.ip_address(first)
            end = ipaddress.ip_address(last) if last else start
            if end.version != start.version or int(end) < int(start):
                raise ValueError(f"{item!r} is not a range")
            if len(found) + int(end) - int(start) >= _MAX_SOURCE_ADDRESSES:
                raise ValueError("too many addresses")
            found.extend(str(ipaddress.ip_address(n)) for n in range(int(start), int(end) + 1))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return tuple(found)


def protocol_percent(text: str) -> int:
    """--protocol: 1.6, 2.0.1, or mix[:PERCENT] (PERCENT of the stations speak 2.0.1, default
    50); the percentage of 2.0.1 stations."""
    name, _, percent = text.partition(":")
    if name in ("1.6", "2.0.1") and not percent:
        return 0 if name == "1.6" else 100
    if name == "mix" and (not percent or (percent.isdigit() and int(percent) <= 100)):
        return int(percent or 50)
    raise argparse.ArgumentTypeError(f"{text!r}: use 1.6, 2.0.1, mix or mix:PERCENT (0-100)")


def add_protocol_option(parser: argparse.ArgumentParser) -> None:
    """--protocol, into ``v201_percent``: for ``simulate`` and the benchmarks."""
    parser.add_argument(
        "--protocol",
        type=protocol_percent,
        default=0,
        dest="v201_percent",
        metavar="1.6|2.0.1|mix[:PCT]",
        help="the charge points' OCPP version; mix:30 makes 30 %% of them 2.0.1 (mix alone:"
        " half), spread evenly over the ids (default 1.6)",
    )


def _id_tags(text: str) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in text.split(",") if tag.strip())


def default_url(environ: Mapping[str, str]) -> str:
    """The OCPP URL of a CSMS started with the same CHARGESTREAM_OCPP_HOST/PORT settings."""
    host = environ.get("CHARGESTREAM_OCPP_HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # listening on every address: reach it on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = environ.get("CHARGESTREAM_OCPP_PORT", "").strip() or "9000"
    return f"ws://{host}:{port}/ocpp"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = FleetConfig()
    add = parser.add_argument
    add(
        "--stations",
        type=int,
        default=defaults.stations,
        metavar="N",
        help="number of charge points (default %(default)s)",
    )
    add_protocol_option(parser)
    add(
        "--url",
        default=default_url(os.environ),
        help="CSMS base URL; /{id} is appended (default: from CHARGESTREAM_OCPP_HOST and"
        " CHARGESTREAM_OCPP_PORT, as `chargestream run` listens: %(default)s)",
    )
    add(
        "--id-prefix",
        default=defaults.id_prefix,
        metavar="PREFIX",
        help="charge point ids are PREFIX-00001, ... (default %(default)s)",
    )
    add(
        "--meter-interval",
        type=float,
        default=defaults.meter_interval,
        metavar="S",
        help="seconds between MeterValues while charging (default %(default)s)",
    )
    add(
        "--heartbeat-interval",
        type=float,
        metavar="S",
        help="seconds between Heartbeats (default: what BootNotification.conf says)",
    )
    add("--duration", type=float, metavar="S", help="stop after S seconds (default: Ctrl-C)")
    add(
        "--ramp-up",
        type=float,
        metavar="S",
        help="spread the first connects over S seconds (default min(N/50, 30))",
    )
    add(
        "--session-minutes",
        type=_range,
        default=defaults.session_minutes,
        metavar="MIN-MAX",
        help="length of a charging session (default 1-5)",
    )
    add(
        "--idle-seconds",
        type=_range,
        default=defaults.idle_seconds,
        metavar="MIN-MAX",
        help="time between a car leaving and the next arriving (default 10-120)",
    )
    add(
        "--id-tags",
        type=_id_tags,
        default=defaults.id_tags,
        metavar="TAG,...",
        help=f"id tags the cars present (default {','.join(DEFAULT_ID_TAGS)})",
    )
    add("--password", help="HTTP Basic auth password for every charge point")
    add(
        "--processes",
        type=int,
        default=1,
        metavar="K",
        help="split the charge points over K processes (default 1)",
    )
    add(
        "--source-addresses",
        type=_addresses,
        default=(),
        metavar="FIRST-LAST",
        help="bind connections round-robin to these local addresses, e.g. 127.0.0.2-127.0.0.9,"
        " to get past the ephemeral port limit of one address",
    )
    add(
        "--fault-rate",
        type=float,
        default=defaults.fault_rate,
        metavar="R",
        help="probability per charge point per minute of a fault (default %(default)s)",
    )
    add(
        "--reconnect-rate",
        type=float,
        default=defaults.reconnect_rate,
        metavar="R",
        help="probability per charge point per minute of a dropped connection"
        " (default %(default)s)",
    )
    add(
        "--backfill-days",
        type=float,
        default=defaults.backfill_days,
        metavar="D",
        help="each station first sends D past days of sessions (1.6: StartTransaction,"
        " MeterValues, StopTransaction; 2.0.1: TransactionEvents) and StatusNotifications"
        " (with faults), all with past timestamps, like queued data (default %(default)s)",
    )
    add("--seed", type=int, help="random seed, for a reproducible fleet")
    add("--stats-file", type=Path, metavar="PATH", help="write JSON statistics here at the end")
    add(
        "--ledger-file",
        type=Path,
        metavar="PATH",
        help="write one JSON line per completed transaction here",
    )
    add(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="(default %(default)s)",
    )


def fleet_config(args: argparse.Namespace) -> FleetConfig:
    """The FleetConfig the command-line options describe; ValueError if they do not fit."""
    if args.processes < 1:
        raise ValueError("--processes must be at least 1")
    ramp_up = args.ramp_up if args.ramp_up is not None else min(args.stations / 50, 30.0)
    return FleetConfig(
        url=args.url,
        stations=args.stations,
        v201_percent=args.v201_percent,
        id_prefix=args.id_prefix,
        meter_interval=args.meter_interval,
        heartbeat_interval=args.heartbeat_interval,
        duration=args.duration,
        ramp_up=ramp_up,
        session_minutes=args.session_minutes,
        idle_seconds=args.idle_seconds,
        id_tags=args.id_tags,
        password=args.password,
        source_addresses=args.source_addresses,
        fault_rate=args.fault_rate,
        reconnect_rate=args.reconnect_rate,
        seed=args.seed,
        ledger_file=args.ledger_file,
        backfill_days=args.backfill_days,
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        config = fleet_config(args)
    except ValueError as error:
        print(f"chargestream simulate: {error}", file=sys.stderr)
        return 2
    if config.ledger_file is not None:
        config.ledger_file.write_bytes(b"")
    print(
        f"simulating {config.stations} charge points"
        f" ({config.v201_percent} % OCPP 2.0.1) against {config.url}"
        f" in {args.processes} process(es); Ctrl-C stops",
        flush=True,
    )
    progress = Progress(PROGRESS_INTERVAL)
    if args.processes > 1:
        stats = run_processes(
            config,
            args.processes,
            log_level=args.log_level,
            on_snapshot=lambda combined: _show(progress.line(combined)),
        )
    else:
        stats = asyncio.run(_run_here(config, progress))
    elapsed = time.monotonic() - progress.started
    print(summary(stats, elapsed), flush=True)
    if args.stats_file is not None:
        secret = "***" if config.password is not None else None
        report = {
            "config": {**asdict(config), "password": secret},
            "processes": args.processes,
            "elapsed_s": elapsed,
            **stats.to_dict(),
        }
        args.stats_file.write_bytes(orjson.dumps(report, default=str, option=orjson.OPT_INDENT_2))
    return 0 if stats.connects or not config.stations else 1


def _show(line: str | None) -> None:
    if line is not None:
        print(line, flush=True)


async def _run_here(config: FleetConfig, progress: Progress) -> FleetStats:
    """The fleet in this process: first Ctrl-C stops gracefully, a second one at once."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stats = FleetStats()
    fleet = asyncio.create_task(run_fleet_process(config, stop, stats))
    presses = 0

    def interrupt() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            log.warning("stopping sessions; Ctrl-C again to quit at once")
            stop.set()
        else:
            fleet.cancel()

    loop.add_signal_handler(signal.SIGINT, interrupt)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        while not fleet.done():
            await asyncio.wait([fleet], timeout=progress.due_in())
            _show(progress.line(stats.snapshot()))
        return fleet.result()
    except asyncio.CancelledError:
        return stats.snapshot()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
