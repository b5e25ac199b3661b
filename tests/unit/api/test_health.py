"""HealthService: what /healthz reports, and that it fails when the store does."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargestream.api.services.health import HealthService
from chargestream.domain.settings import Mode, Settings
from chargestream.storage.sqlite import SqliteStore


async def test_reports_mode_node_and_the_process_status(store: SqliteStore) -> None:
    health = HealthService(
        Settings(mode=Mode.EMBEDDED, node_id="unit-node"), store, lambda: {"connected": 2}
    )

    assert await health.check() == {"mode": "embedded", "node": "unit-node", "connected": 2}


async def test_fails_when_the_store_does_not_answer(tmp_path: Path) -> None:
    closed = SqliteStore(tmp_path / "never-opened.db")

    with pytest.raises(Exception, match="is not open"):  # /healthz answers 503 with it
        await HealthService(Settings(node_id="unit-node"), closed, dict).check()
