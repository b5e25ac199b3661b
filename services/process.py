"""Detached processes: start, pid files, liveness, stop, log tails and port checks."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
_PROC = Path("/proc")

# ``sh`` starts the command in the background and prints its pid, so the command is
# not our child: it outlives this process and is reaped by init, not by us.
_DETACH = '"$@" </dev/null >>"$0" 2>&1 & echo $!'


class ServiceError(RuntimeError):
    """A service cannot be resolved, started, stopped or reached; the message says why."""


@contextmanager
def exclusive(lock_file: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file``; call ``on_wait`` first if it is taken."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def spawn_detached(argv: Sequence[str], output: Path, cwd: Path) -> int:
    """Start ``argv`` in a new session with stdout/stderr appended to ``output``; its pid."""
    output.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["sh", "-c", _DETACH, str(output), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    )
    return int(done.stdout)


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as dead)."""
    if not (_PROC / "self").exists():
        return _signal(pid, 0)
    try:
        state = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> list[str] | None:
    """The arguments of ``pid`` where /proc shows them, else None."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return raw.decode(errors="replace").split("\0")


def read_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in ``pid_file`` if that process is alive and has the argument ``marker``."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if not is_alive(pid):
        return None
    arguments = command_line(pid)
    return pid if arguments is None or marker in arguments else None


def terminate(pid: int, timeout: float) -> bool:
    """SIGTERM ``pid``, then SIGKILL after ``timeout`` seconds; True if it stopped cleanly."""
    if not _signal(pid, signal.SIGTERM):
        return True
    if wait_for_exit(pid, timeout):
        return True
    _signal(pid, signal.SIGKILL)
    wait_for_exit(pid, 10.0)
    return False


def _signal(pid: int, signum: int) -> bool:
    """Send ``signum`` to ``pid``; False when there is no such process."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit; whether it did."""
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of ``path`` (empty when it does not exist)."""
    try:
        with path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 64 * 1024))
            text = file.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could bind ``host:port`` now."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(port: int, host: str = HOST, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
