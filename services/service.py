"""A JVM server run from a Maven-resolved classpath as a detached process."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from chargestream.services.process import (
    HOST,
    ServiceError,
    port_is_free,
    read_pid,
    spawn_detached,
    terminate,
)
from chargestream.services.tools import Java


@dataclass(frozen=True)
class ServiceStatus:
    """What ``status`` reports for one service."""

    name: str
    pid: int | None
    address: str
    answering: bool
    log: Path

    @property
    def running(self) -> bool:
        return self.pid is not None


class JvmService(ABC):
    """One server: its files under ``base_dir/<name>``, its pid file, start and stop."""

    name: ClassVar[str]
    main_class: ClassVar[str]
    artifacts: ClassVar[tuple[str, ...]]  # group:artifact:version, resolved with Maven
    download_hint: ClassVar[str]

    def __init__(self, base_dir: Path, port: int) -> None:
        self.base_dir = base_dir.resolve()
        self.port = port
        self.home = self.base_dir / self.name

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.base_dir / f"{self.name}.pid"

    @property
    def address_file(self) -> Path:
        return self.base_dir / f"{self.name}.address"

    @property
    def console_file(self) -> Path:
        """Where the JVM's own stdout and stderr go (crashes before logging starts)."""
        return self.home / "logs" / "console.log"

    @property
    @abstractmethod
    def log_file(self) -> Path:
        """The server's main log."""

    @abstractmethod
    def ports(self) -> tuple[int, ...]:
        """Every port the server listens on."""

    @abstractmethod
    def configure(self, java: Java, classpath: list[Path]) -> None:
        """Write the configuration files and do one-time initialisation."""

    @abstractmethod
    def jvm_options(self, classpath: list[Path]) -> list[str]:
        """JVM flags and system properties, without the classpath."""

    def main_args(self) -> list[str]:
        return []

    @abstractmethod
    def answering(self, port: int) -> bool:
        """Whether the server on ``port`` answers a real client request now."""

    def pid(self) -> int | None:
        """The pid of the running server started from this directory, or None."""
        return read_pid(self.pid_file, self.main_class)

    def running_address(self) -> str:
        """The address the running server was started with (else the configured one)."""
        try:
            return self.address_file.read_text().strip() or self.address
        except OSError:
            return self.address

    def running_port(self) -> int:
        """The client port of the running server (else the configured one)."""
        return int(self.running_address().rsplit(":", 1)[1])

    def check_ports(self) -> None:
        busy = [port for port in self.ports() if not port_is_free(port)]
        if busy:
            ports = ", ".join(map(str, busy))
            raise ServiceError(
                f"{self.name} needs port(s) {ports} on {HOST}, which are in use; stop what "
                "holds them (ss -ltnp) or choose other ports"
            )

    def start(self, java: Java, classpath: list[Path]) -> int:
        """Configure and start the server in the background; its pid."""
        self.configure(java, classpath)
        argv = [
            str(java.executable),
            *self.jvm_options(classpath),
            "-cp",
            os.pathsep.join(map(str, classpath)),
            self.main_class,
            *self.main_args(),
        ]
        pid = spawn_detached(argv, self.console_file, cwd=self.home)
        self.pid_file.write_text(f"{pid}\n")
        self.address_file.write_text(f"{self.address}\n")
        return pid

    def stop(self, timeout: float) -> bool | None:
        """Stop the server; True if cleanly, False if killed, None if it was not running."""
        pid = self.pid()
        stopped = None if pid is None else terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        self.address_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> ServiceStatus:
        pid = self.pid()
        if pid is None:
            return ServiceStatus(self.name, None, self.address, False, self.log_file)
        answering = self.answering(self.running_port())
        return ServiceStatus(self.name, pid, self.running_address(), answering, self.log_file)
