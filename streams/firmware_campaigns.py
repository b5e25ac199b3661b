"""Firmware campaigns: each target's progress read from the store, and the controller that
sends UpdateFirmware in waves (streams/control.py).

What was sent is the command log (``sent_by="campaign:<id>"``), how it went the derived
firmware status and boot firmware version, so a restart loses nothing: the next pass reads
the same and sends only to targets the log shows no UpdateFirmware of the campaign for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chargestream.domain.commands import CsmsSend, SendCommand
from chargestream.domain.firmware import (
    DONE,
    UPDATE_FIRMWARE,
    CampaignStatus,
    TargetProgress,
    TargetView,
    campaign_status,
    counts,
    next_wave,
    target_progress,
    update_firmware_payload,
)
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import FirmwareCampaign
from chargestream.storage.base import Store
from chargestream.streams.control import Observed, Outbox, Owns
from chargestream.streams.security import FIRMWARE

COMMANDS_SCANNED = 200  # a target's newest commands searched for the campaign's UpdateFirmware
READS_AT_ONCE = 16  # targets read from the store concurrently


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    campaign: FirmwareCampaign
    status: CampaignStatus
    counts: dict[str, int]
    targets: list[TargetProgress]


async def campaign_progress(
    store: Store, campaign: FirmwareCampaign, now: datetime
) -> CampaignProgress:
    """The campaign with every target's progress at ``now``, in the campaign's order."""
    targets = await _progress(store, campaign, now, {})
    return CampaignProgress(campaign, campaign_status(campaign, targets), counts(targets), targets)


async def recent_campaigns(store: Store, limit: int, now: datetime) -> list[CampaignProgress]:
    """The newest ``limit`` campaigns with their progress, newest first (ids sort by
    creation time)."""
    newest = (await store.firmware_campaigns())[::-1][:limit]
    return [await campaign_progress(store, campaign, now) for campaign in newest]


async def _progress(
    store: Store, campaign: FirmwareCampaign, now: datetime, known: dict[str, TargetProgress]
) -> list[TargetProgress]:
    """Every target's progress; ``known`` ones (installed or failed) are not read again."""
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def one(charge_point_id: str) -> TargetProgress:
        if charge_point_id in known:
            return known[charge_point_id]
        async with gate:
            view = await target_view(store, campaign, charge_point_id)
        return target_progress(campaign, view, now)

    return list(await asyncio.gather(*(one(cp) for cp in campaign.targets)))


async def target_view(store: Store, campaign: FirmwareCampaign, charge_point_id: str) -> TargetView:
    """What the store shows about one target (only its commands until it was sent one)."""
    commands = await store.commands(charge_point_id, COMMANDS_SCANNED)
    command = next(
        (c for c in commands if c.sent_by == campaign.sent_by and c.action == UPDATE_FIRMWARE),
        None,
    )
    if command is None:
        return TargetView(charge_point_id, None, None, None)
    statuses = await store.transfer_statuses(charge_point_id)
    firmware = next((s for s in statuses if s.transfer == FIRMWARE), None)
    state = await store.get_charge_point_state(charge_point_id)
    return TargetView(charge_point_id, command, firmware, state)


def campaign_key(campaign_id: str) -> str:
    """The key a campaign is owned by, hashed like a charge point id."""
    return f"campaign:{campaign_id}"


class FirmwareCampaigns:
    """Each pass: for every running campaign this process owns, send UpdateFirmware to the
    next pending targets while fewer than ``wave_size`` are in flight.

    Memory holds only caches: the targets known to be done and the campaigns known to be
    over (neither ever changes back), and the commands being sent (an ``Outbox`` per
    campaign, since each sends as its own ``sent_by``).
    """

    def __init__(self, store: Store, send: CsmsSend) -> None:
        self._store = store
        self._send = send
        self._outboxes: dict[str, Outbox] = {}
        self._done: dict[str, dict[str, TargetProgress]] = {}
        self._over: set[str] = set()

    async def observe(self, batch: Sequence[Observed]) -> None:
        """Nothing: progress is read on the pass (every CHARGESTREAM_CONTROL_INTERVAL)."""

    async def reconcile(self, now: datetime, owns: Owns) -> None:
        for campaign in await self._store.firmware_campaigns():
            cid = campaign.campaign_id
            if cid in self._over or not owns(campaign_key(cid)):
                continue
            if campaign.cancelled_at is not None:
                self._over.add(cid)
                continue
            await self._advance(campaign, now)

    async def _advance(self, campaign: FirmwareCampaign, now: datetime) -> None:
        cid = campaign.campaign_id
        done = self._done.setdefault(cid, {})
        progress = await _progress(self._store, campaign, now, done)
        done.update({p.charge_point_id: p for p in progress if p.state in DONE})
        if campaign_status(campaign, progress) is CampaignStatus.FINISHED:
            self._over.add(cid)
            self._done.pop(cid, None)
            return
        outbox = self._outboxes.get(cid)
        if outbox is None:
            outbox = self._outboxes[cid] = Outbox(_sending_as(self._send, campaign.sent_by))
        busy = {cp for cp in campaign.targets if outbox.busy(cp)}
        for charge_point_id in next_wave(campaign, progress, busy):
            state = await self._store.get_charge_point_state(charge_point_id)
            version = (state and state.ocpp_version) or OcppVersion.V16
            payload = update_firmware_payload(campaign, version)
            outbox.post(charge_point_id, charge_point_id, UPDATE_FIRMWARE, payload)

    async def drain(self) -> None:
        """Wait until every UpdateFirmware posted so far has its outcome."""
        for outbox in list(self._outboxes.values()):
            await outbox.drain()


def _sending_as(send: CsmsSend, sent_by: str) -> SendCommand:
    async def send_as(charge_point_id: str, action: str, payload: dict[str, Any]) -> object:
        return await send(charge_point_id, action, payload, sent_by=sent_by)

    return send_as
