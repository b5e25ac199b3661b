"""``ServiceSet.held``: a benchmark leaves running what it found running, and nothing else."""

from __future__ import annotations

from chargestream.services import ServiceSet
from testcontainers_tests.conftest import fresh_service


def running(services: ServiceSet) -> bool:
    return all(status.running for status in services.status())


def test_held_stops_only_what_it_started() -> None:
    with fresh_service("kafka") as services:
        with services.held() as addresses:
            assert set(addresses) == {"kafka"}
        assert running(services), "it was running before: it stays up"

        services.down()
        with services.held():
            assert all(status.answering for status in services.status())
        assert not running(services), "held started it: it is stopped again"
