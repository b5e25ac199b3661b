"""Diagnostics retention in an API process: files older than the setting are deleted off the
event loop, at the moment the injected clock says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargestream.app.diagnostics import DiagnosticsUploads
from chargestream.domain.settings import Settings
from chargestream.storage.diagnostics import DiagnosticsFiles

RECEIVED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def test_prune_deletes_files_once_the_retention_has_passed(tmp_path: Path) -> None:
    files = DiagnosticsFiles(tmp_path / "diagnostics", 100)
    upload = files.start("CP-1", "1" * 32)
    upload.write(b"abc")
    upload.keep("a.log", RECEIVED)
    now = [RECEIVED + timedelta(days=7)]
    settings = Settings(data_dir=tmp_path, api_token="unit-api-token-0123456789")
    uploads = DiagnosticsUploads(settings, clock=lambda: now[0])
    kept = replace(settings, diagnostics_retention_days=0)  # 0: kept forever
    forever = DiagnosticsUploads(kept, clock=lambda: now[0] + timedelta(days=999))

    assert await uploads.prune() == 0 and len(files.listing("CP-1")) == 1
    assert await forever.prune() == 0 and len(files.listing("CP-1")) == 1
    now[0] = RECEIVED + timedelta(days=30, minutes=1)
    assert await uploads.prune() == 1 and files.listing("CP-1") == []
