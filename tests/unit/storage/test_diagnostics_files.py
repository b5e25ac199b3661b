"""Diagnostics files on disk: private, stored once per file id, bounded, listed."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargestream.storage.diagnostics import AlreadyUploaded, DiagnosticsFiles, TooLarge

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ID_1, ID_2 = "1" * 32, "2" * 32


def test_an_upload_is_kept_once_listed_and_found(tmp_path: Path) -> None:
    files = DiagnosticsFiles(tmp_path / "diagnostics", 100)
    upload = files.start("CP-1", ID_1)
    upload.write(b"abc")
    record = upload.keep("a.log", NOW)
    assert (record.size, record.file_name) == (3, "a.log")
    assert files.uploaded("CP-1", ID_1) and not files.uploaded("CP-2", ID_1)
    second = files.start("CP-1", ID_1)
    second.write(b"other")
    with pytest.raises(AlreadyUploaded):
        second.keep("b.log", NOW)
    assert files.listing("CP-1") == [record] and files.listing("CP-2") == []
    found = files.find("CP-1", ID_1)
    assert found is not None and found[0] == record and found[1].read_bytes() == b"abc"
    assert files.find("CP-2", ID_1) is None and files.find("CP-1", "../x") is None
    for path in (tmp_path / "diagnostics").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600)
        assert "CP-1" not in str(path)


def test_too_large_removes_the_part_and_bad_ids_are_refused(tmp_path: Path) -> None:
    files = DiagnosticsFiles(tmp_path, 4)
    upload = files.start("CP-1", ID_2)
    upload.write(b"1234")
    with pytest.raises(TooLarge):
        upload.write(b"5")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    with pytest.raises(ValueError):
        files.start("CP-1", "../../etc")


def test_files_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    files = DiagnosticsFiles(tmp_path / "diagnostics", 100)
    for cp, file_id, received in (("CP-1", ID_1, NOW - timedelta(days=31)), ("CP-2", ID_2, NOW)):
        upload = files.start(cp, file_id)
        upload.write(b"abc")
        upload.keep("a.log", received)
    stale = files.start("CP-1", "3" * 32)  # an upload that never finished, as old
    stale.write(b"part")
    (part,) = (tmp_path / "diagnostics").rglob("*.part")
    old = (NOW - timedelta(days=31)).timestamp()
    os.utime(part, (old, old))
    assert files.delete_older_than(NOW, 0) == 0 and files.find("CP-1", ID_1) is not None
    assert files.delete_older_than(NOW, 30) == 1
    assert files.find("CP-1", ID_1) is None and not files.uploaded("CP-1", ID_1)
    assert files.listing("CP-1") == [] and len(files.listing("CP-2")) == 1
    remaining = {p.name for p in (tmp_path / "diagnostics").rglob("*") if p.is_file()}
    assert remaining == {ID_2, f"{ID_2}.json"}
    stale.discard()
