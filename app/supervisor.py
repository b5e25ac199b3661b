"""``chargestream stack``: Kafka, Cassandra and every chargestream process, in the foreground.

Starts the local services (unless they already run), then one process per
role with ``CHARGESTREAM_MODE=stack``, waits until each answers its health
check, restarts a process that exits (at most ``MAX_RESTARTS`` times in
``RESTART_WINDOW`` seconds, then the stack stops), and on Ctrl-C stops them in
reverse order, and the services it started.

The API token (``CHARGESTREAM_API_TOKEN``, else ``<data_dir>/api-token``, generated on
the first start) reaches only the API and the dashboard, as their setting.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.error import URLError

from chargestream.app.api_token import with_api_token
from chargestream.app.dashboard import settings_environment, ui_command
from chargestream.app.http import local_url
from chargestream.app.pki import certificate_environment, with_pki
from chargestream.app.preflight import WORKER_PORT_OFFSET
from chargestream.domain.settings import PREFIX, Settings
from chargestream.services.launcher import ServiceSet
from chargestream.ui.operators import ensure_default_operator

MAX_RESTARTS = 5
RESTART_WINDOW = 600.0  # seconds


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: list[float] = field(default_factory=list, repr=False)  # monotonic times

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env)

    def restart_if_exited(self) -> None:
        """Start the process again if it exited; RuntimeError if it keeps exiting."""
        assert self.process is not None
        code = self.process.poll()
        if code is None:
            return
        now = time.monotonic()
        self.restarts = [at for at in self.restarts if now - at < RESTART_WINDOW] + [now]
        if len(self.restarts) > MAX_RESTARTS:
            raise RuntimeError(
                f"{self.name} exited with {code}, {MAX_RESTARTS} restarts within"
                f" {RESTART_WINDOW:.0f} s already"
            )
        print(f"stack: {self.name} exited with {code}; restarting", file=sys.stderr, flush=True)
        self.start()

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def plan(settings: Settings, gateways: int, workers: int) -> list[Child]:
    """The processes of the stack, in start order; ``settings`` carry the API token."""
    if settings.api_token is None:
        raise ValueError("the stack's plan needs settings with the API token (with_api_token)")
    api_token = PREFIX + "API_TOKEN"
    base = {**os.environ, "CHARGESTREAM_MODE": "stack"}
    base.pop(api_token, None)  # only the API and the dashboard get the token
    command = [sys.executable, "-m", "chargestream.app.cli"]
    children = []
    for i in range(1, workers + 1):
        health_port = settings.health_port + WORKER_PORT_OFFSET + i - 1
        children.append(
            Child(
                f"worker-{i}",
                [*command, "worker"],
                {
                    **base,
                    "CHARGESTREAM_NODE_ID": f"{settings.node_id}-worker-{i}",
                    "CHARGESTREAM_WORKER_WEB_PORT": str(settings.worker_web_port + i),
                    "CHARGESTREAM_HEALTH_PORT": str(health_port),
                },
                local_url("http", settings.health_host, health_port, "/healthz"),
            )
        )
    for i in range(1, gateways + 1):
        health_port = settings.health_port + i - 1
        children.append(
            Child(
                f"gateway-{i}",
                [*command, "gateway"],
                {
                    **base,
                    "CHARGESTREAM_NODE_ID": f"{settings.node_id}-gw-{i}",
                    "CHARGESTREAM_HEALTH_PORT": str(health_port),
                    "CHARGESTREAM_REUSE_PORT": "true",
                    **certificate_environment(settings),  # one CA for every gateway
                },
                local_url("http", settings.health_host, health_port, "/healthz"),
            )
        )
    children.append(
        Child(
            "api",
            [*command, "api"],
            {
                **base,
                "CHARGESTREAM_NODE_ID": f"{settings.node_id}-api",
                api_token: settings.api_token,
            },
            local_url("http", settings.api_host, settings.api_port, "/healthz"),
        )
    )
    if settings.run_ui:
        children.append(
            Child(
                "ui",
                ui_command(settings),
                {**base, **settings_environment(settings)},
                local_url("http", settings.ui_host, settings.ui_port, "/_stcore/health"),
            )
        )
    return children


def wait_healthy(child: Child, timeout: float) -> None:
    """Poll the child's health URL until 200; RuntimeError if it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        assert child.process is not None and child.health_url is not None
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}")
        try:
            with urllib.request.urlopen(child.health_url, timeout=2) as response:
                if response.status == 200:
                    return
        except (URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.name} did not answer {child.health_url} in {timeout} s")
        time.sleep(0.2)


def run_stack(settings: Settings, args: argparse.Namespace) -> int:
    services = ServiceSet(
        args.services_dir,
        kafka_port=_port(settings.kafka_bootstrap),
        cassandra_port=settings.cassandra_port,
    )
    started_services = not all(status.running for status in services.status())
    services.up()
    token = with_api_token(settings)
    token.announce()
    settings = token.settings
    pki = with_pki(settings)  # before the gateways start, so they share one CA
    pki.announce()
    settings = pki.settings
    if settings.run_ui:
        password = ensure_default_operator(settings.data_dir)
        if password is not None:
            print(f"stack: dashboard operator created: admin / {password} (shown once)")
    children = plan(settings, args.gateways, args.workers)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    code = 0
    try:
        for child in children:
            print(f"stack: starting {child.name}", flush=True)
            child.start()
            if child.health_url:
                wait_healthy(child, 120)
        print(
            f"stack: up — OCPP ws://{settings.ocpp_host}:{settings.ocpp_port}/ocpp/{{id}}, "
            f"API http://{settings.api_host}:{settings.api_port}/api/v1 (Ctrl-C stops)",
            flush=True,
        )
        while not stopping:
            for child in children:
                child.restart_if_exited()
            time.sleep(0.5)
    except RuntimeError as error:
        print(f"stack: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        for child in reversed(children):
            child.stop()
        if started_services:
            services.down()
    return code
