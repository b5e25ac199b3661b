"""``chargestream worker``: one Faust worker with its store and its /healthz, in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from chargestream.api.ops import ops_app
from chargestream.app.backends import create_stack_store
from chargestream.app.controllers import build_controllers
from chargestream.app.http import HttpServer
from chargestream.app.lifecycle import settle_garbage_collector
from chargestream.app.logs import logging_config
from chargestream.domain.settings import Settings
from chargestream.eventlog.kafka_clients import client_config
from chargestream.gateway.commands import CommandService
from chargestream.gateway.remote import KafkaDispatch
from chargestream.sqlite.files import private_directory
from chargestream.storage.base import StackStore
from chargestream.streams.backoff import Backoff
from chargestream.streams.worker import ViewsWorker

log = logging.getLogger("chargestream.worker")


class CommandPath:
    """The controllers' commands go, like the API's, over Kafka to the node holding the
    charge point. Started beside derivation, which never waits for it; a command waits
    until it is up, and a start that fails is tried again with a fresh dispatch."""

    def __init__(self, settings: Settings, store: StackStore) -> None:
        self._settings = settings
        self._store = store
        self._service: CommandService | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        backoff = Backoff()
        requester = f"worker-{self._settings.node_id}"
        while True:
            dispatch = KafkaDispatch(client_config(self._settings), requester, self._store)
            try:
                await dispatch.start()
            except Exception as error:  # Kafka not ready yet: derivation goes on meanwhile
                log.warning("command_path_unavailable", extra={"fields": {"error": repr(error)}})
                with contextlib.suppress(Exception):
                    await dispatch.stop()
                await backoff.wait()
                continue
            timeout = self._settings.command_timeout
            self._service = CommandService(dispatch, self._store, timeout=timeout)
            self._ready.set()
            return

    async def send(
        self, charge_point_id: str, action: str, payload: dict[str, Any], *, sent_by: str = "csms"
    ) -> object:
        await self._ready.wait()
        assert self._service is not None
        return await self._service.send(charge_point_id, action, payload, sent_by=sent_by)


def run_worker(settings: Settings) -> int:
    """Run one Faust worker until SIGINT/SIGTERM; /healthz and /metrics on the health port."""
    from faust.worker import Worker

    private_directory(settings.data_dir / "faust")
    store = create_stack_store(settings)
    commands = CommandPath(settings, store)
    controllers = build_controllers(settings, store, commands.send)
    views = ViewsWorker(
        settings, store, controllers, start_commands=commands.start if controllers else None
    )

    async def serve_health() -> None:  # Faust's own web server stays off
        health = HttpServer(ops_app(views.health), settings.health_host, settings.health_port)
        await health.start()
        settle_garbage_collector()  # the worker, too, keeps thousands of states alive

    views.app.task(serve_health)
    worker = Worker(
        views.app,
        loglevel=settings.log_level.lower(),
        logging_config=logging_config(settings.log_level, settings.log_format),
        quiet=True,
    )
    # Faust's spinner handler sets the root logger to DEBUG below INFO, and every debug
    # call of aiokafka and the drivers then builds a record (~10 % of the worker's CPU).
    worker.spinner = None
    started = time.monotonic()
    log.info("worker_starting", extra={"fields": {"kafka": settings.kafka_bootstrap}})
    worker.execute_from_commandline()
    log.info("worker_stopped", extra={"fields": {"seconds": round(time.monotonic() - started)}})
    return 0
