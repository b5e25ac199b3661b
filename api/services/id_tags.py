"""Id tags: who may charge."""

from chargestream.api.schemas import IdTagIn
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.api.services.local_lists import LocalListService
from chargestream.domain.records import IdTag
from chargestream.gateway.directory import Directory
from chargestream.storage.base import Store

MAX_ID_TAG_LENGTH = 20  # OCPP 1.6 IdToken is CiString20Type


class IdTagService:
    def __init__(
        self,
        store: Store,
        directory: Directory | None = None,
        local_lists: LocalListService | None = None,
    ) -> None:
        """``directory``: the gateway's cache in this process, told of every change;
        ``local_lists``: told of every change, so the lists holding the tag are sent again."""
        self._store = store
        self._directory = directory
        self._local_lists = local_lists

    async def listing(self, limit: int) -> list[IdTag]:
        return await self._store.list_id_tags(limit)

    async def get(self, id_tag: str) -> IdTag:
        tag = await self._store.get_id_tag(id_tag)
        if tag is None:
            raise NotFound(f"unknown id tag {id_tag!r}")
        return tag

    async def put(self, id_tag: str, definition: IdTagIn) -> IdTag:
        """Create or replace the tag."""
        if not 0 < len(id_tag) <= MAX_ID_TAG_LENGTH:
            raise InvalidInput(f"an OCPP 1.6 idTag has 1 to {MAX_ID_TAG_LENGTH} characters")
        tag = IdTag(id_tag, definition.status, definition.expiry_date, definition.parent_id_tag)
        old = await self._store.get_id_tag(id_tag)
        await self._store.put_id_tag(tag)
        if old != tag:
            await self._changed(id_tag)
        return tag

    async def delete(self, id_tag: str) -> None:
        if not await self._store.delete_id_tag(id_tag):
            raise NotFound(f"unknown id tag {id_tag!r}")
        await self._changed(id_tag)

    async def _changed(self, id_tag: str) -> None:
        if self._directory is not None:
            self._directory.id_tags.invalidate(id_tag)
        if self._local_lists is not None:
            await self._local_lists.tag_changed(id_tag)
