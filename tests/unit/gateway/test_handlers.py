"""The CentralSystem handlers: a handler is called with a message and a store, and answers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from chargestream.domain.ocpp_time import ocpp_time
from chargestream.domain.passwords import hash_password
from chargestream.domain.pki import create_ca
from chargestream.domain.records import IdTag, IdTagStatus, Registration, Session
from chargestream.gateway.handlers import CentralSystem, id_tag_info
from chargestream.gateway.schemas import (
    CENTRAL_SYSTEM_ACTIONS,
    CHARGE_POINT_ACTIONS,
    validate_request,
    validate_response,
)
from chargestream.storage.sqlite import SqliteStore
from tests.certificates import chain_verifies, make_csr
from tests.unit.gateway.conftest import NOW, central_system, context

TIME = "2026-11-27T10:00:00.000Z"

# One valid request per action a charge point sends (a new action must be added here).
REQUESTS: dict[str, dict[str, Any]] = {
    "Authorize": {"idTag": "TAG1"},
    "BootNotification": {"chargePointVendor": "ABB", "chargePointModel": "T54"},
    "DataTransfer": {"vendorId": "com.example", "messageId": "ping", "data": "x"},
    "DiagnosticsStatusNotification": {"status": "Uploaded"},
    "FirmwareStatusNotification": {"status": "Installed"},
    "Heartbeat": {},
    "LogStatusNotification": {"status": "Uploaded", "requestId": 1},
    "MeterValues": {
        "connectorId": 1,
        "transactionId": 1,
        "meterValue": [{"timestamp": TIME, "sampledValue": [{"value": "1020"}]}],
    },
    "SecurityEventNotification": {"type": "FirmwareUpdated", "timestamp": TIME},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "SignedFirmwareStatusNotification": {"status": "Installed", "requestId": 1},
    "StartTransaction": {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": TIME},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    "StopTransaction": {"transactionId": 1, "meterStop": 10, "timestamp": TIME, "idTag": "TAG1"},
}


def start(connector_id: int = 1, id_tag: str = "TAG1", meter_start: int = 1000) -> dict[str, Any]:
    return {
        "connectorId": connector_id,
        "idTag": id_tag,
        "meterStart": meter_start,
        "timestamp": TIME,
    }


async def call(
    central: CentralSystem, action: str, payload: dict[str, Any], charge_point_id: str = "CP-1"
) -> dict[str, Any]:
    """Answer a valid request the way the gateway does, and check the answer's schema."""
    validate_request(action, payload)
    answer = await central.handle(action, context(charge_point_id), payload)
    validate_response(action, answer)
    return answer


# -- routing


def test_every_charge_point_action_has_a_handler(central: CentralSystem) -> None:
    assert set(REQUESTS) == CHARGE_POINT_ACTIONS
    assert all(central.handles(action) for action in CHARGE_POINT_ACTIONS)


@pytest.mark.parametrize("action", ["Frobnicate", "heartbeat", ""])
def test_unknown_action_has_no_handler(central: CentralSystem, action: str) -> None:
    assert not central.handles(action)


def test_actions_only_the_central_system_sends_have_no_handler(central: CentralSystem) -> None:
    sent_by_csms = CENTRAL_SYSTEM_ACTIONS - CHARGE_POINT_ACTIONS
    assert sent_by_csms and not any(central.handles(action) for action in sent_by_csms)


@pytest.mark.parametrize("action", sorted(CHARGE_POINT_ACTIONS))
async def test_every_handler_answers_a_valid_request_with_a_valid_response(
    central: CentralSystem, store: SqliteStore, action: str
) -> None:
    await store.put_id_tag(IdTag("TAG1"))
    await call(central, action, REQUESTS[action])


# -- time


def test_ocpp_time_is_utc_with_milliseconds_and_z() -> None:
    moment = datetime(2026, 11, 27, 11, 0, 5, 123999, tzinfo=timezone(timedelta(hours=1)))
    assert ocpp_time(moment) == "2026-11-27T10:00:05.123Z"
    assert ocpp_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"


