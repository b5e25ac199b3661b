"""What routes receive through FastAPI's dependency injection."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from chargestream.api.wiring import ApiServices


def api_services(request: Request) -> ApiServices:
    """The services ``create_api`` put on the app's state."""
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(api_services)]


async def authorized(request: Request, services: Services) -> None:
    if not services.auth.allows(request.headers.get("Authorization")):
        raise HTTPException(401, "missing or wrong bearer token")


async def known_charge_point(charge_point_id: str, services: Services) -> str:
    """The path's charge point id, or 404 if it is neither registered nor ever seen."""
    await services.charge_points.require_known(charge_point_id)
    return charge_point_id


KnownChargePoint = Annotated[str, Depends(known_charge_point)]
