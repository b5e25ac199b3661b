"""The services of one API app, built once from what ``create_api`` is given."""

from __future__ import annotations

from dataclasses import dataclass

from chargestream.api.services.alerts import AlertService
from chargestream.api.services.auth import BearerToken
from chargestream.api.services.bulk_commands import BulkCommandsService
from chargestream.api.services.charge_points import ChargePointService
from chargestream.api.services.charging_profiles import ChargingProfileService
from chargestream.api.services.commands import CommandsService
from chargestream.api.services.device_model import DeviceModelService
from chargestream.api.services.diagnostics import DiagnosticsService, FtpListener
from chargestream.api.services.firmware_campaigns import FirmwareCampaignService
from chargestream.api.services.frames import FrameService, RecentFrames
from chargestream.api.services.health import HealthService, ProcessStatus
from chargestream.api.services.id_tags import IdTagService
from chargestream.api.services.local_lists import LocalListService
from chargestream.api.services.notifications import NotificationService
from chargestream.api.services.reports import ReportService
from chargestream.api.services.reservations import ReservationService
from chargestream.api.services.sessions import SessionService
from chargestream.api.services.sites import SiteService
from chargestream.domain.settings import PREFIX, Settings, SettingsError
from chargestream.gateway.commands import CommandService
from chargestream.gateway.directory import Directory
from chargestream.storage.base import Store
from chargestream.streams.notification_senders import Senders


@dataclass(frozen=True)
class ApiServices:
    auth: BearerToken
    health: HealthService
    charge_points: ChargePointService
    frames: FrameService
    sessions: SessionService
    commands: CommandsService
    bulk_commands: BulkCommandsService
    alerts: AlertService
    id_tags: IdTagService
    diagnostics: DiagnosticsService
    reservations: ReservationService
    charging_profiles: ChargingProfileService
    local_lists: LocalListService
    sites: SiteService
    firmware_campaigns: FirmwareCampaignService
    device_model: DeviceModelService
    notifications: NotificationService
    reports: ReportService

    @classmethod
    def create(
        cls,
        settings: Settings,
        store: Store,
        commands: CommandService,
        *,
        recent_frames: RecentFrames | None,
        directory: Directory | None,
        status: ProcessStatus,
        ftp: FtpListener | None = None,
    ) -> ApiServices:
        """SettingsError without an API token: the API is never served open."""
        if settings.api_token is None:
            raise SettingsError(
                f"{PREFIX}API_TOKEN is not set: the HTTP API does not run without a bearer "
                "token (`chargestream run` and `chargestream stack` generate one in the data "
                "directory, the Helm chart keeps one in a Secret)"
            )
        charge_points = ChargePointService(store, directory)
        local_lists = LocalListService(store)
        return cls(
            auth=BearerToken(settings.api_token),
            health=HealthService(settings, store, status),
            charge_points=charge_points,
            frames=FrameService(recent_frames, settings.frames_response_bytes),
            sessions=SessionService(store),
            commands=CommandsService(commands, store),
            bulk_commands=BulkCommandsService(commands, charge_points),
            alerts=AlertService(store),
            id_tags=IdTagService(store, directory, local_lists),
            diagnostics=DiagnosticsService(settings, commands, ftp=ftp),
            reservations=ReservationService(store, commands),
            charging_profiles=ChargingProfileService(store, commands),
            local_lists=local_lists,
            sites=SiteService(store),
            firmware_campaigns=FirmwareCampaignService(settings, store, charge_points),
            device_model=DeviceModelService(store),
            notifications=NotificationService(store, Senders(settings)),
            reports=ReportService(store),
        )
