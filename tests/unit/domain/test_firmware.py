"""Firmware campaigns, pure: each target's state from what the views show, the next wave,
the campaign's status and counts, the download location check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chargestream.domain.firmware import (
    CampaignStatus,
    TargetProgress,
    TargetState,
    TargetView,
    campaign_request_id,
    campaign_status,
    counts,
    location_problem,
    next_wave,
    target_progress,
    update_firmware_payload,
)
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    FirmwareCampaign,
    TransferStatus,
)
from tests.ocpp201_frames import valid

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
CAMPAIGN = FirmwareCampaign(
    campaign_id="c1",
    location="https://fw.example/2.0.bin",
    retrieve_date=T0,
    wave_size=2,
    wave_timeout=600,
    targets={"CP-1": "1.0", "CP-2": "1.0", "CP-3": None, "CP-4": "1.0"},
    created_at=T0,
    created_by="api",
)


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


AT_10, AT_20, AT_30 = seconds(10), seconds(20), seconds(30)


def sent(
    outcome: CommandOutcome | None = CommandOutcome.ANSWERED, at: datetime = T0
) -> CommandRecord:
    return CommandRecord(
        "cmd-1", "CP-1", "UpdateFirmware", {}, at, outcome=outcome, sent_by="campaign:c1"
    )


def reported(status: str, at: datetime = AT_10) -> TransferStatus:
    return TransferStatus("CP-1", "firmware", status, at)


def booted(version: str | None, at: datetime = AT_20) -> ChargePointState:
    return ChargePointState("CP-1", firmware_version=version, last_boot_at=at)


def state_of(
    command: CommandRecord | None,
    status: TransferStatus | None = None,
    boot: ChargePointState | None = None,
    now: datetime = AT_30,
    target: str = "CP-1",
) -> TargetProgress:
    return target_progress(CAMPAIGN, TargetView(target, command, status, boot), now)


def test_a_target_without_the_campaigns_command_is_pending() -> None:
    progress = state_of(None)
    assert (progress.state, progress.firmware_before, progress.sent_at) == (
        TargetState.PENDING,
        "1.0",
        None,
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Idle", TargetState.SENT),
        ("Downloading", TargetState.DOWNLOADING),
        ("Downloaded", TargetState.DOWNLOADED),
        ("Installing", TargetState.INSTALLING),
        ("Installed", TargetState.INSTALLED),
        ("DownloadFailed", TargetState.FAILED),
        ("InstallationFailed", TargetState.FAILED),
        ("DownloadScheduled", TargetState.SENT),
        ("DownloadPaused", TargetState.DOWNLOADING),
        ("SignatureVerified", TargetState.DOWNLOADED),
        ("InstallScheduled", TargetState.DOWNLOADED),
        ("InstallRebooting", TargetState.INSTALLING),
        ("InvalidSignature", TargetState.FAILED),
        ("InstallVerificationFailed", TargetState.FAILED),
    ],
)
def test_the_firmware_status_after_the_command_moves_the_target(
    status: str, state: TargetState
) -> None:
    progress = state_of(sent(), reported(status))
    assert (progress.state, progress.status, progress.status_at) == (state, status, seconds(10))
    assert progress.command_outcome is CommandOutcome.ANSWERED


def test_a_failure_status_says_why() -> None:
    assert state_of(sent(), reported("DownloadFailed")).reason == (
        "the charge point reported DownloadFailed"
    )


def test_a_status_from_before_the_command_is_not_the_campaigns() -> None:
    progress = state_of(sent(at=seconds(5)), reported("Installed", at=seconds(4)))
    assert (progress.state, progress.status) == (TargetState.SENT, None)


def test_a_command_in_flight_is_sent_and_one_not_answered_is_failed() -> None:
    assert state_of(sent(outcome=None)).state is TargetState.SENT
    failed = state_of(sent(CommandOutcome.NOT_CONNECTED))
    assert (failed.state, failed.reason) == (TargetState.FAILED, "UpdateFirmware not_connected")


def test_a_boot_with_another_version_after_the_command_is_installed() -> None:
    progress = state_of(sent(), reported("Installing"), booted("2.0"))
    assert (progress.state, progress.firmware_after) == (TargetState.INSTALLED, "2.0")
    unknown_before = state_of(sent(), None, booted("2.0"), target="CP-3")
    assert unknown_before.state is TargetState.INSTALLED


def test_a_boot_with_the_same_version_or_before_the_command_is_not_installed() -> None:
    assert state_of(sent(), reported("Installing"), booted("1.0")).state is TargetState.INSTALLING
    before = state_of(sent(at=seconds(25)), None, booted("2.0", at=seconds(20)))
    assert (before.state, before.firmware_after) == (TargetState.SENT, None)


def test_a_target_in_flight_past_the_wave_timeout_failed() -> None:
    assert state_of(sent(), reported("Downloading"), now=seconds(600)).state is (
        TargetState.DOWNLOADING
    )
    late = state_of(sent(), reported("Downloading"), now=seconds(601))
    assert (late.state, late.reason) == (TargetState.FAILED, "not installed within 600 s")
    assert state_of(sent(), reported("Installed"), now=seconds(9999)).state is (
        TargetState.INSTALLED
    )


def test_the_timeout_counts_from_a_later_retrieve_date() -> None:
    later = replace(CAMPAIGN, retrieve_date=seconds(3600))
    view = TargetView("CP-1", sent(), None, None)
    assert target_progress(later, view, seconds(4200)).state is TargetState.SENT
    assert target_progress(later, view, seconds(4201)).state is TargetState.FAILED


def progress_of(*states: TargetState) -> list[TargetProgress]:
    return [
        TargetProgress(cp, state, None) for cp, state in zip(CAMPAIGN.targets, states, strict=True)
    ]


def test_the_next_wave_fills_up_to_the_wave_size_in_order() -> None:
    pending = progress_of(*[TargetState.PENDING] * 4)
    assert next_wave(CAMPAIGN, pending, busy=()) == ["CP-1", "CP-2"]
    one_out = progress_of(
        TargetState.DOWNLOADING, TargetState.PENDING, TargetState.PENDING, TargetState.PENDING
    )
    assert next_wave(CAMPAIGN, one_out, busy=()) == ["CP-2"]
    assert next_wave(CAMPAIGN, one_out, busy=("CP-2",)) == []
    done = progress_of(
        TargetState.INSTALLED, TargetState.FAILED, TargetState.SENT, TargetState.PENDING
    )
    assert next_wave(CAMPAIGN, done, busy=()) == ["CP-4"]


def test_a_cancelled_campaign_sends_nothing_more() -> None:
    cancelled = replace(CAMPAIGN, cancelled_at=T0)
    pending = progress_of(*[TargetState.PENDING] * 4)
    assert next_wave(cancelled, pending, busy=()) == []
    assert campaign_status(cancelled, pending) is CampaignStatus.CANCELLED


def test_status_and_counts() -> None:
    running = progress_of(
        TargetState.INSTALLED, TargetState.FAILED, TargetState.SENT, TargetState.PENDING
    )
    assert campaign_status(CAMPAIGN, running) is CampaignStatus.RUNNING
    assert counts(running) == {
        "pending": 1,
        "sent": 1,
        "downloading": 0,
        "downloaded": 0,
        "installing": 0,
        "installed": 1,
        "failed": 1,
    }
    over = progress_of(*[TargetState.INSTALLED] * 3, TargetState.FAILED)
    assert campaign_status(replace(CAMPAIGN, cancelled_at=T0), over) is CampaignStatus.FINISHED


def test_the_update_firmware_payload() -> None:
    assert update_firmware_payload(CAMPAIGN) == {
        "location": "https://fw.example/2.0.bin",
        "retrieveDate": "2026-12-07T01:00:00.000Z",
    }
    retrying = replace(CAMPAIGN, retries=3, retry_interval=60)
    assert update_firmware_payload(retrying)["retries"] == 3
    assert update_firmware_payload(retrying)["retryInterval"] == 60


def test_the_update_firmware_payload_for_ocpp_201() -> None:
    retrying = replace(CAMPAIGN, retries=3, retry_interval=60)
    payload = valid("UpdateFirmware", update_firmware_payload(retrying, OcppVersion.V201))
    assert payload == {
        "requestId": campaign_request_id(CAMPAIGN.campaign_id),
        "firmware": {
            "location": "https://fw.example/2.0.bin",
            "retrieveDateTime": "2026-12-07T01:00:00.000Z",
        },
        "retries": 3,
        "retryInterval": 60,
    }
    assert 0 <= campaign_request_id("c") == campaign_request_id("c") < 2**31
    assert campaign_request_id("c") != campaign_request_id("d")


@pytest.mark.parametrize(
    "location",
    ["https://fw.example/a.bin", "ftp://user:pw@10.0.0.1:21/fw/a.bin", "sftp://h/x", "HTTP://h/"],
)
def test_download_locations(location: str) -> None:
    assert location_problem(location) is None


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "https:///no-host",
        "fw.bin",
        "https://h/a b",
        "https://h/\x00",
        "https://[::1/x",
        "https://h/" + "a" * 600,
        "javascript:alert(1)",
    ],
)
def test_refused_locations(location: str) -> None:
    assert location_problem(location) is not None
