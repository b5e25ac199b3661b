"""What routes receive through FastAPI's dependency injection."""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chargestream.api.wiring import ApiServices


def api_services(request: Request) -> ApiServices:
    """The services ``create_api`` put on the app's state."""
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(api_services)]


# declares the scheme in /openapi.json (the docs' "Authorize"); the check is ``authorized``'s
_BEARER = HTTPBearer(auto_error=False, description="The API token (CHARGESTREAM_API_TOKEN)")


async def authorized(
    request: Request,
    services: Services,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> str:
    """The name of the token the request carries; 401 without the right one."""
    if not services.auth.allows(request.headers.get("Authorization")):
        raise HTTPException(
            401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return services.auth.name


OPERATOR_HEADER = "X-Chargestream-Operator"


async def sender(
    token_name: Annotated[str, Depends(authorized)],
    operator: Annotated[
        str | None,
        Header(
            alias=OPERATOR_HEADER,
            min_length=1,
            max_length=64,
            pattern=r"^[ -~]+$",
            description="The dashboard operator acting through the token (1-64 printable "
            "ASCII characters), recorded as `operator:<name>`. Advisory: anyone holding the "
            "token can set it.",
        ),
    ] = None,
) -> str:
    """Who sends a command: ``operator:<name>`` if the header names one, else the token."""
    return token_name if operator is None else f"operator:{operator}"


Sender = Annotated[str, Depends(sender)]


async def known_charge_point(charge_point_id: str, services: Services) -> str:
    """The path's charge point id, or 404 if it is neither registered nor ever seen."""
    await services.charge_points.require_known(charge_point_id)
    return charge_point_id


KnownChargePoint = Annotated[str, Depends(known_charge_point)]
