"""Firmware campaigns: created with their targets resolved once, read with every target's
progress computed from the log's views, cancelled (no further waves).

Sending is the controller's (streams/firmware_campaigns.py): a new campaign's first wave
leaves on its next pass.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from chargestream.api.bulk_schemas import BulkFilter
from chargestream.api.services.bulk_commands import MAX_SCANNED, resolve_targets
from chargestream.api.services.charge_points import ChargePointService
from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.records import FirmwareCampaign
from chargestream.domain.settings import Settings
from chargestream.storage.base import Store
from chargestream.streams.firmware_campaigns import (
    CampaignProgress,
    campaign_progress,
    recent_campaigns,
)

EARLIEST_RETRIEVE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_RETRIEVE = timedelta(days=366)


@dataclass(frozen=True)
class CampaignRequest:
    location: str
    retrieve_date: datetime
    charge_point_ids: list[str] | None = None
    filter: BulkFilter | None = None
    retries: int | None = None
    retry_interval: int | None = None
    wave_size: int | None = None  # None: CHARGESTREAM_FIRMWARE_WAVE_SIZE
    wave_timeout: int | None = None  # None: CHARGESTREAM_FIRMWARE_WAVE_TIMEOUT


class FirmwareCampaignService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        charge_points: ChargePointService,
        clock: Clock = utc_now,
    ) -> None:
        self._settings = settings
        self._store = store
        self._charge_points = charge_points
        self._clock = clock

    async def create(self, request: CampaignRequest, *, created_by: str) -> CampaignProgress:
        """The campaign, every target pending; InvalidInput (nothing created) for a retrieve
        date before 2000 or more than a year ahead, unknown charge points or too many."""
        now = self._clock()
        if not EARLIEST_RETRIEVE <= request.retrieve_date <= now + LATEST_RETRIEVE:
            raise InvalidInput("retrieve_date must be after 2000 and at most a year ahead")
        targets = await resolve_targets(
            self._charge_points, request.charge_point_ids, request.filter
        )
        versions = await self._firmware_versions()
        campaign = FirmwareCampaign(
            campaign_id=f"{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}",
            location=request.location,
            retrieve_date=request.retrieve_date,
            wave_size=request.wave_size or self._settings.firmware_wave_size,
            wave_timeout=request.wave_timeout or self._settings.firmware_wave_timeout,
            targets={cp: versions.get(cp) for cp in targets},
            created_at=now,
            created_by=created_by,
            retries=request.retries,
            retry_interval=request.retry_interval,
        )
        await self._store.put_firmware_campaign(campaign)
        return await campaign_progress(self._store, campaign, now)

    async def _firmware_versions(self) -> dict[str, str | None]:
        states = await self._store.list_charge_point_states(MAX_SCANNED)
        return {state.charge_point_id: state.firmware_version for state in states}

    async def listing(self, limit: int) -> list[CampaignProgress]:
        return await recent_campaigns(self._store, limit, self._clock())

    async def get(self, campaign_id: str) -> CampaignProgress:
        campaign = await self._campaign(campaign_id)
        return await campaign_progress(self._store, campaign, self._clock())

    async def cancel(self, campaign_id: str) -> CampaignProgress:
        """No further UpdateFirmware (those sent go on); cancelling again changes nothing."""
        campaign = await self._campaign(campaign_id)
        now = self._clock()
        if campaign.cancelled_at is None:
            campaign = replace(campaign, cancelled_at=now)
            await self._store.put_firmware_campaign(campaign)
        return await campaign_progress(self._store, campaign, now)

    async def _campaign(self, campaign_id: str) -> FirmwareCampaign:
        campaign = await self._store.get_firmware_campaign(campaign_id)
        if campaign is None:
            raise NotFound(f"no firmware campaign {campaign_id}")
        return campaign
