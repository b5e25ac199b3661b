"""One command to many charge points: the targets resolved and checked once, then sent
through the command service with bounded concurrency, each with its own outcome and log entry."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from chargestream.api.bulk_schemas import MAX_BULK_TARGETS, BulkCommandIn, BulkFilter
from chargestream.api.schemas import ChargePointOut
from chargestream.api.services.charge_points import ChargePointService
from chargestream.api.services.errors import InvalidInput
from chargestream.domain.records import CommandRecord
from chargestream.domain.redaction import is_secret_key
from chargestream.gateway.commands import CommandService, payload_violation, versions_with

CONCURRENCY = 20  # commands in flight at once per bulk request
# how many charge points a filter looks at: beyond it a filter could miss some
MAX_SCANNED = 100_000
SHOWN_UNKNOWN = 10


@dataclass(frozen=True)
class BulkResult:
    action: str
    records: list[CommandRecord]

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(r.outcome.value for r in self.records if r.outcome is not None))


class BulkCommandsService:
    def __init__(self, commands: CommandService, charge_points: ChargePointService) -> None:
        self._commands = commands
        self._charge_points = charge_points

    async def send(
        self, request: BulkCommandIn, timeout: float | None, *, sent_by: str
    ) -> BulkResult:
        """Every target's command record, in the order of the targets; InvalidInput (nothing
        sent) for an unknown action, a payload no version's schema of it accepts (a charge
        point of another version gets its own ``rejected`` outcome), a charge point password,
        unknown charge points or more than MAX_BULK_TARGETS targets."""
        action, payload = request.action, request.payload
        versions = versions_with(action)
        if not versions:
            raise InvalidInput(f"{action!r} is not a CSMS action of OCPP 1.6 or 2.0.1")
        violation = payload_violation(action, payload, versions)
        if violation is not None:
            raise InvalidInput(f"payload invalid for {action}: {violation}")
        if is_secret_key(payload.get("key")):
            raise InvalidInput(
                "a charge point password is not sent in bulk: rotate each charge point's"
                " password (POST /api/v1/charge-points/{id}/rotate-password)"
            )
        targets = await resolve_targets(
            self._charge_points, request.charge_point_ids, request.filter
        )
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(charge_point_id: str) -> CommandRecord:
            async with gate:
                return await self._commands.send(
                    charge_point_id, action, payload, timeout, sent_by=sent_by
                )

        records = await asyncio.gather(*(one(i) for i in targets))
        return BulkResult(action, list(records))


async def resolve_targets(
    charge_points: ChargePointService, ids: Sequence[str] | None, wanted: BulkFilter | None
) -> list[str]:
    """The charge points listed (each once, in order) or matched by ``wanted``, whichever is
    given; InvalidInput for unknown ones or more than MAX_BULK_TARGETS."""
    if wanted is not None:
        listing = await charge_points.listing(MAX_SCANNED)
        targets = [cp.charge_point_id for cp in listing if _matches(cp, wanted)]
        if len(targets) > MAX_BULK_TARGETS:
            raise InvalidInput(
                f"the filter matches {len(targets)} charge points, more than"
                f" {MAX_BULK_TARGETS}: narrow it"
            )
        return targets
    assert ids is not None  # the schemas want one of the two
    targets = list(dict.fromkeys(ids))
    known = {cp.charge_point_id for cp in await charge_points.listing(MAX_SCANNED)}
    unknown = [i for i in targets if i not in known]
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:SHOWN_UNKNOWN])
        more = f" and {len(unknown) - SHOWN_UNKNOWN} more" if len(unknown) > SHOWN_UNKNOWN else ""
        raise InvalidInput(f"unknown charge points: {shown}{more}; nothing was sent")
    return targets


def _matches(charge_point: ChargePointOut, wanted: BulkFilter) -> bool:
    state = charge_point.state
    if wanted.connected is not None and bool(state and state.connected) != wanted.connected:
        return False
    if wanted.registered is not None and charge_point.registered != wanted.registered:
        return False
    if wanted.vendor is not None and (state is None or state.vendor != wanted.vendor):
        return False
    return wanted.model is None or (state is not None and state.model == wanted.model)
