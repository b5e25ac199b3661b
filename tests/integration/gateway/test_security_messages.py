"""The OCPP 1.6 security messages over a real WebSocket and the real API: security events
listed and alerted, firmware and log statuses shown, the security commands delivered."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from tests.conftest import RunningCsms, eventually
from tests.ocpp_client import TestChargePoint, at, booted

CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HASH_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a" * 64,
    "issuerKeyHash": "b" * 64,
    "serialNumber": "01",
}


class SecureChargePoint(TestChargePoint):
    """A test charge point that also answers the security extension's commands."""

    __test__ = False

    @on(Action.install_certificate)
    def on_install_certificate(self, **payload: Any) -> call_result.InstallCertificate:
        self.received.append(("InstallCertificate", payload))
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_ids(self, **_: Any) -> call_result.GetInstalledCertificateIds:
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[HASH_DATA]
        )

    @on(Action.delete_certificate)
    def on_delete_certificate(self, **_: Any) -> call_result.DeleteCertificate:
        return call_result.DeleteCertificate(status="NotFound")

    @on(Action.extended_trigger_message)
    def on_extended_trigger(self, **_: Any) -> call_result.ExtendedTriggerMessage:
        return call_result.ExtendedTriggerMessage(status="Accepted")

    @on(Action.signed_update_firmware)
    def on_signed_update_firmware(self, **_: Any) -> call_result.SignedUpdateFirmware:
        return call_result.SignedUpdateFirmware(status="Accepted")

    @on(Action.get_log)
    def on_get_log(self, **_: Any) -> call_result.GetLog:
        return call_result.GetLog(status="Accepted", filename="security.log")


def secure_charge_point(
    url: str, charge_point_id: str
) -> AbstractAsyncContextManager[SecureChargePoint]:
    return booted(url, charge_point_id, SecureChargePoint)


async def listed(csms: RunningCsms, path: str, count: int) -> list[dict[str, Any]]:
    """The API's list at ``path`` once it has ``count`` entries."""

    async def probe() -> list[dict[str, Any]] | None:
        response = await csms.api.get(path)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body if len(body) >= count else None

    return await eventually(probe)


async def security_alerts(csms: RunningCsms, charge_point_id: str) -> list[dict[str, Any]]:
    alerts = (await csms.api.get("/api/v1/alerts")).json()
    return [
        a for a in alerts if a["kind"] == "security" and a["charge_point_id"] == charge_point_id
    ]


def tamper(seconds: int) -> call.SecurityEventNotification:
    return call.SecurityEventNotification(
        type="TamperDetectionActivated", timestamp=at(seconds), tech_info="<b>lid</b> open"
    )


async def test_a_critical_event_is_listed_and_opens_a_security_alert(csms: RunningCsms) -> None:
    async with secure_charge_point(csms.ocpp_url, "CP-1") as cp:
        await cp.call(tamper(0))
    (event,) = await listed(csms, "/api/v1/charge-points/CP-1/security-events", 1)
    assert event == {
        "charge_point_id": "CP-1",
        "timestamp": "2026-11-27T10:00:00Z",
        "event_type": "TamperDetectionActivated",
        "received_at": event["received_at"],
        "critical": True,
        "tech_info": "<b>lid</b> open",
    }
    (alert,) = await eventually(lambda: security_alerts(csms, "CP-1"))
    assert alert["closed_at"] is None and alert["severity"] == "critical"
    assert "TamperDetectionActivated" in alert["message"]
    opened = (await csms.api.get("/api/v1/alerts", params={"open": "true"})).json()
    assert alert["alert_id"] in {a["alert_id"] for a in opened}


async def test_a_non_critical_event_is_listed_without_an_alert(csms: RunningCsms) -> None:
    async with secure_charge_point(csms.ocpp_url, "CP-2") as cp:
        await cp.call(
            call.SecurityEventNotification(type="InvalidMessages", timestamp=at(5), tech_info=None)
        )
        await cp.call(call.Heartbeat())
        await cp.call(
            call.SecurityEventNotification(
                type="AttemptedReplayAttacks", timestamp=at(6), tech_info=None
            )
        )
    events = await listed(csms, "/api/v1/charge-points/CP-2/security-events", 2)
    assert [(e["event_type"], e["critical"]) for e in events] == [
        ("AttemptedReplayAttacks", False),
        ("InvalidMessages", False),
    ]
    assert await security_alerts(csms, "CP-2") == []


async def test_an_event_sent_again_is_one_event_and_one_alert(csms: RunningCsms) -> None:
    async with secure_charge_point(csms.ocpp_url, "CP-3") as cp:
        for _ in range(3):
            await cp.call(tamper(10))
        await cp.call(
            call.SecurityEventNotification(type="InvalidMessages", timestamp=at(11), tech_info=None)
        )
    events = await listed(csms, "/api/v1/charge-points/CP-3/security-events", 2)
    assert [e["event_type"] for e in events] == ["InvalidMessages", "TamperDetectionActivated"]
    assert len(await security_alerts(csms, "CP-3")) == 1


