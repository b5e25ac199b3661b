"""Charging sessions and their meter values."""

from datetime import datetime

from chargestream.api.services.errors import NotFound
from chargestream.domain.records import MeterValue, Session
from chargestream.storage.base import Store


class SessionService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def recent(self, limit: int, before: datetime | None) -> list[Session]:
        """The whole fleet's, newest first."""
        return await self._store.recent_sessions(limit, before)

    async def of_charge_point(
        self, charge_point_id: str, limit: int, before: datetime | None
    ) -> list[Session]:
        """Newest first."""
        return await self._store.sessions_for_charge_point(charge_point_id, limit, before)

    async def get(self, transaction_id: int) -> Session:
        session = await self._store.get_session(transaction_id)
        if session is None:
            raise NotFound(f"no session with transactionId {transaction_id}")
        return session

    async def meter_values(self, transaction_id: int, limit: int) -> list[MeterValue]:
        """Oldest first; NotFound for an unknown session rather than an empty list."""
        await self.get(transaction_id)
        return await self._store.meter_values(transaction_id, limit)
