"""A real SQLite store per test, and the settings, directory and central system over it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chargestream.domain.settings import Settings
from chargestream.gateway.directory import Directory
from chargestream.gateway.handlers import CallContext, CentralSystem
from chargestream.storage.sqlite import SqliteStore

NOW = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)


def settings(**overrides: Any) -> Settings:
    """Settings as the gateway gets them, with a fixed node id."""
    return Settings(node_id="unit-node", **overrides)


def central_system(store: SqliteStore, **overrides: Any) -> CentralSystem:
    chosen = settings(**overrides)
    return CentralSystem(chosen, store, Directory(store, chosen.cache_ttl))


def context(charge_point_id: str = "CP-1", now: datetime = NOW) -> CallContext:
    return CallContext(charge_point_id, now)


@pytest.fixture
def central(store: SqliteStore) -> CentralSystem:
    return central_system(store)
