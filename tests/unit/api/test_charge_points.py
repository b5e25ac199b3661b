"""ChargePointService: registration rules, the gateway cache, and what was seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from chargestream.api.schemas import ChargePointIn
from chargestream.api.services.charge_points import ChargePointService
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.passwords import verify_password
from chargestream.domain.records import Registration, SecurityEvent, TransferStatus
from chargestream.gateway.directory import Directory
from chargestream.storage.sqlite import SqliteStore
from tests.storage_contract import T0, full_interval, full_state
from tests.unit.api.conftest import NOW, fixed_clock


@pytest.fixture
def charge_points(store: SqliteStore, directory: Directory) -> ChargePointService:
    return ChargePointService(store, directory, clock=fixed_clock)


async def test_register_creates_a_registration_with_a_hashed_password(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    out = await charge_points.register(
        "CP-1", ChargePointIn(display_name="Depot 1", password="correct horse battery")
    )

    assert out.registered and out.display_name == "Depot 1" and out.has_password
    stored = await store.get_registration("CP-1")
    assert stored is not None and stored.created_at == NOW
    assert stored.password_hash is not None and stored.password_hash != "correct horse battery"
    assert verify_password("correct horse battery", stored.password_hash)


async def test_update_keeps_omitted_fields(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    await charge_points.register(
        "CP-1",
        ChargePointIn(display_name="Depot 1", location="Belém", password="correct horse battery"),
    )
    first = await store.get_registration("CP-1")
    assert first is not None

    out = await charge_points.register("CP-1", ChargePointIn(lenient=True))

    assert out.display_name == "Depot 1" and out.location == "Belém" and out.has_password
    assert await store.get_registration("CP-1") == replace(first, lenient=True)


async def test_remove_password_wins_over_a_new_password(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    await charge_points.register("CP-1", ChargePointIn(password="correct horse battery"))

    out = await charge_points.register(
        "CP-1", ChargePointIn(password="battery staple horse", remove_password=True)
    )

    assert not out.has_password
    stored = await store.get_registration("CP-1")
    assert stored is not None and stored.password_hash is None


async def test_an_overlong_id_is_refused_and_nothing_is_stored(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    with pytest.raises(InvalidInput, match="1 to 48 characters"):
        await charge_points.register("X" * 49, ChargePointIn())
    assert await store.list_registrations() == []


async def test_register_and_unregister_refresh_the_gateway_cache(
    charge_points: ChargePointService, directory: Directory
) -> None:
    assert await directory.registration("CP-1") is None  # now cached as unknown

    await charge_points.register("CP-1", ChargePointIn(display_name="Depot 1"))
    cached = await directory.registration("CP-1")
    assert cached is not None and cached.display_name == "Depot 1"

    await charge_points.unregister("CP-1")
    assert await directory.registration("CP-1") is None


async def test_unregistering_an_unregistered_charge_point_is_not_found(
    charge_points: ChargePointService,
) -> None:
    with pytest.raises(NotFound, match="charge point 'CP-9' is not registered"):
        await charge_points.unregister("CP-9")


async def test_a_charge_point_is_known_if_registered_or_seen(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    await charge_points.register("CP-R", ChargePointIn())
    await store.upsert([full_state("CP-S")])

    seen = await charge_points.get("CP-S")
    assert not seen.registered and seen.state is not None and seen.state.vendor == "Acme"
    await charge_points.require_known("CP-R")
    with pytest.raises(NotFound, match="unknown charge point 'CP-9'"):
        await charge_points.require_known("CP-9")


async def test_listing_merges_registered_and_seen_by_id_within_the_limit(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    await charge_points.register("CP-C", ChargePointIn())
    await charge_points.register("CP-A", ChargePointIn())
    await store.upsert([full_state("CP-A"), full_state("CP-B")])

    listed = await charge_points.listing(limit=10)
    assert [(c.charge_point_id, c.registered, c.state is not None) for c in listed] == [
        ("CP-A", True, True),
        ("CP-B", False, True),
        ("CP-C", True, False),
    ]
    assert [c.charge_point_id for c in await charge_points.listing(limit=2)] == ["CP-A", "CP-B"]


async def test_status_history_defaults_to_the_last_24_hours(store: SqliteStore) -> None:
    await store.upsert([full_interval(start=T0)])  # 3 minutes from T0

    def service_at(hours_later: int) -> ChargePointService:
        return ChargePointService(store, clock=lambda: T0 + timedelta(hours=hours_later))

    assert await service_at(24).status_history("CP-1", None, None) == [full_interval(start=T0)]
    assert await service_at(25).status_history("CP-1", None, None) == []


async def test_status_history_window_must_not_be_empty(
    charge_points: ChargePointService,
) -> None:
    with pytest.raises(InvalidInput, match="'from' must be before 'to'"):
        await charge_points.status_history("CP-1", NOW, NOW)
    with pytest.raises(InvalidInput):
        await charge_points.status_history("CP-1", NOW + timedelta(days=2), None)


async def test_security_events_and_transfer_statuses_of_a_charge_point(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    events = [SecurityEvent("CP-1", T0 + timedelta(minutes=i), f"T{i}", T0) for i in range(3)]
    log = TransferStatus("CP-1", "log", "Uploaded", T0, 4)
    await store.upsert([*events, log])

    newest = await charge_points.security_events("CP-1", 2, None)
    assert [e.event_type for e in newest] == ["T2", "T1"]
    older = await charge_points.security_events("CP-1", 10, T0 + timedelta(minutes=1))
    assert older == [events[0]]
    assert await charge_points.transfer_statuses("CP-1") == [log]


async def test_security_profile_is_set_kept_and_reset_to_the_default_with_null(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    out = await charge_points.register("CP-1", ChargePointIn(security_profile=2))
    assert out.security_profile == 2
    kept = await charge_points.register("CP-1", ChargePointIn(display_name="Depot 1"))
    assert kept.security_profile == 2
    reset = await charge_points.register(
        "CP-1", ChargePointIn.model_validate({"security_profile": None})
    )
    assert reset.security_profile is None
    stored = await store.get_registration("CP-1")
    assert stored is not None and stored.security_profile is None


@pytest.mark.parametrize("profile", [-1, 4, 5])
def test_a_security_profile_outside_0_to_3_is_invalid(profile: int) -> None:
    with pytest.raises(ValueError, match="security_profile"):
        ChargePointIn.model_validate({"security_profile": profile})


async def test_a_password_is_stored_as_a_charge_point_hash_and_ends_a_rotation(
    charge_points: ChargePointService, store: SqliteStore
) -> None:
    await store.put_registration(Registration("CP-1", password_hash="old", next_password_hash="n"))

    await charge_points.register("CP-1", ChargePointIn(password="sixteen-chars-ok"))

    stored = await store.get_registration("CP-1")
    assert stored is not None and stored.next_password_hash is None
    assert stored.password_hash is not None and stored.password_hash.startswith("hmac_sha256$")


def test_a_password_shorter_than_16_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        ChargePointIn(password="fifteen-chars!!")
    assert ChargePointIn(password="sixteen-chars!!!").password == "sixteen-chars!!!"
