"""FastAPI application: reads through the Store, commands through CommandService."""

from fastapi import FastAPI

from chargestream.api.errors import answer_service_errors
from chargestream.api.ops import ops_router
from chargestream.api.routes import v1_router
from chargestream.api.routes.uploads import uploads_router
from chargestream.api.security import SecurityHeaders, docs_router
from chargestream.api.services.diagnostics import FtpListener
from chargestream.api.services.frames import RecentFrames
from chargestream.api.services.health import ProcessStatus
from chargestream.api.wiring import ApiServices
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService
from chargestream.gateway.directory import Directory
from chargestream.storage.base import Store


def create_api(
    settings: Settings,
    store: Store,
    commands: CommandService,
    *,
    recent_frames: RecentFrames | None = None,
    directory: Directory | None = None,
    status: ProcessStatus = dict,
    ftp: FtpListener | None = None,
) -> FastAPI:
    """The API app; ``directory`` is the gateway's cache when it runs in this process,
    ``ftp`` the FTP upload server beside it (None: diagnostics upload only over HTTP).

    SettingsError if ``settings`` have no API token: /api/v1 is never served open.
    """
    app = FastAPI(
        title="chargestream",
        version="1",
        description="OCPP 1.6-J charging station management: charge points, sessions, "
        "meter values, status history, alerts, id tags and remote commands.",
        docs_url=None,  # ours, under a Content-Security-Policy (api/security.py)
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.add_middleware(SecurityHeaders)
    services = ApiServices.create(
        settings,
        store,
        commands,
        recent_frames=recent_frames,
        directory=directory,
        status=status,
        ftp=ftp,
    )
    app.state.services = services
    answer_service_errors(app)
    app.include_router(ops_router(services.health.check))
    app.include_router(docs_router())
    app.include_router(v1_router())
    app.include_router(uploads_router())  # no bearer token: a one-time token in the path
    return app
