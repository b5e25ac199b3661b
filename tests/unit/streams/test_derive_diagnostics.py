"""Derivation of DiagnosticsStatusNotification: the latest status per charge point."""

from __future__ import annotations

from chargestream.domain.records import TransferStatus
from tests.unit.streams.test_derive import CP, at, final, of_type, run
from tests.unit.streams.test_derive_security import security_log


def test_diagnostics_statuses_keep_the_latest() -> None:
    log = security_log()
    log.call("DiagnosticsStatusNotification", {"status": "Uploading"})
    log.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
    _, records = run(log.events)
    stored = [r for r in final(records).values() if isinstance(r, TransferStatus)]
    assert stored == [TransferStatus(CP, "diagnostics", "Uploaded", at(4))]


def test_unanswered_or_unusable_diagnostics_statuses_derive_nothing() -> None:
    log = security_log()
    log.unanswered("DiagnosticsStatusNotification", {"status": "Uploaded"})
    log.call("DiagnosticsStatusNotification", {"status": ["Idle"]})
    log.call("DiagnosticsStatusNotification", {})
    _, records = run(log.events)
    assert of_type(records, TransferStatus) == []


def test_a_replay_from_any_cut_derives_the_same_diagnostics_status() -> None:
    log = security_log()
    log.call("DiagnosticsStatusNotification", {"status": "Uploading"})
    log.call("DiagnosticsStatusNotification", {"status": "UploadFailed"})
    _, whole = run(log.events)
    for cut in range(1, len(log.events)):
        state, first = run(log.events[:cut])
        _, rest = run(log.events[cut:], state=type(state).from_json(state.to_json()))
        assert final(first + rest) == final(whole)
