"""Uploaded diagnostics files on disk: ``<data_dir>/diagnostics/<charge point>/<file id>``.

Each file has its record beside it (``<file id>.json``), so the directory alone is the
whole store and every API process sharing it (a volume in Kubernetes) sees the same files.
The charge point's directory is named by a digest of its id, the file by its file id (32
hex digits): nothing a charge point sends becomes part of a path. Directories are 0700,
files 0600. An upload is written to a temporary file and kept only when its record can be
created exclusively (``O_EXCL``): a file id is stored once, a second upload loses.

Every method blocks on disk: callers run them in a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path

import orjson

from chargestream.domain.diagnostics import FILE_ID, DiagnosticsFile, older_than
from chargestream.sqlite.files import FILE_MODE, private_directory


class TooLarge(Exception):
    """The upload passed the size limit; its temporary file is gone."""


class AlreadyUploaded(Exception):
    """A file is already stored under this file id."""


def _record_to_json(record: DiagnosticsFile) -> bytes:
    return orjson.dumps(
        {
            "charge_point_id": record.charge_point_id,
            "file_id": record.file_id,
            "file_name": record.file_name,
            "size": record.size,
            "sha256": record.sha256,
            "received_at": record.received_at.isoformat(),
        }
    )


def _record_from_json(data: bytes) -> DiagnosticsFile:
    raw = orjson.loads(data)
    return DiagnosticsFile(
        charge_point_id=raw["charge_point_id"],
        file_id=raw["file_id"],
        file_name=raw["file_name"],
        size=raw["size"],
        sha256=raw["sha256"],
        received_at=datetime.fromisoformat(raw["received_at"]),
    )


class Upload:
    """One upload being written: ``write`` chunks, then ``keep`` or ``discard``."""

    def __init__(self, directory: Path, charge_point_id: str, file_id: str, max_bytes: int):
        self._directory = directory
        self._cp = charge_point_id
        self._file_id = file_id
        self._max = max_bytes
        self._size = 0
        self._digest = hashlib.sha256()
        self._temporary = directory / f".{file_id}.{secrets.token_hex(8)}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        self._fd: int | None = os.open(self._temporary, flags, FILE_MODE)

    def write(self, chunk: bytes) -> None:
        """TooLarge (and the temporary file removed) once the size passes the limit."""
        self._size += len(chunk)
        if self._size > self._max:
            self.discard()
            raise TooLarge
        assert self._fd is not None
        self._digest.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view) :]

    def keep(self, file_name: str, received_at: datetime) -> DiagnosticsFile:
        """Store the file under its file id; AlreadyUploaded (and discarded) if one is."""
        assert self._fd is not None
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        record = DiagnosticsFile(
            self._cp, self._file_id, file_name, self._size, self._digest.hexdigest(), received_at
        )
        meta = self._directory / f"{self._file_id}.json"
        try:
            fd = os.open(meta, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        except FileExistsError:
            self.discard()
            raise AlreadyUploaded from None
        os.replace(self._temporary, self._directory / self._file_id)
        try:
            os.write(fd, _record_to_json(record))
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            self._temporary.unlink()


class DiagnosticsFiles:
    """The diagnostics files under ``root`` (``<data_dir>/diagnostics``)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self._root = root
        self._max = max_bytes

    def _directory(self, charge_point_id: str) -> Path:
        return self._root / hashlib.sha256(charge_point_id.encode()).hexdigest()[:32]

    def uploaded(self, charge_point_id: str, file_id: str) -> bool:
        """Whether a file is stored under this id (its token is used)."""
        return (self._directory(charge_point_id) / f"{file_id}.json").exists()

    def start(self, charge_point_id: str, file_id: str) -> Upload:
        if not FILE_ID.match(file_id):
            raise ValueError("not a file id")
        directory = private_directory(self._directory(charge_point_id))
        return Upload(directory, charge_point_id, file_id, self._max)

    def listing(self, charge_point_id: str) -> list[DiagnosticsFile]:
        """The charge point's files, newest first."""
        directory = self._directory(charge_point_id)
        if not directory.is_dir():
            return []
        records = []
        for meta in directory.glob("*.json"):
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
                record = _record_from_json(meta.read_bytes())
                if record.charge_point_id == charge_point_id:
                    records.append(record)
        return sorted(records, key=lambda r: (r.received_at, r.file_id), reverse=True)

    def find(self, charge_point_id: str, file_id: str) -> tuple[DiagnosticsFile, Path] | None:
        """A stored file's record and path; None if there is none."""
        if not FILE_ID.match(file_id):
            return None
        directory = self._directory(charge_point_id)
        try:
            record = _record_from_json((directory / f"{file_id}.json").read_bytes())
        except (FileNotFoundError, ValueError, KeyError):
            return None
        path = directory / file_id
        if record.charge_point_id != charge_point_id or not path.is_file():
            return None
        return record, path

    def delete_older_than(self, now: datetime, days: int) -> int:
        """Delete the files received more than ``days`` ago (0: none), and temporary files
        of uploads that never finished as old; returns how many files were deleted."""
        if days <= 0 or not self._root.is_dir():
            return 0
        deleted = 0
        for directory in self._root.iterdir():
            if not directory.is_dir() or directory.is_symlink():
                continue
            for meta in directory.glob("*.json"):
                with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
                    if older_than(_record_from_json(meta.read_bytes()), now, days):
                        (directory / meta.stem).unlink(missing_ok=True)
                        meta.unlink()  # last: the file id stays used while its file exists
                        deleted += 1
            for part in directory.glob(".*.part"):
                with contextlib.suppress(FileNotFoundError):
                    if now.timestamp() - part.stat().st_mtime > days * 86_400:
                        part.unlink()
        return deleted
