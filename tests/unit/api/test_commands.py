"""CommandsService over the real CommandService and a gateway with no charge point connected."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargestream.api.services.commands import CommandsService
from chargestream.api.services.errors import NotFound
from chargestream.domain.records import CommandOutcome
from chargestream.domain.settings import Settings
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.gateway.commands import CommandService
from chargestream.gateway.directory import Directory
from chargestream.gateway.handlers import CentralSystem
from chargestream.gateway.server import Gateway
from chargestream.storage.sqlite import SqliteStore


@pytest.fixture
async def commands(
    store: SqliteStore, directory: Directory, tmp_path: Path
) -> AsyncIterator[CommandsService]:
    settings = Settings(node_id="unit-node")
    event_log = SqliteEventLog(tmp_path / "log.db")
    await event_log.open()
    gateway = Gateway(settings, event_log, CentralSystem(settings, store, directory), directory)
    yield CommandsService(CommandService(gateway.call, store, timeout=1.0), store)
    await event_log.close()


async def test_an_unknown_action_is_not_found_and_not_logged(
    commands: CommandsService,
) -> None:
    with pytest.raises(
        NotFound, match=re.escape("'Frobnicate' is not a CSMS action of OCPP 1.6 or 2.0.1")
    ):
        await commands.send("CP-1", "Frobnicate", {}, None, sent_by="api")
    assert await commands.log(None, limit=10) == []


async def test_each_command_ends_in_an_outcome_in_the_log(commands: CommandsService) -> None:
    rejected = await commands.send("CP-1", "Reset", {"type": "Hard-ish"}, None, sent_by="api")
    unreachable = await commands.send(
        "CP-2", "Reset", {"type": "Soft"}, timeout=0.5, sent_by="operator:alice"
    )

    assert rejected.outcome is CommandOutcome.REJECTED
    assert unreachable.outcome is CommandOutcome.NOT_CONNECTED
    assert unreachable.error == "not connected"
    assert (rejected.sent_by, unreachable.sent_by) == ("api", "operator:alice")
    assert await commands.log(None, limit=10) == [unreachable, rejected]
    assert await commands.log("CP-1", limit=10) == [rejected]
    assert await commands.log(None, limit=1) == [unreachable]
