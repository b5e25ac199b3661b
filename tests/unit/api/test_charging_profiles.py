"""ChargingProfileService over the real CommandService (no charge point connected) and SQLite."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from chargestream.api.services.charging_profiles import (
    ChargingProfileService,
    ClearCriteria,
    ProfileBuilder,
)
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.records import ChargingProfile, CommandOutcome
from chargestream.gateway.commands import CommandService
from chargestream.storage.sqlite import SqliteStore
from tests.storage_contract import charging_profile, minimal_charging_profile
from tests.unit.api.conftest import NOW, fixed_clock


@pytest.fixture
def service(store: SqliteStore, command_service: CommandService) -> ChargingProfileService:
    return ChargingProfileService(store, command_service, clock=fixed_clock)


def building(profile: ChargingProfile) -> ProfileBuilder:
    def build(profile_id: int, created_at: datetime) -> ChargingProfile:
        return dataclasses.replace(profile, profile_id=profile_id, created_at=created_at)

    return build


async def test_create_stores_under_a_new_id_and_refuses_a_broken_profile(
    service: ChargingProfileService, store: SqliteStore
) -> None:
    made = await service.create(building(charging_profile(0)))
    assert made.created_at == NOW and made == await store.get_charging_profile(made.profile_id)
    broken = dataclasses.replace(minimal_charging_profile(0), stack_level=101)
    with pytest.raises(InvalidInput, match="stack_level must be 0 to 100"):
        await service.create(building(broken))
    assert await service.listing(10) == [made]
    await service.delete(made.profile_id)
    with pytest.raises(NotFound):
        await service.delete(made.profile_id)


async def test_install_checks_the_profile_and_assignment_before_sending(
    service: ChargingProfileService, store: SqliteStore
) -> None:
    with pytest.raises(NotFound, match="no charging profile 5"):
        await service.install("CP-1", 5, 1, None, None, sent_by="api")
    cap = await service.create(building(minimal_charging_profile(0)))
    with pytest.raises(InvalidInput, match="connector 0 only"):
        await service.install("CP-1", cap.profile_id, 1, None, None, sent_by="api")
    assert await store.commands() == []
    record = await service.install("CP-1", cap.profile_id, 0, None, None, sent_by="api")
    assert (record.action, record.outcome) == ("SetChargingProfile", CommandOutcome.NOT_CONNECTED)
    assert record.payload["csChargingProfiles"]["chargingProfileId"] == cap.profile_id


def test_clear_criteria_send_only_what_is_given() -> None:
    assert ClearCriteria().payload() == {}
    assert ClearCriteria(7, 1, "TxProfile", 0).payload() == {
        "id": 7,
        "connectorId": 1,
        "chargingProfilePurpose": "TxProfile",
        "stackLevel": 0,
    }
