"""A real SQLite store per test and a fixed clock for the API's services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargestream.gateway.directory import Directory
from chargestream.storage.sqlite import SqliteStore

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def directory(store: SqliteStore) -> Directory:
    """The gateway's cache, with a TTL long enough that only invalidation refreshes it."""
    return Directory(store, ttl=3600)
