"""The dashboard's security views under AppTest against a real embedded CSMS: security
events and transfer statuses on the charge point page, the security commands on the
remote-control page (certificate and firmware ones for admins only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargestream.domain.records import ChargePointState, SecurityEvent, TransferStatus
from tests.conftest import RunningCsms
from tests.integration.gateway.test_security_messages import CERTIFICATE, secure_charge_point
from tests.integration.ui.test_pages import button, locked, open_page, page, run, send, texts

NOW = datetime.now(UTC).replace(microsecond=0)
HOSTILE = "![x](http://evil.example/a.png) **bold** :red[alarm] <b>tag</b>"


async def test_the_security_tab_shows_events_and_statuses_as_text(ui: RunningCsms) -> None:
    await ui.app.store.upsert(
        [
            SecurityEvent("CP-S", NOW - timedelta(hours=1), "InvalidMessages", NOW, False, HOSTILE),
            SecurityEvent("CP-S", NOW, "TamperDetectionActivated", NOW, True),
            TransferStatus("CP-S", "firmware", "Installed", NOW, 12),
        ]
    )
    await ui.app.store.upsert([ChargePointState("CP-S", last_seen=NOW)])
    at = await open_page(page("charge_point"), cp="CP-S", tab="Security")
    statuses, events = at.dataframe[-2].value, at.dataframe[-1].value
    assert statuses["status"].iloc[0] == "Installed" and statuses["status"].isna().iloc[1]
    assert statuses["request_id"].iloc[0] == 12
    assert events["event_type"].tolist() == ["TamperDetectionActivated", "InvalidMessages"]
    assert events["critical"].tolist() == [True, False]
    assert events["tech_info"].tolist()[1] == HOSTILE  # shown as it is, in a dataframe cell
    assert not any(HOSTILE in text for text in texts(at.markdown) + texts(at.caption))


async def test_the_security_tab_without_events(ui: RunningCsms) -> None:
    await ui.app.store.upsert([ChargePointState("CP-Q", last_seen=NOW)])
    at = await open_page(page("charge_point"), cp="CP-Q", tab="Security")
    assert "No security events reported." in texts(at.info)
    assert at.dataframe[-1].value["status"].isna().all()


async def test_an_admin_sends_the_security_commands(ui: RunningCsms) -> None:
    async with secure_charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        at = await open_page(page("remote_control"), cp="CP-LIVE")
        at = await send(at, "InstallCertificate", install_pem=CERTIFICATE)
        assert texts(at.success) == ["CP-LIVE answered InstallCertificate: **Accepted**"]
        (received,) = [p for action, p in cp.received if action == "InstallCertificate"]
        assert received["certificate"] == CERTIFICATE
        at = await send(at, "GetInstalledCertificateIds", ids_type="ManufacturerRootCertificate")
        assert "GetInstalledCertificateIds: **Accepted**" in at.success[0].value
        at = await send(
            at,
            "DeleteCertificate",
            delete_name="a" * 64,
            delete_key="b" * 64,
            delete_serial="01",
        )
        assert "DeleteCertificate: **NotFound**" in texts(at.warning)[0]
        at = await send(at, "ExtendedTriggerMessage", extended_trigger="LogStatusNotification")
        assert "ExtendedTriggerMessage: **Accepted**" in at.success[0].value
        at = await send(
            at,
            "SignedUpdateFirmware",
            firmware_location="https://firmware.example/fw.bin",
            firmware_cert=CERTIFICATE,
            firmware_signature="c2lnbmF0dXJl",
            firmware_r=3,
        )
        assert "SignedUpdateFirmware: **Accepted**" in at.success[0].value
        at = await send(at, "GetLog", log_location="https://logs.example/up", log_request=9)
        assert "GetLog: **Accepted**" in at.success[0].value
    commands = await ui.app.store.commands("CP-LIVE")
    assert [c.action for c in commands] == [
        "GetLog",
        "SignedUpdateFirmware",
        "ExtendedTriggerMessage",
        "DeleteCertificate",
        "GetInstalledCertificateIds",
        "InstallCertificate",
    ]
    firmware = commands[1].payload
    assert firmware["retries"] == 3 and firmware["firmware"]["retrieveDateTime"].endswith("Z")
    assert commands[0].payload == {
        "logType": "SecurityLog",
        "requestId": 9,
        "log": {"remoteLocation": "https://logs.example/up"},
    }


async def test_an_operator_may_get_logs_but_not_touch_certificates(ui: RunningCsms) -> None:
    async with secure_charge_point(ui.ocpp_url, "CP-LIVE"):
        at = await open_page(page("remote_control"), operator="olga", cp="CP-LIVE")
        for action in (
            "InstallCertificate",
            "GetInstalledCertificateIds",
            "DeleteCertificate",
            "SignedUpdateFirmware",
        ):
            at.selectbox(key="action").set_value(action)
            await run(at)
            assert button(at, f"Send {action}").disabled, action
            assert locked(at) == [
                ":material/lock: The role operator may not manage certificates and signed "
                "firmware updates: that needs the role admin."
            ]
        at = await send(at, "GetLog", log_location="https://logs.example/up")
        assert "GetLog: **Accepted**" in at.success[0].value
    assert [c.action for c in await ui.app.store.commands("CP-LIVE")] == ["GetLog"]
