"""The simulated charge point's session life cycle around the fleet's stop."""

from __future__ import annotations

import pytest

from chargestream.simulator import FleetConfig, FleetStats
from chargestream.simulator.chargepoint import ChargePoint
from chargestream.simulator.rng import Rng
from chargestream.simulator.v201 import ChargePointV201

# an Accepted Authorize answer, by the charge point's protocol
ACCEPTED: dict[type[ChargePoint], dict[str, object]] = {
    ChargePoint: {"idTagInfo": {"status": "Accepted"}},
    ChargePointV201: {"idTokenInfo": {"status": "Accepted"}},
}


@pytest.mark.parametrize("kind", [ChargePoint, ChargePointV201])
def test_an_authorization_answered_after_the_stop_starts_no_transaction(
    kind: type[ChargePoint],
) -> None:
    """Else the session would start after stop() stopped the others and stay open."""
    cp = kind(1, FleetConfig(), FleetStats(), Rng(7, 1))
    cp.online = True
    connector = cp.connectors[0]
    cp.begin_session(connector, "TAG", 0.0, remote=False)
    authorize = cp.outbox.pop()
    assert authorize.action == "Authorize"

    cp.stop(1.0)
    cp.on_result(authorize, ACCEPTED[kind], 2.0)

    assert connector.session is None
    assert connector.status == "Available"
    assert all(call.payload.get("eventType") != "Started" for call in cp.outbox)
    assert all(call.action != "StartTransaction" for call in cp.outbox)


def test_an_authorization_answered_before_the_stop_starts_the_transaction() -> None:
    cp = ChargePoint(1, FleetConfig(), FleetStats(), Rng(7, 1))
    cp.online = True
    connector = cp.connectors[0]
    cp.begin_session(connector, "TAG", 0.0, remote=False)
    authorize = cp.outbox.pop()

    cp.on_result(authorize, ACCEPTED[ChargePoint], 1.0)

    assert connector.status == "Charging"
    assert "StartTransaction" in [call.action for call in cp.outbox]
