"""The firmware campaign controller on a real SQLite store: waves, ownership, and what a
restart keeps (sent is read from the command log, nothing from memory)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    FirmwareCampaign,
    TransferStatus,
)
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.firmware_campaigns import FirmwareCampaigns, campaign_key
from tests.ocpp201_frames import valid

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
CAMPAIGN = FirmwareCampaign(
    campaign_id="c1",
    location="https://fw.example/2.0.bin",
    retrieve_date=T0,
    wave_size=2,
    wave_timeout=3600,
    targets={"CP-1": "1.0", "CP-2": "1.0", "CP-3": "1.0"},
    created_at=T0,
    created_by="api",
)


class Sender:
    """Logs each command as answered, as the CSMS's command service would."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.sent: list[tuple[str, str, dict[str, Any], str]] = []
        self._ids = itertools.count()

    async def __call__(
        self, charge_point_id: str, action: str, payload: dict[str, Any], *, sent_by: str = "csms"
    ) -> object:
        self.sent.append((charge_point_id, action, payload, sent_by))
        record = CommandRecord(
            f"cmd-{next(self._ids)}",
            charge_point_id,
            action,
            payload,
            T0 + timedelta(seconds=len(self.sent)),
            outcome=CommandOutcome.ANSWERED,
            response={"status": "Accepted"},
            sent_by=sent_by,
        )
        await self.store.record_command(record)
        return record


async def one_pass(controller: FirmwareCampaigns, owned: bool = True) -> None:
    await controller.reconcile(T0 + timedelta(seconds=60), lambda key: owned)
    await controller.drain()


async def test_waves_survive_a_restart_and_follow_the_targets_progress(
    store: SqliteStore,
) -> None:
    await store.put_firmware_campaign(CAMPAIGN)
    send = Sender(store)
    await one_pass(FirmwareCampaigns(store, send))
    assert [(cp, sent_by) for cp, _, _, sent_by in send.sent] == [
        ("CP-1", "campaign:c1"),
        ("CP-2", "campaign:c1"),
    ]
    assert send.sent[0][2] == {
        "location": "https://fw.example/2.0.bin",
        "retrieveDate": "2026-12-07T01:00:00.000Z",
    }

    restarted = FirmwareCampaigns(store, send)
    await one_pass(restarted)
    assert len(send.sent) == 2  # both still in flight, known from the command log

    await store.upsert(
        [TransferStatus("CP-2", "firmware", "DownloadFailed", T0 + timedelta(seconds=5))]
    )
    await one_pass(restarted)
    assert [cp for cp, *_ in send.sent] == ["CP-1", "CP-2", "CP-3"]
    await one_pass(restarted)
    assert len(send.sent) == 3


async def test_only_the_owner_and_only_a_running_campaign_sends(store: SqliteStore) -> None:
    send = Sender(store)
    await store.put_firmware_campaign(CAMPAIGN)
    await store.put_firmware_campaign(
        FirmwareCampaign("c2", "ftp://fw/x", T0, 5, 600, {"CP-9": None}, T0, "api", cancelled_at=T0)
    )
    await one_pass(FirmwareCampaigns(store, send), owned=False)
    assert send.sent == []
    controller = FirmwareCampaigns(store, send)
    seen: list[str] = []

    def owns(key: str) -> bool:
        seen.append(key)
        return True

    await controller.reconcile(T0, owns)
    assert seen == [campaign_key("c1"), campaign_key("c2")]
    await controller.drain()
    assert "CP-9" not in [cp for cp, *_ in send.sent]


async def test_a_201_charge_point_gets_the_201_update_firmware(store: SqliteStore) -> None:
    await store.upsert([ChargePointState("CP-2", ocpp_version=OcppVersion.V201)])
    await store.put_firmware_campaign(CAMPAIGN)
    send = Sender(store)
    await one_pass(FirmwareCampaigns(store, send))
    payloads = {cp: payload for cp, _, payload, _ in send.sent}
    assert "retrieveDate" in payloads["CP-1"]
    assert valid("UpdateFirmware", payloads["CP-2"])["firmware"] == {
        "location": "https://fw.example/2.0.bin",
        "retrieveDateTime": "2026-12-07T01:00:00.000Z",
    }
