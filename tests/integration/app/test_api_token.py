"""The API token of real ``chargestream`` processes: generated once, kept 0600, printed once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import eventually, free_port


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGESTREAM_")}
    return {
        **env,
        "CHARGESTREAM_DATA_DIR": str(data_dir),
        "CHARGESTREAM_OCPP_PORT": str(free_port()),
        "CHARGESTREAM_API_PORT": str(free_port()),
        "CHARGESTREAM_RUN_UI": "false",
        "CHARGESTREAM_LOG_FORMAT": "json",
        "CHARGESTREAM_LOG_SYNC": "normal",
        **extra,
    }


async def run_once(
    env: dict[str, str], token: str | None = None
) -> tuple[str, str, dict[str, int]]:
    """Start ``chargestream run``, ask the API with and without the token, stop it.

    ``token``: the one to send; None: the one kept in the data directory. Returns stdout,
    stderr and the status of each request.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "chargestream.app.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    statuses: dict[str, int] = {}
    try:
        base = f"http://127.0.0.1:{env['CHARGESTREAM_API_PORT']}"
        async with httpx.AsyncClient(base_url=base) as api:

            async def healthy() -> bool:
                if process.poll() is not None:
                    raise AssertionError(process.communicate()[1].decode())
                try:
                    return (await api.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, timeout=30)
            if token is None:
                token = Path(env["CHARGESTREAM_DATA_DIR"], "api-token").read_text().strip()
            statuses["without"] = (await api.get("/api/v1/commands")).status_code
            wrong = {"Authorization": f"Bearer {token[:-1]}x"}
            statuses["wrong"] = (await api.get("/api/v1/commands", headers=wrong)).status_code
            right = {"Authorization": f"Bearer {token}"}
            statuses["kept"] = (await api.get("/api/v1/commands", headers=right)).status_code
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.to_thread(process.communicate, timeout=30)
        assert process.returncode == 0, stderr.decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return stdout.decode(), stderr.decode(), statuses


def token_events(stderr: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line["event"] == "api_token"]


async def test_the_first_start_creates_and_prints_the_token_later_starts_reuse_it(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    env = environment(data_dir)

    first_out, first_err, first = await run_once(env)
    path = data_dir / "api-token"
    token = path.read_text()
    assert token.endswith("\n") and token.count("\n") == 1
    token = token.strip()
    assert len(token) == 43  # secrets.token_urlsafe(32)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert first == {"without": 401, "wrong": 401, "kept": 200}
    assert first_out.count(token) == 1 and f"kept in {path}" in first_out
    assert token not in first_err  # never through logging
    assert [e["created"] for e in token_events(first_err)] == [True]

    second_out, second_err, second = await run_once(env)
    assert path.read_text().strip() == token
    assert second == {"without": 401, "wrong": 401, "kept": 200}
    assert token not in second_out and token not in second_err
    assert "API token" not in second_out
    assert token_events(second_err) == [
        {**token_events(second_err)[0], "file": str(path), "created": False}
    ]


async def test_a_configured_token_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    configured = "configured-token-0123456789"
    env = environment(tmp_path / "data", CHARGESTREAM_API_TOKEN=configured)
    out, err, statuses = await run_once(env, configured)
    assert statuses == {"without": 401, "wrong": 401, "kept": 200}
    assert not (tmp_path / "data" / "api-token").exists()
    assert configured not in out and configured not in err
    assert token_events(err) == []


def test_a_weak_kept_token_stops_the_start_without_showing_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "api-token").write_text("too-short\n")
    result = subprocess.run(
        [sys.executable, "-m", "chargestream.app.cli", "run"],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "does not hold a usable API token" in result.stderr
    assert "delete it to get a new one" in result.stderr
    assert "too-short" not in result.stderr + result.stdout


def test_the_api_alone_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chargestream.app.cli", "api"],
        env=environment(tmp_path, CHARGESTREAM_KAFKA_BOOTSTRAP="127.0.0.1:1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "CHARGESTREAM_API_TOKEN is not set" in result.stderr
    assert not (tmp_path / "api-token").exists()
