"""Typed settings, built once at start-up from ``CHARGESTREAM_*`` variables.

Every field is documented in docs/configuration.md; the CLI flags of
``chargestream run`` override the environment. Nothing here is read at
import time.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import RegistrationPolicy

PREFIX = "CHARGESTREAM_"


class Mode(StrEnum):
    EMBEDDED = "embedded"  # SQLite event log and store, processors in-process
    STACK = "stack"  # Kafka event log, Faust processors, Cassandra store


# settings that must not be negative; 0 switches the limit off (or means "automatic")
LIMITS = (
    "auth_failures_per_minute",
    "connections_per_address",
    "max_connections",
    "calls_per_second",
    "password_check_threads",
    "password_checks_waiting",
    "refused_frame_bytes",
    "log_retention_days",
    "diagnostics_retention_days",
)


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


def invalid(name: str, value: object, valid: str) -> SettingsError:
    """The one shape of a configuration error: the variable, its bad value, what would do."""
    return SettingsError(f"{PREFIX}{name.upper()}={value!r}: use {valid}")


def _choices(values: Iterable[str]) -> str:
    """``a, b or c`` for a message that lists the valid values."""
    *first, last = values
    return f"{', '.join(first)} or {last}" if first else last


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, kw_only=True)
class Settings:
    mode: Mode = Mode.EMBEDDED
    data_dir: Path = Path("data")
    node_id: str = field(default_factory=socket.gethostname)

    # network: each listener has its own address (0.0.0.0: every interface)
    ocpp_host: str = "127.0.0.1"  # the OCPP WebSocket listener (charge points)
    api_host: str = "127.0.0.1"  # the HTTP API
    ui_host: str = "127.0.0.1"  # the dashboard
    health_host: str = "127.0.0.1"  # stack mode: /healthz and /metrics of gateways and workers
    ocpp_port: int = 9000
    api_port: int = 8080
    ui_port: int = 8501
    health_port: int = 8081  # stack mode: /healthz and /metrics of gateway and worker processes
    reuse_port: bool = False  # SO_REUSEPORT: several gateway processes share the OCPP port

    # TLS and certificates (docs/security.md): the gateway's own TLS listener (profiles 2, 3)
    ocpp_tls_port: int = 9443  # wss:// next to the plain port; 0 = no TLS listener
    tls_cert_file: Path | None = None  # server certificate chain (PEM); unset: made by the CA
    tls_key_file: Path | None = None  # its private key (PEM)
    tls_client_ca_file: Path | None = None  # client certificates (profile 3) chain to this CA
    ca_cert_file: Path | None = None  # the CA that signs charge point CSRs (SignCertificate)
    ca_key_file: Path | None = None  # its key; unset: a private CA under <data_dir>/pki
    default_security_profile: int = 0  # 0-3, for charge points without their own profile

    # OCPP behaviour
    registration_policy: RegistrationPolicy = RegistrationPolicy.ACCEPT
    # WebSocket subprotocols the gateway offers; a charge point's own preference picks one
    ocpp_versions: str = "ocpp2.0.1,ocpp1.6"
    heartbeat_interval: int = 300  # seconds, sent in BootNotification.conf
    max_frame_bytes: int = 65536  # larger frames are answered with a CALLERROR
    lenient: bool = False  # default for charge points without their own switch
    accept_unknown_id_tags: bool = False  # demo convenience: Accepted for tags not in the store
    command_timeout: float = 30.0  # seconds to wait for a charge point's answer
    cache_ttl: float = 5.0  # seconds id tags and registrations stay cached

    # gateway limits (docs/configuration.md, "Limits"); 0 switches a limit off
    auth_failures_per_minute: int = 10  # wrong credentials per source address; beyond: 429
    connections_per_address: int = 20  # new connections per source address per second: 429
    max_connections: int = 15000  # open charge point connections per gateway; beyond: 503
    calls_per_second: int = 20  # CALLs per connection (bursts of 5 s); beyond: GenericError
    password_check_threads: int = 0  # PBKDF2 checks in parallel off the loop; 0: half the CPUs
    password_checks_waiting: int = 1000  # handshakes queued for a PBKDF2 check; beyond: 503
    refused_frame_bytes: int = 1024  # of a refused frame, the log keeps this much + size, digest
    frames_response_bytes: int = 1_048_576  # frame text per GET …/frames response
    log_retention_days: int = 90  # embedded: processed frames older than this are deleted

    # derived views
    run_ui: bool = True  # `chargestream run` / `stack` also start the Streamlit dashboard
    ui_session_ttl: int = 28_800  # seconds a dashboard sign-in survives reloads (its cookie)
    run_processors: bool = True  # embedded: derive the views (off: gateway only)
    derivation: str = "process"  # embedded: process = a process of its own, inline = this one
    offline_after: int = 600  # seconds without a frame before an Offline alert
    session_refresh: int = 60  # seconds between stored updates of an open session's summary
    control_interval: float = 5.0  # seconds between the controllers' passes (streams/control.py)
    firmware_wave_size: int = 50  # a firmware campaign's targets in flight at once (default)
    firmware_wave_timeout: int = 7200  # seconds a target may take to install (default)
    log_sync: str = "full"  # embedded log: full = fsync per group commit, normal = not

    # HTTP API
    # /api/v1 requires "Authorization: Bearer <token>"; unset: `run` and `stack` keep a
    # generated one in <data_dir>/api-token, and the API alone refuses to start
    api_token: str | None = field(default=None, repr=False)  # secrets stay out of reprs
    api_url: str | None = None  # where the dashboard finds the API (default: this host)

    # diagnostics uploads (GetDiagnostics to a location of the CSMS): the API's /uploads/
    upload_url: str | None = None  # base URL charge points reach it at (default: the caller's)
    upload_max_bytes: int = 52_428_800  # one uploaded file; beyond: 413
    upload_token_ttl: int = 86_400  # seconds a one-time upload location stays valid
    diagnostics_protocol: str = "http"  # the default of POST …/diagnostics: http or ftp
    diagnostics_retention_days: int = 30  # uploaded files older than this are deleted (0: keep)
    # the API's FTP upload server (many charge points upload only by FTP); 0 = no FTP listener
    ftp_host: str = "127.0.0.1"
    ftp_port: int = 2121
    ftp_url: str | None = None  # ftp://host:port charge points reach it at (default: the caller's)
    ftp_passive_ports: str | None = None  # "first-last" data ports for PASV (default: any)
    ftp_passive_address: str | None = None  # the IP address PASV answers name (behind NAT)

    # alert notifications by e-mail (docs/operations.md#notifications); unset host: no e-mail
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "chargestream@localhost"
    smtp_starttls: bool = False  # upgrade the SMTP connection with STARTTLS before login

    # stack mode
    kafka_bootstrap: str = "127.0.0.1:9092"
    frames_topic: str = "ocpp.frames"
    frames_partitions: int = 3  # when the topic is created: one machine's; a cluster's chart: 12
    kafka_security_protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
    kafka_sasl_mechanism: str | None = None  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = field(default=None, repr=False)
    kafka_ca_file: Path | None = None
    kafka_delivery_timeout: int = 30  # seconds a gateway holds a frame Kafka has not stored
    kafka_linger_ms: int = 10  # a gateway's frames wait this long to share a produce request
    frames_scan_records: int = 200_000  # the frame inspector reads at most this many (0 = off)
    cassandra_hosts: str = "127.0.0.1"
    cassandra_port: int = 9042
    cassandra_keyspace: str = "chargestream"
    cassandra_replication: str = "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    cassandra_username: str | None = None
    cassandra_password: str | None = field(default=None, repr=False)
    cassandra_local_dc: str | None = None
    cassandra_ca_file: Path | None = None  # set: connect with TLS, verifying against this CA
    cassandra_status_ttl_days: int = 400  # status intervals expire (0 = keep forever)
    cassandra_meter_ttl_days: int = 400  # meter values outside a transaction expire (0 = keep)
    worker_group: str = "chargestream-views"  # Faust app id: consumer group, changelog prefix
    worker_web_port: int = 6066  # Faust worker's web server, bound to 127.0.0.1
    worker_stall_after: int = 60  # seconds with input but no fetch progress: exit (0 = never)
    worker_batch_wait: float = 0.25  # seconds a worker gathers events into one batch

    # logging
    log_level: str = "INFO"
    log_format: str = "json"  # json or text

    def __post_init__(self) -> None:
        for name, kind in (("mode", Mode), ("registration_policy", RegistrationPolicy)):
            # values given as plain strings (flags, tests) become members
            object.__setattr__(self, name, _member(name, kind, getattr(self, name)))
        if str(self.log_level).upper() not in LOG_LEVELS:
            raise invalid("log_level", self.log_level, _choices(LOG_LEVELS))
        object.__setattr__(self, "log_level", self.log_level.upper())
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        for name in _PATHS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        ports = ("ocpp_port", "ocpp_tls_port", "api_port", "ui_port", "health_port", "ftp_port")
        for port in (*ports, "cassandra_port", "smtp_port"):
            value = getattr(self, port)
            if not 0 <= value <= 65535:
                raise invalid(port, value, "a TCP port, 0 to 65535")
        positive = (
            "heartbeat_interval",
            "max_frame_bytes",
            "frames_response_bytes",
            "upload_max_bytes",
            "upload_token_ttl",
            "command_timeout",
            "control_interval",
            "firmware_wave_size",
            "firmware_wave_timeout",
            "offline_after",
            "kafka_delivery_timeout",
            "worker_batch_wait",
            "ui_session_ttl",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise invalid(name, getattr(self, name), "a number above 0")
        off = ("worker_stall_after", "session_refresh", "frames_scan_records", *LIMITS)
        for name in off:  # 0 switches them off
            if getattr(self, name) < 0:
                raise invalid(name, getattr(self, name), "0 (off) or more")
        if not 0 <= self.kafka_linger_ms <= MAX_LINGER_MS:
            raise invalid("kafka_linger_ms", self.kafka_linger_ms, f"0 to {MAX_LINGER_MS}")
        if not 0 <= self.default_security_profile <= MAX_SECURITY_PROFILE:
            raise invalid("default_security_profile", self.default_security_profile, "0 to 3")
        if self.log_sync not in ("full", "normal"):
            raise invalid("log_sync", self.log_sync, "full or normal")
        if self.derivation not in ("process", "inline"):
            raise invalid("derivation", self.derivation, "process or inline")
        protocols = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
        if self.kafka_security_protocol not in protocols:
            raise invalid(
                "kafka_security_protocol", self.kafka_security_protocol, _choices(protocols)
            )
        if self.log_format not in ("json", "text"):
            raise invalid("log_format", self.log_format, "json or text")
        for host in ("ocpp_host", "api_host", "ui_host", "health_host", "ftp_host"):
            if not getattr(self, host).strip():
                raise invalid(host, getattr(self, host), "an address, e.g. 127.0.0.1 or 0.0.0.0")
        if self.api_token is not None:
            check_api_token(self.api_token)
        if self.upload_url is not None and not self.upload_url.startswith(("http://", "https://")):
            raise invalid("upload_url", self.upload_url, "an http(s):// URL")
        self._check_ftp()
        self.served_versions  # noqa: B018 -- refuses an unknown version at start-up

    @property
    def served_versions(self) -> tuple[OcppVersion, ...]:
        """``ocpp_versions`` as versions (SettingsError for an unknown or empty list)."""
        names = [name.strip() for name in self.ocpp_versions.split(",") if name.strip()]
        known = ", ".join(version.value for version in OcppVersion)
        try:
            versions = tuple(dict.fromkeys(OcppVersion(name) for name in names))
        except ValueError:
            raise SettingsError(
                f"{PREFIX}OCPP_VERSIONS={self.ocpp_versions!r}: use some of {known}"
            ) from None
        if not versions:
            raise SettingsError(f"{PREFIX}OCPP_VERSIONS is empty: use some of {known}")
        return versions

    def _check_ftp(self) -> None:
        if self.diagnostics_protocol not in ("http", "ftp"):
            raise invalid("diagnostics_protocol", self.diagnostics_protocol, "http or ftp")
        if self.ftp_url is not None and not FTP_URL.match(self.ftp_url):
            raise invalid("ftp_url", self.ftp_url, "ftp://host[:port]")
        if self.ftp_passive_ports is not None:
            self.passive_ports()  # SettingsError if it is not a range
        retention = self.diagnostics_retention_days * 86_400
        if retention and self.upload_token_ttl >= retention:  # a deleted file's token reused
            raise SettingsError(
                f"{PREFIX}UPLOAD_TOKEN_TTL={self.upload_token_ttl} must be shorter than "
                f"{PREFIX}DIAGNOSTICS_RETENTION_DAYS={self.diagnostics_retention_days}"
            )

    def passive_ports(self) -> range | None:
        """FTP_PASSIVE_PORTS as a range of ports (None: any free port)."""
        if self.ftp_passive_ports is None:
            return None
        match = PORT_RANGE.match(self.ftp_passive_ports)
        if match is None or not 0 < int(match[1]) <= int(match[2]) <= 65535:
            raise invalid(
                "ftp_passive_ports", self.ftp_passive_ports, "first-last, e.g. 30000-30009"
            )
        return range(int(match[1]), int(match[2]) + 1)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``CHARGESTREAM_<FIELD>`` variables, then ``overrides``.

        Overrides whose value is None are ignored (unset CLI flags).
        """
        environ = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.name, hints[f.name], raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def event_log_path(self) -> Path:
        return self.data_dir / "events.db"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "chargestream.db"

    @property
    def api_token_path(self) -> Path:
        """Where ``run`` and ``stack`` keep the generated API token (when none is set)."""
        return self.data_dir / "api-token"


