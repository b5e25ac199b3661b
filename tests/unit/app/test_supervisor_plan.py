"""``chargestream stack``'s plan: the token reaches only the API and the dashboard, and each
health check asks the address its process listens on."""

from __future__ import annotations

import pytest

from chargestream.app.supervisor import plan
from chargestream.domain.settings import Settings

TOKEN = "stack-api-token-0123456789"


def test_only_the_api_and_the_dashboard_get_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGESTREAM_API_TOKEN", "from-the-shell-0123456789")
    children = {c.name: c for c in plan(Settings(api_token=TOKEN, node_id="n"), 2, 2)}
    assert set(children) == {"worker-1", "worker-2", "gateway-1", "gateway-2", "api", "ui"}
    tokens = {name: child.env.get("CHARGESTREAM_API_TOKEN") for name, child in children.items()}
    assert tokens == {
        "worker-1": None,
        "worker-2": None,
        "gateway-1": None,
        "gateway-2": None,
        "api": TOKEN,
        "ui": TOKEN,
    }


def test_health_checks_ask_each_listener_where_it_listens() -> None:
    settings = Settings(
        api_token=TOKEN,
        node_id="n",
        health_host="0.0.0.0",
        api_host="10.1.2.3",
        ui_host="::1",
        health_port=9100,
        api_port=9200,
        ui_port=9300,
    )
    urls = {child.name: child.health_url for child in plan(settings, 1, 1)}
    assert urls == {
        "worker-1": "http://127.0.0.1:9150/healthz",  # any address: asked on loopback
        "gateway-1": "http://127.0.0.1:9100/healthz",
        "api": "http://10.1.2.3:9200/healthz",
        "ui": "http://[::1]:9300/_stcore/health",
    }


def test_the_plan_needs_a_token() -> None:
    with pytest.raises(ValueError, match="needs settings with the API token"):
        plan(Settings(node_id="n"), 1, 1)


def test_every_gateway_gets_the_one_ca_the_supervisor_made(tmp_path) -> None:
    from chargestream.app.pki import with_pki

    settings = with_pki(Settings(api_token=TOKEN, node_id="n", data_dir=tmp_path)).settings
    children = {c.name: c for c in plan(settings, 2, 1)}
    for name in ("gateway-1", "gateway-2"):
        env = children[name].env
        assert env["CHARGESTREAM_CA_CERT_FILE"] == str(tmp_path / "pki" / "ca.pem")
        assert env["CHARGESTREAM_TLS_CERT_FILE"] == str(tmp_path / "pki" / "server.pem")
