"""A real ``chargestream`` refuses to start on a busy port or a bad setting: a message, exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

PORTS = ("OCPP_PORT", "OCPP_TLS_PORT", "API_PORT", "UI_PORT", "FTP_PORT", "HEALTH_PORT")


def start(command: str, data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run ``chargestream <command>`` with every port free unless ``settings`` says otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGESTREAM_")}
    env |= {f"CHARGESTREAM_{port}": str(free_port()) for port in PORTS}
    env |= {"CHARGESTREAM_DATA_DIR": str(data_dir), "CHARGESTREAM_LOG_SYNC": "normal"}
    env |= {f"CHARGESTREAM_{name}": value for name, value in settings.items()}
    return subprocess.run(
        [sys.executable, "-m", "chargestream.app.cli", command, "--services-dir", str(data_dir)]
        if command == "stack"
        else [sys.executable, "-m", "chargestream.app.cli", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "setting"),
    [*(("run", port) for port in PORTS if port != "HEALTH_PORT"), ("stack", "HEALTH_PORT")],
)
def test_a_busy_port_of_any_component_stops_the_start(
    tmp_path: Path, command: str, setting: str
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = start(command, tmp_path / "data", **{setting: str(port)})
    assert result.returncode == 2
    assert f"CHARGESTREAM_{setting}={port}: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("LOG_LEVEL", "verbose", "CHARGESTREAM_LOG_LEVEL='verbose': use DEBUG, INFO, WARNING"),
        ("MODE", "stak", "CHARGESTREAM_MODE='stak': use embedded or stack"),
        ("HEARTBEAT_INTERVAL", "5m", "CHARGESTREAM_HEARTBEAT_INTERVAL='5m': use a whole number"),
        ("TLS_CERT_FILE", "/nonexistent/cert.pem", "'/nonexistent/cert.pem': use an existing"),
    ],
)
def test_a_bad_setting_stops_the_start_without_a_traceback(
    tmp_path: Path, setting: str, value: str, message: str
) -> None:
    result = start("run", tmp_path / "data", **{setting: value})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_data_directory_that_is_a_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory")
    result = start("run", tmp_path / "data")
    assert result.returncode == 2
    assert "CHARGESTREAM_DATA_DIR=" in result.stderr and "use a directory" in result.stderr
