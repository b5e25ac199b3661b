"""The embedded mode's composition root: Python only, one command.

SQLite event log + SQLite store + gateway + API, and the view derivation beside them:
in a process of its own (``CHARGESTREAM_DERIVATION=process``, the default;
``app/derivation_process.py``) or in this one (``inline``).
``EmbeddedCsms`` is what ``chargestream run`` starts and what tests start on
port 0. Its settings carry the API token: ``run_embedded`` takes the configured one
or the one kept in the data directory (``chargestream.app.api_token``).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from dataclasses import dataclass, replace

from chargestream.api import create_api
from chargestream.app.api_token import with_api_token
from chargestream.app.backends import create_embedded_event_log, create_embedded_store
from chargestream.app.controllers import build_controllers
from chargestream.app.dashboard import start_ui, stop_ui
from chargestream.app.derivation_process import DerivationProcess, every, keep_deriving
from chargestream.app.diagnostics import DiagnosticsUploads
from chargestream.app.http import HttpServer
from chargestream.app.lifecycle import serve_until_signal, settle_garbage_collector
from chargestream.app.pki import with_pki
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService, csms_sender
from chargestream.gateway.directory import Directory
from chargestream.gateway.handlers import CentralSystem
from chargestream.gateway.schemas import compile_all
from chargestream.gateway.server import Gateway
from chargestream.sqlite.files import private_directory
from chargestream.streams.derive import DerivationSettings
from chargestream.streams.runner import LogProcessor
from chargestream.ui.operators import ensure_default_operator

log = logging.getLogger("chargestream")


@dataclass(frozen=True)
class Addresses:
    ocpp_port: int
    api_port: int
    ocpp_tls_port: int | None = None  # the wss:// listener (None: off)
    ftp_port: int | None = None  # the FTP upload server (None: off)


class EmbeddedCsms:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = create_embedded_store(settings)
        self.event_log = create_embedded_event_log(settings)
        self.directory = Directory(self.store, settings.cache_ttl)
        self.central = CentralSystem(settings, self.store, self.directory)
        self.gateway = Gateway(settings, self.event_log, self.central, self.directory)
        self.commands = CommandService(
            self.gateway.call,
            self.store,
            timeout=settings.command_timeout,
            version_of=self.gateway.version_of,
        )
        self.central.send_command = csms_sender(self.commands)
        self.derivation = self._derivation()
        self.diagnostics = DiagnosticsUploads(settings)
        self._api = HttpServer(
            create_api(
                settings,
                self.store,
                self.commands,
                recent_frames=self.event_log.recent_for,
                directory=self.directory,
                status=lambda: {"connected": len(self.gateway.connections)},
                ftp=self.diagnostics.ftp,
            ),
            settings.api_host,
            settings.api_port,
        )

    async def start(self, *, tls_port: int | None = None) -> Addresses:
        """``tls_port``: the wss:// listener's port instead of the setting (0: any free one)."""
        compile_all()
        await asyncio.to_thread(private_directory, self.settings.data_dir)
        pki = await asyncio.to_thread(with_pki, self.settings)
        pki.announce()
        await self.central.signer.load(pki.settings.ca_cert_file, pki.settings.ca_key_file)
        await self.store.open()
        await self.event_log.open()
        if self.derivation is not None:
            await self.derivation.start()
        ocpp_port = await self.gateway.start(tls=pki.tls, tls_port=tls_port)
        api_port = await self._api.start()
        ftp_port = await self.diagnostics.start()
        settle_garbage_collector()
        log.info(
            "started",
            extra={
                "fields": {
                    "mode": "embedded",
                    "ocpp": f"ws://{self.settings.ocpp_host}:{ocpp_port}/ocpp/{{id}}",
                    "ocpp_tls": self.gateway.tls_port
                    and f"wss://{self.settings.ocpp_host}:{self.gateway.tls_port}/ocpp/{{id}}",
                    "api": f"http://{self.settings.api_host}:{api_port}/api/v1",
                    "ftp": ftp_port and f"ftp://{self.settings.ftp_host}:{ftp_port}",
                    "data_dir": str(self.settings.data_dir),
                }
            },
        )
        return Addresses(ocpp_port, api_port, self.gateway.tls_port, ftp_port)

    def _derivation(self) -> InlineDerivation | DerivationProcess | None:
        if not self.settings.run_processors:
            return None
        if self.settings.derivation == "process":
            return DerivationProcess(self.settings, self.gateway.call)
        processor = LogProcessor(
            self.event_log,
            self.store,
            DerivationSettings.of(self.settings),
            controllers=build_controllers(self.settings, self.store, csms_sender(self.commands)),
        )
        return InlineDerivation(processor, self.settings.control_interval)

    async def stop(self) -> None:
        """Close charge point sockets, finish the log, stop the derivation and the API.

        The derivation's last pass (the views include the last frames) runs before the log
        and the store close; a failure of it is logged and they close anyway.
        """
        await self.gateway.stop()
        await self._api.stop()
        await self.diagnostics.stop()
        try:
            if self.derivation is not None:
                await self.derivation.stop()
        finally:
            await self.event_log.close()
            await self.store.close()
        log.info("stopped")


class InlineDerivation:
    """The views derived in the gateway's process (``CHARGESTREAM_DERIVATION=inline``)."""

    def __init__(self, processor: LogProcessor, control_interval: float) -> None:
        self.processor = processor
        self._control_interval = control_interval
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        processor = self.processor
        self._tasks.append(asyncio.create_task(keep_deriving(processor.run), name="processor"))
        self._tasks.append(
            asyncio.create_task(every(self._control_interval, processor.reconcile), name="control")
        )

    async def stop(self) -> None:
        """Stop following the log, then derive what is left (a failure is logged)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)  # they end only cancelled
        self._tasks.clear()
        try:
            await self.processor.process_available()
        except Exception:
            log.exception("final_derivation_failed")


def run_embedded(settings: Settings) -> int:
    """``chargestream run``: the CSMS and, unless disabled, the dashboard beside it."""
    token = with_api_token(settings)
    token.announce()
    settings = token.settings
    csms = EmbeddedCsms(settings)
    dashboard: list[subprocess.Popen[bytes]] = []

    async def start() -> None:
        addresses = await csms.start()
        if settings.run_ui:
            dashboard.append(start_dashboard(settings, addresses.api_port))

    async def stop() -> None:
        for process in dashboard:
            stop_ui(process)
        await csms.stop()

    return asyncio.run(serve_until_signal(start, stop))


def start_dashboard(settings: Settings, api_port: int) -> subprocess.Popen[bytes]:
    """Start the Streamlit UI, creating operator ``admin`` on first use."""
    password = ensure_default_operator(settings.data_dir)
    if password is not None:
        print(
            f"\n  Dashboard operator created: admin / {password}\n"
            f"  (shown once; manage operators with `chargestream operators`)\n",
            flush=True,
        )
    process = start_ui(replace(settings, api_port=api_port))
    url = f"http://{settings.ui_host}:{settings.ui_port}"
    log.info("dashboard", extra={"fields": {"url": url}})
    return process


def replay_embedded(settings: Settings) -> int:
    return asyncio.run(_replay(settings))


async def _replay(settings: Settings) -> int:
    store = create_embedded_store(settings)
    event_log = create_embedded_event_log(settings)
    await store.open()
    await event_log.open()
    processor = LogProcessor(event_log, store, DerivationSettings.of(settings))
    try:
        total = await processor.rebuild(
            progress=lambda n: print(f"replayed {n} events", flush=True)
        )
        print(f"done: {total} events replayed into fresh views")
    finally:
        await event_log.close()
        await store.close()
    return 0
