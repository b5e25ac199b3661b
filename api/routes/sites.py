"""/api/v1/sites: site load management (docs/operations.md, "Site load management")."""

from typing import Annotated

from fastapi import APIRouter, Path

from chargestream.api.dependencies import Services
from chargestream.api.responses import NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import SiteIn, SiteOut
from chargestream.domain.records import Site

router = APIRouter(tags=["sites"])

SiteId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
]


@router.get("/sites")
async def list_sites(services: Services) -> list[Site]:
    """Every site, by id (its sessions: GET /sites/{site})."""
    return await services.sites.listing()


@router.get("/sites/{site_id}", responses=NOT_FOUND)
async def get_site(site_id: SiteId, services: Services) -> SiteOut:
    """The site with its open sessions: allocated (A per phase and W, with the charge
    point's answer) and measured power."""
    return await services.sites.get(site_id)


@router.put("/sites/{site_id}", responses=UNREADABLE_BODY)
async def put_site(site_id: SiteId, body: SiteIn, services: Services) -> SiteOut:
    """Create or replace a site; 422 if a charge point is in another site. The site
    controller divides the new limit at once on its next pass."""
    return await services.sites.put(site_id, body)


@router.delete("/sites/{site_id}", status_code=204, responses=NOT_FOUND)
async def delete_site(site_id: SiteId, services: Services) -> None:
    """Remove the site; its charge points' site profiles are cleared on the next pass."""
    await services.sites.delete(site_id)
