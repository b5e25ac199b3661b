"""What /healthz reports once the store answers."""

from collections.abc import Callable
from typing import Any

from chargestream.domain.settings import Settings
from chargestream.storage.base import Store

ProcessStatus = Callable[[], dict[str, Any]]


class HealthService:
    def __init__(self, settings: Settings, store: Store, status: ProcessStatus) -> None:
        self._settings = settings
        self._store = store
        self._status = status

    async def check(self) -> dict[str, Any]:
        """Mode, node and the process's own status; raises if the store does not answer."""
        await self._store.get_registration("\0healthz")
        return {"mode": self._settings.mode.value, "node": self._settings.node_id, **self._status()}
