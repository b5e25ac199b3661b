"""``chargestream simulate`` dials where ``chargestream run`` listens, from the same settings."""

from __future__ import annotations

import pytest

from chargestream.simulator.cli import default_url


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({}, "ws://127.0.0.1:9000/ocpp"),
        ({"CHARGESTREAM_OCPP_PORT": "9100"}, "ws://127.0.0.1:9100/ocpp"),
        (
            {"CHARGESTREAM_OCPP_HOST": "0.0.0.0", "CHARGESTREAM_OCPP_PORT": "9001"},
            "ws://127.0.0.1:9001/ocpp",
        ),
        ({"CHARGESTREAM_OCPP_HOST": "10.0.0.5"}, "ws://10.0.0.5:9000/ocpp"),
        ({"CHARGESTREAM_OCPP_HOST": "::1"}, "ws://[::1]:9000/ocpp"),
        ({"CHARGESTREAM_OCPP_HOST": "::"}, "ws://127.0.0.1:9000/ocpp"),
    ],
)
def test_the_default_url_follows_the_ocpp_settings(environ: dict[str, str], url: str) -> None:
    assert default_url(environ) == url
