"""Checks before a start: every listener's port is free, every configured path usable.

A busy port found half-way through a start leaves some components up and others not
(or, for the dashboard, only a log line); checked first, it stops the start with a
message that names the setting, like every other configuration error.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path

from chargestream.domain.settings import PREFIX, Settings, SettingsError, invalid

FILES = ("tls_cert_file", "tls_key_file", "tls_client_ca_file", "ca_cert_file", "ca_key_file")
WORKER_PORT_OFFSET = 50  # stack: worker n serves /healthz on health_port + 50 + n - 1


def listeners(settings: Settings) -> list[tuple[str, str, int]]:
    """(setting, address, port) of each listener ``chargestream run`` opens (0: none/any)."""
    ports = [
        ("ocpp_port", settings.ocpp_host, settings.ocpp_port),
        ("ocpp_tls_port", settings.ocpp_host, settings.ocpp_tls_port),
        ("api_port", settings.api_host, settings.api_port),
        ("ftp_port", settings.ftp_host, settings.ftp_port),
    ]
    if settings.run_ui:
        ports.append(("ui_port", settings.ui_host, settings.ui_port))
    return ports


def stack_listeners(settings: Settings, gateways: int, workers: int) -> list[tuple[str, str, int]]:
    """``listeners`` plus the health ports of the stack's gateways and workers."""
    first = settings.health_port
    health = [first + i for i in range(gateways)]
    health += [first + WORKER_PORT_OFFSET + i for i in range(workers)]
    host = settings.health_host
    return [*listeners(settings), *(("health_port", host, port) for port in health if first)]


def check_ports_free(ports: Iterable[tuple[str, str, int]]) -> None:
    """SettingsError naming the setting of the first port another process holds."""
    for name, host, port in ports:
        if port == 0:
            continue
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
                probe.bind(address)
        except OSError as error:
            raise SettingsError(
                f"{PREFIX}{name.upper()}={port}: cannot listen on {host}:{port} "
                f"({error.strerror or error}): stop what holds it or use a free port"
            ) from None


def check_paths(settings: Settings) -> None:
    """SettingsError for a data directory that is a file or a named file that is missing."""
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise invalid("data_dir", str(settings.data_dir), "a directory (this is a file)")
    for name in FILES:
        path: Path | None = getattr(settings, name)
        if path is not None and not path.is_file():
            raise invalid(name, str(path), "an existing PEM file")
