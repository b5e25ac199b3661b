"""What an API process runs for diagnostics beside its HTTP routes: the FTP upload server
(in a thread of its own) and the retention of uploaded files (deleted off the event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from chargestream.api.ftp import FtpUploads
from chargestream.api.services.clock import Clock, utc_now
from chargestream.domain.settings import Settings
from chargestream.storage.diagnostics import DiagnosticsFiles

log = logging.getLogger("chargestream")

RETENTION_FIRST = 60.0  # seconds after start before the first round
RETENTION_EVERY = 3600.0  # seconds between rounds


class DiagnosticsUploads:
    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.ftp = FtpUploads(settings)
        self._files = DiagnosticsFiles(settings.data_dir / "diagnostics", settings.upload_max_bytes)
        self._days = settings.diagnostics_retention_days
        self._clock = clock
        self._retention: asyncio.Task[None] | None = None

    async def start(self) -> int | None:
        """Start the FTP server (its port; None: off) and, unless kept forever, retention."""
        port = await asyncio.to_thread(self.ftp.start)
        if self._days > 0:
            self._retention = asyncio.create_task(self._retain_forever(), name="diag-retention")
        return port

    async def stop(self) -> None:
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
            self._retention = None
        await asyncio.to_thread(self.ftp.stop)

    async def prune(self) -> int:
        """Delete the files older than the retention now; how many."""
        return await asyncio.to_thread(self._files.delete_older_than, self._clock(), self._days)

    async def _retain_forever(self) -> None:
        await asyncio.sleep(RETENTION_FIRST)
        while True:
            try:
                deleted = await self.prune()
            except OSError as error:  # again at the next round
                log.warning("diagnostics_retention_failed", extra={"fields": {"error": str(error)}})
            else:
                if deleted:
                    log.info(
                        "diagnostics_retention",
                        extra={"fields": {"deleted": deleted, "days": self._days}},
                    )
            await asyncio.sleep(RETENTION_EVERY)
