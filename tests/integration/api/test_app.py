"""The HTTP API over real HTTP: documents, auth, validation, and operator data."""

from __future__ import annotations

import httpx
import pytest
from ocpp.v16 import call

from chargestream.app.embedded import EmbeddedCsms
from tests.conftest import RunningCsms, make_settings
from tests.ocpp_client import charge_point


async def test_openapi_documents_every_route(csms: RunningCsms) -> None:
    paths = (await csms.api.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/charge-points",
        "/api/v1/charge-points/{charge_point_id}",
        "/api/v1/charge-points/{charge_point_id}/status-history",
        "/api/v1/charge-points/{charge_point_id}/sessions",
        "/api/v1/charge-points/{charge_point_id}/commands/{action}",
        "/api/v1/sessions/{transaction_id}",
        "/api/v1/sessions/{transaction_id}/meter-values",
        "/api/v1/alerts",
        "/api/v1/id-tags/{id_tag}",
        "/healthz",
    ):
        assert path in paths, path


async def test_metrics_count_frames_and_errors(csms: RunningCsms) -> None:
    async with charge_point(csms.ocpp_url, "CP-M") as cp:
        await cp.call(call.Heartbeat())
    text = (await csms.api.get("/metrics")).text
    assert 'chargestream_calls_total{action="Heartbeat"}' in text
    assert "chargestream_call_seconds_bucket" in text


async def test_health_reports_mode_and_connections(csms: RunningCsms) -> None:
    health = (await csms.api.get("/healthz")).json()
    assert health == {"status": "ok", "mode": "embedded", "node": "test-node", "connected": 0}


async def test_api_token_is_required(tmp_path) -> None:
    app = EmbeddedCsms(make_settings(tmp_path, api_token="s3cret-of-16-chars"))
    addresses = await app.start()
    try:
        base = f"http://127.0.0.1:{addresses.api_port}"
        async with httpx.AsyncClient(base_url=base) as api:
            assert (await api.get("/api/v1/charge-points")).status_code == 401
            wrong = {"Authorization": "Bearer nope"}
            assert (await api.get("/api/v1/charge-points", headers=wrong)).status_code == 401
            right = {"Authorization": "Bearer s3cret-of-16-chars"}
            assert (await api.get("/api/v1/charge-points", headers=right)).status_code == 200
            assert (await api.get("/healthz")).status_code == 200  # probes need no token
    finally:
        await app.stop()


async def test_charge_point_registration_lifecycle(csms: RunningCsms) -> None:
    assert (await csms.api.get("/api/v1/charge-points/CP-R")).status_code == 404
    created = await csms.api.put(
        "/api/v1/charge-points/CP-R", json={"display_name": "Depot 1", "location": "Belém"}
    )
    assert created.json()["registered"] and created.json()["location"] == "Belém"
    updated = await csms.api.put("/api/v1/charge-points/CP-R", json={"lenient": True})
    assert updated.json()["display_name"] == "Depot 1" and updated.json()["lenient"]
    listed = (await csms.api.get("/api/v1/charge-points")).json()
    assert [c["charge_point_id"] for c in listed] == ["CP-R"]
    assert (
        await csms.api.put("/api/v1/charge-points/CP-R", json={"password": "short"})
    ).status_code == 422
    assert (await csms.api.delete("/api/v1/charge-points/CP-R")).status_code == 204
    assert (await csms.api.delete("/api/v1/charge-points/CP-R")).status_code == 404


async def test_id_tags_crud_and_validation(csms: RunningCsms) -> None:
    put = await csms.api.put(
        "/api/v1/id-tags/TAG-1",
        json={"status": "Blocked", "expiry_date": "2030-01-01T00:00:00Z", "parent_id_tag": "P"},
    )
    assert put.status_code == 200
    assert (await csms.api.get("/api/v1/id-tags/TAG-1")).json()["status"] == "Blocked"
    assert [t["id_tag"] for t in (await csms.api.get("/api/v1/id-tags")).json()] == ["TAG-1"]
    assert (await csms.api.put("/api/v1/id-tags/" + "X" * 21, json={})).status_code == 422
    assert (await csms.api.put("/api/v1/id-tags/T2", json={"status": "Maybe"})).status_code == 422
    assert (await csms.api.delete("/api/v1/id-tags/TAG-1")).status_code == 204
    assert (await csms.api.get("/api/v1/id-tags/TAG-1")).status_code == 404


async def test_alert_rules_crud_and_validation(csms: RunningCsms) -> None:
    rule = {"measurand": "Temperature", "operator": ">", "threshold": 60}
    assert (await csms.api.put("/api/v1/alert-rules/hot", json=rule)).status_code == 200
    assert (await csms.api.get("/api/v1/alert-rules")).json()[0]["rule_id"] == "hot"
    bad = {**rule, "operator": ">="}
    assert (await csms.api.put("/api/v1/alert-rules/x", json=bad)).status_code == 422
    assert (await csms.api.delete("/api/v1/alert-rules/hot")).status_code == 204
    assert (await csms.api.delete("/api/v1/alert-rules/hot")).status_code == 404
    missing = await csms.api.post("/api/v1/alerts/nope/acknowledge", json={"by": "ops"})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 422),
        ({"from": "yesterday"}, 422),
        ({"from": "2026-01-01T00:00:00"}, 200),  # naive times are UTC
    ],
)
async def test_status_history_window_is_validated(
    csms: RunningCsms, params: dict, status: int
) -> None:
    await csms.api.put("/api/v1/charge-points/CP-H", json={})
    response = await csms.api.get("/api/v1/charge-points/CP-H/status-history", params=params)
    assert response.status_code == status


async def test_unknown_session_is_404(csms: RunningCsms) -> None:
    assert (await csms.api.get("/api/v1/sessions/424242")).status_code == 404
    assert (await csms.api.get("/api/v1/sessions/424242/meter-values")).status_code == 404


async def test_a_transaction_id_no_store_can_hold_is_refused_not_a_500(csms: RunningCsms) -> None:
    for path in ("/api/v1/sessions/{}", "/api/v1/sessions/{}/meter-values"):
        too_large = await csms.api.get(path.format(38070007625601038096132997120))
        assert too_large.status_code == 422, too_large.text
        largest = await csms.api.get(path.format(2**63 - 1))
        assert largest.status_code in (200, 404), largest.text


async def test_a_lone_surrogate_in_a_body_is_refused_not_a_500(csms: RunningCsms) -> None:
    """JSON may escape a lone surrogate, which is no Unicode text: refused, and the 422 that
    echoes it is JSON with the surrogate escaped (UTF-8 cannot encode it)."""
    json_headers = {"Content-Type": "application/json"}
    for path, body in (
        ("/api/v1/charge-points/CP-S", '{"display_name": "a\\ud800b"}'),
        ("/api/v1/charge-points/CP-S", '{"location": "\\udfff"}'),
        ("/api/v1/id-tags/T-S", '{"parent_id_tag": "\\ud800"}'),
    ):
        response = await csms.api.put(path, content=body, headers=json_headers)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["detail"][0]["type"] in ("value_error", "string_unicode")
    assert (await csms.api.put("/api/v1/charge-points/CP-S", json={})).status_code == 200
    answer = await csms.api.post(
        "/api/v1/charge-points/CP-S/commands/ChangeConfiguration",
        content='{"key": "\\ud800", "value": "1"}',
        headers=json_headers,
    )
    assert answer.status_code == 422, answer.text  # rejected: no frame can carry it
    assert answer.json()["outcome"] == "rejected"
