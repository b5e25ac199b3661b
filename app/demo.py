"""``chargestream demo-rules``: the alert rules ``make demo`` presets, through the HTTP API.

The simulated fleet's DC chargers run warm (up to 40 °C) and near their 50 kW, so with these
rules threshold alerts open and close within minutes of the first sessions; with the
simulator's fault rate, Faulted connectors and their alerts appear too.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from chargestream.app.api_token import with_api_token
from chargestream.app.http import local_url
from chargestream.domain.settings import Settings, SettingsError

DEMO_RULES = {
    "demo-hot-connector": {
        "measurand": "Temperature",
        "operator": ">",
        "threshold": 38,
        "severity": "warning",
    },
    "demo-high-power": {
        "measurand": "Power.Active.Import",
        "operator": ">",
        "threshold": 45_000,  # W
        "severity": "info",
    },
}
API_WAIT = 60.0  # seconds for a CSMS started beside us to answer
POLL = 0.25


def preset_demo_rules(settings: Settings, wait: float = API_WAIT) -> list[str]:
    """PUT the demo rules once the API answers; the ids of the rules set."""
    base = local_url("http", settings.api_host, settings.api_port)
    _wait_for(f"{base}/healthz", wait)
    token = with_api_token(settings).settings.api_token  # the one the CSMS generated
    for rule_id, rule in DEMO_RULES.items():
        request = urllib.request.Request(
            f"{base}/api/v1/alert-rules/{rule_id}",
            data=json.dumps(rule).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass  # an error status raises
    return list(DEMO_RULES)


def _wait_for(url: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, OSError) as error:
            if time.monotonic() > deadline:
                raise SettingsError(
                    f"no API answers at {url} ({error}): is the CSMS running?"
                ) from None
        time.sleep(POLL)
