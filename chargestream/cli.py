"""The ``chargestream`` command: one entry point for every component."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargestream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="start the embedded CSMS (gateway, processors, API)")
    run.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    run.add_argument("--ocpp-port", type=int, help="OCPP WebSocket port (default 9000)")
    run.add_argument("--api-port", type=int, help="HTTP API port (default 8080)")
    run.add_argument("--data-dir", help="where the event log and store live (default ./data)")

    replay = commands.add_parser("replay", help="rebuild every derived view from the event log")
    replay.add_argument("--data-dir", help="embedded data directory (default ./data)")

    from chargestream.simulator.cli import add_arguments as add_simulator_arguments

    add_simulator_arguments(
        commands.add_parser("simulate", help="drive simulated charge points against a CSMS")
    )

    args = parser.parse_args(argv)
    if args.command == "run":
        from chargestream.embedded import run_embedded

        return run_embedded(args)
    if args.command == "replay":
        from chargestream.embedded import replay_embedded

        return replay_embedded(args)
    if args.command == "simulate":
        from chargestream.simulator.cli import run as run_simulator

        return run_simulator(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