async def test_security_event_listing_pages_and_is_404_for_unknown(csms: RunningCsms) -> None:
    async with secure_charge_point(csms.ocpp_url, "CP-4") as cp:
        for second in range(3):
            await cp.call(
                call.SecurityEventNotification(
                    type=f"T{second}", timestamp=at(second), tech_info=None
                )
            )
    await listed(csms, "/api/v1/charge-points/CP-4/security-events", 3)
    page = await csms.api.get(
        "/api/v1/charge-points/CP-4/security-events",
        params={"limit": 1, "before": "2026-11-27T10:00:02Z"},
    )
    assert [e["event_type"] for e in page.json()] == ["T1"]
    too_many = await csms.api.get(
        "/api/v1/charge-points/CP-4/security-events", params={"limit": 100_000}
    )
    assert too_many.status_code == 422
    for route in ("security-events", "transfer-statuses"):
        assert (await csms.api.get(f"/api/v1/charge-points/NOPE/{route}")).status_code == 404


async def test_firmware_and_log_statuses_are_shown(csms: RunningCsms) -> None:
    path = "/api/v1/charge-points/CP-5/transfer-statuses"
    async with secure_charge_point(csms.ocpp_url, "CP-5") as cp:
        assert (await csms.api.get(path)).json() == []
        await cp.call(call.SignedFirmwareStatusNotification(status="Downloading", request_id=7))
        await cp.call(call.LogStatusNotification(status="Uploading", request_id=3))
        await cp.call(call.SignedFirmwareStatusNotification(status="Installed", request_id=7))

    async def installed() -> list[dict[str, Any]] | None:
        body: list[dict[str, Any]] = (await csms.api.get(path)).json()
        return body if len(body) == 2 and body[0]["status"] == "Installed" else None

    firmware, log = await eventually(installed)
    assert (firmware["transfer"], firmware["request_id"]) == ("firmware", 7)
    assert (log["transfer"], log["status"], log["request_id"]) == ("log", "Uploading", 3)


async def test_a_rejected_sign_certificate_is_a_security_event(csms: RunningCsms) -> None:
    async with secure_charge_point(csms.ocpp_url, "CP-6") as cp:
        result = await cp.call(call.SignCertificate(csr="-----BEGIN CERTIFICATE REQUEST-----"))
    assert result.status == "Rejected"  # no CA configured
    (event,) = await listed(csms, "/api/v1/charge-points/CP-6/security-events", 1)
    assert (event["event_type"], event["critical"]) == ("CsrRejected", False)
    (alert,) = await eventually(lambda: security_alerts(csms, "CP-6"))
    assert alert["severity"] == "warning"


# -- the security commands through the command API


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        (
            "InstallCertificate",
            {"certificateType": "CentralSystemRootCertificate", "certificate": CERTIFICATE},
            {"status": "Accepted"},
        ),
        (
            "GetInstalledCertificateIds",
            {"certificateType": "ManufacturerRootCertificate"},
            {"status": "Accepted", "certificateHashData": [HASH_DATA]},
        ),
        ("DeleteCertificate", {"certificateHashData": HASH_DATA}, {"status": "NotFound"}),
        (
            "ExtendedTriggerMessage",
            {"requestedMessage": "LogStatusNotification"},
            {"status": "Accepted"},
        ),
        (
            "SignedUpdateFirmware",
            {
                "requestId": 1,
                "firmware": {
                    "location": "https://firmware.example/fw.bin",
                    "retrieveDateTime": at(60),
                    "signingCertificate": CERTIFICATE,
                    "signature": "c2lnbmF0dXJl",
                },
            },
            {"status": "Accepted"},
        ),
        (
            "GetLog",
            {
                "logType": "SecurityLog",
                "requestId": 2,
                "log": {"remoteLocation": "https://logs.example/upload"},
            },
            {"status": "Accepted", "filename": "security.log"},
        ),
    ],
)
async def test_security_command_reaches_the_charge_point_and_is_logged(
    csms: RunningCsms, action: str, payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    async with secure_charge_point(csms.ocpp_url, "CP-7"):
        response = await csms.api.post(
            f"/api/v1/charge-points/CP-7/commands/{action}", json=payload
        )
    assert response.status_code == 200, response.text
    assert (response.json()["outcome"], response.json()["response"]) == ("answered", expected)
    (logged,) = (await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-7"})).json()
    assert (logged["action"], logged["outcome"], logged["response"]) == (
        action,
        "answered",
        expected,
    )


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        (
            "InstallCertificate",
            {"certificateType": "CentralSystemRootCertificate", "certificate": "x" * 5501},
        ),
        ("InstallCertificate", {"certificateType": "AnyCertificate", "certificate": "x"}),
        ("GetLog", {"logType": "SecurityLog", "requestId": 1, "log": {}}),
        ("ExtendedTriggerMessage", {"requestedMessage": "Reboot"}),
        ("DeleteCertificate", {"certificateHashData": {**HASH_DATA, "serialNumber": "1" * 41}}),
    ],
)
async def test_a_schema_invalid_security_command_is_rejected_unsent(
    csms: RunningCsms, action: str, payload: dict[str, Any]
) -> None:
    async with secure_charge_point(csms.ocpp_url, "CP-8") as cp:
        response = await csms.api.post(
            f"/api/v1/charge-points/CP-8/commands/{action}", json=payload
        )
    assert response.status_code == 422, response.text
    assert response.json()["outcome"] == "rejected"
    assert cp.received == []
    (logged,) = (await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-8"})).json()
    assert (logged["action"], logged["outcome"]) == (action, "rejected")