FTP_URL = re.compile(r"^ftp://[^/@\s:]+(:[0-9]{1,5})?/?$")  # no credentials, no path
PORT_RANGE = re.compile(r"^\s*([0-9]{1,5})\s*-\s*([0-9]{1,5})\s*$")
_PATHS = ("tls_cert_file", "tls_key_file", "tls_client_ca_file", "ca_cert_file", "ca_key_file")
MAX_SECURITY_PROFILE = 3  # OCPP 1.6 security: 0 none, 1 Basic, 2 TLS + Basic, 3 client cert
MAX_LINGER_MS = 1000  # a frame held longer than a second would only delay its answer


MIN_API_TOKEN = 16  # characters; a generated token has 43


def check_api_token(token: str) -> None:
    """SettingsError unless ``token`` can be a bearer token: 16+ visible ASCII characters.

    The message never contains the token.
    """
    if len(token) < MIN_API_TOKEN:
        raise SettingsError(
            f"{PREFIX}API_TOKEN has {len(token)} characters: use at least {MIN_API_TOKEN}"
        )
    if not all("!" <= character <= "~" for character in token):
        raise SettingsError(
            f"{PREFIX}API_TOKEN: use visible ASCII characters only (no spaces or controls)"
        )


def _parse(name: str, hint: Any, raw: str) -> Any:
    """Convert one variable to its field's type; '' means None for optional fields."""
    types = getattr(hint, "__args__", (hint,))
    if raw == "" and type(None) in types:
        return None
    target = next(t for t in types if t is not type(None))
    if issubclass(target, Enum):
        return _member(name, target, raw)
    if target is bool:
        lowered = raw.strip().lower()
        if lowered not in _BOOLEANS:
            raise invalid(name, raw, "true or false")
        return _BOOLEANS[lowered]
    try:
        return target(raw)
    except ValueError:
        raise invalid(name, raw, _KINDS.get(target, "another value")) from None


_E = TypeVar("_E", bound=Enum)


def _member(name: str, kind: type[_E], value: object) -> _E:
    """``value`` as a member of ``kind``, or the error that lists the members."""
    if value not in {member.value for member in kind} | set(kind):
        raise invalid(name, value, _choices(str(member.value) for member in kind))
    return kind(value)


_KINDS = {int: "a whole number", float: "a number"}  # valid values of a type, for messages


_BOOLEANS = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off"), False),
}
