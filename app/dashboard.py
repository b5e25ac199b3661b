"""Start and stop the dashboard as its own process (``streamlit run app/dashboard_app.py``).

The child gets this process's environment plus every setting as a
``CHARGESTREAM_*`` variable, so it sees the settings the caller really uses
(CLI flags, the API port actually bound). Streamlit runs headless and sends
no usage statistics.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from enum import Enum
from pathlib import Path

from chargestream.domain.settings import PREFIX, Settings

APP = Path(__file__).with_name("dashboard_app.py")


def settings_environment(settings: Settings) -> dict[str, str]:
    """Every field as the variable ``Settings.from_env`` reads back to the same value."""
    environment = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, Enum):
            text = str(value.value)
        else:
            text = str(value)
        environment[PREFIX + f.name.upper()] = text
    return environment


def ui_command(settings: Settings) -> list[str]:
    """``streamlit run`` of the dashboard's server (ui/server.py: security headers) for APP.

    The flags (they override Streamlit's config files and ``STREAMLIT_*`` variables) keep
    the protections on: XSRF tokens with a same-site-strict cookie, CORS protection (no
    ``Access-Control-Allow-Origin: *``), no usage statistics, no error details or help
    links in the browser, no static file serving, agent API or uploads, no rerun on save,
    and no welcome message (with 0.0.0.0 it looks the public address up on the internet).
    See docs/ui.md.
    """
    from chargestream.ui.headers import SERVER_SCRIPT

    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(SERVER_SCRIPT),
        "--server.port",
        str(settings.ui_port),
        "--server.address",
        settings.ui_host,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--server.allowRunOnSave",
        "false",
        "--server.enableXsrfProtection",
        "true",
        "--server.xsrfCookieSameSite",
        "strict",
        "--server.enableCORS",
        "true",
        "--server.enableStaticServing",
        "false",
        "--server.enableAgentApi",
        "false",
        "--server.maxUploadSize",
        "1",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
        "--client.showErrorLinks",
        "false",
        "--logger.hideWelcomeMessage",
        "true",
        "--",
        str(APP),
    ]


def start_ui(settings: Settings) -> subprocess.Popen[bytes]:
    """Start the dashboard on ``settings.ui_host:settings.ui_port``; it runs until stopped."""
    return subprocess.Popen(
        ui_command(settings), env={**os.environ, **settings_environment(settings)}
    )


def stop_ui(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate the dashboard; kill it if it has not exited within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
