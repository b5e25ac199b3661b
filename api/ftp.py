"""The FTP upload server: where charge points that upload only by FTP send diagnostics.

GetDiagnostics' location is ``ftp://<user>:<password>@host:port/``, the pair being a one-time
upload token (``domain.diagnostics.ftp_credentials``): a login is accepted while the token is
valid and its file is not stored yet. A session may store one file (STOR) in the root; there
is no listing, no download, no directories, no append or resume, and only the commands such a
client needs. The file goes through the same ``storage.diagnostics`` store and size limit as
an HTTP upload, so the API lists and serves it alike.

pyftpdlib is blocking: the server runs its own I/O loop in a thread of its own, never on the
asyncio loop. Its logs are silenced (they would name the user, half of the credential); the
server logs what it stores.
"""

from __future__ import annotations

import errno
import logging
import posixpath
import threading
from datetime import datetime
from typing import Any, ClassVar

from pyftpdlib.authorizers import AuthenticationFailed
from pyftpdlib.filesystems import AbstractedFS, FilesystemError
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.handlers.ftp.control import proto_cmds
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from chargestream.api.services.clock import Clock, utc_now
from chargestream.domain.diagnostics import (
    UploadGrant,
    display_name,
    read_token,
    token_from_credentials,
    upload_key,
)
from chargestream.domain.settings import Settings
from chargestream.storage.diagnostics import AlreadyUploaded, DiagnosticsFiles, TooLarge, Upload

log = logging.getLogger("chargestream")
# a handler of its own, so that pyftpdlib does not set up the root logger when it starts
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())

# what an uploading client needs; everything else is answered "500 not understood"
COMMANDS = (
    *("USER", "PASS", "QUIT", "NOOP", "SYST", "FEAT", "OPTS", "TYPE", "MODE", "STRU"),
    *("ALLO", "ABOR", "PASV", "EPSV", "PORT", "EPRT", "PWD", "XPWD", "CWD", "XCWD", "STOR"),
)
MAX_CONNECTIONS = 64  # FTP sessions at once
MAX_CONNECTIONS_PER_ADDRESS = 8
IDLE_TIMEOUT = 60  # seconds a session may sit idle
LOOP_TIMEOUT = 0.2  # seconds between checks whether to stop
_OUTSIDE = "<outside>"  # what a path with ".." or a backslash maps to: never valid


class _UploadFile:
    """The file object a STOR writes to: an ``Upload`` kept only once the transfer ended."""

    def __init__(self, upload: Upload, name: str) -> None:
        self._upload = upload
        self.name = name
        self.closed = False

    def write(self, chunk: bytes) -> None:
        try:
            self._upload.write(chunk)
        except TooLarge:
            raise OSError(errno.EFBIG, "the file is larger than the CSMS accepts") from None

    def keep(self, received_at: datetime) -> str | None:
        """Store the file; None, or the answer why it was not stored."""
        try:
            record = self._upload.keep(display_name(self.name), received_at)
        except AlreadyUploaded:
            return "550 this upload location has been used"
        except OSError as error:  # the disk: the charge point may try again
            log.warning("diagnostics_not_stored", extra={"fields": {"error": str(error)}})
            return "451 the file could not be stored"
        log.info(
            "diagnostics_uploaded",
            extra={"fields": {"charge_point": record.charge_point_id, "protocol": "ftp"}},
        )
        return None

    def close(self) -> None:
        self.closed = True
        self._upload.discard()  # after keep: nothing left to discard


class _UploadFileSystem(AbstractedFS):  # type: ignore[misc]
    """A virtual root with nothing in it but the one file a session may store."""

    def ftp2fs(self, ftppath: str) -> str:
        if "\\" in ftppath or "\0" in ftppath or ".." in ftppath.split("/"):
            return _OUTSIDE
        return str(self.ftpnorm(ftppath))

    def fs2ftp(self, fspath: str) -> str:
        return fspath

    def validpath(self, path: str) -> bool:
        return path.startswith("/")

    def isdir(self, path: str) -> bool:
        return path == "/"

    def chdir(self, path: str) -> None:
        if path != "/":
            raise FilesystemError("there are no directories here")

    def open(self, filename: str, mode: str) -> _UploadFile:
        handler = self.cmd_channel
        if mode != "wb" or posixpath.dirname(filename) != "/" or filename == "/":
            raise FilesystemError("store one file in the upload directory")
        if handler.upload_started:
            raise FilesystemError("this upload location has been used")
        grant: UploadGrant = handler.grant
        handler.upload_started = True
        upload = handler.files.start(grant.charge_point_id, grant.file_id)
        return _UploadFile(upload, filename)


