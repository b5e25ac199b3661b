"""The stack's processes for one benchmark run: bootstrap, workers, gateways and the API.

Each run gets its own frames topic, keyspace and worker group (a run id suffix), so runs
on the same Kafka and Cassandra never mix. The processes are the ones ``chargestream
stack`` starts (``chargestream.app.supervisor.plan``), with their output in log files.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from chargestream.app.supervisor import Child, plan, wait_healthy
from chargestream.domain.settings import Settings

START_TIMEOUT = 180.0  # seconds a process may take to answer its health check
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class StackConfig:
    run_id: str  # lowercase letters, digits and _ (a keyspace suffix)
    kafka_bootstrap: str
    cassandra_port: int
    gateways: int
    workers: int
    work_dir: Path
    partitions: int = 3  # of the frames topic the run creates
    linger_ms: int = 10
    ocpp_port: int = 29000
    api_port: int = 29080
    health_port: int = 29081  # gateways from here, workers from here + 50
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def topic(self) -> str:
        return f"bench-frames-{self.run_id}"

    @property
    def keyspace(self) -> str:
        return f"bench_{self.run_id}"

    @property
    def group(self) -> str:
        return f"bench-views-{self.run_id}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def api_headers(self) -> dict[str, str]:
        """What a request to the run's /api/v1 carries: its token."""
        return {"Authorization": f"Bearer {self.api_token}"}

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    def environment(self) -> dict[str, str]:
        """The CHARGESTREAM_* variables every process of the run shares."""
        return {
            "CHARGESTREAM_MODE": "stack",
            "CHARGESTREAM_NODE_ID": f"bench-{self.run_id}",
            "CHARGESTREAM_DATA_DIR": str(self.work_dir / "data"),
            "CHARGESTREAM_OCPP_HOST": "127.0.0.1",
            "CHARGESTREAM_API_HOST": "127.0.0.1",
            "CHARGESTREAM_HEALTH_HOST": "127.0.0.1",
            "CHARGESTREAM_API_TOKEN": self.api_token,
            "CHARGESTREAM_OCPP_PORT": str(self.ocpp_port),
            "CHARGESTREAM_OCPP_TLS_PORT": "0",
            "CHARGESTREAM_API_PORT": str(self.api_port),
            "CHARGESTREAM_HEALTH_PORT": str(self.health_port),
            "CHARGESTREAM_WORKER_WEB_PORT": str(self.health_port + 100),
            "CHARGESTREAM_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CHARGESTREAM_CASSANDRA_HOSTS": "127.0.0.1",
            "CHARGESTREAM_CASSANDRA_PORT": str(self.cassandra_port),
            "CHARGESTREAM_FRAMES_TOPIC": self.topic,
            "CHARGESTREAM_FRAMES_PARTITIONS": str(self.partitions),
            "CHARGESTREAM_KAFKA_LINGER_MS": str(self.linger_ms),
            "CHARGESTREAM_CASSANDRA_KEYSPACE": self.keyspace,
            "CHARGESTREAM_WORKER_GROUP": self.group,
            "CHARGESTREAM_ACCEPT_UNKNOWN_ID_TAGS": "true",
            "CHARGESTREAM_RUN_UI": "false",
            "CHARGESTREAM_FTP_PORT": "0",  # no FTP server: the tests' 2121 stays free
            "CHARGESTREAM_LOG_LEVEL": "WARNING",
        }


class Stack:
    """Starts the run's processes in order, waits for each to be healthy, stops them."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.children: list[Child] = []
        self._logs: list[IO[bytes]] = []

    def start(self) -> None:
        """Bootstrap (topic, keyspace), then workers, gateways and the API."""
        config = self.config
        (config.work_dir / "data").mkdir(parents=True, exist_ok=True)
        # plan() builds each child's environment from this process's: the run's settings
        # go there first (the simulator children inherit them too, harmlessly).
        os.environ.update(config.environment())
        self._bootstrap()
        self.children = plan(Settings.from_env(), config.gateways, config.workers)
        for child in self.children:
            self._spawn(child)
            wait_healthy(child, START_TIMEOUT)

    def _bootstrap(self) -> None:
        log = self.config.work_dir / "bootstrap.log"
        with log.open("wb") as out:
            done = subprocess.run(
                [sys.executable, "-m", "chargestream.app.cli", "bootstrap"],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT,
                check=False,
            )
        if done.returncode:
            raise RuntimeError(f"bootstrap exited with {done.returncode}; see {log}")

    def _spawn(self, child: Child, mode: str = "wb") -> None:
        out = (self.config.work_dir / f"{child.name}.log").open(mode)
        self._logs.append(out)
        child.process = subprocess.Popen(
            child.argv, env=child.env, stdout=out, stderr=subprocess.STDOUT
        )

    def check_alive(self) -> None:
        """RuntimeError if a process of the stack has exited."""
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited with {child.process.returncode}")

    def exited(self) -> list[Child]:
        """The processes of the stack that have exited."""
        return [c for c in self.children if c.process is not None and c.process.poll() is not None]

    def child(self, role: str, index: int = 1) -> Child:
        """``gateway``/``worker`` number ``index`` (from 1), or ``api``."""
        name = role if role == "api" else f"{role}-{index}"
        for child in self.children:
            if child.name == name:
                return child
        raise KeyError(name)

    def kill(self, role: str, index: int = 1, sig: int = signal.SIGKILL) -> Child:
        """Send ``sig`` to one process and wait until it has exited."""
        child = self.child(role, index)
        assert child.process is not None
        child.process.send_signal(sig)
        child.process.wait(STOP_TIMEOUT)
        return child

    def restart(self, child: Child) -> None:
        """Start an exited process again with the same argv and environment (its log is
        appended to) and wait until it answers its health check."""
        with (self.config.work_dir / f"{child.name}.log").open("ab") as out:
            out.write(b"--- restarted by the benchmark ---\n")
        self._spawn(child, "ab")
        wait_healthy(child, START_TIMEOUT)

    def pids(self, role: str) -> list[int]:
        """The running processes of a role: gateway, worker or api."""
        return [
            child.process.pid
            for child in self.children
            if child.name.split("-")[0] == role
            and child.process is not None
            and child.process.poll() is None
        ]

    def health_urls(self, role: str) -> list[str]:
        return [
            child.health_url
            for child in self.children
            if child.name.split("-")[0] == role and child.health_url
        ]

    def stop(self) -> None:
        """SIGTERM in reverse start order; SIGKILL what does not stop in time."""
        for child in reversed(self.children):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for out in self._logs:
            out.close()
        self._logs.clear()
