"""``chargestream services up|down|status``: local Kafka and Cassandra."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chargestream.services.launcher import SERVICE_NAMES, ServiceSet
from chargestream.services.process import ServiceError
from chargestream.services.service import ServiceStatus

EXIT_NOT_ANSWERING = 3  # status: a service is stopped or does not answer (LSB "not running")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``services`` action and options to ``parser``."""
    parser.add_argument("action", choices=("up", "down", "status"), help="what to do")
    parser.add_argument(
        "--dir",
        default=".services",
        help="Maven project, config, data, logs and pid files (default .services)",
    )
    parser.add_argument("--kafka-port", type=int, default=9092, help="Kafka clients' port")
    parser.add_argument(
        "--kafka-controller-port", type=int, help="KRaft controller port (default kafka-port + 1)"
    )
    parser.add_argument("--cassandra-port", type=int, default=9042, help="CQL native port")
    parser.add_argument(
        "--cassandra-storage-port", type=int, help="gossip port (default cassandra-port + 1)"
    )
    parser.add_argument("--only", choices=SERVICE_NAMES, help="act on one service only")
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds up waits for answers (180)"
    )


def run(args: argparse.Namespace) -> int:
    """Carry out ``args.action``; the exit code."""
    services = ServiceSet(
        args.dir,
        args.kafka_port,
        args.cassandra_port,
        kafka_controller_port=args.kafka_controller_port,
        cassandra_storage_port=args.cassandra_storage_port,
        only=args.only,
    )
    try:
        if args.action == "up":
            services.up(timeout=args.timeout)
        elif args.action == "down":
            services.down()
        else:
            statuses = services.status()
            for status in statuses:
                print(format_status(status))
            return 0 if all(s.answering for s in statuses) else EXIT_NOT_ANSWERING
    except ServiceError as error:
        print(f"chargestream services: error: {error}", file=sys.stderr)
        return 1
    return 0


def format_status(status: ServiceStatus) -> str:
    """One line: name, running or stopped, pid, address, answering, log."""
    if not status.running:
        return f"{status.name:<10} stopped   {'':<12} {status.address}"
    answering = "answering" if status.answering else "NOT answering"
    pid = f"pid {status.pid}"
    return f"{status.name:<10} running   {pid:<12} {status.address:<16} {answering}  {status.log}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargestream services", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
