"""The fast layer's rule, enforced: unit tests open no network sockets and start no processes.

Every test under tests/unit/ runs with a guard that makes connecting, binding or listening
on an IPv4/IPv6 socket, and starting a subprocess, fail the test. The error is a
``BaseException`` so that code under test which catches ``Exception`` (a handler that keeps
answering when the store fails, say) cannot swallow it, and each attempt is also recorded:
a test whose code caught the error anyway still fails when it ends.

Unix sockets stay allowed: asyncio's event loop wakes itself through ``socket.socketpair``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from chargestream.storage.sqlite import SqliteStore

MESSAGE = "unit tests use no sockets or subprocesses: move this test to tests/integration/"
_NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class IsolationViolation(BaseException):
    """A unit test tried to use the network or start a process."""


@dataclass
class IsolationGuard:
    """What the guard refused during one test (``violations`` is checked at teardown)."""

    violations: list[str] = field(default_factory=list)

    def refuse(self, attempt: str) -> NoReturn:
        self.violations.append(attempt)
        raise IsolationViolation(f"{MESSAGE} (attempted: {attempt})")


def _guard_socket_method(
    guard: IsolationGuard, name: str, original: Callable[..., Any]
) -> Callable[..., Any]:
    def guarded(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if self.family in _NETWORK_FAMILIES:
            target = f" {args[0]!r}" if args else ""
            guard.refuse(f"socket.{name}{target}")
        return original(self, *args, **kwargs)

    return guarded


def _refusing(guard: IsolationGuard, name: str) -> Callable[..., NoReturn]:
    def refused(*args: Any, **kwargs: Any) -> NoReturn:
        target = f" {args[0]!r}" if args else ""
        guard.refuse(f"{name}{target}")

    return refused


@pytest.fixture(autouse=True)
def unit_isolation(monkeypatch: pytest.MonkeyPatch) -> Iterator[IsolationGuard]:
    guard = IsolationGuard()
    for name in ("connect", "connect_ex", "bind", "listen"):
        original = getattr(socket.socket, name)
        monkeypatch.setattr(socket.socket, name, _guard_socket_method(guard, name, original))

    def refused_popen(self: subprocess.Popen[Any], args: Any, *more: Any, **kwargs: Any) -> None:
        guard.refuse(f"subprocess.Popen {args!r}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refused_popen)
    for module, name in (
        (asyncio, "create_subprocess_exec"),
        (asyncio, "create_subprocess_shell"),
        (asyncio.subprocess, "create_subprocess_exec"),
        (asyncio.subprocess, "create_subprocess_shell"),
        (os, "system"),
        (os, "posix_spawn"),
        (os, "posix_spawnp"),
    ):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, _refusing(guard, f"{module.__name__}.{name}"))
    yield guard
    if guard.violations:
        pytest.fail(f"{MESSAGE} (attempted: {'; '.join(guard.violations)})", pytrace=False)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A real, open SQLite store in the test's own directory."""
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    yield store
    await store.close()
