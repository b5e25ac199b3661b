"""Real Kafka and Cassandra for the integration tests, found or started once per session.

Each fixture takes the first of:

1. ``CHARGESTREAM_TEST_KAFKA_BOOTSTRAP`` / ``CHARGESTREAM_TEST_CASSANDRA`` (``host:port``),
   as ``make test`` sets them after ``chargestream services up``;
2. testcontainers, when a Docker engine answers;
3. the project's launcher: the service already running from ``.services``, else one started
   on free ports in a temporary directory and stopped when the session ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from chargestream.services import ServiceSet

HERE = Path(__file__).parent
KAFKA_ENV = "CHARGESTREAM_TEST_KAFKA_BOOTSTRAP"
CASSANDRA_ENV = "CHARGESTREAM_TEST_CASSANDRA"
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"  # Apache Kafka 3.9, like the launcher
CASSANDRA_IMAGE = "cassandra:5.0.9"
START_TIMEOUT = 300.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """``host:port`` of a Kafka broker that auto-creates topics."""
    if address := os.environ.get(KAFKA_ENV):
        yield address
    elif _docker_answers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        with _launched("kafka") as services:
            yield services.kafka_bootstrap


@pytest.fixture(scope="session")
def cassandra_contact() -> Iterator[tuple[str, int]]:
    """``(host, port)`` of a Cassandra node's CQL native transport."""
    if address := os.environ.get(CASSANDRA_ENV):
        host, port = address.rsplit(":", 1)
        yield host, int(port)
    elif _docker_answers():
        from testcontainers.community.cassandra import CassandraContainer

        with CassandraContainer(CASSANDRA_IMAGE) as cassandra:
            yield cassandra.get_contact_points()[0]
    else:
        with _launched("cassandra") as services:
            yield services.cassandra_contact


def _docker_answers() -> bool:
    """Whether a Docker engine answers a ping within a few seconds."""
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    import docker

    try:
        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure to reach it means no usable engine
        return False


@contextmanager
def _launched(name: str) -> Iterator[ServiceSet]:
    """The launcher's ``name`` service: the one running from .services, else a fresh one."""
    running = ServiceSet(HERE.parent / ".services", only=name, echo=_quiet)
    if all(status.answering for status in running.status()):
        yield running
    else:
        with fresh_service(name) as services:
            yield services


@contextmanager
def fresh_service(name: str) -> Iterator[ServiceSet]:
    """A new ``name`` service of the launcher, in a temporary directory, on free ports."""
    base_dir = Path(tempfile.mkdtemp(prefix=f"chargestream-{name}-", dir="/tmp"))
    port, second_port = _free_ports(2)
    ports = {
        "kafka": {"kafka_port": port, "kafka_controller_port": second_port},
        "cassandra": {"cassandra_port": port, "cassandra_storage_port": second_port},
    }[name]
    services = ServiceSet(base_dir, only=name, **ports)
    try:
        services.up(timeout=START_TIMEOUT)
        yield services
    finally:
        services.down()
    shutil.rmtree(base_dir, ignore_errors=True)  # kept after a failure, for its logs


def _free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _quiet(_: str) -> None:
    """Swallow the launcher's progress lines while only probing."""
