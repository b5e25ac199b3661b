"""LocalListService: assignments, their desired versions, and id-tag changes bumping the
lists that hold the tag."""

from __future__ import annotations

import pytest

from chargestream.api.schemas import IdTagIn
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.api.services.id_tags import IdTagService
from chargestream.api.services.local_lists import LocalListService
from chargestream.domain.records import LocalListMode, LocalListState
from chargestream.storage.sqlite import SqliteStore
from tests.unit.api.conftest import NOW, fixed_clock

TAGS, ALL = LocalListMode.TAGS, LocalListMode.ALL


async def versions(store: SqliteStore) -> dict[str, int]:
    return {a.charge_point_id: a.desired_version for a in await store.local_lists()}


async def test_put_grows_the_version_only_when_the_content_changes(store: SqliteStore) -> None:
    lists = LocalListService(store, fixed_clock)
    first = await lists.put("CP-1", TAGS, ["B", "A", "B"])
    assert (first.assignment.tags, first.assignment.desired_version) == (("A", "B"), 10_000)
    assert first.assignment.updated_at == NOW
    assert (first.state, first.in_sync, first.problem) == (None, False, None)
    assert (await lists.put("CP-1", TAGS, ["A", "B"])).assignment.desired_version == 10_000
    assert (await lists.put("CP-1", ALL, [])).assignment.desired_version == 20_000


async def test_get_joins_what_the_charge_point_confirmed(store: SqliteStore) -> None:
    lists = LocalListService(store, fixed_clock)
    with pytest.raises(NotFound):
        await lists.get("CP-1")
    await lists.put("CP-1", TAGS, ["A", "B", "C"])
    await store.upsert([LocalListState("CP-1", NOW, version=10_000, list_max_length=2)])
    view = await lists.get("CP-1")
    assert view.in_sync
    assert view.problem == "3 id tags, the charge point holds at most 2 (LocalAuthListMaxLength)"


@pytest.mark.parametrize(
    ("mode", "tags"), [(ALL, ["A"]), (TAGS, [""]), (TAGS, ["x" * 21]), (TAGS, ["T"] * 10_001)]
)
async def test_put_refuses_what_no_list_can_hold(
    store: SqliteStore, mode: LocalListMode, tags: list[str]
) -> None:
    with pytest.raises(InvalidInput):
        await LocalListService(store, fixed_clock).put("CP-1", mode, tags)


async def test_an_id_tag_change_bumps_every_list_holding_it(store: SqliteStore) -> None:
    lists = LocalListService(store, fixed_clock)
    id_tags = IdTagService(store, local_lists=lists)
    await lists.put("CP-A", TAGS, ["A"])
    await lists.put("CP-B", TAGS, ["B"])
    await lists.put("CP-ALL", ALL, [])
    await id_tags.put("A", IdTagIn())
    assert await versions(store) == {"CP-A": 20_000, "CP-ALL": 20_000, "CP-B": 10_000}
    await id_tags.put("A", IdTagIn())  # unchanged: no new version
    assert await versions(store) == {"CP-A": 20_000, "CP-ALL": 20_000, "CP-B": 10_000}
    await id_tags.put("A", IdTagIn(status="Blocked"))
    with pytest.raises(NotFound):  # unknown to the store: nothing bumped
        await id_tags.delete("B")
    await id_tags.put("B", IdTagIn())
    await id_tags.delete("B")
    assert await versions(store) == {"CP-A": 30_000, "CP-ALL": 50_000, "CP-B": 30_000}