class _UploadTransfer(DTPHandler):  # type: ignore[misc]
    """Keeps the file before answering 226, so the charge point hears if it was not stored."""

    transfer_finished: bool

    def close(self) -> None:
        file = self.file_obj
        ended = not self._closed and self.receive and self.transfer_finished
        refused = ended and isinstance(file, _UploadFile) and file.keep(self.cmd_channel.clock())
        if refused:
            self.transfer_finished = False
            self._resp = (refused, logging.debug)
        super().close()


class _TokenAuthorizer:
    """Logins are one-time upload tokens; the only permission is to store a file."""

    def __init__(self, key: bytes, files: DiagnosticsFiles, clock: Clock) -> None:
        self._key = key
        self._files = files
        self._clock = clock

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        grant = read_token(self._key, token_from_credentials(username, password), self._clock())
        if grant is None or self._files.uploaded(grant.charge_point_id, grant.file_id):
            raise AuthenticationFailed("no such upload location, or it has been used")
        handler.grant = grant

    def get_home_dir(self, username: str) -> str:
        return "/"

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return perm == "w" or (perm == "e" and path == "/")

    def get_perms(self, username: str) -> str:
        return "w"

    def get_msg_login(self, username: str) -> str:
        return "Send the diagnostics file with STOR."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def impersonate_user(self, username: str, password: str) -> None:
        pass

    def terminate_impersonation(self, username: str) -> None:
        pass


class _UploadHandler(FTPHandler):  # type: ignore[misc]
    proto_cmds: ClassVar[dict[str, Any]] = {name: proto_cmds[name] for name in COMMANDS}
    abstracted_fs = _UploadFileSystem
    dtp_handler = _UploadTransfer
    timeout = IDLE_TIMEOUT
    banner = "chargestream diagnostics upload ready."
    files: DiagnosticsFiles
    clock: Clock

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grant: UploadGrant | None = None
        self.upload_started = False

    # pyftpdlib's own logs name the user, half of the credential
    def log(self, msg: str, logfun: Any = None) -> None:
        pass

    def logline(self, msg: str, logfun: Any = None) -> None:
        pass

    def log_cmd(self, *args: Any) -> None:
        pass

    def log_transfer(self, *args: Any, **kwargs: Any) -> None:
        pass


class FtpUploads:
    """The FTP listener of one API process (``start``/``stop`` block: run them in a thread)."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._files = DiagnosticsFiles(settings.data_dir / "diagnostics", settings.upload_max_bytes)
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.port: int | None = None  # the bound port while running; None: FTP is off

    def start(self) -> int | None:
        """Listen on FTP_HOST:FTP_PORT in a thread; the port, or None if FTP is off (0)."""
        settings = self._settings
        if settings.ftp_port == 0:
            return None
        assert settings.api_token is not None  # the API does not start without it
        passive = settings.passive_ports()
        handler = type(
            "UploadHandler",
            (_UploadHandler,),
            {
                "authorizer": _TokenAuthorizer(
                    upload_key(settings.api_token), self._files, self._clock
                ),
                "files": self._files,
                "clock": staticmethod(self._clock),
                "passive_ports": None if passive is None else list(passive),
                "masquerade_address": settings.ftp_passive_address,
            },
        )
        # its own loop, not pyftpdlib's process-wide one
        server = FTPServer((settings.ftp_host, settings.ftp_port), handler, ioloop=IOLoop())
        server.max_cons = MAX_CONNECTIONS
        server.max_cons_per_ip = MAX_CONNECTIONS_PER_ADDRESS
        self.port = server.socket.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(server,), name="ftp-uploads", daemon=True
        )
        self._thread.start()
        return self.port

    def _serve(self, server: FTPServer) -> None:
        try:
            while not self._stopping.is_set():  # serve_forever would log a start per call
                server.ioloop.loop(LOOP_TIMEOUT, blocking=False)
        finally:
            server.close_all()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join()
            self._thread = None
        self.port = None
