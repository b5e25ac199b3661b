"""Password rotation: which CALLs rotate, which answers apply, and the directory's two steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from chargestream.domain.passwords import verify_password
from chargestream.domain.records import Registration
from chargestream.gateway import rotation
from chargestream.gateway.connection import Reply
from chargestream.gateway.directory import Directory, NotRegistered
from chargestream.gateway.ocppj import CallError, CallResult
from chargestream.gateway.rotation import ACTION, applied, new_password, password_problem
from chargestream.storage.sqlite import SqliteStore

KEY = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        ("ChangeConfiguration", {"key": "AuthorizationKey", "value": KEY}, KEY),
        ("ChangeConfiguration", {"key": "authorizationkey", "value": KEY}, KEY),
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "300"}, None),
        ("ChangeConfiguration", {"key": "AuthorizationKey", "value": 7}, None),
        ("DataTransfer", {"key": "AuthorizationKey", "value": KEY}, None),
    ],
)
def test_only_a_change_of_the_authorization_key_rotates(
    action: str, payload: dict[str, object], expected: str | None
) -> None:
    assert new_password(action, payload) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (CallResult("m", {"status": "Accepted"}), True),
        (CallResult("m", {"status": "RebootRequired"}), True),
        (CallResult("m", {"status": "Rejected"}), False),
        (CallResult("m", {"status": "NotSupported"}), False),
        (CallResult("m", []), False),
        (CallError("m", "InternalError", "no", {}), False),
    ],
)
def test_accepted_and_reboot_required_apply(answer: CallResult | CallError, expected: bool) -> None:
    assert applied(Reply(answer)) is expected


def test_a_password_needs_16_to_40_characters() -> None:
    assert password_problem("x" * 16) is None and password_problem("x" * 40) is None
    assert "16 to 40 characters" in (password_problem("x" * 15) or "")
    assert "16 to 40 characters" in (password_problem("x" * 41) or "")


async def test_the_next_password_waits_beside_the_current_then_replaces_it(
    store: SqliteStore,
) -> None:
    directory = Directory(store, ttl=3600)
    await directory.register(Registration("CP-1", display_name="Depot", password_hash="old"))
    assert await directory.registration("CP-1") is not None  # cached now

    await directory.set_next_password("CP-1", "new")
    waiting = await directory.registration("CP-1")
    assert waiting == Registration("CP-1", display_name="Depot", password_hash="old",
                                   next_password_hash="new")  # fmt: skip

    await directory.promote_next_password("CP-1", "other")  # not the next one: no change
    assert await directory.registration("CP-1") == waiting
    await directory.promote_next_password("CP-1", "new")
    assert await directory.registration("CP-1") == Registration(
        "CP-1", display_name="Depot", password_hash="new"
    )
    assert await store.get_registration("CP-1") == await directory.registration("CP-1")


async def test_a_withdrawn_next_password_is_forgotten_unless_another_replaced_it(
    store: SqliteStore,
) -> None:
    directory = Directory(store, ttl=3600)
    await directory.register(Registration("CP-1", password_hash="old", next_password_hash="a"))
    await directory.withdraw_next_password("CP-1", "b")
    assert await directory.registration("CP-1") == Registration(
        "CP-1", password_hash="old", next_password_hash="a"
    )
    await directory.withdraw_next_password("CP-1", "a")
    assert await directory.registration("CP-1") == Registration("CP-1", password_hash="old")
    await directory.withdraw_next_password("CP-NOBODY", "a")
    assert await store.get_registration("CP-NOBODY") is None


async def test_only_a_registered_charge_point_gets_a_next_password(store: SqliteStore) -> None:
    with pytest.raises(NotRegistered):
        await Directory(store, ttl=3600).set_next_password("CP-NEW", "new")
    assert await store.get_registration("CP-NEW") is None


async def test_the_next_password_is_kept_while_the_call_is_out_and_after_only_if_applied(
    store: SqliteStore,
) -> None:
    directory = Directory(store, ttl=3600)
    await directory.register(Registration("CP-1", password_hash="old"))
    seen: list[str | None] = []

    def answering(status: str) -> Callable[[str, dict[str, Any], float], Awaitable[Reply]]:
        async def send(action: str, payload: dict[str, Any], timeout: float) -> Reply:
            registration = await store.get_registration("CP-1")
            seen.append(registration.next_password_hash if registration else None)
            return Reply(CallResult("m", {"status": status}))

        return send

    payload = {"key": "AuthorizationKey", "value": KEY}
    await rotation.call(directory, answering("Rejected"), "CP-1", ACTION, payload, 5.0)
    assert seen[0] is not None and verify_password(KEY, seen[0])
    assert await store.get_registration("CP-1") == Registration("CP-1", password_hash="old")

    await rotation.call(directory, answering("Accepted"), "CP-1", ACTION, payload, 5.0)
    stored = await store.get_registration("CP-1")
    assert stored is not None and stored.next_password_hash is not None
    assert verify_password(KEY, stored.next_password_hash)


async def test_a_call_that_fails_withdraws_the_next_password(store: SqliteStore) -> None:
    directory = Directory(store, ttl=3600)
    await directory.register(Registration("CP-1", password_hash="old"))

    async def timing_out(action: str, payload: dict[str, Any], timeout: float) -> Reply:
        raise TimeoutError

    with pytest.raises(TimeoutError):
        payload = {"key": "AuthorizationKey", "value": KEY}
        await rotation.call(directory, timing_out, "CP-1", ACTION, payload, 5.0)
    assert await store.get_registration("CP-1") == Registration("CP-1", password_hash="old")
