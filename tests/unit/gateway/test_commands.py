"""CommandService: one operator command, validated, logged, sent, and ending in one outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import CommandOutcome, CommandRecord, Registration
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.gateway.commands import CommandService, UnknownAction
from chargestream.gateway.connection import ConnectionLost, NotConnected, Reply, WrongVersion
from chargestream.gateway.ocppj import CallError, CallResult
from chargestream.storage.sqlite import SqliteStore

START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@dataclass
class Ticking:
    """A clock that moves one second per reading."""

    now: datetime = START

    def __call__(self) -> datetime:
        moment = self.now
        self.now += timedelta(seconds=1)
        return moment


@dataclass
class ChargePoint:
    """The gateway's side of a charge point: ``answer`` decides what a CALL gets back."""

    answer: Callable[[str, dict[str, Any]], Any]
    store: SqliteStore | None = None
    calls: list[tuple[str, str, dict[str, Any], float]] = field(default_factory=list)
    logged_while_in_flight: list[CommandRecord] = field(default_factory=list)

    async def dispatch(
        self, charge_point_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> Reply:
        self.calls.append((charge_point_id, action, payload, timeout))
        if self.store is not None:
            self.logged_while_in_flight = await self.store.commands(charge_point_id)
        result = self.answer(action, payload)
        if asyncio.iscoroutine(result):
            result = await asyncio.wait_for(result, timeout)
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, CallResult | CallError)
        return Reply(result)


def accepted(action: str, payload: dict[str, Any]) -> CallResult:
    return CallResult("m", {"status": "Accepted"})


def service(charge_point: ChargePoint, store: SqliteStore, timeout: float = 30.0) -> CommandService:
    return CommandService(charge_point.dispatch, store, timeout=timeout, clock=Ticking())


def commands_total(outcome: CommandOutcome) -> float:
    value = REGISTRY.get_sample_value("chargestream_commands_total", {"outcome": outcome.value})
    return value or 0.0


# -- answered


async def test_answered_command_returns_the_charge_points_response(store: SqliteStore) -> None:
    charge_point = ChargePoint(accepted, store)
    before = commands_total(CommandOutcome.ANSWERED)

    done = await service(charge_point, store).send("CP-1", "Reset", {"type": "Soft"})

    assert done.outcome == CommandOutcome.ANSWERED
    assert done.response == {"status": "Accepted"}
    assert done.error is None
    assert (done.charge_point_id, done.action, done.payload) == ("CP-1", "Reset", {"type": "Soft"})
    assert (done.requested_at, done.completed_at) == (START, START + timedelta(seconds=1))
    assert charge_point.calls == [("CP-1", "Reset", {"type": "Soft"}, 30.0)]
    assert commands_total(CommandOutcome.ANSWERED) == before + 1


async def test_command_is_logged_in_flight_before_it_is_sent_then_with_its_outcome(
    store: SqliteStore,
) -> None:
    charge_point = ChargePoint(accepted, store)

    done = await service(charge_point, store).send("CP-1", "ClearCache", {})

    [in_flight] = charge_point.logged_while_in_flight
    assert in_flight.command_id == done.command_id
    assert in_flight.outcome is None and in_flight.completed_at is None
    assert await store.commands("CP-1") == [done]  # replaced by its outcome, not added


async def test_answer_that_is_not_an_object_is_stored_as_an_empty_response(
    store: SqliteStore,
) -> None:
    charge_point = ChargePoint(lambda action, payload: CallResult("m", ["not", "an", "object"]))
    done = await service(charge_point, store).send("CP-1", "ClearCache", {})
    assert done.outcome == CommandOutcome.ANSWERED and done.response == {}


async def test_every_command_gets_its_own_id(store: SqliteStore) -> None:
    commands = service(ChargePoint(accepted), store)
    first = await commands.send("CP-1", "ClearCache", {})
    second = await commands.send("CP-1", "ClearCache", {})
    assert first.command_id != second.command_id
    assert [c.command_id for c in await store.commands("CP-1")] == [
        second.command_id,
        first.command_id,
    ]


# -- rejected by validation


