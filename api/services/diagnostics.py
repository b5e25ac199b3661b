"""Diagnostics uploads: GetDiagnostics with a one-time upload location of this CSMS, the
upload itself (no bearer token: the location's token is the permission), and the files.

Files are written off the event loop, a chunk at a time, through ``storage.diagnostics``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from python_multipart.multipart import MultipartParser, parse_options_header

from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import NotAvailable, NotFound
from chargestream.domain.diagnostics import (
    DiagnosticsFile,
    UploadGrant,
    display_name,
    ftp_credentials,
    mint_token,
    new_grant,
    read_token,
    upload_key,
)
from chargestream.domain.diagnostics_request import DiagnosticsOptions, diagnostics_command
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import CommandRecord
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService
from chargestream.storage.diagnostics import AlreadyUploaded, DiagnosticsFiles, TooLarge, Upload

MULTIPART_OVERHEAD = 65_536  # a multipart body's headers and other parts, beyond the file


class FtpListener(Protocol):
    """Where the FTP upload server listens (``api.ftp.FtpUploads``); port None: it is off."""

    port: int | None


class InvalidUpload(Exception):
    """The token is unknown, forged or expired (404)."""


class UsedUpload(Exception):
    """The token's file is already uploaded (409)."""


class MalformedUpload(Exception):
    """A multipart body without a file part (400)."""


def _options(options: dict[str, Any]) -> DiagnosticsOptions:
    fields = ("start_time", "stop_time", "retries", "retry_interval")
    return DiagnosticsOptions(**{name: options.get(name) for name in fields})


class _FirstFilePart:
    """Feeds the data of a multipart body's first part with a file name to an Upload."""

    def __init__(self, boundary: bytes, upload: Upload) -> None:
        self._upload = upload
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._in_file = False
        self.done = False
        self.file_name: str | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def _part_begin(self) -> None:
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"filename")
        if not self.done and name is not None:
            self._in_file = True
            self.file_name = name.decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._upload.write(data[start:end])

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self.done = True

    def feed(self, chunk: bytes) -> None:
        self._parser.write(chunk)


class DiagnosticsService:
    def __init__(
        self,
        settings: Settings,
        commands: CommandService,
        clock: Clock = utc_now,
        ftp: FtpListener | None = None,
    ) -> None:
        assert settings.api_token is not None  # ApiServices.create checks it
        self._key = upload_key(settings.api_token)
        self._base = settings.upload_url
        self._ftp_base = settings.ftp_url
        self._ftp = ftp
        self.protocol = settings.diagnostics_protocol
        self._ttl = settings.upload_token_ttl
        self.max_bytes = settings.upload_max_bytes
        self._files = DiagnosticsFiles(settings.data_dir / "diagnostics", self.max_bytes)
        self._commands = commands
        self._clock = clock

    async def request(
        self,
        charge_point_id: str,
        options: dict[str, Any],
        base_url: str,
        timeout: float | None,
        *,
        sent_by: str,
    ) -> tuple[UploadGrant, CommandRecord]:
        """Send GetDiagnostics (to a 2.0.1 charge point GetLog) with a new one-time location:
        over HTTP under ``upload_url`` (unset: ``base_url``, where the caller reached this
        API), over FTP (``options``' ``protocol``, default the setting) at ``ftp_url``
        (unset: this host, the FTP port).

        NotAvailable for FTP when this process runs no FTP server."""
        grant = new_grant(charge_point_id, self._clock(), self._ttl)
        token = mint_token(self._key, grant)
        if (options.get("protocol") or self.protocol) == "ftp":
            location = self._ftp_location(token, base_url)
        else:
            location = f"{(self._base or base_url).rstrip('/')}/uploads/{token}/"
        version = await self._commands.version(charge_point_id) or OcppVersion.V16
        action, payload = diagnostics_command(version, location, grant.file_id, _options(options))
        record = await self._commands.send(
            charge_point_id, action, payload, timeout, sent_by=sent_by
        )
        return grant, record

    def _ftp_location(self, token: str, base_url: str) -> str:
        port = None if self._ftp is None else self._ftp.port
        if port is None:
            raise NotAvailable("this CSMS runs no FTP upload server (CHARGESTREAM_FTP_PORT=0)")
        user, password = ftp_credentials(token)
        address = urlsplit(self._ftp_base).netloc if self._ftp_base else None
        if address is None:
            host = urlsplit(base_url).hostname or "localhost"
            address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return f"ftp://{user}:{password}@{address}/"

    async def _grant(self, token: str) -> UploadGrant:
        grant = read_token(self._key, token, self._clock())
        if grant is None:
            raise InvalidUpload
        if await asyncio.to_thread(self._files.uploaded, grant.charge_point_id, grant.file_id):
            raise UsedUpload
        return grant

    async def receive(
        self,
        token: str,
        body: AsyncIterator[bytes],
        content_type: str | None,
        path_name: str | None,
    ) -> DiagnosticsFile:
        """Store a PUT body, or a multipart POST's first file part, under the token's file.

        InvalidUpload, UsedUpload, MalformedUpload, or storage's TooLarge."""
        grant = await self._grant(token)
        boundary = None
        if content_type is not None:
            kind, options = parse_options_header(content_type)
            if kind == b"multipart/form-data":
                boundary = options.get(b"boundary")
                if not boundary:
                    raise MalformedUpload
        upload = await asyncio.to_thread(self._files.start, grant.charge_point_id, grant.file_id)
        try:
            file_name = await self._stream(upload, body, boundary, path_name)
            return await asyncio.to_thread(upload.keep, display_name(file_name), self._clock())
        except AlreadyUploaded:
            raise UsedUpload from None
        finally:
            await asyncio.to_thread(upload.discard)

    async def _stream(
        self,
        upload: Upload,
        body: AsyncIterator[bytes],
        boundary: bytes | None,
        path_name: str | None,
    ) -> str | None:
        if boundary is None:
            async for chunk in body:
                await asyncio.to_thread(upload.write, chunk)
            return path_name
        part = _FirstFilePart(boundary, upload)
        received = 0
        async for chunk in body:
            received += len(chunk)
            if received > self.max_bytes + MULTIPART_OVERHEAD:
                raise TooLarge
            await asyncio.to_thread(part.feed, chunk)
        if not part.done:
            raise MalformedUpload
        return part.file_name or path_name

    async def listing(self, charge_point_id: str) -> list[DiagnosticsFile]:
        return await asyncio.to_thread(self._files.listing, charge_point_id)

    async def file(self, charge_point_id: str, file_id: str) -> tuple[DiagnosticsFile, Path]:
        found = await asyncio.to_thread(self._files.find, charge_point_id, file_id)
        if found is None:
            raise NotFound(f"no diagnostics file {file_id!r} of {charge_point_id!r}")
        return found
