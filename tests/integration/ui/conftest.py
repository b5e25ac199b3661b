"""The dashboard tests' fixtures: a CSMS the app under test uses, with operators of every
role, and fresh Streamlit caches per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

from chargestream.domain.passwords import hash_password
from chargestream.domain.settings import Settings
from chargestream.ui.operators import Operator, save_operators
from tests.conftest import RunningCsms
from tests.integration.ui.test_pages import PASSWORD, ROLES


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Each test gets its own store connection and API client (and closes them)."""
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def ui(csms: RunningCsms, csms_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> RunningCsms:
    """The app under test reads this CSMS's store and talks to its API; alice may sign in."""
    monkeypatch.setenv("CHARGESTREAM_DATA_DIR", str(csms_settings.data_dir))
    monkeypatch.setenv("CHARGESTREAM_API_PORT", str(csms.api.base_url.port))
    monkeypatch.setenv("CHARGESTREAM_API_TOKEN", csms_settings.api_token or "")
    password_hash = hash_password(PASSWORD, iterations=1_000)
    save_operators(
        csms_settings.data_dir,
        {name: Operator(password_hash, role) for name, role in ROLES.items()},
    )
    return csms
