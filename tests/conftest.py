"""Shared fixtures: a real embedded CSMS on loopback ports, and polling helpers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from chargestream.app.embedded import EmbeddedCsms
from chargestream.domain.settings import Settings

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {result!r})")
        await asyncio.sleep(interval)


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningCsms:
    app: EmbeddedCsms
    ocpp_url: str
    api: httpx.AsyncClient

    def url(self, charge_point_id: str) -> str:
        return f"{self.ocpp_url}/{charge_point_id}"


TEST_API_TOKEN = "test-api-token-0123456789"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "api_token": TEST_API_TOKEN,
        "ocpp_port": 0,
        "ocpp_tls_port": 0,  # off; a test that wants it starts the app with tls_port=0
        "ftp_port": 0,  # off; a test that wants it gives a free port
        "api_port": 0,
        "node_id": "test-node",
        "log_sync": "normal",
        "command_timeout": 5.0,
        "derivation": "inline",  # one process a test; the process of its own has its tests
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


def chargestream_run(
    data_dir: Path, *, stdout: int = subprocess.PIPE, **settings: object
) -> subprocess.Popen[bytes]:
    """``chargestream run`` as a process of its own, logging JSON to a pipe on stderr, with
    ``data_dir`` and ``settings`` in its environment (``api_port=8081``:
    ``CHARGESTREAM_API_PORT=8081``)."""
    chosen = {"data_dir": data_dir, "log_format": "json", **settings}
    env = {**os.environ, **{f"CHARGESTREAM_{k.upper()}": str(v) for k, v in chosen.items()}}
    return subprocess.Popen(
        [sys.executable, "-m", "chargestream.app.cli", "run"],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


@asynccontextmanager
async def running_csms(settings: Settings) -> AsyncIterator[RunningCsms]:
    """The embedded CSMS with ``settings``, started, with an API client; stopped after."""
    app = EmbeddedCsms(settings)
    addresses = await app.start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{addresses.api_port}",
            headers={"Authorization": f"Bearer {settings.api_token}"},
            timeout=30,
        ) as api:
            yield RunningCsms(app, f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp", api)
    finally:
        await app.stop()


@pytest.fixture
async def csms(csms_settings: Settings) -> AsyncIterator[RunningCsms]:
    async with running_csms(csms_settings) as running:
        yield running