# -- BootNotification


async def test_boot_notification_accept_policy_registers_an_unknown_charge_point(
    store: SqliteStore,
) -> None:
    central = central_system(store, registration_policy="accept", heartbeat_interval=120)
    answer = await call(central, "BootNotification", REQUESTS["BootNotification"], "CP-NEW")
    assert answer == {"status": "Accepted", "currentTime": ocpp_time(NOW), "interval": 120}
    assert await store.get_registration("CP-NEW") == Registration("CP-NEW", created_at=NOW)


async def test_boot_notification_pending_policy_answers_pending_without_registering(
    store: SqliteStore,
) -> None:
    central = central_system(store, registration_policy="pending")
    answer = await call(central, "BootNotification", REQUESTS["BootNotification"], "CP-NEW")
    assert answer == {"status": "Pending", "currentTime": ocpp_time(NOW), "interval": 300}
    assert await store.get_registration("CP-NEW") is None


async def test_boot_notification_reject_policy_answers_rejected_without_registering(
    store: SqliteStore,
) -> None:
    central = central_system(store, registration_policy="reject")
    answer = await call(central, "BootNotification", REQUESTS["BootNotification"], "CP-NEW")
    assert answer == {"status": "Rejected", "currentTime": ocpp_time(NOW), "interval": 300}
    assert await store.get_registration("CP-NEW") is None


@pytest.mark.parametrize("policy", ["accept", "pending", "reject"])
async def test_boot_notification_registered_charge_point_is_accepted_under_every_policy(
    store: SqliteStore, policy: str
) -> None:
    await store.put_registration(Registration("CP-KNOWN", display_name="Depot 1"))
    central = central_system(store, registration_policy=policy)
    answer = await call(central, "BootNotification", REQUESTS["BootNotification"], "CP-KNOWN")
    assert answer["status"] == "Accepted"
    # the operator's registration is left as it was
    assert await store.get_registration("CP-KNOWN") == Registration(
        "CP-KNOWN", display_name="Depot 1"
    )


async def test_boot_notification_pending_policy_accepts_once_an_operator_registers(
    store: SqliteStore,
) -> None:
    central = central_system(store, registration_policy="pending")
    boot = REQUESTS["BootNotification"]
    assert (await call(central, "BootNotification", boot, "CP-NEW"))["status"] == "Pending"
    await central.directory.register(Registration("CP-NEW"))  # what the API does in-process
    assert (await call(central, "BootNotification", boot, "CP-NEW"))["status"] == "Accepted"


async def test_boot_notification_accept_policy_registers_only_once(store: SqliteStore) -> None:
    central = central_system(store, registration_policy="accept")
    await call(central, "BootNotification", REQUESTS["BootNotification"], "CP-NEW")
    later = context("CP-NEW", NOW + timedelta(hours=1))
    await central.handle("BootNotification", later, REQUESTS["BootNotification"])
    registration = await store.get_registration("CP-NEW")
    assert registration is not None and registration.created_at == NOW


# -- Authorize


async def test_authorize_known_id_tag_is_accepted(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("GOOD"))
    assert await call(central, "Authorize", {"idTag": "GOOD"}) == {
        "idTagInfo": {"status": "Accepted"}
    }


async def test_authorize_unknown_id_tag_is_invalid(central: CentralSystem) -> None:
    assert await call(central, "Authorize", {"idTag": "UNKNOWN"}) == {
        "idTagInfo": {"status": "Invalid"}
    }


async def test_authorize_blocked_id_tag_is_blocked(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("BAD", IdTagStatus.BLOCKED))
    assert (await call(central, "Authorize", {"idTag": "BAD"}))["idTagInfo"] == {
        "status": "Blocked"
    }


async def test_authorize_id_tag_past_its_expiry_date_is_expired(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("OLD", expiry_date=datetime(2020, 1, 1, tzinfo=UTC)))
    assert (await call(central, "Authorize", {"idTag": "OLD"}))["idTagInfo"] == {
        "status": "Expired",
        "expiryDate": "2020-01-01T00:00:00.000Z",
    }


