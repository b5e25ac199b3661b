"""The gateway's certificates when the settings name none: a private CA under ``<data_dir>/pki``.

``chargestream run`` and the stack's processes call ``with_pki`` before serving (in a
thread when an event loop runs). Unset ``CHARGESTREAM_CA_CERT_FILE``/``_CA_KEY_FILE``:
the CA kept in ``<data_dir>/pki`` (``ca.pem``, ``ca-key.pem``), created on the first
start. Unset ``CHARGESTREAM_TLS_CERT_FILE``/``_TLS_KEY_FILE``: a server certificate for
localhost, 127.0.0.1 and ``ocpp_host`` (when it is one address) signed by that CA
(``server.pem``, ``server-key.pem``), issued again when it is 30 days from expiring,
names other hosts or was signed by another CA. Unset ``CHARGESTREAM_TLS_CLIENT_CA_FILE``:
client certificates chain to the CA. The directory is 0700, every file in it 0600; a
lock file keeps two processes starting at once from making two CAs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import ipaddress
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from chargestream.domain.pki import (
    CaUnusable,
    CertificateAuthority,
    create_ca,
    issue_server_certificate,
    load_ca,
)
from chargestream.domain.settings import PREFIX, Settings, SettingsError
from chargestream.gateway.tls import TlsFiles
from chargestream.sqlite.files import private_directory

log = logging.getLogger("chargestream")

PKI_DIRECTORY = "pki"
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
SERVER_CERT, SERVER_KEY = "server.pem", "server-key.pem"
RENEW_BEFORE = timedelta(days=30)
LOCAL_NAMES = ("localhost", "127.0.0.1")
ANY_ADDRESS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Pki:
    """Settings with every certificate path set, and what this start created."""

    settings: Settings
    created: tuple[str, ...]  # e.g. ("a CA", "a server certificate for localhost, …")

    @property
    def tls(self) -> TlsFiles | None:
        """The TLS listener's files; None when there are none (no CA could be kept)."""
        settings = self.settings
        if not (settings.tls_cert_file and settings.tls_key_file and settings.tls_client_ca_file):
            return None
        return TlsFiles(settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file)

    def announce(self) -> None:
        """Log where the files are; print it (stdout) when this start created some."""
        settings = self.settings
        fields = {
            "ca_cert_file": str(settings.ca_cert_file),
            "tls_cert_file": str(settings.tls_cert_file),
            "tls_client_ca_file": str(settings.tls_client_ca_file),
            "created": list(self.created),
        }
        log.info("pki", extra={"fields": fields})
        if self.created:
            print(
                f"\n  Created {' and '.join(self.created)} (private keys beside them, 0600):\n"
                f"  CA certificate: {settings.ca_cert_file}\n"
                f"    install it on charge points that connect with wss:// (profiles 2, 3)\n"
                f"  server certificate: {settings.tls_cert_file}\n",
                flush=True,
            )


def with_pki(settings: Settings, now: datetime | None = None) -> Pki:
    """``settings`` with every certificate path set, creating what is missing (blocking)."""
    _check_pairs(settings)
    now = now or datetime.now(UTC)
    if settings.ca_cert_file is not None and settings.tls_cert_file is not None:
        return Pki(_with_client_ca(settings), ())
    directory = settings.data_dir / PKI_DIRECTORY
    try:
        return _ensure(settings, directory, now)
    except OSError as error:
        if not settings.ocpp_tls_port and settings.ca_cert_file is None:
            # no TLS listener asks for it (e.g. a Helm gateway without gateway.tls, whose
            # data directory is read-only): serve without a CA, SignCertificate is Rejected
            log.warning(
                "pki_unavailable",
                extra={"fields": {"directory": str(directory), "error": str(error)}},
            )
            return Pki(settings, ())
        raise SettingsError(
            f"{directory}: cannot keep the CA or server certificate there ({error}); make it"
            " writable or set CHARGESTREAM_CA_CERT_FILE/_CA_KEY_FILE and"
            " CHARGESTREAM_TLS_CERT_FILE/_TLS_KEY_FILE"
        ) from None


