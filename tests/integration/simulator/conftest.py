"""The fake CSMS on a loopback port, speaking both OCPP versions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import serve
from websockets.typing import Subprotocol

from tests.integration.simulator.fake_csms import SUBPROTOCOLS, FakeCsms


@pytest.fixture
async def fake_csms() -> AsyncIterator[tuple[FakeCsms, str]]:
    fake = FakeCsms()
    offered = [Subprotocol(name) for name in SUBPROTOCOLS]
    async with serve(fake.handler, "127.0.0.1", 0, subprotocols=offered) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield fake, f"ws://127.0.0.1:{port}/ocpp"
    assert not fake.invalid, fake.invalid