async def test_authorize_id_tag_expiring_now_is_expired_and_later_is_accepted_with_its_date(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("NOW", expiry_date=NOW))
    await store.put_id_tag(IdTag("SOON", expiry_date=NOW + timedelta(days=1)))
    assert (await call(central, "Authorize", {"idTag": "NOW"}))["idTagInfo"]["status"] == (
        "Expired"
    )
    assert (await call(central, "Authorize", {"idTag": "SOON"}))["idTagInfo"] == {
        "status": "Accepted",
        "expiryDate": ocpp_time(NOW + timedelta(days=1)),
    }


async def test_authorize_blocked_id_tag_past_its_expiry_date_stays_blocked(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(
        IdTag("BAD", IdTagStatus.BLOCKED, expiry_date=datetime(2020, 1, 1, tzinfo=UTC))
    )
    assert (await call(central, "Authorize", {"idTag": "BAD"}))["idTagInfo"]["status"] == (
        "Blocked"
    )


async def test_authorize_id_tag_answers_its_parent_id_tag(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("CHILD", parent_id_tag="FLEET"))
    assert (await call(central, "Authorize", {"idTag": "CHILD"}))["idTagInfo"] == {
        "status": "Accepted",
        "parentIdTag": "FLEET",
    }


async def test_authorize_accept_unknown_switch_accepts_unknown_id_tags_only(
    store: SqliteStore,
) -> None:
    central = central_system(store, accept_unknown_id_tags=True)
    await store.put_id_tag(IdTag("BAD", IdTagStatus.BLOCKED))
    await store.put_id_tag(IdTag("OLD", expiry_date=datetime(2020, 1, 1, tzinfo=UTC)))
    statuses = [
        (await call(central, "Authorize", {"idTag": tag}))["idTagInfo"]["status"]
        for tag in ("UNKNOWN", "BAD", "OLD")
    ]
    assert statuses == ["Accepted", "Blocked", "Expired"]


async def test_authorize_fails_when_the_store_cannot_be_read(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.close()
    with pytest.raises(Exception) as failed:  # any store error will do
        await central.handle("Authorize", context(), {"idTag": "OTHER"})
    # not one the connection answers as a bad payload: it answers InternalError
    assert not isinstance(failed.value, KeyError | TypeError | ValueError)


@pytest.mark.parametrize(
    ("tag", "accept_unknown", "expected"),
    [
        (None, False, {"status": "Invalid"}),
        (None, True, {"status": "Accepted"}),
        (IdTag("T", IdTagStatus.CONCURRENT_TX), False, {"status": "ConcurrentTx"}),
        (IdTag("T", IdTagStatus.INVALID), True, {"status": "Invalid"}),
    ],
)
def test_id_tag_info(tag: IdTag | None, accept_unknown: bool, expected: dict[str, Any]) -> None:
    assert id_tag_info(tag, NOW, accept_unknown) == expected


# -- StartTransaction


async def test_start_transaction_allocates_a_positive_id_and_authorizes_the_id_tag(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("TAG1"))
    answer = await call(central, "StartTransaction", start())
    assert 0 < answer["transactionId"] < 2**31
    assert answer["idTagInfo"] == {"status": "Accepted"}


async def test_start_transaction_ids_are_unique_per_start(central: CentralSystem) -> None:
    starts = [
        (start(connector_id=1), "CP-1"),
        (start(connector_id=2), "CP-1"),
        (start(meter_start=5), "CP-1"),
        (start(id_tag="TAG2"), "CP-1"),
        ({**start(), "timestamp": "2026-11-27T10:00:01.000Z"}, "CP-1"),
        (start(), "CP-2"),  # the same start on another charge point
    ]
    ids = [(await call(central, "StartTransaction", p, cp))["transactionId"] for p, cp in starts]
    assert len(set(ids)) == len(starts)


async def test_start_transaction_resent_gets_the_id_it_missed(central: CentralSystem) -> None:
    first = await call(central, "StartTransaction", start())
    resent = await call(central, "StartTransaction", start())
    assert resent["transactionId"] == first["transactionId"]


async def test_start_transaction_id_is_allocated_from_the_store_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restart.db"
    store = SqliteStore(path)
    await store.open()
    try:
        first = await call(central_system(store), "StartTransaction", start())
    finally:
        await store.close()
    reopened = SqliteStore(path)
    await reopened.open()
    try:
        central = central_system(reopened)
        resent = await call(central, "StartTransaction", start())
        other = await call(central, "StartTransaction", start(connector_id=2))
    finally:
        await reopened.close()
    assert resent["transactionId"] == first["transactionId"]
    assert other["transactionId"] != first["transactionId"]


async def test_start_transaction_with_an_unknown_or_blocked_id_tag_still_gets_an_id(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("BAD", IdTagStatus.BLOCKED))
    unknown = await call(central, "StartTransaction", start(id_tag="UNKNOWN"))
    blocked = await call(central, "StartTransaction", start(id_tag="BAD"))
    assert unknown["idTagInfo"] == {"status": "Invalid"}
    assert blocked["idTagInfo"] == {"status": "Blocked"}
    assert unknown["transactionId"] != blocked["transactionId"]


# -- StopTransaction


async def test_stop_transaction_for_unknown_transaction_is_answered(
    central: CentralSystem,
) -> None:
    stop = {"transactionId": 777777, "meterStop": 500, "timestamp": TIME}
    assert await call(central, "StopTransaction", stop) == {}
    assert await call(central, "StopTransaction", stop) == {}  # a duplicate, answered the same


async def test_stop_transaction_with_an_id_no_store_can_hold_is_answered(
    central: CentralSystem,
) -> None:
    for transaction_id in (2**63, 2**64 - 1, -(2**63) - 1):  # schema-valid integers
        stop = {"transactionId": transaction_id, "meterStop": 500, "timestamp": TIME}
        assert await call(central, "StopTransaction", stop) == {}


async def test_stop_transaction_with_an_id_tag_answers_its_status(
    central: CentralSystem, store: SqliteStore
) -> None:
    await store.put_id_tag(IdTag("TAG1"))
    await store.put_id_tag(IdTag("BAD", IdTagStatus.BLOCKED))
    stop = {"transactionId": 1, "meterStop": 500, "timestamp": TIME, "reason": "Local"}
    for tag, status in (("TAG1", "Accepted"), ("BAD", "Blocked"), ("NOPE", "Invalid")):
        answer = await call(central, "StopTransaction", {**stop, "idTag": tag})
        assert answer == {"idTagInfo": {"status": status}}


async def test_stop_transaction_is_answered_when_its_id_tag_cannot_be_looked_up(
    central: CentralSystem, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.close()  # the store is gone: no id tag can be looked up
    stop = {"transactionId": 9, "meterStop": 500, "timestamp": TIME, "idTag": "NEW"}
    with caplog.at_level(logging.WARNING, logger="chargestream.gateway"):
        assert await call(central, "StopTransaction", stop) == {}
    assert [r.getMessage() for r in caplog.records] == ["id_tag_lookup_failed"]


async def test_a_duplicate_stop_is_answered_as_usual_and_recorded_as_a_deviation(
    central: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    duplicates = REGISTRY.get_sample_value("chargestream_duplicate_stop_transactions_total") or 0
    first = {"transactionId": 41, "meterStop": 500, "timestamp": TIME, "reason": "Local"}
    later = {**first, "timestamp": "2026-11-27T11:00:00.000Z", "reason": "EVDisconnected"}
    other_charge_point = await call(central, "StopTransaction", first, charge_point_id="CP-2")
    with caplog.at_level(logging.WARNING, logger="chargestream.gateway"):
        assert await call(central, "StopTransaction", first) == other_charge_point == {}
        assert caplog.records == []  # each charge point's first stop is no deviation
        assert await call(central, "StopTransaction", later) == {}

    assert [r.getMessage() for r in caplog.records] == ["duplicate_stop_transaction"]
    fields = caplog.records[0].__dict__["fields"]
    assert (fields["first_timestamp"], fields["first_reason"]) == (TIME, "Local")
    assert (fields["timestamp"], fields["reason"]) == ("2026-11-27T11:00:00.000Z", "EVDisconnected")
    after = REGISTRY.get_sample_value("chargestream_duplicate_stop_transactions_total")
    assert after == duplicates + 1


async def test_a_stop_of_a_session_the_store_has_as_stopped_is_a_deviation(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.upsert(
        [
            Session(
                77,
                "CP-1",
                stop_time=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
                stop_reason="Remote",
            )
        ]
    )
    central = central_system(store)  # a fresh process: it has answered no stop yet
    stop = {"transactionId": 77, "meterStop": 500, "timestamp": TIME}
    with caplog.at_level(logging.WARNING, logger="chargestream.gateway"):
        assert await call(central, "StopTransaction", stop) == {}
    assert [r.getMessage() for r in caplog.records] == ["duplicate_stop_transaction"]
    fields = caplog.records[0].__dict__["fields"]
    assert (fields["first_timestamp"], fields["first_reason"]) == (
        "2026-11-27T09:00:00.000Z",
        "Remote",
    )


# -- notifications, Heartbeat, DataTransfer, SignCertificate


async def test_heartbeat_answers_the_current_time(central: CentralSystem) -> None:
    assert await call(central, "Heartbeat", {}) == {"currentTime": ocpp_time(NOW)}


@pytest.mark.parametrize(
    "action",
    [
        "StatusNotification",
        "MeterValues",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "SecurityEventNotification",
        "SignedFirmwareStatusNotification",
        "LogStatusNotification",
    ],
)
async def test_notification_is_answered_with_an_empty_payload(
    central: CentralSystem, action: str
) -> None:
    assert await call(central, action, REQUESTS[action]) == {}


async def test_status_notification_faulted_is_answered_with_an_empty_payload(
    central: CentralSystem,
) -> None:
    faulted = {
        "connectorId": 1,
        "errorCode": "GroundFailure",
        "status": "Faulted",
        "info": "RCD tripped",
        "timestamp": TIME,
    }
    assert await call(central, "StatusNotification", faulted) == {}


async def test_data_transfer_answers_unknown_vendor_id(central: CentralSystem) -> None:
    for payload in ({"vendorId": "com.example"}, REQUESTS["DataTransfer"]):
        assert await call(central, "DataTransfer", payload) == {"status": "UnknownVendorId"}


async def test_sign_certificate_is_rejected_without_a_certificate_authority(
    central: CentralSystem, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.put_registration(Registration("CP-1", security_profile=1))
    central.send_command = _never_sends
    csr, _ = make_csr("CP-1")
    assert await call(central, "SignCertificate", {"csr": csr}) == {"status": "Rejected"}
    assert _rejections(caplog) == [{"cp": "CP-1", "reason": "no usable CA is configured"}]


async def _never_sends(*_: object) -> object:
    raise AssertionError("nothing is sent")


def _rejections(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.getMessage() == "csr_rejected"]  # type: ignore[attr-defined]


@pytest.fixture
async def signing(
    central: CentralSystem, store: SqliteStore, tmp_path: Path
) -> tuple[CentralSystem, list[Any]]:
    """``central`` with a CA and a command sender that records what it is given; CP-1 is
    a profile 2 charge point (it authenticates)."""
    await store.put_registration(Registration("CP-1", security_profile=2))
    ca = create_ca("test CA", NOW)
    (tmp_path / "ca.pem").write_text(ca.certificate_pem())
    (tmp_path / "ca.key").write_text(ca.key_pem())
    assert await central.signer.load(tmp_path / "ca.pem", tmp_path / "ca.key")
    sent: list[Any] = []

    async def send(charge_point_id: str, action: str, payload: dict[str, Any]) -> object:
        sent.append((charge_point_id, action, payload))
        return None

    central.send_command = send
    return central, sent


async def test_sign_certificate_accepts_a_valid_csr_and_sends_the_chain_after_the_answer(
    signing: tuple[CentralSystem, list[Any]],
) -> None:
    central, sent = signing
    csr, _ = make_csr("CP-1")
    cp_context = context("CP-1")
    answer = await central.handle("SignCertificate", cp_context, {"csr": csr})
    assert answer == {"status": "Accepted"}
    assert sent == []  # nothing before the answer has been sent
    (after,) = cp_context.after_reply
    await after()
    ((charge_point_id, action, payload),) = sent
    assert (charge_point_id, action) == ("CP-1", "CertificateSigned")
    validate_request("CertificateSigned", payload)
    ca_pem = central.signer._ca.certificate_pem()  # type: ignore[union-attr]
    assert chain_verifies(payload["certificateChain"], ca_pem)


async def test_a_charge_point_has_one_csr_checked_a_minute(
    signing: tuple[CentralSystem, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    central, _ = signing
    csr, _ = make_csr("CP-1")
    assert await central.handle("SignCertificate", context("CP-1"), {"csr": "garbage"}) == {
        "status": "Rejected"
    }
    again = context("CP-1", NOW + timedelta(seconds=59))
    assert await central.handle("SignCertificate", again, {"csr": csr}) == {"status": "Rejected"}
    assert _rejections(caplog)[-1] == {
        "cp": "CP-1",
        "reason": "a CSR of this charge point was checked less than 60 s ago",
    }
    later = context("CP-1", NOW + timedelta(seconds=60))
    assert await central.handle("SignCertificate", later, {"csr": csr}) == {"status": "Accepted"}
    other = context("CP-2", NOW + timedelta(seconds=1))
    assert await central.handle("SignCertificate", other, {"csr": make_csr("CP-2")[0]}) == {
        "status": "Rejected"  # not registered: does not authenticate, counted for nobody
    }


async def test_sign_certificate_is_rejected_for_a_charge_point_that_does_not_authenticate(
    signing: tuple[CentralSystem, list[Any]],
    store: SqliteStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    central, sent = signing
    csr, _ = make_csr("CP-0")
    await store.put_registration(Registration("CP-0"))  # profile 0 (the default), no password
    cp_context = context("CP-0")
    assert await central.handle("SignCertificate", cp_context, {"csr": csr}) == {
        "status": "Rejected"
    }
    assert cp_context.after_reply == [] and sent == []
    assert _rejections(caplog) == [
        {"cp": "CP-0", "reason": "the charge point does not authenticate (profile 0)"}
    ]
    await store.put_registration(Registration("CP-0", password_hash=hash_password("x" * 16)))
    central.directory.registrations.invalidate("CP-0")
    answer = await central.handle("SignCertificate", context("CP-0"), {"csr": csr})
    assert answer == {"status": "Accepted"}  # a password set: profile 0 checks it


@pytest.mark.parametrize(
    ("csr", "reason"),
    [
        ("garbage", "not a PEM certificate signing request"),
        (make_csr("CP-2")[0], "the CSR subject common name must be the charge point id"),
    ],
    ids=["garbage", "other-cn"],
)
async def test_sign_certificate_rejects_an_unfit_csr_with_a_logged_reason(
    signing: tuple[CentralSystem, list[Any]],
    caplog: pytest.LogCaptureFixture,
    csr: str,
    reason: str,
) -> None:
    central, sent = signing
    cp_context = context("CP-1")
    assert await central.handle("SignCertificate", cp_context, {"csr": csr}) == {
        "status": "Rejected"
    }
    assert cp_context.after_reply == [] and sent == []
    assert _rejections(caplog) == [{"cp": "CP-1", "reason": reason}]


async def test_authorize_without_id_tag_raises_what_the_connection_answers_as_formation_violation(
    central: CentralSystem,
) -> None:
    # A lenient charge point's Authorize without idTag reaches the handler.
    with pytest.raises((KeyError, TypeError, ValueError)):
        await central.handle("Authorize", context(), {})
