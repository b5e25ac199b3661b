"""chargestream: one command for every component of the CSMS.

Settings come from CHARGESTREAM_* environment variables (docs/configuration.md);
the few flags here override them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from chargestream.domain.passwords import MAX_CHARGE_POINT_PASSWORD, MIN_CHARGE_POINT_PASSWORD
from chargestream.domain.settings import Settings, SettingsError


def _server_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ocpp-host", help="address of the OCPP listener (default 127.0.0.1; 0.0.0.0: all)"
    )
    parser.add_argument("--ocpp-port", type=int, help="OCPP WebSocket port (default 9000)")
    parser.add_argument("--api-host", help="address of the HTTP API (default 127.0.0.1)")
    parser.add_argument("--api-port", type=int, help="HTTP API port (default 8080)")
    parser.add_argument("--data-dir", type=Path, help="embedded data directory (default ./data)")


def settings_from(args: argparse.Namespace, **fixed: Any) -> Settings:
    """Settings from the environment and flags, with logging configured from them."""
    from chargestream.app.logs import configure_logging

    names = ("ocpp_host", "ocpp_port", "api_host", "api_port", "data_dir")
    flags = {name: getattr(args, name, None) for name in names}
    settings = Settings.from_env(**flags, **fixed)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(args: argparse.Namespace) -> int:
    from chargestream.app.embedded import run_embedded
    from chargestream.app.preflight import check_paths, check_ports_free, listeners

    settings = settings_from(args, mode="embedded")
    check_paths(settings)
    check_ports_free(listeners(settings))
    return run_embedded(settings)


def _demo_rules(args: argparse.Namespace) -> int:
    from chargestream.app.demo import preset_demo_rules

    rules = preset_demo_rules(settings_from(args))
    print(f"demo alert rules set: {', '.join(rules)}", flush=True)
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from chargestream.app.lifecycle import serve_until_signal
    from chargestream.app.stack import StackGateway

    node = StackGateway(settings_from(args, mode="stack"))
    return asyncio.run(serve_until_signal(node.start, node.stop))


def _api(args: argparse.Namespace) -> int:
    from chargestream.app.lifecycle import serve_until_signal
    from chargestream.app.stack import StackApi

    api = StackApi(settings_from(args, mode="stack"))
    return asyncio.run(serve_until_signal(api.start, api.stop))


def _worker(args: argparse.Namespace) -> int:
    from chargestream.app.worker import run_worker

    return run_worker(settings_from(args, mode="stack"))


def _bootstrap(args: argparse.Namespace) -> int:
    from chargestream.app.stack import bootstrap

    settings = settings_from(args, mode="stack")
    passwords = None
    if args.charge_point_passwords is not None:
        passwords = _read_passwords(args.charge_point_passwords)
    asyncio.run(bootstrap(settings, passwords))
    return 0


def _read_passwords(path: Path) -> dict[str, str]:
    """A JSON object of charge point id -> Basic auth password (16-40 characters)."""
    try:
        passwords = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SettingsError(f"{path}: {error}") from None
    if not isinstance(passwords, dict) or not all(
        isinstance(v, str) and MIN_CHARGE_POINT_PASSWORD <= len(v) <= MAX_CHARGE_POINT_PASSWORD
        for v in passwords.values()
    ):
        raise SettingsError(
            f"{path}: expected {{charge point id: password of"
            f" {MIN_CHARGE_POINT_PASSWORD}-{MAX_CHARGE_POINT_PASSWORD} chars}}"
        )
    return passwords


def _stack(args: argparse.Namespace) -> int:
    from chargestream.app.preflight import check_paths, check_ports_free, stack_listeners
    from chargestream.app.supervisor import run_stack

    settings = settings_from(args, mode="stack")
    check_paths(settings)
    check_ports_free(stack_listeners(settings, args.gateways, args.workers))
    return run_stack(settings, args)


def _replay(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if settings.mode == "embedded":
        from chargestream.app.embedded import replay_embedded

        return replay_embedded(settings)
    from chargestream.app.backends import create_stack_store
    from chargestream.streams.replay import rebuild_from_kafka

    since_us = int(args.since.timestamp() * 1e6) if args.since else None
    total = asyncio.run(
        rebuild_from_kafka(
            settings,
            create_stack_store(settings),
            since_us=since_us,
            progress=lambda n: print(f"replayed {n} events", flush=True),
        )
    )
    print(f"done: {total} events replayed")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargestream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    actions: dict[str, Callable[[argparse.Namespace], int]] = {}

    def command(
        name: str, help: str, action: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        actions[name] = action
        return commands.add_parser(name, help=help, description=help)

    _server_flags(command("run", "the embedded CSMS: gateway, processors, API", _run))
    _server_flags(
        command("gateway", "stack mode: one OCPP gateway node (Kafka, Cassandra)", _gateway)
    )
    _server_flags(command("api", "stack mode: the HTTP API", _api))
    command("worker", "stack mode: a Faust worker deriving the views", _worker)
    bootstrap = command(
        "bootstrap", "stack mode: create the frames topic and the keyspace, then exit", _bootstrap
    )
    bootstrap.add_argument(
        "--charge-point-passwords",
        type=Path,
        help="JSON file {charge point id: password}: set these Basic-auth passwords",
    )
    stack = command("stack", "the whole stack in the foreground: services + every process", _stack)
    _server_flags(stack)
    stack.add_argument("--gateways", type=int, default=1, help="gateway processes (default 1)")
    stack.add_argument("--workers", type=int, default=1, help="Faust workers (default 1)")
    stack.add_argument(
        "--services-dir", type=Path, default=Path(".services"), help="Kafka/Cassandra files"
    )
    _server_flags(
        command("demo-rules", "preset the demo's alert rules through a running API", _demo_rules)
    )
    replay = command("replay", "rebuild every derived view from the event log", _replay)
    replay.add_argument("--data-dir", type=Path, help="embedded data directory (default ./data)")
    replay.add_argument(
        "--since",
        type=datetime.fromisoformat,
        metavar="ISO_TIME",
        help="stack mode: rewrite only what events from this time on derive",
    )

    from chargestream.services.cli import add_arguments as add_services_arguments
    from chargestream.services.cli import run as run_services
    from chargestream.simulator.cli import add_arguments as add_simulator_arguments
    from chargestream.simulator.cli import run as run_simulator
    from chargestream.ui.operators import add_arguments as add_operator_arguments
    from chargestream.ui.operators import run as run_operators

    add_simulator_arguments(command("simulate", "drive simulated charge points", run_simulator))
    add_operator_arguments(
        command("operators", "dashboard operators: add, remove, list", run_operators)
    )
    add_services_arguments(command("services", "local Kafka and Cassandra", run_services))

    args = parser.parse_args(argv)
    try:
        return actions[args.command](args)
    except SettingsError as error:
        print(f"chargestream: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
