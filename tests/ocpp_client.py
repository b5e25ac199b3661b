"""A test charge point: the ``ocpp`` library's ChargePoint over a real WebSocket.

It validates every message against the OCPP 1.6 schemas on both sides, so a
CSMS answer that breaks the spec fails the test. ``charging_station`` is the same for
OCPP 2.0.1 (the library's ``ocpp.v201`` ChargePoint and schemas).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from ocpp import v201
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection, connect


class TestChargePoint(ChargePoint):
    """Answers CSMS-initiated calls and remembers them."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.configuration = {"HeartbeatInterval": "300", "MeterValueSampleInterval": "10"}

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        self.received.append(("ChangeConfiguration", {"key": key, "value": value}))
        if key not in self.configuration:
            return call_result.ChangeConfiguration(status="NotSupported")
        self.configuration[key] = value
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        keys = key or list(self.configuration)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": self.configuration[k]}
                for k in keys
                if k in self.configuration
            ],
            unknown_key=[k for k in keys if k not in self.configuration] or None,
        )

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, **_: Any) -> call_result.RemoteStartTransaction:
        self.received.append(("RemoteStartTransaction", {"id_tag": id_tag}))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @on(Action.unlock_connector)
    def on_unlock(self, connector_id: int) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str
    ) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.clear_cache)
    def on_clear_cache(self) -> call_result.ClearCache:
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="Accepted", data="pong")

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str) -> call_result.CertificateSigned:
        self.received.append(("CertificateSigned", {"certificate_chain": certificate_chain}))
        return call_result.CertificateSigned(status="Accepted")

    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, **_: Any) -> call_result.TriggerMessage:
        self.received.append(("TriggerMessage", {"requested_message": requested_message}))
        return call_result.TriggerMessage(status="Accepted")


