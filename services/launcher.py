"""Kafka and Cassandra together: bring them up, report on them, take them down."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from chargestream.services.cassandra import Cassandra
from chargestream.services.kafka import Kafka
from chargestream.services.maven import resolve_classpath
from chargestream.services.process import ServiceError, exclusive, tail
from chargestream.services.service import JvmService, ServiceStatus
from chargestream.services.tools import Java, find_java

SERVICE_NAMES = ("kafka", "cassandra")


class ServiceSet:
    """The local Kafka and Cassandra whose files, logs and pid files live in ``base_dir``."""

    def __init__(
        self,
        base_dir: Path | str = ".services",
        kafka_port: int = 9092,
        cassandra_port: int = 9042,
        *,
        kafka_controller_port: int | None = None,
        cassandra_storage_port: int | None = None,
        only: str | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        if only is not None and only not in SERVICE_NAMES:
            raise ValueError(f"unknown service {only!r}; choose from {', '.join(SERVICE_NAMES)}")
        self.base_dir = Path(base_dir).resolve()
        self.kafka = Kafka(self.base_dir, kafka_port, kafka_controller_port)
        self.cassandra = Cassandra(self.base_dir, cassandra_port, cassandra_storage_port)
        everything: tuple[JvmService, ...] = (self.kafka, self.cassandra)
        self.services = tuple(s for s in everything if only in (None, s.name))
        self.echo = echo

    @property
    def kafka_bootstrap(self) -> str:
        """``host:port`` for Kafka clients."""
        return self.kafka.running_address()

    @property
    def cassandra_contact(self) -> tuple[str, int]:
        """``(host, port)`` for Cassandra drivers."""
        host, port = self.cassandra.running_address().rsplit(":", 1)
        return host, int(port)

    def up(self, timeout: float = 180.0) -> dict[str, str]:
        """Start what is not running and wait until all answer; name -> address."""
        with self._exclusive():
            to_start = [s for s in self.services if not self._already_running(s)]
            started = self._start(to_start) if to_start else time.monotonic()
            self._wait_until_answering(to_start, started, timeout)
        return {s.name: s.running_address() for s in self.services}

    def down(self, timeout: float = 60.0) -> None:
        """Stop every running service: SIGTERM, then SIGKILL after ``timeout`` seconds."""
        words = {None: "not running", True: "stopped", False: "killed after SIGTERM timeout"}
        with self._exclusive():
            for service in reversed(self.services):
                self.echo(f"{service.name}: {words[service.stop(timeout)]}")

    def status(self) -> list[ServiceStatus]:
        return [service.status() for service in self.services]

    @contextmanager
    def held(self, timeout: float = 180.0) -> Iterator[dict[str, str]]:
        """``up`` for a with-block, then ``down`` unless all were running before it: a
        benchmark leaves running what it found running, and nothing else."""
        were_running = all(status.running for status in self.status())
        addresses = self.up(timeout)
        try:
            yield addresses
        finally:
            if not were_running:
                self.down()

    def _exclusive(self) -> AbstractContextManager[None]:
        """One ``up`` or ``down`` at a time per directory."""
        lock = self.base_dir / "services.lock"
        return exclusive(lock, lambda: self.echo(f"waiting for another command holding {lock}"))

    def _already_running(self, service: JvmService) -> bool:
        pid = service.pid()
        if pid is not None:
            self.echo(f"{service.name}: already running (pid {pid}) at {service.running_address()}")
        return pid is not None

    def _start(self, services: list[JvmService]) -> float:
        """Check ports, resolve jars, launch the JVMs; the monotonic time of the launch."""
        java = find_java()
        for service in services:
            service.check_ports()
        classpaths = {service.name: self._classpath(service, java) for service in services}
        launched = time.monotonic()
        for service in services:
            pid = service.start(java, classpaths[service.name])
            self.echo(f"{service.name}: started (pid {pid}), log {service.log_file}")
        return launched

    def _classpath(self, service: JvmService, java: Java) -> list[Path]:
        return resolve_classpath(
            service.name,
            service.artifacts,
            self.base_dir,
            java,
            echo=self.echo,
            download_hint=service.download_hint,
        )

    def _wait_until_answering(
        self, started_here: list[JvmService], started: float, timeout: float
    ) -> None:
        """Poll every service until it answers; if one dies or time runs out, stop those
        started here and raise."""
        pending = list(self.services)
        while pending:
            for service in list(pending):
                if service.answering(service.running_port()):
                    pending.remove(service)
                    elapsed = time.monotonic() - started
                    where = service.running_address()
                    self.echo(f"{service.name}: answering at {where} ({elapsed:.1f} s)")
                elif service.pid() is None:
                    self._abandon(started_here, f"{service.name} exited while starting", service)
            if pending and time.monotonic() - started > timeout:
                what = f"{pending[0].name} did not answer within {timeout:.0f} s"
                self._abandon(started_here, what, pending[0])
            if pending:
                time.sleep(0.5)

    def _abandon(self, services: list[JvmService], what: str, culprit: JvmService) -> None:
        """Stop ``services`` and raise with the last lines of the culprit's logs."""
        logs = [
            f"--- last lines of {path} ---\n{text}"
            for path in (culprit.log_file, culprit.console_file)
            if (text := tail(path))
        ]
        for service in services:
            service.stop(timeout=30.0)
        stopped = ", ".join(s.name for s in services) or "nothing"
        raise ServiceError("\n".join([f"{what}; stopped {stopped}.", *logs]))
