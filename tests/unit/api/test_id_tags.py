"""IdTagService: OCPP idTag rules and the gateway cache."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from chargestream.api.schemas import IdTagIn
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.api.services.id_tags import IdTagService
from chargestream.domain.records import IdTag, IdTagStatus
from chargestream.gateway.directory import Directory
from chargestream.storage.sqlite import SqliteStore


async def test_put_stores_the_tag_and_refreshes_the_gateway_cache(
    store: SqliteStore, directory: Directory
) -> None:
    id_tags = IdTagService(store, directory)
    assert await directory.id_tag("TAG-1") is None  # now cached as unknown
    definition = IdTagIn.model_validate(
        {"status": "Blocked", "expiry_date": "2030-01-01T00:00:00", "parent_id_tag": "P"}
    )

    tag = await id_tags.put("TAG-1", definition)

    expected = IdTag("TAG-1", IdTagStatus.BLOCKED, datetime(2030, 1, 1, tzinfo=UTC), "P")
    assert tag == expected
    assert await id_tags.get("TAG-1") == expected
    assert await directory.id_tag("TAG-1") == expected


async def test_delete_refreshes_the_gateway_cache(store: SqliteStore, directory: Directory) -> None:
    id_tags = IdTagService(store, directory)
    await id_tags.put("TAG-1", IdTagIn())
    assert await directory.id_tag("TAG-1") is not None

    await id_tags.delete("TAG-1")

    assert await directory.id_tag("TAG-1") is None
    with pytest.raises(NotFound, match="unknown id tag 'TAG-1'"):
        await id_tags.get("TAG-1")
    with pytest.raises(NotFound, match="unknown id tag 'TAG-1'"):
        await id_tags.delete("TAG-1")


async def test_an_id_tag_has_at_most_20_characters(store: SqliteStore) -> None:
    id_tags = IdTagService(store)

    await id_tags.put("X" * 20, IdTagIn())
    with pytest.raises(InvalidInput, match=re.escape("an OCPP 1.6 idTag has 1 to 20 characters")):
        await id_tags.put("X" * 21, IdTagIn())
    assert [t.id_tag for t in await id_tags.listing(limit=10)] == ["X" * 20]