class TestChargingStation(v201.ChargePoint):
    """An OCPP 2.0.1 charging station: answers CSMS-initiated calls and remembers them;
    every variable asked for has the value ``variable_value``."""

    __test__ = False
    variable_value = "300"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict[str, Any]]] = []

    @on(Action201.reset)
    def on_reset(self, type: str, **_: Any) -> v201.call_result.Reset:
        self.received.append(("Reset", {"type": type}))
        return v201.call_result.Reset(status="Accepted")

    @on(Action201.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> v201.call_result.GetVariables:
        return v201.call_result.GetVariables(
            get_variable_result=[
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": self.variable_value,
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in get_variable_data
            ]
        )

    @on(Action201.trigger_message)
    def on_trigger(self, requested_message: str, **_: Any) -> v201.call_result.TriggerMessage:
        self.received.append(("TriggerMessage", {"requested_message": requested_message}))
        return v201.call_result.TriggerMessage(status="Accepted")

    @on(Action201.certificate_signed)
    def on_certificate_signed(
        self, certificate_chain: str, **_: Any
    ) -> v201.call_result.CertificateSigned:
        self.received.append(("CertificateSigned", {"certificate_chain": certificate_chain}))
        return v201.call_result.CertificateSigned(status="Accepted")


def basic_auth(charge_point_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def charge_point(
    url: str,
    charge_point_id: str,
    *,
    password: str | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[TestChargePoint]:
    """``tls``: the client context for a wss:// ``url``."""
    headers = basic_auth(charge_point_id, password) if password else None
    async with connect(
        f"{url}/{charge_point_id}",
        subprotocols=["ocpp1.6"],
        additional_headers=headers,
        ssl=tls,
    ) as websocket:
        cp = TestChargePoint(charge_point_id, websocket, response_timeout=10)
        async with _running(cp):
            yield cp


StationKind = TypeVar("StationKind", bound=TestChargingStation)


@asynccontextmanager
async def charging_station(
    url: str,
    charge_point_id: str,
    *,
    password: str | None = None,
    tls: ssl.SSLContext | None = None,
    subprotocols: tuple[str, ...] = ("ocpp2.0.1",),
    kind: type[StationKind] = TestChargingStation,  # type: ignore[assignment]
) -> AsyncIterator[StationKind]:
    """An OCPP 2.0.1 charging station, like ``charge_point``; ``subprotocols`` in its order
    of preference (the CSMS must select ocpp2.0.1); ``kind``: one with its own handlers."""
    headers = basic_auth(charge_point_id, password) if password else None
    async with connect(
        f"{url}/{charge_point_id}",
        subprotocols=list(subprotocols),  # type: ignore[arg-type]
        additional_headers=headers,
        ssl=tls,
    ) as websocket:
        assert websocket.subprotocol == "ocpp2.0.1", websocket.subprotocol
        station = kind(charge_point_id, websocket, response_timeout=10)
        async with _running(station):
            yield station


async def boot_station(station: TestChargingStation) -> str:
    """A 2.0.1 BootNotification (PowerUp); the registration status the CSMS answers."""
    result = await station.call(
        v201.call.BootNotification(
            charging_station={"model": "T54", "vendor_name": "ABB"}, reason="PowerUp"
        )
    )
    return str(result.status)


Station = TypeVar("Station", bound=ChargePoint | v201.ChargePoint)


@asynccontextmanager
async def _running(station: Station) -> AsyncIterator[Station]:
    """``station`` answering the CSMS until the block ends."""
    task = asyncio.create_task(station.start())
    try:
        yield station
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


Kind = TypeVar("Kind", bound=ChargePoint)


@asynccontextmanager
async def booted(url: str, charge_point_id: str, kind: type[Kind]) -> AsyncIterator[Kind]:
    """A charge point of ``kind`` (its own command handlers) connected and booted."""
    async with connect(f"{url}/{charge_point_id}", subprotocols=["ocpp1.6"]) as websocket:
        cp = kind(charge_point_id, websocket, response_timeout=10)
        task = asyncio.create_task(cp.start())
        try:
            await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="V"))
            yield cp
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def at(seconds: int) -> str:
    moment = T0 + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def charge(url: str, charge_point_id: str, temperatures: list[float], start: int = 0) -> int:
    """A full session whose MeterValues carry the given temperatures, from ``start`` s past T0.

    Sessions with the same charge point and start are the same StartTransaction
    (and get the same transactionId).
    """
    async with charge_point(url, charge_point_id) as cp:
        await cp.call(call.BootNotification(charge_point_model="EVA040", charge_point_vendor="BYD"))
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
        )
        started = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0, timestamp=at(start))
        )
        for i, temperature in enumerate(temperatures, start=1):
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[
                        {
                            "timestamp": at(start + 10 * i),
                            "sampledValue": [
                                {"value": str(1000 * i), "unit": "Wh"},
                                {
                                    "value": str(temperature),
                                    "measurand": "Temperature",
                                    "unit": "Celsius",
                                },
                            ],
                        }
                    ],
                )
            )
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted")
        )
        await cp.call(
            call.StopTransaction(
                meter_stop=1000 * len(temperatures),
                timestamp=at(start + 10 * len(temperatures) + 5),
                transaction_id=started.transaction_id,
            )
        )
        return started.transaction_id


class RawStation:
    """One 2.0.1 connection that sends CALLs as frames and waits for each answer: a test
    sends exactly the payloads it built (a station's offline queue, out of order)."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.ids = itertools.count(1)

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        message_id = str(next(self.ids))
        await self.websocket.send(orjson.dumps([2, message_id, action, payload]).decode())
        answer = orjson.loads(await self.websocket.recv())
        assert answer[:2] == [3, message_id], answer  # a CALLRESULT, not a CALLERROR
        return answer[2]

    async def answer_next(self, answers: dict[str, dict[str, Any]]) -> tuple[str, Any]:
        """Receive the CSMS's next CALL and answer it with ``answers[action]``; its action
        and payload."""
        frame = orjson.loads(await self.websocket.recv())
        assert frame[0] == 2, frame  # a CALL
        await self.websocket.send(orjson.dumps([3, frame[1], answers[frame[2]]]).decode())
        return frame[2], frame[3]


@asynccontextmanager
async def raw_station(url: str, charge_point_id: str) -> AsyncIterator[RawStation]:
    async with connect(f"{url}/{charge_point_id}", subprotocols=["ocpp2.0.1"]) as websocket:  # type: ignore[list-item]
        assert websocket.subprotocol == "ocpp2.0.1"
        yield RawStation(websocket)