def _ensure(settings: Settings, directory: Path, now: datetime) -> Pki:
    created: list[str] = []
    with _locked(directory):
        ca_cert = settings.ca_cert_file or directory / CA_CERT
        ca_key = settings.ca_key_file or directory / CA_KEY
        ca: CertificateAuthority | None = None
        if settings.ca_cert_file is None and not ca_cert.exists():
            ca = create_ca("chargestream charge point CA", now)
            _write_private(ca_key, ca.key_pem())
            _write_private(ca_cert, ca.certificate_pem())
            created.append("a CA")
        tls_cert, tls_key = settings.tls_cert_file, settings.tls_key_file
        if tls_cert is None or tls_key is None:
            tls_cert, tls_key = directory / SERVER_CERT, directory / SERVER_KEY
            ca = ca or _read_ca(ca_cert, ca_key)
            names = server_names(settings.ocpp_host)
            if not _current(tls_cert, ca, names, now):
                issued = issue_server_certificate(ca, names, now)
                _write_private(tls_key, issued.key_pem)
                _write_private(tls_cert, issued.certificate_pem)
                created.append(f"a server certificate for {', '.join(names)}")
    chosen = dataclasses.replace(
        settings,
        ca_cert_file=ca_cert,
        ca_key_file=ca_key,
        tls_cert_file=tls_cert,
        tls_key_file=tls_key,
    )
    return Pki(_with_client_ca(chosen), tuple(created))


CERTIFICATE_SETTINGS = (
    "ca_cert_file",
    "ca_key_file",
    "tls_cert_file",
    "tls_key_file",
    "tls_client_ca_file",
)


def certificate_environment(settings: Settings) -> dict[str, str]:
    """The certificate paths that are set, as ``CHARGESTREAM_*`` variables (child processes)."""
    paths = {name: getattr(settings, name) for name in CERTIFICATE_SETTINGS}
    return {f"{PREFIX}{k.upper()}": str(v) for k, v in paths.items() if v is not None}


def server_names(ocpp_host: str) -> list[str]:
    """localhost, 127.0.0.1 and the listener's address when it is one (not 0.0.0.0 or ::)."""
    host = ocpp_host.strip()
    extra = [] if host in ANY_ADDRESS or host in LOCAL_NAMES else [host]
    return [*LOCAL_NAMES, *extra]


def _check_pairs(settings: Settings) -> None:
    for first, second in (("ca_cert_file", "ca_key_file"), ("tls_cert_file", "tls_key_file")):
        if (getattr(settings, first) is None) != (getattr(settings, second) is None):
            raise SettingsError(
                f"CHARGESTREAM_{first.upper()} and CHARGESTREAM_{second.upper()} go together:"
                " set both or neither"
            )


def _with_client_ca(settings: Settings) -> Settings:
    if settings.tls_client_ca_file is not None:
        return settings
    return dataclasses.replace(settings, tls_client_ca_file=settings.ca_cert_file)


def _read_ca(cert_file: Path, key_file: Path) -> CertificateAuthority:
    try:
        return load_ca(cert_file.read_bytes(), key_file.read_bytes())
    except (OSError, CaUnusable) as error:
        raise SettingsError(
            f"{cert_file}: cannot issue the server certificate with this CA ({error})"
        ) from None


def _current(cert_file: Path, ca: CertificateAuthority, names: list[str], now: datetime) -> bool:
    """The kept server certificate can stay: signed by ``ca``, for ``names``, not expiring."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        certificate.verify_directly_issued_by(ca.certificate)
        alternative = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except (OSError, ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
        return False  # unreadable, signed by another CA, or without names
    present = {*alternative.get_values_for_type(x509.DNSName)}
    present |= {str(a) for a in alternative.get_values_for_type(x509.IPAddress)}
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names}
    return wanted <= present and certificate.not_valid_after_utc - now > RENEW_BEFORE


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    private_directory(directory)
    descriptor = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _write_private(path: Path, text: str) -> None:
    """Write ``path`` (0600) whole or not at all."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
