"""The Alerts page's Notifications tab under AppTest against a real embedded CSMS: an admin
adds a signed webhook channel, sends a test message to a real local HTTP receiver; the
secret is never on the page; the delivery log; what an operator may do."""

from __future__ import annotations

from datetime import UTC, datetime

from chargestream.domain.records import Notification, NotificationStatus
from tests.conftest import RunningCsms
from tests.integration.streams import test_notifications
from tests.integration.streams.test_notifications import SECRET, Receiver, signed
from tests.integration.ui.test_pages import button, locked, open_page, page, run, texts

# the page tests' fixtures, and a real HTTP receiver for the webhook
receiver = test_notifications.receiver

TAB = {"alerts_tab": "Notifications"}


async def test_an_admin_adds_a_webhook_and_sends_a_test(
    ui: RunningCsms, receiver: Receiver
) -> None:
    at = await open_page(page("alerts"), **TAB)
    assert "No notification channels" in at.info[0].value
    at.text_input(key="channel_id").input("ops-hook")
    at.text_input(key="channel_target").input(receiver.url)
    at.text_input(key="channel_secret").input(SECRET)
    at.selectbox(key="channel_alert_kind").set_value("faulted")
    at.number_input(key="channel_cooldown").set_value(10)
    button(at, "Save channel").click()
    await run(at)
    assert texts(at.success) == ["Channel ops-hook saved."]
    channel = await ui.app.store.get_notification_channel("ops-hook")
    assert channel is not None
    assert (channel.secret, channel.cooldown, channel.alert_kind) == (SECRET, 600, "faulted")

    table = at.dataframe[0].value
    assert table["channel_id"].tolist() == ["ops-hook"] and table["signed"].tolist() == [True]
    assert SECRET not in table.to_csv()
    assert at.text_input(key="channel_secret").value == ""

    button(at, "Send test").click()
    await run(at)
    assert texts(at.success) == ["A test message went to ops-hook."]
    assert signed(*receiver.requests[0])


async def test_the_delivery_log_and_what_an_operator_may_do(
    ui: RunningCsms, receiver: Receiver
) -> None:
    await ui.api.put(
        "/api/v1/notification-channels/hook", json={"kind": "webhook", "target": receiver.url}
    )
    await ui.app.store.claim_notification(
        Notification(
            "A-1|hook|opened",
            "hook",
            "A-1",
            "CP-1",
            "opened",
            datetime.now(UTC),
            NotificationStatus.FAILED,
            attempts=5,
            last_error="webhook: HTTP 500",
        )
    )
    at = await open_page(page("alerts"), operator="olga", **TAB)
    log = at.dataframe[1].value
    assert log[["status", "attempts", "last_error"]].values.tolist() == [
        ["failed", 5, "webhook: HTTP 500"]
    ]
    assert button(at, "Save channel").disabled and button(at, "Delete channel").disabled
    assert "The role operator may not change notification channels" in locked(at)[0]
    assert not button(at, "Send test").disabled
    receiver.failures = 1
    button(at, "Send test").click()
    await run(at)
    assert "The test message to hook failed: " in at.error[0].value
