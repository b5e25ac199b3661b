"""Every service error has its HTTP status, answered in FastAPI's ``{"detail": …}`` shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request

from chargestream.api.app import create_api
from chargestream.api.errors import HTTP_STATUS, service_error_response
from chargestream.api.services.errors import InvalidInput, NotAvailable, NotFound, ServiceError
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService
from chargestream.storage.sqlite import SqliteStore


def test_every_service_error_has_a_status() -> None:
    assert set(ServiceError.__subclasses__()) == set(HTTP_STATUS)


async def test_the_response_carries_the_status_and_the_message() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    response = await service_error_response(request, NotFound("gone"))
    assert response.status_code == 404
    assert json.loads(bytes(response.body)) == {"detail": "gone"}
    response = await service_error_response(request, InvalidInput("bad"))
    assert response.status_code == 422  # as FastAPI's validation errors, as documented
    assert json.loads(bytes(response.body)) == {
        "detail": [{"loc": [], "msg": "bad", "type": "value_error"}]
    }
    assert (await service_error_response(request, NotAvailable("no"))).status_code == 501


async def test_a_store_that_cannot_answer_is_a_503_without_the_driver_message(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "api.db")
    await store.open()
    settings = Settings(api_token="unit-api-token-0123")
    api = create_api(settings, store, CommandService(_never_sent, store, timeout=1.0))
    await store.close()  # every read now raises StoreUnavailable
    transport = httpx.ASGITransport(app=api)
    headers = {"Authorization": "Bearer unit-api-token-0123"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", headers=headers
    ) as client:
        response = await client.get("/api/v1/charge-points")
    assert response.status_code == 503
    assert response.json() == {"detail": "the store is unavailable, try again"}


async def _never_sent(charge_point_id: str, action: str, payload: Any, timeout: float) -> Any:
    raise AssertionError("no command is sent in this test")
