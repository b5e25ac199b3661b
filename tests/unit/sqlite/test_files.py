"""Private files: the data directory 0700, its files 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from chargestream.sqlite.connections import connect
from chargestream.sqlite.files import narrow, private_database, private_directory


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """A umask that would leave new files readable to everyone."""
    previous = os.umask(0o000)
    yield
    os.umask(previous)


def test_missing_directories_are_made_private(tmp_path: Path) -> None:
    made = private_directory(tmp_path / "a" / "b")
    assert made == tmp_path / "a" / "b"
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    assert private_directory(made) == made  # again: nothing to do


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    private_directory(shared)
    assert mode(shared) == 0o755


def test_a_file_in_the_way_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        private_directory(tmp_path / "file" / "data")


def test_narrow_removes_group_and_other_bits_only(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(0o664)
    assert narrow(path) is True
    assert mode(path) == 0o600
    assert narrow(path) is False
    path.chmod(0o400)
    assert narrow(path) is False and mode(path) == 0o400  # never widened
    assert narrow(tmp_path / "missing") is False


def test_a_database_and_its_companions_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "x.db"
    with closing(connect(path, writer=True)) as conn:
        conn.execute("CREATE TABLE t (v)")
        conn.execute("INSERT INTO t VALUES (1)")
        with closing(connect(path, writer=False)) as reader:
            assert reader.execute("SELECT v FROM t").fetchall() == [(1,)]
        files = {p.name: mode(p) for p in path.parent.iterdir()}
    assert files == {"x.db": 0o600, "x.db-wal": 0o600, "x.db-shm": 0o600}
    assert mode(path.parent) == 0o700


def test_older_readable_companions_are_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    for name in ("x.db", "x.db-wal", "x.db-shm"):
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o644)
    private_database(path)
    assert {p.name: mode(p) for p in tmp_path.iterdir()} == dict.fromkeys(
        ("x.db", "x.db-wal", "x.db-shm"), 0o600
    )
