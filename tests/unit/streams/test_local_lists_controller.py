"""The local list controller over a real SQLite store, with a recording command sender: whom it
syncs (assigned, connected, owned), the question it asks first, the debounce."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargePointState,
    IdTag,
    LocalListAssignment,
    LocalListMode,
    LocalListState,
)
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams.local_lists import LocalListController
from tests.ocpp201_frames import valid

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHECKED = LocalListState(
    "CP-1", T0, version=0, generation="g0", checked_at=T0, lengths_checked_at=T0
)


class Sent:
    def __init__(self) -> None:
        self.commands: list[tuple[str, str, dict[str, Any]]] = []

    async def __call__(self, cp: str, action: str, payload: dict[str, Any]) -> object:
        self.commands.append((cp, action, payload))
        return None


async def seed(store: SqliteStore, *charge_points: str) -> None:
    await store.put_id_tag(IdTag("A"))
    for cp in charge_points:
        await store.put_local_list(LocalListAssignment(cp, LocalListMode.ALL, 10_000, T0))
    await store.upsert(
        [ChargePointState(cp, connected=True, connected_since=T0) for cp in charge_points]
    )


async def test_a_pass_syncs_owned_connected_charge_points_and_asks_first(
    store: SqliteStore,
) -> None:
    await seed(store, "CP-1", "CP-2")
    await store.upsert([ChargePointState("CP-3", connected=False)])
    await store.put_local_list(LocalListAssignment("CP-3", LocalListMode.ALL, 10_000, T0))
    await store.upsert([CHECKED])
    sent = Sent()
    controller = LocalListController(store, sent, clock=lambda: T0)
    await controller.reconcile(T0, lambda cp: cp != "CP-2")
    await controller.drain()
    assert sent.commands == [
        (
            "CP-1",
            "SendLocalList",
            {
                "listVersion": 10_000,
                "updateType": "Differential",
                "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}],
            },
        )
    ]
    await controller.reconcile(T0, lambda cp: True)
    await controller.drain()
    assert sent.commands[1] == ("CP-2", "GetLocalListVersion", {})


async def test_the_same_command_is_not_sent_again_before_the_views_move(
    store: SqliteStore,
) -> None:
    await seed(store, "CP-1")
    sent = Sent()
    controller = LocalListController(store, sent, clock=lambda: T0)
    for _ in range(3):
        await controller.reconcile(T0, lambda cp: True)
        await controller.drain()
    assert [action for _, action, _ in sent.commands] == ["GetLocalListVersion"]
    for minute in (1, 2):  # answered with CALLERRORs: only the state's time moves
        await store.upsert([LocalListState("CP-1", T0.replace(minute=minute))])
        await controller.reconcile(T0, lambda cp: True)
        await controller.drain()
    assert [action for _, action, _ in sent.commands] == ["GetLocalListVersion"] * 2
    await store.upsert([CHECKED])  # the answer is derived: the next step goes at once
    await controller.reconcile(T0, lambda cp: True)
    await controller.drain()
    assert [action for _, action, _ in sent.commands][2:] == ["SendLocalList"]


async def test_nothing_is_sent_for_a_list_in_sync_or_unassigned(store: SqliteStore) -> None:
    await seed(store, "CP-1")
    await store.upsert([ChargePointState("CP-9", connected=True, connected_since=T0)])
    await store.upsert(
        [LocalListState("CP-1", T0, version=10_000, checked_at=T0, lengths_checked_at=T0)]
    )
    sent = Sent()
    controller = LocalListController(store, sent, clock=lambda: T0)
    await controller.reconcile(T0, lambda cp: True)
    await controller.drain()
    assert sent.commands == []


async def test_a_201_charge_point_is_asked_and_sent_in_201_messages(store: SqliteStore) -> None:
    await seed(store, "CP-1")
    await store.upsert(
        [
            ChargePointState(
                "CP-1", connected=True, connected_since=T0, ocpp_version=OcppVersion.V201
            ),
            replace(CHECKED, lengths_checked_at=None),
        ]
    )
    sent = Sent()
    controller = LocalListController(store, sent, clock=lambda: T0)
    await controller.reconcile(T0, lambda cp: True)
    await controller.drain()
    await store.upsert([CHECKED])
    await controller.reconcile(T0, lambda cp: True)
    await controller.drain()
    assert [action for _, action, _ in sent.commands] == ["GetVariables", "SendLocalList"]
    assert valid("SendLocalList", sent.commands[1][2]) == {
        "versionNumber": 10_000,
        "updateType": "Differential",
        "localAuthorizationList": [
            {"idToken": {"idToken": "A", "type": "Central"}, "idTokenInfo": {"status": "Accepted"}}
        ],
    }
