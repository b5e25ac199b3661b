"""The embedded mode's composition root: everything in one process, Python only.

SQLite event log + SQLite store + in-process processors + gateway + API.
``EmbeddedCsms`` is what ``chargestream run`` starts and what tests start on
port 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from chargestream.api import create_api
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.logs import configure_logging
from chargestream.settings import Settings, SettingsError
from gateway.commands import CommandService
from gateway.directory import Directory
from gateway.handlers import CentralSystem
from gateway.schemas import compile_all
from gateway.server import Gateway
from storage.sqlite import SqliteStore
from streams.runner import LogProcessor

log = logging.getLogger("chargestream")


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: the CSMS owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class Addresses:
    ocpp_port: int
    api_port: int


class EmbeddedCsms:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = SqliteStore(settings.store_path)
        self.event_log = SqliteEventLog(settings.event_log_path, sync=settings.log_sync)
        self.directory = Directory(self.store, settings.cache_ttl)
        self.gateway = Gateway(
            settings,
            self.event_log,
            CentralSystem(settings, self.store, self.directory),
            self.directory,
        )
        self.commands = CommandService(
            self.gateway.call, self.store, timeout=settings.command_timeout
        )
        self.processor = LogProcessor(
            self.event_log, self.store, offline_after=settings.offline_after
        )
        self._api = _ApiServer(
            uvicorn.Config(
                create_api(
                    settings,
                    self.store,
                    self.commands,
                    recent_frames=self.event_log.recent_for,
                    directory=self.directory,
                    connected_count=lambda: len(self.gateway.connections),
                ),
                host=settings.host,
                port=settings.api_port,
                log_config=None,
                access_log=False,
                lifespan="off",
            )
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Addresses:
        compile_all()
        await self.store.open()
        await self.event_log.open()
        if self.settings.run_processors:
            self._tasks.append(asyncio.create_task(self.processor.run(), name="processor"))
        ocpp_port = await self.gateway.start()
        self._tasks.append(asyncio.create_task(self._api.serve(), name="api"))
        while not self._api.started:
            if self._tasks[-1].done():
                await self._tasks[-1]  # raises why the API could not start
                raise RuntimeError("the HTTP API stopped during start-up")
            await asyncio.sleep(0.01)
        api_port = self._api.servers[0].sockets[0].getsockname()[1]
        gc.freeze()  # start-up objects leave the GC's generations: shorter pauses
        log.info(
            "started",
            extra={
                "fields": {
                    "mode": "embedded",
                    "ocpp": f"ws://{self.settings.host}:{ocpp_port}/ocpp/{{id}}",
                    "api": f"http://{self.settings.host}:{api_port}/api/v1",
                    "data_dir": str(self.settings.data_dir),
                }
            },
        )
        return Addresses(ocpp_port, api_port)

    async def stop(self) -> None:
        """Close charge point sockets, finish the log, stop processors and API."""
        await self.gateway.stop()
        self._api.should_exit = True
        for task in self._tasks:
            if task.get_name() == "processor":
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.settings.run_processors:
            await self.processor.process_available()  # views include the last frames
        await self.event_log.close()
        await self.store.close()
        log.info("stopped")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=getattr(args, "host", None),
        ocpp_port=getattr(args, "ocpp_port", None),
        api_port=getattr(args, "api_port", None),
        data_dir=Path(args.data_dir) if getattr(args, "data_dir", None) else None,
    )


def run_embedded(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except SettingsError as error:
        print(f"chargestream: {error}")
        return 2
    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(_serve_until_signal(settings))


async def _serve_until_signal(settings: Settings) -> int:
    csms = EmbeddedCsms(settings)
    try:
        await csms.start()
    except OSError as error:
        log.error("start_failed", extra={"fields": {"error": str(error)}})
        await csms.stop()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("stopping")
    await csms.stop()
    return 0


def replay_embedded(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(settings.log_level, "text")
    return asyncio.run(_replay(settings))


async def _replay(settings: Settings) -> int:
    store = SqliteStore(settings.store_path)
    event_log = SqliteEventLog(settings.event_log_path)
    await store.open()
    await event_log.open()
    processor = LogProcessor(event_log, store, offline_after=settings.offline_after)
    try:
        total = await processor.rebuild(
            progress=lambda n: print(f"replayed {n} events", flush=True)
        )
        print(f"done: {total} events replayed into fresh views")
    finally:
        await event_log.close()
        await store.close()
    return 0
