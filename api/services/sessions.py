"""Charging sessions, with their progress so far, and their meter values."""

from collections.abc import Sequence
from datetime import UTC, datetime

from chargestream.api.schemas import SessionOut
from chargestream.api.services.errors import NotFound
from chargestream.domain.records import MeterValue, Session
from chargestream.storage.base import Store
from chargestream.streams.progress import progress_of


class SessionService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def recent(self, limit: int, before: datetime | None) -> list[SessionOut]:
        """The whole fleet's, newest first."""
        return await self._with_progress(await self._store.recent_sessions(limit, before))

    async def of_charge_point(
        self, charge_point_id: str, limit: int, before: datetime | None
    ) -> list[SessionOut]:
        """Newest first."""
        found = await self._store.sessions_for_charge_point(charge_point_id, limit, before)
        return await self._with_progress(found)

    async def get(self, transaction_id: int) -> SessionOut:
        return (await self._with_progress([await self._stored(transaction_id)]))[0]

    async def meter_values(self, transaction_id: int, limit: int) -> list[MeterValue]:
        """Oldest first; NotFound for an unknown session rather than an empty list."""
        await self._stored(transaction_id)
        return await self._store.meter_values(transaction_id, limit)

    async def _stored(self, transaction_id: int) -> Session:
        session = await self._store.get_session(transaction_id)
        if session is None:
            raise NotFound(f"no session with transactionId {transaction_id}")
        return session

    async def _with_progress(self, sessions: Sequence[Session]) -> list[SessionOut]:
        """Running sessions read their meter values for their energy and power so far."""
        found = await progress_of(self._store, sessions, datetime.now(UTC))
        return [SessionOut.build(s, found[s.transaction_id]) for s in sessions]
