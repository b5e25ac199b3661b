"""/api/v1/id-tags."""

from fastapi import APIRouter, Query

from chargestream.api.dependencies import Services
from chargestream.api.responses import NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import IdTagIn
from chargestream.domain.records import IdTag

router = APIRouter(tags=["id tags"])


@router.get("/id-tags")
async def id_tags(services: Services, limit: int = Query(1000, ge=1, le=10000)) -> list[IdTag]:
    return await services.id_tags.listing(limit)


@router.get("/id-tags/{id_tag}", responses=NOT_FOUND)
async def get_id_tag(id_tag: str, services: Services) -> IdTag:
    return await services.id_tags.get(id_tag)


@router.put("/id-tags/{id_tag}", responses=UNREADABLE_BODY)
async def put_id_tag(id_tag: str, body: IdTagIn, services: Services) -> IdTag:
    return await services.id_tags.put(id_tag, body)


@router.delete("/id-tags/{id_tag}", status_code=204, responses=NOT_FOUND)
async def delete_id_tag(id_tag: str, services: Services) -> None:
    await services.id_tags.delete(id_tag)
