"""The bearer token: the check itself, and that every /api/v1 route is behind it."""

from __future__ import annotations

import re

import httpx
import pytest

from chargestream.api import create_api
from chargestream.api.services.auth import BearerToken
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService
from chargestream.gateway.connection import Reply
from chargestream.storage.sqlite import SqliteStore


def test_without_a_configured_token_everyone_is_allowed() -> None:
    assert BearerToken(None).allows(None)
    assert BearerToken(None).allows("Bearer anything")


@pytest.mark.parametrize(
    "header", [None, "", "s3cret", "Bearer", "Bearer s3cre", "Bearer s3cret ", "bearer s3cret"]
)
def test_with_a_token_only_the_exact_header_is_allowed(header: str | None) -> None:
    token = BearerToken("s3cret")
    assert token.allows("Bearer s3cret")
    assert not token.allows(header)


def test_a_header_with_non_ascii_characters_is_refused_not_an_error() -> None:
    assert not BearerToken("s3cret").allows("Bearer s3crét")


async def never_sent(charge_point_id: str, action: str, payload: object, timeout: float) -> Reply:
    raise AssertionError("an unauthorized request reached the gateway")


async def test_every_api_v1_route_refuses_a_request_without_the_token(
    store: SqliteStore,
) -> None:
    settings = Settings(node_id="unit-node", api_token="s3cret")
    app = create_api(settings, store, CommandService(never_sent, store, timeout=1.0))
    operations = [
        (method, re.sub(r"\{\w+\}", "1", path))
        for path, methods in app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        for method in methods
    ]
    assert len(operations) == 21

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        for method, path in operations:
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                response = await client.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (method, path)
                assert response.json() == {"detail": "missing or wrong bearer token"}
        allowed = {"Authorization": "Bearer s3cret"}
        assert (await client.get("/api/v1/charge-points", headers=allowed)).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
