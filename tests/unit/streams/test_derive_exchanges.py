"""A charge point's CALL logged with its answer as one exchange event derives exactly what
the CALL and its answer as two events (logs written before exchanges) derive."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chargestream.domain.frames import Direction, LoggedEvent, MessageType
from chargestream.domain.records import ChargePointState, DerivedRecord, SecurityEvent, Session
from chargestream.streams.derive import ChargePointDerivation, DerivationSettings
from tests.unit.streams.test_derive import (
    SETTINGS,
    Log,
    final,
    hardened_log,
    long_log,
    of_type,
    refused,
    run,
    session_log,
    unaccepted_log,
)
from tests.unit.streams.test_derive_security import security_log
from tests.unit.streams.test_derive_v201 import (
    ENDED,
    EXPECTED,
    STARTED,
    UPDATED,
    UPDATED_LATER,
    booted,
)


def as_exchanges(events: list[LoggedEvent]) -> list[LoggedEvent]:
    """The log as the gateway writes it now: every charge point CALL followed by the CSMS's
    answer to it becomes one event holding the answer; CSMS commands and the charge point's
    replies to them stay apart. Positions are renumbered from 1."""
    folded: list[LoggedEvent] = []
    index = 0
    while index < len(events):
        event = events[index].event
        answer = events[index + 1].event if index + 1 < len(events) else None
        if (
            event.direction is Direction.IN
            and event.message_type is MessageType.CALL
            and answer is not None
            and answer.direction is Direction.OUT
            and answer.message_type in (MessageType.CALLRESULT, MessageType.CALLERROR)
            and answer.message_id == event.message_id
        ):
            assert answer.received_us == event.received_us  # one exchange, one time
            event = replace(event, answer=answer.frame)
            index += 1
        folded.append(LoggedEvent(len(folded) + 1, event))
        index += 1
    return folded


def without_registry(records: list[DerivedRecord]) -> list[DerivedRecord]:
    return [record for record in records if not isinstance(record, ChargePointState)]


def assert_same_derivation(
    events: list[LoggedEvent], settings: DerivationSettings = SETTINGS
) -> tuple[ChargePointDerivation, list[DerivedRecord]]:
    """The exchange form of ``events`` derives the same records, in the same order, and
    the same state. The pair may upsert the registry twice (after the CALL for its
    ``last_seen``, after the answer for what it says) where the exchange upserts it once,
    as it ends up."""
    exchanges = as_exchanges(events)
    assert len(exchanges) < len(events)
    pair_state, pair_records = run(events, settings)
    state, records = run(exchanges, settings)
    assert without_registry(records) == without_registry(pair_records)
    assert final(records) == final(pair_records)
    assert replace(state, position=0) == replace(pair_state, position=0)
    assert state.pending == ()
    return state, records


def test_sessions_take_their_transaction_id_from_the_start_transactions_answer() -> None:
    state, records = assert_same_derivation(session_log().events)
    (session,) = {s.transaction_id: s for s in of_type(records, Session)}.values()
    assert (session.transaction_id, session.meter_stop) == (42, 15432)
    assert state.registry.vendor == "SIMA" and state.registry.registration_status == "Accepted"


def test_a_boot_fills_the_registry_in_one_upsert() -> None:
    log = Log()
    log.connect()
    log.exchange("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}, {})
    connected, exchange = as_exchanges(log.events)
    state, _ = run([connected])
    _, records = run([exchange], SETTINGS, state)
    (registry,) = of_type(records, ChargePointState)
    assert (registry.vendor, registry.last_boot_at) == ("V", registry.last_seen)
    assert_same_derivation(log.events)


def test_sign_certificate_and_security_events() -> None:
    log = security_log()
    log.exchange("SignCertificate", {"csr": "x"}, {"status": "Rejected"})
    log.call("SecurityEventNotification", {"type": "StartupOfTheDevice", "timestamp": "x"})
    log.call("LogStatusNotification", {"status": "Uploaded", "requestId": 1})
    _, records = assert_same_derivation(log.events)
    assert {e.event_type for e in of_type(records, SecurityEvent)} == {
        "CsrRejected",
        "StartupOfTheDevice",
    }


def test_a_201_transaction_event_session() -> None:
    log = booted()
    for payload in (STARTED, UPDATED, UPDATED_LATER, ENDED):
        log.call("TransactionEvent", payload)
    _, records = assert_same_derivation(log.events)
    assert of_type(records, Session)[-1] == EXPECTED


def test_callerror_refusals_and_a_security_error_that_refuses_the_charge_point() -> None:
    state, records = assert_same_derivation(unaccepted_log().events)
    assert state.refused and of_type(records, Session) == []

    log = Log()
    log.connect()
    refused(log, "StatusNotification", {"connectorId": 1, "status": "Faulted"}, "GenericError")
    assert not assert_same_derivation(log.events)[0].refused


def test_the_whole_gamut_of_refusals_late_answers_and_duplicate_stops() -> None:
    assert_same_derivation(hardened_log(), DerivationSettings(rules=()))


def test_a_log_that_changes_shape_midway_derives_the_same() -> None:
    """A gateway upgraded while the log holds two-event CALLs: old events, then exchanges."""
    events = hardened_log()
    whole_state, whole = run(events)
    cut = len(events) // 2
    while events[cut - 1].event.message_type is MessageType.CALL:  # no pair is cut
        cut += 1
    tail = as_exchanges(events[cut:])
    tail = [LoggedEvent(cut + logged.position, logged.event) for logged in tail]
    state, records = run(events[:cut] + tail)
    assert without_registry(records) == without_registry(whole)
    assert final(records) == final(whole)
    assert replace(state, position=0) == replace(whole_state, position=0)


def exchange_log() -> list[LoggedEvent]:
    return as_exchanges(long_log())


@pytest.mark.parametrize("cut", range(1, len(exchange_log())))
def test_replay_of_exchanges_from_a_saved_state_equals_the_live_derivation(cut: int) -> None:
    events = exchange_log()
    whole_state, whole = run(events)
    state, first = run(events[:cut])
    restored = ChargePointDerivation.from_json(state.to_json())
    end_state, rest = run(events[cut:], SETTINGS, restored)
    assert first + rest == whole
    assert end_state == whole_state


def test_an_answer_to_another_message_id_derives_nothing() -> None:
    log = Log()
    log.connect()
    message_id = log.call("StatusNotification", {"connectorId": 1, "status": "Charging"})
    call = log.events[-2].event
    mismatched = replace(call, answer=f'[3,"{message_id}-other",{{}}]')
    _, records = run([log.events[0], LoggedEvent(2, mismatched)])
    assert without_registry(records) == []
