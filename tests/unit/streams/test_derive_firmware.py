"""Derivation of OCPP 1.6's FirmwareStatusNotification: the charge point's firmware status,
the same record its signed variant keeps (the last of either)."""

from __future__ import annotations

from chargestream.domain.records import TransferStatus
from tests.unit.streams.test_derive import CP, at, final, of_type, run
from tests.unit.streams.test_derive_security import security_log


def test_firmware_statuses_keep_the_latest_with_its_time() -> None:
    log = security_log()
    log.call("FirmwareStatusNotification", {"status": "Downloading"})
    log.call("FirmwareStatusNotification", {"status": "Installed"})
    _, records = run(log.events)
    stored = [r for r in final(records).values() if isinstance(r, TransferStatus)]
    assert stored == [TransferStatus(CP, "firmware", "Installed", at(4))]


def test_the_signed_variant_and_the_core_one_share_the_firmware_status() -> None:
    log = security_log()
    log.call("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 7})
    log.call("FirmwareStatusNotification", {"status": "DownloadFailed"})
    _, records = run(log.events)
    stored = [r for r in final(records).values() if isinstance(r, TransferStatus)]
    assert stored == [TransferStatus(CP, "firmware", "DownloadFailed", at(4))]


def test_unanswered_or_unusable_firmware_statuses_derive_nothing() -> None:
    log = security_log()
    log.unanswered("FirmwareStatusNotification", {"status": "Installed"})
    log.call("FirmwareStatusNotification", {"status": 5})
    _, records = run(log.events)
    assert of_type(records, TransferStatus) == []