async def test_invalid_command_is_rejected_and_never_sent(store: SqliteStore) -> None:
    charge_point = ChargePoint(accepted)
    before = commands_total(CommandOutcome.REJECTED)

    done = await service(charge_point, store).send("CP-1", "Reset", {"type": "Hard-ish"})

    assert done.outcome == CommandOutcome.REJECTED
    assert done.error is not None and done.error.startswith("PropertyConstraintViolation: ")
    assert done.response is None
    assert charge_point.calls == []
    assert await store.commands("CP-1") == [done]
    assert commands_total(CommandOutcome.REJECTED) == before + 1


@pytest.mark.parametrize(
    "payload",
    [
        {"key": "AuthorizationKey", "value": "\ud800" * 16},
        {"key": "\udfff", "value": "1"},
        {"key": "HeartbeatInterval", "value": "1", "extra": 2**64},
    ],
    ids=["surrogate-password", "surrogate-key", "int-beyond-64-bits"],
)
async def test_a_payload_no_frame_can_carry_is_rejected_and_logged_empty(
    store: SqliteStore, payload: dict[str, str]
) -> None:
    charge_point = ChargePoint(accepted)
    done = await service(charge_point, store).send("CP-1", "ChangeConfiguration", payload)
    assert done.outcome == CommandOutcome.REJECTED
    assert done.error is not None and done.error.startswith("FormationViolation: ")
    assert done.payload == {} and charge_point.calls == []
    assert await store.commands("CP-1") == [done]


async def test_command_missing_a_required_field_is_rejected(store: SqliteStore) -> None:
    done = await service(ChargePoint(accepted), store).send("CP-1", "UnlockConnector", {})
    assert done.outcome == CommandOutcome.REJECTED
    assert done.error is not None and done.error.startswith("OccurenceConstraintViolation: ")


@pytest.mark.parametrize("action", ["Frobnicate", "Heartbeat", "BootNotification", "reset"])
async def test_action_the_central_system_cannot_send_raises_unknown_action(
    store: SqliteStore, action: str
) -> None:
    charge_point = ChargePoint(accepted)
    with pytest.raises(UnknownAction, match=action):
        await service(charge_point, store).send("CP-1", action, {})
    assert charge_point.calls == []
    assert await store.commands() == []  # not even logged


# -- not connected, timed out, failed


async def test_command_to_a_charge_point_that_is_not_connected(store: SqliteStore) -> None:
    charge_point = ChargePoint(lambda action, payload: NotConnected("CP-1"))
    before = commands_total(CommandOutcome.NOT_CONNECTED)

    done = await service(charge_point, store).send("CP-1", "Reset", {"type": "Soft"})

    assert done.outcome == CommandOutcome.NOT_CONNECTED
    assert done.error == "not connected" and done.response is None
    assert await store.commands("CP-1") == [done]
    assert commands_total(CommandOutcome.NOT_CONNECTED) == before + 1


async def test_command_sent_before_the_connection_closed_ended_with_connection_lost(
    store: SqliteStore,
) -> None:
    charge_point = ChargePoint(lambda action, payload: ConnectionLost("CP-1"))
    before = commands_total(CommandOutcome.CONNECTION_LOST)

    done = await service(charge_point, store).send("CP-1", "Reset", {"type": "Soft"})

    assert done.outcome == CommandOutcome.CONNECTION_LOST
    assert done.error is not None and "connection closed" in done.error
    assert await store.commands("CP-1") == [done]
    assert commands_total(CommandOutcome.CONNECTION_LOST) == before + 1


async def test_a_dispatch_failing_unexpectedly_still_ends_the_command(store: SqliteStore) -> None:
    charge_point = ChargePoint(lambda action, payload: EventLogUnavailable("disk full"))
    before = commands_total(CommandOutcome.ERROR)

    done = await service(charge_point, store).send("CP-1", "Reset", {"type": "Soft"})

    assert done.outcome == CommandOutcome.ERROR
    assert done.error is not None and "EventLogUnavailable" in done.error
    assert "disk full" not in done.error  # the operator sees the kind, the log the details
    assert await store.commands("CP-1") == [done]
    assert commands_total(CommandOutcome.ERROR) == before + 1


