"""Firmware campaigns, pure: where each target stands and whom the next wave reaches.

A target's state is computed on read from what the log shows, never stored: the
campaign's UpdateFirmware to it (the command log), the charge point's last firmware
status notification received after that command, and the firmware version of its last
boot (docs/operations.md, Firmware campaigns).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from chargestream.domain.ocpp_time import ocpp_time
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    FirmwareCampaign,
    TransferStatus,
)

UPDATE_FIRMWARE = "UpdateFirmware"


class TargetState(StrEnum):
    PENDING = "pending"  # no UpdateFirmware yet
    SENT = "sent"  # UpdateFirmware sent (answered, or awaiting its answer)
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    INSTALLING = "installing"
    INSTALLED = "installed"  # Installed, or a boot with another firmware version since
    FAILED = "failed"  # a failure status, the command not answered, or timed out


IN_FLIGHT = frozenset(
    {TargetState.SENT, TargetState.DOWNLOADING, TargetState.DOWNLOADED, TargetState.INSTALLING}
)
DONE = frozenset({TargetState.INSTALLED, TargetState.FAILED})

_PROGRESS = {
    "Downloading": TargetState.DOWNLOADING,
    "Downloaded": TargetState.DOWNLOADED,
    "Installing": TargetState.INSTALLING,
    "Installed": TargetState.INSTALLED,
    "DownloadFailed": TargetState.FAILED,
    "InstallationFailed": TargetState.FAILED,
    # OCPP 2.0.1 (and the 1.6 signed firmware) report finer steps
    "DownloadScheduled": TargetState.SENT,
    "DownloadPaused": TargetState.DOWNLOADING,
    "SignatureVerified": TargetState.DOWNLOADED,
    "InstallScheduled": TargetState.DOWNLOADED,
    "InstallRebooting": TargetState.INSTALLING,
    "InvalidSignature": TargetState.FAILED,
    "InstallVerificationFailed": TargetState.FAILED,
}
"""FirmwareStatusNotification statuses that move a target (Idle does not), of both
versions: 2.0.1 adds its scheduled, paused, signature and rebooting steps."""


class CampaignStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"  # every target installed or failed
    CANCELLED = "cancelled"  # no further UpdateFirmware (those in flight go on)


@dataclass(frozen=True, slots=True)
class TargetView:
    """What the store shows about one target."""

    charge_point_id: str
    command: CommandRecord | None  # the campaign's newest UpdateFirmware to it
    firmware_status: TransferStatus | None  # its last firmware status notification
    state: ChargePointState | None


@dataclass(frozen=True, slots=True)
class TargetProgress:
    charge_point_id: str
    state: TargetState
    firmware_before: str | None  # at the campaign's creation
    firmware_after: str | None = None  # of a boot after the UpdateFirmware
    status: str | None = None  # the last firmware status notification after it
    status_at: datetime | None = None
    sent_at: datetime | None = None
    command_id: str | None = None
    command_outcome: CommandOutcome | None = None
    reason: str | None = None  # why it failed


def target_progress(campaign: FirmwareCampaign, view: TargetView, now: datetime) -> TargetProgress:
    """Where one target stands at ``now``."""
    before = campaign.targets.get(view.charge_point_id)
    command = view.command
    if command is None:
        return TargetProgress(view.charge_point_id, TargetState.PENDING, before)
    status = view.firmware_status
    if status is not None and status.at < command.requested_at:
        status = None
    booted = view.state is not None and _booted_since(view.state, command.requested_at)
    after = view.state.firmware_version if booted and view.state is not None else None
    state, reason = _state(command, status, before, after)
    if state in IN_FLIGHT and now > _deadline(campaign, command.requested_at):
        state, reason = TargetState.FAILED, f"not installed within {campaign.wave_timeout} s"
    return TargetProgress(
        charge_point_id=view.charge_point_id,
        state=state,
        firmware_before=before,
        firmware_after=after,
        status=None if status is None else status.status,
        status_at=None if status is None else status.at,
        sent_at=command.requested_at,
        command_id=command.command_id,
        command_outcome=command.outcome,
        reason=reason,
    )


def _deadline(campaign: FirmwareCampaign, sent_at: datetime) -> datetime:
    """A target may take ``wave_timeout`` from its UpdateFirmware or the retrieve date,
    whichever is later (a charge point starts downloading at the retrieve date)."""
    return max(sent_at, campaign.retrieve_date) + timedelta(seconds=campaign.wave_timeout)


def _booted_since(state: ChargePointState, moment: datetime) -> bool:
    return state.last_boot_at is not None and state.last_boot_at >= moment


def _state(
    command: CommandRecord,
    status: TransferStatus | None,
    before: str | None,
    after: str | None,
) -> tuple[TargetState, str | None]:
    if command.outcome is None:
        return TargetState.SENT, None
    if command.outcome is not CommandOutcome.ANSWERED:
        return TargetState.FAILED, f"UpdateFirmware {command.outcome.value}"
    if after is not None and after != before:
        return TargetState.INSTALLED, None
    if status is None:
        return TargetState.SENT, None
    state = _PROGRESS.get(status.status, TargetState.SENT)
    failed = state is TargetState.FAILED
    return state, f"the charge point reported {status.status}" if failed else None


def next_wave(
    campaign: FirmwareCampaign, progress: Sequence[TargetProgress], busy: Collection[str]
) -> list[str]:
    """The pending targets to send UpdateFirmware now, in the campaign's order: as many as
    keep at most ``wave_size`` in flight (``busy``: those whose command is being sent)."""
    if campaign.cancelled_at is not None:
        return []
    in_flight = sum(1 for p in progress if p.state in IN_FLIGHT or p.charge_point_id in busy)
    room = campaign.wave_size - in_flight
    pending = (
        p.charge_point_id
        for p in progress
        if p.state is TargetState.PENDING and p.charge_point_id not in busy
    )
    return [cp for _, cp in zip(range(max(room, 0)), pending, strict=False)]


def counts(progress: Sequence[TargetProgress]) -> dict[str, int]:
    """How many targets are in each state (every state named, zero or not)."""
    found = Counter(p.state for p in progress)
    return {state.value: found[state] for state in TargetState}


def campaign_status(
    campaign: FirmwareCampaign, progress: Sequence[TargetProgress]
) -> CampaignStatus:
    if all(p.state in DONE for p in progress):
        return CampaignStatus.FINISHED
    if campaign.cancelled_at is not None:
        return CampaignStatus.CANCELLED
    return CampaignStatus.RUNNING


def update_firmware_payload(
    campaign: FirmwareCampaign, version: OcppVersion = OcppVersion.V16
) -> dict[str, Any]:
    """The UpdateFirmware request every target of the campaign gets, in ``version``'s
    shape: 2.0.1 nests the location and date in ``firmware`` and needs a ``requestId``
    (the campaign's, so its targets' FirmwareStatusNotifications name it)."""
    retrieve = ocpp_time(campaign.retrieve_date)
    payload: dict[str, Any]
    if version is OcppVersion.V201:
        payload = {
            "requestId": campaign_request_id(campaign.campaign_id),
            "firmware": {"location": campaign.location, "retrieveDateTime": retrieve},
        }
    else:
        payload = {"location": campaign.location, "retrieveDate": retrieve}
    if campaign.retries is not None:
        payload["retries"] = campaign.retries
    if campaign.retry_interval is not None:
        payload["retryInterval"] = campaign.retry_interval
    return payload


def campaign_request_id(campaign_id: str) -> int:
    """A campaign's 2.0.1 requestId: stable (a restart sends the same), a positive int32."""
    return zlib.crc32(campaign_id.encode()) & 0x7FFFFFFF


MAX_LOCATION = 512
LOCATION_SCHEMES = ("http", "https", "ftp", "ftps", "sftp")


def location_problem(location: str) -> str | None:
    """Why ``location`` cannot be a firmware download URL for a charge point, or None."""
    if len(location) > MAX_LOCATION:
        return f"longer than {MAX_LOCATION} characters"
    if any(ch.isspace() or not ch.isprintable() for ch in location):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(location)
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() not in LOCATION_SCHEMES or not parts.hostname:
        return f"not a URL with a host and one of the schemes {', '.join(LOCATION_SCHEMES)}"
    return None
