"""Request and response bodies of the HTTP API that are not storage records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chargestream.domain.frames import LoggedEvent
from chargestream.domain.passwords import MAX_CHARGE_POINT_PASSWORD, MIN_CHARGE_POINT_PASSWORD
from chargestream.domain.records import (
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    IdTagStatus,
    Registration,
)
from chargestream.domain.redaction import redact_frame
from chargestream.domain.settings import MAX_SECURITY_PROFILE


def as_utc(moment: datetime) -> datetime:
    """Times without a zone are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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


class ChargePointOut(BaseModel):
    charge_point_id: str
    registered: bool
    display_name: str | None = None
    location: str | None = None
    has_password: bool = False
    lenient: bool = False
    security_profile: int | None = None  # None: the default profile applies
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
