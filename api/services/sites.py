"""Sites: the operator's site limits, and how the site controller divided them.

A charge point belongs to at most one site. The sessions shown are the open sessions of
the site's charge points with the allocation the controller decided and the charge point
answered (streams/sites.py), and their latest measured power.
"""

from __future__ import annotations

from chargestream.api.schemas import SiteIn, SiteOut, SiteSessionOut
from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.records import Site
from chargestream.storage.base import Store
from chargestream.streams.sites import session_views


class SiteService:
    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def listing(self) -> list[Site]:
        return await self._store.list_sites()

    async def get(self, site_id: str) -> SiteOut:
        site = await self._store.get_site(site_id)
        if site is None:
            raise NotFound(f"unknown site {site_id!r}")
        return await self._out(site)

    async def put(self, site_id: str, body: SiteIn) -> SiteOut:
        """Create or replace; 422 if a charge point is in another site already."""
        members = tuple(body.charge_points)
        for other in await self._store.list_sites():
            taken = sorted(set(members) & set(other.charge_points))
            if other.site_id != site_id and taken:
                raise InvalidInput(
                    f"charge point {taken[0]!r} is in site {other.site_id!r} already"
                )
        site = Site(
            site_id,
            members,
            self._clock(),
            max_power_w=body.max_power_w,
            max_current_a=body.max_current_a,
            nominal_voltage=body.nominal_voltage,
            phases=body.phases,
            min_current_a=body.min_current_a,
        )
        await self._store.put_site(site)
        return await self._out(site)

    async def delete(self, site_id: str) -> None:
        """The site controller clears the profiles it gave the site's charge points."""
        if not await self._store.delete_site(site_id):
            raise NotFound(f"unknown site {site_id!r}")

    async def _out(self, site: Site) -> SiteOut:
        views = await session_views(self._store, site)
        return SiteOut.build(site, [SiteSessionOut.build(view) for view in views])
