"""A charge point's OCPP 2.0.1 device model, paged by an opaque cursor (its last key)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson

from chargestream.api.services.errors import InvalidInput
from chargestream.domain.records import DeviceVariable, VariableKey
from chargestream.storage.base import Store

_KEY_TYPES = (str, str, int, int, str, str, str)


@dataclass(frozen=True)
class DeviceModelPage:
    variables: list[DeviceVariable]
    after: str | None  # the cursor of the next page; None: this is the last


class DeviceModelService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def page(
        self,
        charge_point_id: str,
        component: str | None,
        variable: str | None,
        limit: int,
        after: str | None,
    ) -> DeviceModelPage:
        """In key order (component, its instance, EVSE, connector, variable, its instance,
        attribute type); ``after``: the cursor a previous page gave."""
        key = None if after is None else decode_cursor(after)
        found = await self._store.device_variables(
            charge_point_id, component, variable, limit + 1, key
        )
        more = len(found) > limit
        return DeviceModelPage(found[:limit], encode_cursor(found[limit - 1]) if more else None)


def encode_cursor(variable: DeviceVariable) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(variable.sort_key)).decode().rstrip("=")


def decode_cursor(cursor: str) -> VariableKey:
    """The key a cursor names; InvalidInput for anything ``encode_cursor`` did not make."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidInput("after: not a cursor of this listing") from None
    if not isinstance(key, list) or len(key) != len(_KEY_TYPES):
        raise InvalidInput("after: not a cursor of this listing")
    if not all(type(part) is kind for part, kind in zip(key, _KEY_TYPES, strict=True)):
        raise InvalidInput("after: not a cursor of this listing")
    component, component_instance, evse_id, connector_id, name, instance, attribute = key
    return (component, component_instance, evse_id, connector_id, name, instance, attribute)
