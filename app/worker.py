"""``chargestream worker``: one Faust worker with its store and its /healthz, in the foreground."""

from __future__ import annotations

import logging
import time

from chargestream.api.ops import ops_app
from chargestream.app.backends import create_stack_store
from chargestream.app.controllers import build_controllers
from chargestream.app.http import HttpServer
from chargestream.app.logs import logging_config
from chargestream.domain.settings import Settings
from chargestream.eventlog.kafka_clients import client_config
from chargestream.gateway.commands import CommandService, csms_sender
from chargestream.gateway.remote import KafkaDispatch
from chargestream.sqlite.files import private_directory
from chargestream.streams.worker import ViewsWorker

log = logging.getLogger("chargestream.worker")


def run_worker(settings: Settings) -> int:
    """Run one Faust worker until SIGINT/SIGTERM; /healthz and /metrics on the health port."""
    from faust.worker import Worker

    private_directory(settings.data_dir / "faust")
    store = create_stack_store(settings)
    # the controllers' commands go, like the API's, to the node holding the charge point
    dispatch = KafkaDispatch(client_config(settings), f"worker-{settings.node_id}", store)
    commands = CommandService(dispatch, store, timeout=settings.command_timeout)
    controllers = build_controllers(settings, store, csms_sender(commands))
    views = ViewsWorker(
        settings, store, controllers, start_commands=dispatch.start if controllers else None
    )

    async def serve_health() -> None:  # Faust's own web server stays off
        health = HttpServer(ops_app(views.health), settings.health_host, settings.health_port)
        await health.start()

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
