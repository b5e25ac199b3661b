"""The unit layer's guard (tests/unit/conftest.py): no network, no processes, asyncio still runs."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.conftest import MESSAGE, IsolationGuard, IsolationViolation


def test_connecting_to_loopback_fails_with_the_guards_message(
    unit_isolation: IsolationGuard,
) -> None:
    with socket.socket() as sock, pytest.raises(IsolationViolation) as refused:
        sock.connect(("127.0.0.1", 9))
    assert MESSAGE in str(refused.value)
    assert "127.0.0.1" in str(refused.value)
    assert unit_isolation.violations  # recorded: failing the test even if something caught it
    unit_isolation.violations.clear()  # expected here


def test_connect_ex_bind_and_listen_on_ipv4_and_ipv6_fail(unit_isolation: IsolationGuard) -> None:
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(IsolationViolation):
        sock.connect_ex(("::1", 9))
    with socket.socket() as sock, pytest.raises(IsolationViolation):
        sock.bind(("127.0.0.1", 0))
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(IsolationViolation):
        sock.bind(("::1", 0))
    with socket.socket() as sock, pytest.raises(IsolationViolation):
        sock.listen()  # an unbound socket would listen on an ephemeral port
    assert len(unit_isolation.violations) == 4
    unit_isolation.violations.clear()


async def test_asyncio_connections_and_servers_fail(unit_isolation: IsolationGuard) -> None:
    with pytest.raises(IsolationViolation):
        await asyncio.open_connection("127.0.0.1", 9)
    with pytest.raises(IsolationViolation):
        await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    assert len(unit_isolation.violations) == 2
    unit_isolation.violations.clear()


def test_the_violation_is_not_an_exception_a_handler_could_swallow() -> None:
    assert not issubclass(IsolationViolation, Exception)


def test_starting_a_process_fails(unit_isolation: IsolationGuard) -> None:
    with pytest.raises(IsolationViolation, match="move this test to tests/integration/"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    with pytest.raises(IsolationViolation):
        subprocess.Popen(["true"])
    with pytest.raises(IsolationViolation):
        os.system("true")
    assert len(unit_isolation.violations) == 3
    unit_isolation.violations.clear()


async def test_asyncio_subprocesses_fail(unit_isolation: IsolationGuard) -> None:
    with pytest.raises(IsolationViolation):
        await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    with pytest.raises(IsolationViolation):
        await asyncio.create_subprocess_shell("true")
    assert len(unit_isolation.violations) == 2
    unit_isolation.violations.clear()


async def test_the_event_loop_and_unix_sockets_keep_working(tmp_path: Path) -> None:
    await asyncio.sleep(0)  # the loop's self-pipe is a socketpair (AF_UNIX)
    assert await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2]) == 3
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ping")
        assert right.recv(4) == b"ping"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "s"))
        server.listen()
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(tmp_path / "s"))
