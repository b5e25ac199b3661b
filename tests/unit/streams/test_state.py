"""The derivation state's JSON form: what Faust's changelog and the embedded checkpoints hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest

from chargestream.streams.state import ChargePointDerivation
from tests.unit.streams.test_derive import run, session_log

# Saved by format 1 (before 2026-12-07): fields off their defaults, datetimes in epoch ms.
FORMAT_1 = (
    b'{"version":1,"charge_point_id":"CP-1","registry":{"charge_point_id":"CP-1",'
    b'"connected":true,"last_seen":1714564805000,"connected_since":1714564801000,'
    b'"node":"node-a","vendor":"SIMA","model":"Wallbox 11","serial_number":"S-1",'
    b'"charge_box_serial_number":"B-1","firmware_version":"2.4.1","iccid":"8949",'
    b'"imsi":"2620","meter_type":"EM340","meter_serial_number":"M-1",'
    b'"last_boot_at":1714564802000,"registration_status":"Accepted","connectors":['
    b'{"connector_id":0,"status":"Available","error_code":"NoError","since":1714564802000},'
    b'{"connector_id":1,"status":"Available","error_code":"NoError","since":1714564802000}],'
    b'"ocpp_version":"ocpp1.6"},"position":8,"connection_id":"conn-1",'
    b'"published_last_seen":1714564804000,"intervals":['
    b'{"charge_point_id":"CP-1","connector_id":0,"start":1714564802000,"status":"Available"},'
    b'{"charge_point_id":"CP-1","connector_id":1,"start":1714564802000,"status":"Available"}],'
    b'"pending":[{"direction":"in","message_id":"4","action":"Authorize","payload":"",'
    b'"sent_at":1714564805000}]}'
)


def test_a_state_saved_by_format_1_reads_as_the_state_it_was() -> None:
    state, _ = run(session_log().events[:8])
    assert ChargePointDerivation.from_json(FORMAT_1) == state


def test_a_state_reads_back_exactly_microseconds_included() -> None:
    state, _ = run(session_log().events)
    moment = datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=UTC)
    state = replace(state, published_last_seen=moment)
    restored = ChargePointDerivation.from_json(state.to_json())
    assert restored == state
    assert restored.published_last_seen == moment
    assert restored.to_json() == state.to_json()


@pytest.mark.parametrize("data", [b'{"version":3,"state":{}}', b"[]", b'{"state":{}}'])
def test_an_unknown_format_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="unknown derivation state format"):
        ChargePointDerivation.from_json(data)


def test_the_saved_form_names_its_format() -> None:
    state, _ = run(session_log().events[:3])
    assert orjson.loads(state.to_json())["version"] == 2
