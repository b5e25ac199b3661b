"""Request and response bodies of the HTTP API that are not storage records."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chargestream.domain.frames import LoggedEvent
from chargestream.domain.passwords import MAX_CHARGE_POINT_PASSWORD, MIN_CHARGE_POINT_PASSWORD
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    AlertKind,
    ChannelKind,
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    IdTagStatus,
    NotificationChannel,
    Registration,
    Session,
    Site,
)
from chargestream.domain.redaction import redact_frame
from chargestream.domain.settings import MAX_SECURITY_PROFILE
from chargestream.streams.progress import Progress
from chargestream.streams.sites import SessionView


def as_utc(moment: datetime) -> datetime:
    """Times without a zone are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


MAX_CONNECTOR_CURRENT_A = 1000.0

UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]


def unicode_text(text: str) -> str:
    """JSON may escape a lone surrogate (``"\\ud800"``), which is no Unicode text: no
    store can keep it and no answer can carry it back as UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("not Unicode text (a lone surrogate)") from None
    return text


Text = Annotated[str, AfterValidator(unicode_text)]
"""A string of a request body."""


class ChargePointIn(BaseModel):
    """PUT /charge-points/{id}: register or update. Omitted fields keep their value."""

    display_name: Text | None = None
    location: Text | None = None
    password: (
        Annotated[
            str,
            StringConstraints(
                min_length=MIN_CHARGE_POINT_PASSWORD, max_length=MAX_CHARGE_POINT_PASSWORD
            ),
            AfterValidator(unicode_text),
        ]
        | None
    ) = Field(
        None,
        description="HTTP Basic auth password (profile 1); setting it cancels a rotation"
        " in progress",
    )
    remove_password: bool = False
    lenient: bool | None = None
    security_profile: int | None = Field(
        None,
        ge=0,
        le=MAX_SECURITY_PROFILE,
        description="OCPP security profile 0-3 the charge point must connect with; "
        "null: the default (CHARGESTREAM_DEFAULT_SECURITY_PROFILE)",
    )
    max_current_a: float | None = Field(
        None,
        gt=0,
        le=MAX_CONNECTOR_CURRENT_A,
        description="What one connector can take, in A per phase (site load management "
        "never gives a session more); null: unknown",
    )
    phases: int | None = Field(
        None, ge=1, le=3, description="The phases a connector charges on; null: the site's"
    )
    ocpp_version: OcppVersion | None = Field(
        None,
        description="The OCPP version its handshake must select (ocpp1.6 or ocpp2.0.1); "
        "null: the charge point's own preference",
    )


class ChargePointOut(BaseModel):
    charge_point_id: str
    registered: bool
    display_name: str | None = None
    location: str | None = None
    has_password: bool = False
    lenient: bool = False
    security_profile: int | None = None  # None: the default profile applies
    max_current_a: float | None = None  # per connector and phase; None: unknown
    phases: int | None = None
    ocpp_version: OcppVersion | None = None  # pinned; None: the charge point's preference
    state: ChargePointState | None = None

    @classmethod
    def build(
        cls, charge_point_id: str, registration: Registration | None, state: ChargePointState | None
    ) -> ChargePointOut:
        return cls(
            charge_point_id=charge_point_id,
            registered=registration is not None,
            display_name=registration.display_name if registration else None,
            location=registration.location if registration else None,
            has_password=bool(registration and registration.password_hash),
            lenient=bool(registration and registration.lenient),
            security_profile=registration.security_profile if registration else None,
            max_current_a=registration.max_current_a if registration else None,
            phases=registration.phases if registration else None,
            ocpp_version=registration.ocpp_version if registration else None,
            state=state,
        )


class IdTagIn(BaseModel):
    status: IdTagStatus = IdTagStatus.ACCEPTED
    expiry_date: UtcDateTime | None = None
    parent_id_tag: (
        Annotated[str, StringConstraints(max_length=20), AfterValidator(unicode_text)] | None
    ) = None


class AlertRuleIn(BaseModel):
    measurand: Text
    operator: str = Field(pattern=r"^[<>]$")
    threshold: float
    severity: Text = "warning"
    enabled: bool = True


WEBHOOK_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
EMAIL_ADDRESS = re.compile(r"^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$")


class NotificationChannelIn(BaseModel):
    """A webhook (``target``: an http(s) URL, ``secret`` signs it) or an e-mail address."""

    kind: ChannelKind
    target: Annotated[str, StringConstraints(min_length=3, max_length=2000)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None
    alert_kind: AlertKind | None = None
    rule_id: Annotated[Text, StringConstraints(max_length=100)] | None = None
    cooldown: int = Field(0, ge=0, le=7 * 86_400)
    enabled: bool = True
    digest: bool = False

    @field_validator("target")
    @classmethod
    def _target_fits_kind(cls, target: str, info: ValidationInfo) -> str:
        """A field check (``kind`` comes first): its 422 echoes the target, not the secret."""
        kind = info.data.get("kind")
        if kind is ChannelKind.WEBHOOK and not WEBHOOK_URL.match(target):
            raise ValueError("a webhook target is an http:// or https:// URL")
        if kind is ChannelKind.EMAIL and not EMAIL_ADDRESS.match(target):
            raise ValueError("an e-mail target is one address, like ops@example.com")
        return target


class NotificationChannelOut(BaseModel):
    """A channel as shown: its secret never, only whether it has one."""

    channel_id: str
    kind: ChannelKind
    target: str
    has_secret: bool
    alert_kind: AlertKind | None
    rule_id: str | None
    cooldown: int
    enabled: bool
    digest: bool

    @classmethod
    def of(cls, channel: NotificationChannel) -> NotificationChannelOut:
        return cls(
            channel_id=channel.channel_id,
            kind=channel.kind,
            target=channel.target,
            has_secret=channel.secret is not None,
            alert_kind=channel.alert_kind,
            rule_id=channel.rule_id,
            cooldown=channel.cooldown,
            enabled=channel.enabled,
            digest=channel.digest,
        )


class AcknowledgeIn(BaseModel):
    by: Annotated[
        str, StringConstraints(min_length=1, max_length=100), AfterValidator(unicode_text)
    ]


class CommandOut(BaseModel):
    command_id: str
    charge_point_id: str
    action: str
    outcome: CommandOutcome | None
    response: dict[str, Any] | None = None
    error: str | None = None
    requested_at: datetime
    completed_at: datetime | None = None
    sent_by: str | None = Field(
        None,
        description='Who sent it: "api" (the API token) or "operator:<name>" (the '
        "X-Chargestream-Operator header); null for commands logged before senders were kept",
    )

    @classmethod
    def build(cls, record: CommandRecord) -> CommandOut:
        return cls(
            command_id=record.command_id,
            charge_point_id=record.charge_point_id,
            action=record.action,
            outcome=record.outcome,
            response=record.response,
            error=record.error,
            requested_at=record.requested_at,
            completed_at=record.completed_at,
            sent_by=record.sent_by,
        )


class FrameOut(BaseModel):
    position: int
    kind: str
    direction: str | None
    action: str | None
    message_type: int | None
    message_id: str | None
    received_at: datetime
    connection_id: str
    ocpp_version: OcppVersion  # of the connection (ocpp1.6 for events logged before versions)
    frame: str

    @classmethod
    def build(cls, logged: LoggedEvent) -> FrameOut:
        event = logged.event
        return cls(
            position=logged.position,
            kind=event.kind.value,
            direction=event.direction.value if event.direction else None,
            action=event.action,
            message_type=int(event.message_type) if event.message_type is not None else None,
            message_id=event.message_id,
            received_at=datetime.fromtimestamp(event.received_us / 1e6, UTC),
            connection_id=event.connection_id,
            ocpp_version=event.ocpp_version,
            frame=redact_frame(event.frame),  # logged redacted; also frames kept before
        )


# -- diagnostics uploads


class DiagnosticsRequestIn(BaseModel):
    """GetDiagnostics' optional fields; the location is always the CSMS's upload URL."""

    model_config = ConfigDict(extra="forbid")

    start_time: UtcDateTime | None = None
    stop_time: UtcDateTime | None = None
    retries: int | None = Field(None, ge=0, le=100)
    retry_interval: int | None = Field(None, ge=0, le=86_400)
    protocol: Literal["http", "ftp"] | None = Field(
        None,
        description="How the charge point uploads: to the CSMS's HTTP endpoint or its FTP "
        "server (default: CHARGESTREAM_DIAGNOSTICS_PROTOCOL)",
    )


class DiagnosticsRequestOut(BaseModel):
    file_id: str = Field(description="The id the uploaded file will be listed under")
    expires_at: datetime = Field(description="The upload location is valid until then")
    command: CommandOut


# -- sites (site load management)

MAX_SITE_CHARGE_POINTS = 1000
ChargePointId = Annotated[
    str, StringConstraints(min_length=1, max_length=48), AfterValidator(unicode_text)
]


class SiteIn(BaseModel):
    """PUT /sites/{site}: exactly one of ``max_power_w`` and ``max_current_a``."""

    model_config = ConfigDict(extra="forbid")

    max_power_w: float | None = Field(None, gt=0, le=1e9, description="The site's limit in W")
    max_current_a: float | None = Field(
        None, gt=0, le=1e6, description="The site's limit in A per phase"
    )
    charge_points: list[ChargePointId] = Field(
        default_factory=list,
        max_length=MAX_SITE_CHARGE_POINTS,
        description="Charge point ids; each in at most one site",
    )
    nominal_voltage: float = Field(230.0, gt=0, le=1000, description="V per phase")
    phases: int = Field(3, ge=1, le=3, description="Phases of a charge point that names none")
    min_current_a: float = Field(
        6.0, ge=0, le=MAX_CONNECTOR_CURRENT_A, description="The least a session is given (A)"
    )

    @model_validator(mode="after")
    def _one_limit(self) -> SiteIn:
        if (self.max_power_w is None) == (self.max_current_a is None):
            raise ValueError("give exactly one of max_power_w and max_current_a")
        if len(set(self.charge_points)) != len(self.charge_points):
            raise ValueError("a charge point is named twice")
        return self


class SiteSessionOut(BaseModel):
    charge_point_id: str
    connector_id: int
    transaction_id: int
    allocated_a: float | None = Field(description="A per phase; null: none decided yet")
    allocated_w: float | None = None
    unit: str | None = Field(None, description="The unit sent to the charge point: A or W")
    status: str | None = Field(
        None, description="The charge point's answer to the profile (Accepted: in force)"
    )
    measured_power_w: float | None = Field(
        description="The latest Power.Active.Import of the session; null: none reported"
    )

    @classmethod
    def build(cls, view: SessionView) -> SiteSessionOut:
        session, allocation = view.session, view.allocation
        return cls(
            charge_point_id=session.charge_point_id,
            connector_id=session.connector_id,
            transaction_id=session.transaction_id,
            allocated_a=allocation.limit_a if allocation else None,
            allocated_w=allocation.limit_w if allocation else None,
            unit=allocation.unit if allocation else None,
            status=allocation.status if allocation else None,
            measured_power_w=view.measured_power_w,
        )


class SiteOut(BaseModel):
    site_id: str
    charge_points: list[str]
    max_power_w: float | None
    max_current_a: float | None
    nominal_voltage: float
    phases: int
    min_current_a: float
    updated_at: datetime
    sessions: list[SiteSessionOut]

    @classmethod
    def build(cls, site: Site, sessions: list[SiteSessionOut]) -> SiteOut:
        return cls(
            site_id=site.site_id,
            charge_points=list(site.charge_points),
            max_power_w=site.max_power_w,
            max_current_a=site.max_current_a,
            nominal_voltage=site.nominal_voltage,
            phases=site.phases,
            min_current_a=site.min_current_a,
            updated_at=site.updated_at,
            sessions=sessions,
        )


@dataclass(frozen=True, slots=True)
class SessionOut(Session):
    """A session with its progress (streams.progress): a running session's energy so far
    and last active power from its meter values; its duration so far (a finished one's
    ``energy_kwh_so_far`` is its energy, its ``power_w`` null)."""

    energy_kwh_so_far: float | None = None
    power_w: float | None = None
    duration_s: float | None = None

    @classmethod
    def build(cls, session: Session, so_far: Progress) -> SessionOut:
        stored = {field.name: getattr(session, field.name) for field in fields(Session)}
        return cls(
            **stored,
            energy_kwh_so_far=so_far.energy_kwh,
            power_w=so_far.power_w,
            duration_s=so_far.duration_s,
        )
