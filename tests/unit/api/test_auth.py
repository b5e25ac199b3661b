"""The bearer token: the check itself, and that every /api/v1 route is behind it."""

from __future__ import annotations

import re

import httpx
import pytest

from chargestream.api import create_api
from chargestream.api.services.auth import BearerToken
from chargestream.domain.settings import Settings, SettingsError
from chargestream.gateway.commands import CommandService
from chargestream.gateway.connection import Reply
from chargestream.storage.sqlite import SqliteStore

TOKEN = "s3cret-unit-token"


def test_there_is_no_api_without_a_token(store: SqliteStore) -> None:
    with pytest.raises(SettingsError, match="CHARGESTREAM_API_TOKEN is not set"):
        create_api(
            Settings(node_id="unit-node"), store, CommandService(never_sent, store, timeout=1)
        )
    with pytest.raises(ValueError, match="needs a bearer token"):
        BearerToken("")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        TOKEN,
        "Bearer",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN} ",
        f"bearer {TOKEN}",
        f"Basic {TOKEN}",
    ],
)
def test_only_the_exact_header_is_allowed(header: str | None) -> None:
    token = BearerToken(TOKEN)
    assert token.allows(f"Bearer {TOKEN}")
    assert not token.allows(header)


def test_a_header_with_non_ascii_characters_is_refused_not_an_error() -> None:
    assert not BearerToken(TOKEN).allows("Bearer s3cret-unit-tokén")


def test_the_token_is_named_api_and_never_shown() -> None:
    token = BearerToken(TOKEN)
    assert token.name == "api"
    assert TOKEN not in repr(token)


async def never_sent(charge_point_id: str, action: str, payload: object, timeout: float) -> Reply:
    raise AssertionError("an unauthorized request reached the gateway")


async def test_every_api_v1_route_refuses_a_request_without_the_token(
    store: SqliteStore,
) -> None:
    settings = Settings(node_id="unit-node", api_token=TOKEN)
    app = create_api(settings, store, CommandService(never_sent, store, timeout=1.0))
    operations = [
        (method, re.sub(r"\{\w+\}", "1", path))
        for path, methods in app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        for method in methods
    ]
    # 24 + 3 diagnostics + bulk + 4 reservations + 8 charging profiles + 2 local list + 4 sites
    # + 4 firmware campaigns + device model + 6 notifications + 5 reports
    assert len(operations) == 62

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        for method, path in operations:
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                response = await client.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (method, path)
                assert response.json() == {"detail": "missing or wrong bearer token"}
        allowed = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/api/v1/charge-points", headers=allowed)).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


def test_the_openapi_documents_the_errors_the_routes_answer(store: SqliteStore) -> None:
    settings = Settings(node_id="unit-node", api_token=TOKEN)
    app = create_api(settings, store, CommandService(never_sent, store, timeout=1.0))
    paths = app.openapi()["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            codes = operation["responses"].keys()
            if path.startswith("/api/v1"):
                assert {"401", "503"} <= codes, (method, path)  # the token; the store down
            names_one = path.endswith("}") or "{charge_point_id}/" in path
            if names_one and method != "put":  # PUT creates what it names
                assert "404" in codes, (method, path)
    assert "503" in paths["/healthz"]["get"]["responses"]
    assert "501" in paths["/api/v1/charge-points/{charge_point_id}/frames"]["get"]["responses"]
