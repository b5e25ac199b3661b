"""/healthz and /metrics, served by every long-running process."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chargestream.api.responses import ErrorOut

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
UNHEALTHY = {"model": ErrorOut, "description": "Unhealthy (e.g. the store does not answer)"}


def ops_router(health: HealthCheck) -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/healthz", responses={503: UNHEALTHY})
    async def healthz() -> dict[str, Any]:
        try:
            return {"status": "ok", **await health()}
        except Exception as error:  # whatever makes a process unhealthy is reported, not raised
            raise HTTPException(503, f"unhealthy: {error}") from None

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def ops_app(health: HealthCheck) -> FastAPI:
    """A tiny app with only the ops endpoints (gateway and worker processes)."""
    app = FastAPI(title="chargestream ops", docs_url=None, redoc_url=None)
    app.include_router(ops_router(health))
    return app
