"""Remote commands to charge points and the command log."""

from typing import Any

from chargestream.api.services.errors import NotFound
from chargestream.domain.passwords import generate_charge_point_password
from chargestream.domain.records import CommandRecord
from chargestream.gateway import rotation
from chargestream.gateway.commands import CommandService, UnknownAction
from chargestream.storage.base import Store


class CommandsService:
    def __init__(self, commands: CommandService, store: Store) -> None:
        self._commands = commands
        self._store = store

    async def send(
        self,
        charge_point_id: str,
        action: str,
        payload: dict[str, Any],
        timeout: float | None,
        *,
        sent_by: str,
    ) -> CommandRecord:
        """The command with its outcome (REJECTED for an action of another OCPP version than
        the charge point's); NotFound if no OCPP version has such a CSMS action."""
        try:
            return await self._commands.send(
                charge_point_id, action, payload, timeout, sent_by=sent_by
            )
        except UnknownAction:
            raise NotFound(f"{action!r} is not a CSMS action of OCPP 1.6 or 2.0.1") from None

    async def rotate_password(
        self, charge_point_id: str, timeout: float | None, *, sent_by: str
    ) -> CommandRecord:
        """Send a new random password (ChangeConfiguration AuthorizationKey); the gateway
        stores it when the charge point accepts. The key itself is returned nowhere."""
        payload = {"key": rotation.KEY, "value": generate_charge_point_password()}
        return await self._commands.send(
            charge_point_id, rotation.ACTION, payload, timeout, sent_by=sent_by
        )

    async def log(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
        """Newest first, of one charge point or of all."""
        return await self._store.commands(charge_point_id, limit)
