"""A minimal in-test CSMS for the simulator, over real loopback WebSockets, both versions.

Every frame a simulated station sends, and every answer it gives, is checked against the
official JSON schemas (OCPP 1.6 or 2.0.1, by the connection's subprotocol) shipped with the
``ocpp`` package.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
import orjson
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from chargestream.simulator import FleetConfig, FleetStats, run_fleet

NOW = "2024-01-01T00:00:00.000Z"
SUBPROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]
_SCHEMAS = {"ocpp1.6": ("v16", ""), "ocpp2.0.1": ("v201", "Request")}


@functools.cache
def _validator(version: str, name: str) -> Callable[[Any], Any]:
    folder = Path(ocpp.__file__).parent / _SCHEMAS[version][0] / "schemas"
    return fastjsonschema.compile(json.loads((folder / f"{name}.json").read_text()))


def _is_stop(action: str, payload: dict[str, Any]) -> bool:
    return action == "StopTransaction" or (
        action == "TransactionEvent" and payload.get("eventType") == "Ended"
    )


class FakeCsms:
    """Answers station CALLs minimally, records them, and can call, drop or refuse a station."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, dict[str, Any]]] = []  # (cp, id, action, payload)
        self.connections: dict[str, ServerConnection] = {}
        self.versions: dict[str, str] = {}  # charge point -> subprotocol of its connection
        self.transactions: dict[int, str] = {}  # 1.6 transactionId -> charge point
        self.drop_on_stop: set[str] = set()  # drop the connection instead of answering
        self.error_on_stop: set[str] = set()  # answer one StopTransaction with a CALLERROR
        self.refusing: set[str] = set()  # close these charge points' connections at once
        self.pending_boots = 0  # answer this many BootNotifications with Pending
        self.handshakes: list[tuple[str, str | None, str]] = []  # (cp, Authorization, peer)
        self.invalid: list[str] = []
        self._answers: dict[tuple[str, str], asyncio.Future[list[Any]]] = {}
        self._ids = itertools.count(1)

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None and ws.subprotocol is not None
        cp = ws.request.path.rsplit("/", 1)[-1]
        if cp in self.refusing:
            await ws.close()
            return
        version = self.versions[cp] = ws.subprotocol
        self.connections[cp] = ws
        self.handshakes.append((cp, ws.request.headers.get("Authorization"), ws.remote_address[0]))
        try:
            async for raw in ws:
                message = orjson.loads(raw)
                if message[0] != 2:
                    self._answers.pop((cp, message[1])).set_result(message)
                    continue
                _, message_id, action, payload = message
                self._check(version, f"{action}{_SCHEMAS[version][1]}", payload)
                self.calls.append((cp, message_id, action, payload))
                stop = _is_stop(action, payload)
                if stop and cp in self.drop_on_stop:
                    self.drop_on_stop.discard(cp)
                    ws.transport.abort()
                    return
                reply = [3, message_id, self._reply(cp, version, action)]
                if stop and cp in self.error_on_stop:
                    self.error_on_stop.discard(cp)
                    reply = [4, message_id, "InternalError", "store down", {}]
                await ws.send(orjson.dumps(reply).decode())
        except ConnectionClosed:
            pass

    def _check(self, version: str, name: str, payload: dict[str, Any]) -> None:
        try:
            _validator(version, name)(copy.deepcopy(payload))  # the validator fills defaults
        except fastjsonschema.JsonSchemaException as error:
            self.invalid.append(f"{name}: {error.message}: {payload}")

    def _reply(self, cp: str, version: str, action: str) -> dict[str, Any]:
        if action == "BootNotification" and self.pending_boots:
            self.pending_boots -= 1
            return {"status": "Pending", "currentTime": NOW, "interval": 1}
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": NOW, "interval": 300}
        if action == "Heartbeat":
            return {"currentTime": NOW}
        if action == "Authorize":
            name = "idTagInfo" if version == "ocpp1.6" else "idTokenInfo"
            return {name: {"status": "Accepted"}}
        if action == "StartTransaction":
            transaction_id = next(self._ids)
            self.transactions[transaction_id] = cp
            return {"transactionId": transaction_id, "idTagInfo": {"status": "Accepted"}}
        return {}

    async def call(self, cp: str, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CALL to a station and return its answer, checked against the schema."""
        message_id = f"csms-{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._answers[(cp, message_id)] = future
        await self.connections[cp].send(orjson.dumps([2, message_id, action, payload]).decode())
        answer = await asyncio.wait_for(future, 5)
        if answer[0] == 3:
            self._check(self.versions[cp], f"{action}Response", answer[2])
        return answer

    def payloads(self, action: str, cp: str | None = None) -> list[dict[str, Any]]:
        return [p for c, _, a, p in self.calls if a == action and cp in (None, c)]


async def until(condition: Callable[[], Any], timeout: float = 8.0) -> Any:
    """Poll ``condition`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)
    return result


def quick(url: str, tmp_path: Path, **overrides: Any) -> FleetConfig:
    """A small fleet with short sessions and idle times."""
    values: dict[str, Any] = {
        "url": url,
        "stations": 3,
        "meter_interval": 1.0,
        "session_minutes": (0.05, 0.05),
        "idle_seconds": (0.2, 0.5),
        "fault_rate": 0.0,
        "reconnect_rate": 0.0,
        "seed": 7,
        "reconnect_delay": 0.1,
        "stop_grace": 2.0,
        "ledger_file": tmp_path / "ledger.jsonl",
    }
    return FleetConfig(**{**values, **overrides})


def offline_prone(url: str, tmp_path: Path) -> FleetConfig:
    """One 2.0.1 station with sessions of about 5 s sampled every 0.2 s: a session overlaps
    any connection outage of a few seconds, with several events made meanwhile."""
    return quick(
        url,
        tmp_path,
        stations=1,
        v201_percent=100,
        meter_interval=0.2,
        session_minutes=(0.08, 0.08),
        idle_seconds=(0.1, 0.1),
    )


@asynccontextmanager
async def fleet(config: FleetConfig) -> AsyncIterator[FleetStats]:
    """The fleet runs while inside; leaving stops it and waits until it is done."""
    stop, stats = asyncio.Event(), FleetStats()
    task = asyncio.create_task(run_fleet(config, stop, stats))
    try:
        yield stats
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert stats.connected == 0


def ledger(config: FleetConfig) -> list[dict[str, Any]]:
    assert config.ledger_file is not None
    if not config.ledger_file.exists():
        return []
    return [orjson.loads(line) for line in config.ledger_file.read_bytes().splitlines()]
