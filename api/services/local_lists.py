"""Local Authorization Lists: which id tags each charge point should hold, and how far it is.

The assignment is operator data; ``desired_version`` grows whenever its content changes: on
a PUT that changes it, and when an id tag it holds is changed or deleted through the API
(``IdTagService``). The controller (``streams/local_lists.py``) does the sending; the view
joins the assignment with what the log shows the charge point confirmed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.records import (
    LOCAL_LIST_VERSION_STEP,
    MAX_LOCAL_LIST,
    LocalListAssignment,
    LocalListMode,
    LocalListState,
)
from chargestream.storage.base import Store
from chargestream.streams.local_list_plan import in_sync, problem

MAX_ID_TAG_LENGTH = 20  # OCPP 1.6 IdToken


@dataclass(frozen=True)
class LocalListView:
    """An assignment with what the charge point confirmed (``state`` None: nothing yet)."""

    assignment: LocalListAssignment
    state: LocalListState | None
    in_sync: bool
    problem: str | None


class LocalListService:
    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock
        self._writing = asyncio.Lock()  # read-modify-writes of assignments, in this process

    async def get(self, charge_point_id: str) -> LocalListView:
        assignment = await self._store.get_local_list(charge_point_id)
        if assignment is None:
            raise NotFound(f"no local list is assigned to {charge_point_id!r}")
        state = await self._store.local_list_state(charge_point_id)
        size = len(assignment.tags)
        if assignment.mode is LocalListMode.ALL:
            size = len(await self._store.list_id_tags(MAX_LOCAL_LIST + 1))
        return LocalListView(assignment, state, in_sync(assignment, state), problem(size, state))

    async def put(
        self, charge_point_id: str, mode: LocalListMode, tags: list[str]
    ) -> LocalListView:
        """Set the list; its desired version grows if its content changes."""
        if mode is LocalListMode.ALL and tags:
            raise InvalidInput('mode "all" holds every id tag: name no tags')
        if len(tags) > MAX_LOCAL_LIST:
            raise InvalidInput(f"a local list holds at most {MAX_LOCAL_LIST} id tags")
        if any(not 0 < len(tag) <= MAX_ID_TAG_LENGTH for tag in tags):
            raise InvalidInput(f"an OCPP 1.6 idTag has 1 to {MAX_ID_TAG_LENGTH} characters")
        async with self._writing:
            old = await self._store.get_local_list(charge_point_id)
            wanted = (mode, tuple(sorted(set(tags))))
            if old is None or (old.mode, old.tags) != wanted:
                version = (0 if old is None else old.desired_version) + LOCAL_LIST_VERSION_STEP
                new = LocalListAssignment(charge_point_id, mode, version, self._clock(), wanted[1])
                await self._store.put_local_list(new)
        return await self.get(charge_point_id)

    async def tag_changed(self, id_tag: str) -> None:
        """A new version for every list holding the id tag (mode all: every list)."""
        async with self._writing:
            now = self._clock()
            for assignment in await self._store.local_lists():
                if assignment.holds(id_tag):
                    version = assignment.desired_version + LOCAL_LIST_VERSION_STEP
                    await self._store.put_local_list(
                        replace(assignment, desired_version=version, updated_at=now)
                    )
