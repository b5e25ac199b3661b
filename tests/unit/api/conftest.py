"""A real SQLite store per test and a fixed clock for the API's services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargestream.domain.settings import Settings
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.gateway.commands import CommandService
from chargestream.gateway.directory import Directory
from chargestream.gateway.handlers import CentralSystem
from chargestream.gateway.server import Gateway
from chargestream.storage.sqlite import SqliteStore

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def directory(store: SqliteStore) -> Directory:
    """The gateway's cache, with a TTL long enough that only invalidation refreshes it."""
    return Directory(store, ttl=3600)


@pytest.fixture
async def command_service(
    store: SqliteStore, directory: Directory, tmp_path: Path
) -> AsyncIterator[CommandService]:
    """The real CommandService over a real gateway no charge point is connected to, on the
    fixed clock: every command it sends ends ``not_connected``."""
    settings = Settings(node_id="unit-node")
    event_log = SqliteEventLog(tmp_path / "log.db")
    await event_log.open()
    gateway = Gateway(settings, event_log, CentralSystem(settings, store, directory), directory)
    yield CommandService(gateway.call, store, timeout=1.0, clock=fixed_clock)
    await event_log.close()
