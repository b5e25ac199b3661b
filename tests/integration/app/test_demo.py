"""``chargestream demo-rules`` presets the demo's alert rules in a running CSMS."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from chargestream.app.demo import DEMO_RULES
from tests.conftest import TEST_API_TOKEN, RunningCsms, eventually


async def test_demo_rules_are_set_through_the_api_of_the_running_csms(csms: RunningCsms) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGESTREAM_")}
    env |= {
        "CHARGESTREAM_API_PORT": str(csms.api.base_url.port),
        "CHARGESTREAM_API_TOKEN": TEST_API_TOKEN,
        "CHARGESTREAM_DATA_DIR": str(csms.app.settings.data_dir),
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "chargestream.app.cli", "demo-rules"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "demo alert rules set: demo-hot-connector, demo-high-power" in result.stdout
    rules = {rule["rule_id"]: rule for rule in (await csms.api.get("/api/v1/alert-rules")).json()}
    assert set(rules) == set(DEMO_RULES)
    assert rules["demo-hot-connector"]["threshold"] == 38


async def test_the_simulator_dials_the_port_the_csms_settings_name(csms: RunningCsms) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGESTREAM_")}
    env["CHARGESTREAM_OCPP_PORT"] = csms.ocpp_url.rsplit(":", 1)[1].split("/")[0]
    command = ["simulate", "--stations", "1", "--duration", "3", "--id-prefix", "FOLLOW"]
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "chargestream.app.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"against ws://127.0.0.1:{env['CHARGESTREAM_OCPP_PORT']}/ocpp" in result.stdout

    async def registered() -> bool:
        return (await csms.api.get("/api/v1/charge-points/FOLLOW-00001")).status_code == 200

    assert await eventually(registered)
