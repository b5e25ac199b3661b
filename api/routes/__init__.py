"""The /api/v1 routes, one router per resource."""

from fastapi import APIRouter, Depends

from chargestream.api.dependencies import authorized
from chargestream.api.responses import EVERY_ROUTE
from chargestream.api.routes import (
    alerts,
    bulk_commands,
    charge_points,
    charging_profiles,
    commands,
    device_model,
    diagnostics,
    firmware_campaigns,
    id_tags,
    local_lists,
    notifications,
    reports,
    reservations,
    sessions,
    sites,
)


def v1_router() -> APIRouter:
    """Every /api/v1 route, behind the bearer token, which is checked here and only here."""
    v1 = APIRouter(prefix="/api/v1", dependencies=[Depends(authorized)], responses=EVERY_ROUTE)
    for resource in (
        charge_points,
        sessions,
        bulk_commands,
        commands,
        alerts,
        notifications,
        id_tags,
        diagnostics,
        reservations,
        charging_profiles,
        local_lists,
        sites,
        firmware_campaigns,
        device_model,
        reports,
    ):
        v1.include_router(resource.router)
    return v1
