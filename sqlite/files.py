"""The data directory and its files are private to the user that runs chargestream.

The event log holds every frame, the store the charge points' password hashes, and
``api-token`` the API's bearer token, so the directory is created 0700 and every file
in it 0600. The mode is given when a file is created (``mkdir``/``open`` with a mode:
a umask can only take bits away), so there is no moment in which another user could
open it; a file an earlier version left readable to others is narrowed when it is
opened for writing. A directory that already exists keeps its mode (it may be one the
operator made and shares), the files in it are private all the same.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")  # files SQLite keeps beside a database


def private_directory(path: Path) -> Path:
    """Create ``path`` and every missing parent with mode 0700; returns ``path``."""
    missing = []
    current = Path(path)
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        # made meanwhile by another process, or a file: checked below
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIRECTORY_MODE)
    if not Path(path).is_dir():
        raise NotADirectoryError(f"{path} is not a directory")
    return Path(path)


def narrow(path: Path) -> bool:
    """Remove group and other permissions from a file this user owns; True if it had any."""
    try:
        status = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
        return False
    if status.st_mode & 0o077 == 0:
        return False
    os.chmod(path, stat.S_IMODE(status.st_mode) & FILE_MODE)
    return True


def private_database(path: Path) -> None:
    """Before a writer opens a SQLite database: the file exists 0600, its companions too.

    SQLite creates the -wal and -shm files with the database file's mode, so creating the
    database 0600 makes them 0600 as well; older companions are narrowed here.
    """
    private_directory(Path(path).parent)
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    os.close(descriptor)
    for companion in ("", *SQLITE_COMPANIONS):
        narrow(Path(f"{path}{companion}"))