async def test_a_command_whose_request_is_cancelled_still_ends_with_an_outcome(
    store: SqliteStore,
) -> None:
    sent = asyncio.Event()

    async def silent() -> CallResult:
        sent.set()
        await asyncio.Event().wait()  # a charge point that never answers
        raise AssertionError("unreachable")

    charge_point = ChargePoint(lambda action, payload: silent())
    task = asyncio.create_task(service(charge_point, store).send("CP-1", "ClearCache", {}))
    await asyncio.wait_for(sent.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [logged] = await store.commands("CP-1")
    assert logged.outcome == CommandOutcome.ERROR
    assert logged.error == "cancelled before an answer"


async def test_command_without_an_answer_in_time_times_out(store: SqliteStore) -> None:
    async def silent() -> CallResult:
        await asyncio.Event().wait()  # a charge point that never answers
        raise AssertionError("unreachable")

    charge_point = ChargePoint(lambda action, payload: silent())
    before = commands_total(CommandOutcome.TIMED_OUT)

    done = await service(charge_point, store).send("CP-1", "ClearCache", {}, timeout=0.01)

    assert done.outcome == CommandOutcome.TIMED_OUT
    assert done.error == "no answer in time" and done.response is None
    assert charge_point.calls[0][3] == 0.01  # the call's own timeout, not the default
    assert await store.commands("CP-1") == [done]
    assert commands_total(CommandOutcome.TIMED_OUT) == before + 1


async def test_default_timeout_is_passed_to_the_charge_point_call(store: SqliteStore) -> None:
    charge_point = ChargePoint(accepted)
    await service(charge_point, store, timeout=12.5).send("CP-1", "ClearCache", {})
    assert charge_point.calls[0][3] == 12.5


async def test_command_answered_with_a_callerror_failed(store: SqliteStore) -> None:
    charge_point = ChargePoint(
        lambda action, payload: CallError(
            "m", "NotImplemented", "GetLocalListVersion not supported", {"since": "1.5"}
        )
    )
    before = commands_total(CommandOutcome.FAILED)

    done = await service(charge_point, store).send("CP-1", "GetLocalListVersion", {})

    assert done.outcome == CommandOutcome.FAILED
    assert done.error == "NotImplemented: GetLocalListVersion not supported"
    assert done.response == {"since": "1.5"}
    assert await store.commands("CP-1") == [done]
    assert commands_total(CommandOutcome.FAILED) == before + 1


async def test_callerror_details_that_are_not_an_object_are_dropped(store: SqliteStore) -> None:
    charge_point = ChargePoint(lambda action, payload: CallError("m", "GenericError", "no", "x"))
    done = await service(charge_point, store).send("CP-1", "ClearCache", {})
    assert done.outcome == CommandOutcome.FAILED and done.response is None


async def test_outcomes_are_logged_per_charge_point_newest_first(store: SqliteStore) -> None:
    answers: dict[str, Any] = {
        "CP-ON": CallResult("m", {"status": "Accepted"}),
        "CP-OFF": NotConnected("CP-OFF"),
    }

    async def dispatch(cp: str, action: str, payload: dict[str, Any], timeout: float) -> Reply:
        answer = answers[cp]
        if isinstance(answer, BaseException):
            raise answer
        return Reply(answer)

    commands = CommandService(dispatch, store, timeout=1, clock=Ticking())
    await commands.send("CP-OFF", "Reset", {"type": "Soft"})
    await commands.send("CP-ON", "Reset", {"type": "Hard"})
    await commands.send("CP-ON", "Reset", {"type": "Nope"})

    assert [c.outcome for c in await store.commands("CP-ON")] == [
        CommandOutcome.REJECTED,
        CommandOutcome.ANSWERED,
    ]
    assert [c.outcome for c in await store.commands("CP-OFF")] == [CommandOutcome.NOT_CONNECTED]


# -- charge point passwords

KEY = "0123456789abcdef0123456789abcdef"


async def test_an_authorization_key_is_sent_as_it_is_and_logged_redacted(
    store: SqliteStore,
) -> None:
    await store.put_registration(Registration("CP-1"))
    charge_point = ChargePoint(accepted, store)
    payload = {"key": "AuthorizationKey", "value": KEY}

    done = await service(charge_point, store).send("CP-1", "ChangeConfiguration", payload)

    assert charge_point.calls[0][2] == payload  # the charge point gets the key
    assert done.payload == {"key": "AuthorizationKey", "value": "[redacted]"}
    assert KEY not in repr(charge_point.logged_while_in_flight)
    assert KEY not in repr(await store.commands("CP-1"))


async def test_a_key_in_a_get_configuration_answer_is_logged_redacted(store: SqliteStore) -> None:
    def answer(action: str, payload: dict[str, Any]) -> CallResult:
        return CallResult("m", {"configurationKey": [{"key": "AuthorizationKey", "value": KEY}]})

    done = await service(ChargePoint(answer), store).send("CP-1", "GetConfiguration", {})

    assert done.response == {
        "configurationKey": [{"key": "AuthorizationKey", "value": "[redacted]"}]
    }
    assert KEY not in repr(await store.commands("CP-1"))


@pytest.mark.parametrize("key", ["short-key", "x" * 41])
async def test_an_authorization_key_of_the_wrong_length_is_rejected_before_sending(
    store: SqliteStore, key: str
) -> None:
    charge_point = ChargePoint(accepted)
    payload = {"key": "authorizationKey", "value": key}

    done = await service(charge_point, store).send("CP-1", "ChangeConfiguration", payload)

    assert done.outcome is CommandOutcome.REJECTED and charge_point.calls == []
    assert done.error is not None and "16 to 40 characters" in done.error
    assert key not in repr(await store.commands("CP-1"))


async def test_the_password_of_a_charge_point_not_registered_is_not_sent(
    store: SqliteStore,
) -> None:
    charge_point = ChargePoint(accepted)
    payload = {"key": "AuthorizationKey", "value": KEY}

    done = await service(charge_point, store).send("CP-1", "ChangeConfiguration", payload)

    assert done.outcome is CommandOutcome.REJECTED and charge_point.calls == []
    assert done.error == "register the charge point before setting its password"


# -- the charge point's OCPP version

GET_VARIABLES = {"getVariableData": [{"component": {"name": "X"}, "variable": {"name": "Y"}}]}


async def test_an_action_of_another_version_is_rejected_unsent(store: SqliteStore) -> None:
    charge_point = ChargePoint(accepted)
    live = CommandService(
        charge_point.dispatch,
        store,
        timeout=30.0,
        clock=Ticking(),
        version_of=lambda charge_point_id: OcppVersion.V201,
    )
    record = await live.send("CP-1", "RemoteStartTransaction", {"idTag": "TAG1"})
    assert record.outcome is CommandOutcome.REJECTED
    assert record.error == "RemoteStartTransaction is not an action of OCPP 2.0.1"
    wrong_shape = await live.send("CP-1", "Reset", {"type": "Hard"})  # the 1.6 payload
    assert wrong_shape.outcome is CommandOutcome.REJECTED
    assert (await live.send("CP-1", "Reset", {"type": "Immediate"})).outcome is (
        CommandOutcome.ANSWERED
    )
    assert [call[1] for call in charge_point.calls] == ["Reset"]


async def test_without_a_live_connection_the_pinned_version_decides(store: SqliteStore) -> None:
    charge_point = ChargePoint(accepted)
    commands = service(charge_point, store)
    await store.put_registration(Registration("CP-1", ocpp_version=OcppVersion.V16))
    record = await commands.send("CP-1", "GetVariables", GET_VARIABLES)
    assert record.error == "GetVariables is not an action of OCPP 1.6"
    with pytest.raises(UnknownAction):
        await commands.send("CP-1", "TransactionEvent", {})  # the station sends it, not the CSMS
    unpinned = await commands.send("CP-2", "Reset", {"type": "Immediate"})  # 2.0.1's shape
    assert unpinned.outcome is CommandOutcome.ANSWERED


async def test_the_gateway_refusing_the_version_is_a_rejection(store: SqliteStore) -> None:
    refusing = ChargePoint(lambda action, payload: WrongVersion(action, OcppVersion.V16))
    record = await service(refusing, store).send("CP-1", "GetVariables", GET_VARIABLES)
    assert record.outcome is CommandOutcome.REJECTED
    assert record.error == "GetVariables is not an action of OCPP 1.6"
