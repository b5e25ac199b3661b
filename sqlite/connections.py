"""Opening SQLite files in WAL mode and writing to them in transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chargestream.sqlite.files import private_database

BUSY_TIMEOUT_MS = 5000


def connect(path: Path, *, writer: bool, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """An autocommit connection usable from any one thread at a time.

    The writer also switches the file to WAL, so readers never block it and it never
    blocks them; ``synchronous`` is the durability of a commit (FULL: it survives a
    power cut, NORMAL: it survives a crash of the process). The writer creates the file,
    and its directory, private to this user (``chargestream.sqlite.files``).
    """
    if writer:
        private_database(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if writer:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the write lock at BEGIN.

    In WAL mode a deferred transaction that read and then writes fails at once with
    SQLITE_BUSY if another connection wrote meanwhile; waiting for the lock at BEGIN
    lets busy_timeout apply instead.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
