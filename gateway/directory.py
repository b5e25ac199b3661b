"""Cached reads of operator data the gateway needs on its hot path.

Registrations and id tags change rarely and are read on every connect,
BootNotification, Authorize and StartTransaction, so they are cached for
``ttl`` seconds. Writers in the same process invalidate the entry at once;
other processes see changes within ``ttl``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Generic, TypeVar

from chargestream.domain.records import IdTag, Registration
from chargestream.storage.base import Store

T = TypeVar("T")


class NotRegistered(LookupError):
    """An operation that needs the charge point's registration found none."""


class TtlCache(Generic[T]):
    def __init__(
        self,
        load: Callable[[str], Awaitable[T | None]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, T | None]] = {}

    async def get(self, key: str) -> T | None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = await self._load(key)
        self._entries.pop(key, None)  # the dict stays in expiry order: the oldest first
        while self._entries and next(iter(self._entries.values()))[0] <= now:
            del self._entries[next(iter(self._entries))]
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (now + self._ttl, value)
        return value

    def invalidate(self, key: str) -> None:
        self._entries.pop(key, None)


class Directory:
    """Registrations and id tags, through a cache."""

    def __init__(self, store: Store, ttl: float) -> None:
        self._store = store
        self.registrations: TtlCache[Registration] = TtlCache(store.get_registration, ttl)
        self.id_tags: TtlCache[IdTag] = TtlCache(store.get_id_tag, ttl)

    async def registration(self, charge_point_id: str) -> Registration | None:
        return await self.registrations.get(charge_point_id)

    async def id_tag(self, id_tag: str) -> IdTag | None:
        return await self.id_tags.get(id_tag)

    async def register(self, registration: Registration) -> None:
        await self._store.put_registration(registration)
        self.registrations.invalidate(registration.charge_point_id)

    async def set_next_password(self, charge_point_id: str, password_hash: str) -> None:
        """Keep a rotated password beside the current one (of a registered charge point)."""
        current = await self._store.get_registration(charge_point_id)
        if current is None:
            raise NotRegistered(charge_point_id)
        await self.register(replace(current, next_password_hash=password_hash))

    async def promote_next_password(self, charge_point_id: str, password_hash: str) -> None:
        """The charge point connected with its next password: it becomes the password and the
        one before stops working. Nothing changes if the next password changed meanwhile."""
        current = await self._store.get_registration(charge_point_id)
        if current is None or current.next_password_hash != password_hash:
            return
        await self.register(replace(current, password_hash=password_hash, next_password_hash=None))

    async def withdraw_next_password(self, charge_point_id: str, password_hash: str) -> None:
        """The charge point did not take the next password: forget it (if still the next)."""
        current = await self._store.get_registration(charge_point_id)
        if current is not None and current.next_password_hash == password_hash:
            await self.register(replace(current, next_password_hash=None))
