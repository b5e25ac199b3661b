"""The directory: registrations and id tags read through a TTL cache over the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from chargestream.domain.records import IdTag, IdTagStatus, Registration
from chargestream.gateway.directory import Directory, TtlCache
from chargestream.storage.sqlite import SqliteStore


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Source:
    """A loader that counts its loads; values can change behind the cache's back."""

    values: dict[str, str] = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)

    async def __call__(self, key: str) -> str | None:
        self.loads.append(key)
        return self.values.get(key)


async def test_cache_serves_a_value_for_ttl_seconds_then_reloads() -> None:
    source, clock = Source({"a": "1"}), Clock()
    cache = TtlCache(source, ttl=5, clock=clock)

    assert await cache.get("a") == "1"
    source.values["a"] = "2"
    clock.now += 4.9
    assert await cache.get("a") == "1"  # still cached
    clock.now += 0.1
    assert await cache.get("a") == "2"  # expired at exactly ttl
    assert source.loads == ["a", "a"]


async def test_cache_remembers_a_missing_value_too() -> None:
    source, clock = Source(), Clock()
    cache = TtlCache(source, ttl=5, clock=clock)

    assert await cache.get("nope") is None
    source.values["nope"] = "now here"
    assert await cache.get("nope") is None
    assert source.loads == ["nope"]


async def test_cache_invalidate_reloads_at_once() -> None:
    source = Source({"a": "1"})
    cache = TtlCache(source, ttl=60, clock=Clock())
    await cache.get("a")
    source.values["a"] = "2"
    cache.invalidate("a")
    cache.invalidate("never-cached")  # no error
    assert await cache.get("a") == "2"


async def test_cache_with_zero_ttl_always_loads() -> None:
    source = Source({"a": "1"})
    cache = TtlCache(source, ttl=0, clock=Clock())
    for _ in range(3):
        assert await cache.get("a") == "1"
    assert source.loads == ["a", "a", "a"]


async def test_cache_starts_over_when_full() -> None:
    source = Source({"a": "1", "b": "2", "c": "3"})
    cache = TtlCache(source, ttl=60, clock=Clock(), max_entries=2)
    await cache.get("a")
    await cache.get("b")
    await cache.get("c")  # full: every entry is dropped, then c is kept
    await cache.get("c")
    await cache.get("a")
    assert source.loads == ["a", "b", "c", "a"]


async def test_cache_drops_expired_entries_so_fresh_keys_do_not_pile_up() -> None:
    source, clock = Source(), Clock()
    cache = TtlCache(source, ttl=5, clock=clock)
    for number in range(100):  # a new charge point id every second
        await cache.get(f"CP-{number}")
        clock.now += 1
    assert len(cache._entries) == 5  # those of the last ttl seconds


async def test_directory_reads_registrations_and_id_tags_from_the_store(
    store: SqliteStore,
) -> None:
    await store.put_registration(Registration("CP-1", location="Depot"))
    await store.put_id_tag(IdTag("BAD", IdTagStatus.BLOCKED))
    directory = Directory(store, ttl=5)

    assert await directory.registration("CP-1") == Registration("CP-1", location="Depot")
    assert await directory.registration("CP-2") is None
    assert await directory.id_tag("BAD") == IdTag("BAD", IdTagStatus.BLOCKED)
    assert await directory.id_tag("NOPE") is None


async def test_directory_register_stores_and_is_seen_at_once(store: SqliteStore) -> None:
    directory = Directory(store, ttl=3600)
    assert await directory.registration("CP-1") is None  # cached as unknown

    await directory.register(Registration("CP-1"))

    assert await directory.registration("CP-1") == Registration("CP-1")
    assert await store.get_registration("CP-1") == Registration("CP-1")


async def test_directory_keeps_an_id_tag_another_writer_added_cached_until_invalidated(
    store: SqliteStore,
) -> None:
    directory = Directory(store, ttl=3600)
    assert await directory.id_tag("NEW") is None
    await store.put_id_tag(IdTag("NEW"))  # the API of another process
    assert await directory.id_tag("NEW") is None
    directory.id_tags.invalidate("NEW")
    assert await directory.id_tag("NEW") == IdTag("NEW")
