"""FastAPI application: reads through the Store, commands through CommandService."""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from chargestream.api.ops import ops_router
from chargestream.api.schemas import (
    AcknowledgeIn,
    AlertRuleIn,
    ChargePointIn,
    ChargePointOut,
    CommandOut,
    FrameOut,
    IdTagIn,
)
from chargestream.domain.frames import LoggedEvent
from chargestream.domain.passwords import hash_password
from chargestream.domain.records import (
    Alert,
    AlertRule,
    CommandOutcome,
    IdTag,
    MeterValue,
    Registration,
    Session,
    StatusInterval,
)
from chargestream.domain.settings import Settings
from chargestream.gateway.commands import CommandService, UnknownAction
from chargestream.gateway.directory import Directory
from chargestream.storage.base import Store

RecentFrames = Callable[[str, int], Awaitable[list[LoggedEvent]]]

# HTTP status per command outcome (answered is 200)
OUTCOME_STATUS = {
    CommandOutcome.ANSWERED: 200,
    CommandOutcome.FAILED: 502,
    CommandOutcome.REJECTED: 422,
    CommandOutcome.NOT_CONNECTED: 409,
    CommandOutcome.TIMED_OUT: 504,
}


def create_api(
    settings: Settings,
    store: Store,
    commands: CommandService,
    *,
    recent_frames: RecentFrames | None = None,
    directory: Directory | None = None,
    status: Callable[[], dict[str, Any]] = dict,
) -> FastAPI:
    app = FastAPI(
        title="chargestream",
        version="1",
        description="OCPP 1.6-J charging station management: charge points, sessions, "
        "meter values, status history, alerts, id tags and remote commands.",
    )

    async def authorized(request: Request) -> None:
        if settings.api_token is None:
            return
        if request.headers.get("Authorization") != f"Bearer {settings.api_token}":
            raise HTTPException(401, "missing or wrong bearer token")

    v1 = Depends(authorized)

    async def known_charge_point(charge_point_id: str) -> str:
        if (
            await store.get_registration(charge_point_id) is None
            and await store.get_charge_point_state(charge_point_id) is None
        ):
            raise HTTPException(404, f"unknown charge point {charge_point_id!r}")
        return charge_point_id

    KnownChargePoint = Annotated[str, Depends(known_charge_point)]

    async def health() -> dict[str, Any]:
        await store.get_registration("\0healthz")  # the store answers
        return {"mode": settings.mode.value, "node": settings.node_id, **status()}

    app.include_router(ops_router(health))

    # -- charge points

    @app.get("/api/v1/charge-points", dependencies=[v1], tags=["charge points"])
    async def list_charge_points(limit: int = Query(1000, ge=1, le=10000)) -> list[ChargePointOut]:
        registrations = {r.charge_point_id: r for r in await store.list_registrations()}
        states = {s.charge_point_id: s for s in await store.list_charge_point_states(limit)}
        ids = sorted(registrations.keys() | states.keys())[:limit]
        return [ChargePointOut.build(i, registrations.get(i), states.get(i)) for i in ids]

    @app.get("/api/v1/charge-points/{charge_point_id}", dependencies=[v1], tags=["charge points"])
    async def get_charge_point(charge_point_id: KnownChargePoint) -> ChargePointOut:
        return ChargePointOut.build(
            charge_point_id,
            await store.get_registration(charge_point_id),
            await store.get_charge_point_state(charge_point_id),
        )

    @app.put("/api/v1/charge-points/{charge_point_id}", dependencies=[v1], tags=["charge points"])
    async def put_charge_point(charge_point_id: str, body: ChargePointIn) -> ChargePointOut:
        if not 0 < len(charge_point_id) <= 48:
            raise HTTPException(422, "charge point id must have 1 to 48 characters")
        current = await store.get_registration(charge_point_id) or Registration(
            charge_point_id, created_at=datetime.now(UTC)
        )
        updated = replace(
            current,
            display_name=body.display_name
            if body.display_name is not None
            else current.display_name,
            location=body.location if body.location is not None else current.location,
            lenient=body.lenient if body.lenient is not None else current.lenient,
            password_hash=(
                None
                if body.remove_password
                else hash_password(body.password)
                if body.password
                else current.password_hash
            ),
        )
        await store.put_registration(updated)
        if directory is not None:
            directory.registrations.invalidate(charge_point_id)
        return ChargePointOut.build(
            charge_point_id, updated, await store.get_charge_point_state(charge_point_id)
        )

    @app.delete(
        "/api/v1/charge-points/{charge_point_id}",
        dependencies=[v1],
        tags=["charge points"],
        status_code=204,
    )
    async def delete_charge_point(charge_point_id: str) -> None:
        if not await store.delete_registration(charge_point_id):
            raise HTTPException(404, f"charge point {charge_point_id!r} is not registered")
        if directory is not None:
            directory.registrations.invalidate(charge_point_id)

    @app.get(
        "/api/v1/charge-points/{charge_point_id}/status-history",
        dependencies=[v1],
        tags=["charge points"],
    )
    async def status_history(
        charge_point_id: KnownChargePoint,
        start: Annotated[datetime | None, Query(alias="from")] = None,
        end: Annotated[datetime | None, Query(alias="to")] = None,
    ) -> list[StatusInterval]:
        end = _utc(end) or datetime.now(UTC)
        start = _utc(start) or end - timedelta(hours=24)
        if start >= end:
            raise HTTPException(422, "'from' must be before 'to'")
        return await store.status_history(charge_point_id, start, end)

    @app.get(
        "/api/v1/charge-points/{charge_point_id}/sessions",
        dependencies=[v1],
        tags=["sessions"],
    )
    async def charge_point_sessions(
        charge_point_id: KnownChargePoint,
        limit: int = Query(100, ge=1, le=1000),
        before: datetime | None = None,
    ) -> list[Session]:
        return await store.sessions_for_charge_point(charge_point_id, limit, _utc(before))

    @app.get(
        "/api/v1/charge-points/{charge_point_id}/frames",
        dependencies=[v1],
        tags=["charge points"],
    )
    async def charge_point_frames(
        charge_point_id: KnownChargePoint, limit: int = Query(100, ge=1, le=1000)
    ) -> list[FrameOut]:
        if recent_frames is None:
            raise HTTPException(501, "the frame inspector is not available in this mode")
        return [_frame_out(logged) for logged in await recent_frames(charge_point_id, limit)]

    # -- commands

    @app.post(
        "/api/v1/charge-points/{charge_point_id}/commands/{action}",
        dependencies=[v1],
        tags=["commands"],
        responses={
            404: {"description": "unknown charge point or action"},
            409: {"description": "not connected"},
            422: {"description": "payload invalid for the action"},
            502: {"description": "the charge point answered with a CALLERROR"},
            504: {"description": "no answer in time"},
        },
    )
    async def send_command(
        charge_point_id: KnownChargePoint,
        action: str,
        payload: Annotated[dict[str, Any], Body(default_factory=dict)],
        timeout: float | None = Query(None, gt=0, le=300),
    ) -> CommandOut:
        try:
            record = await commands.send(charge_point_id, action, payload, timeout)
        except UnknownAction:
            raise HTTPException(
                404, f"{action!r} is not an OCPP 1.6 central system action"
            ) from None
        body = CommandOut.build(record)
        assert record.outcome is not None
        status = OUTCOME_STATUS[record.outcome]
        if status == 200:
            return body
        return JSONResponse(body.model_dump(mode="json"), status_code=status)  # type: ignore[return-value]

    @app.get("/api/v1/commands", dependencies=[v1], tags=["commands"])
    async def command_log(
        charge_point_id: str | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> list[CommandOut]:
        return [CommandOut.build(r) for r in await store.commands(charge_point_id, limit)]

    # -- sessions

    @app.get("/api/v1/sessions", dependencies=[v1], tags=["sessions"])
    async def sessions(
        limit: int = Query(100, ge=1, le=1000), before: datetime | None = None
    ) -> list[Session]:
        return await store.recent_sessions(limit, _utc(before))

    @app.get("/api/v1/sessions/{transaction_id}", dependencies=[v1], tags=["sessions"])
    async def session(transaction_id: int) -> Session:
        found = await store.get_session(transaction_id)
        if found is None:
            raise HTTPException(404, f"no session with transactionId {transaction_id}")
        return found

    @app.get("/api/v1/sessions/{transaction_id}/meter-values", dependencies=[v1], tags=["sessions"])
    async def session_meter_values(
        transaction_id: int, limit: int = Query(10000, ge=1, le=100000)
    ) -> list[MeterValue]:
        if await store.get_session(transaction_id) is None:
            raise HTTPException(404, f"no session with transactionId {transaction_id}")
        return await store.meter_values(transaction_id, limit)

    # -- alerts

    @app.get("/api/v1/alerts", dependencies=[v1], tags=["alerts"])
    async def alerts(
        open_only: Annotated[bool, Query(alias="open")] = False,
        limit: int = Query(100, ge=1, le=1000),
        before: datetime | None = None,
    ) -> list[Alert]:
        return await store.alerts(open_only, limit, _utc(before))

    @app.post("/api/v1/alerts/{alert_id}/acknowledge", dependencies=[v1], tags=["alerts"])
    async def acknowledge(alert_id: str, body: AcknowledgeIn) -> dict[str, str]:
        if not await store.acknowledge_alert(alert_id, body.by, datetime.now(UTC)):
            raise HTTPException(404, f"no alert {alert_id!r}")
        return {"status": "acknowledged"}

    @app.get("/api/v1/alert-rules", dependencies=[v1], tags=["alerts"])
    async def alert_rules() -> list[AlertRule]:
        return await store.list_alert_rules()

    @app.put("/api/v1/alert-rules/{rule_id}", dependencies=[v1], tags=["alerts"])
    async def put_alert_rule(rule_id: str, body: AlertRuleIn) -> AlertRule:
        rule = AlertRule(rule_id=rule_id, **body.model_dump())
        await store.put_alert_rule(rule)
        return rule

    @app.delete(
        "/api/v1/alert-rules/{rule_id}", dependencies=[v1], tags=["alerts"], status_code=204
    )
    async def delete_alert_rule(rule_id: str) -> None:
        if not await store.delete_alert_rule(rule_id):
            raise HTTPException(404, f"no alert rule {rule_id!r}")

    # -- id tags

    @app.get("/api/v1/id-tags", dependencies=[v1], tags=["id tags"])
    async def id_tags(limit: int = Query(1000, ge=1, le=10000)) -> list[IdTag]:
        return await store.list_id_tags(limit)

    @app.get("/api/v1/id-tags/{id_tag}", dependencies=[v1], tags=["id tags"])
    async def get_id_tag(id_tag: str) -> IdTag:
        tag = await store.get_id_tag(id_tag)
        if tag is None:
            raise HTTPException(404, f"unknown id tag {id_tag!r}")
        return tag

    @app.put("/api/v1/id-tags/{id_tag}", dependencies=[v1], tags=["id tags"])
    async def put_id_tag(id_tag: str, body: IdTagIn) -> IdTag:
        if not 0 < len(id_tag) <= 20:
            raise HTTPException(422, "an OCPP 1.6 idTag has 1 to 20 characters")
        tag = IdTag(id_tag, body.status, _utc(body.expiry_date), body.parent_id_tag)
        await store.put_id_tag(tag)
        if directory is not None:
            directory.id_tags.invalidate(id_tag)
        return tag

    @app.delete("/api/v1/id-tags/{id_tag}", dependencies=[v1], tags=["id tags"], status_code=204)
    async def delete_id_tag(id_tag: str) -> None:
        if not await store.delete_id_tag(id_tag):
            raise HTTPException(404, f"unknown id tag {id_tag!r}")
        if directory is not None:
            directory.id_tags.invalidate(id_tag)

    return app


def _utc(moment: datetime | None) -> datetime | None:
    """Naive datetimes in queries are taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _frame_out(logged: LoggedEvent) -> FrameOut:
    event = logged.event
    return FrameOut(
        position=logged.position,
        kind=event.kind.value,
        direction=event.direction.value if event.direction else None,
        action=event.action,
        message_type=int(event.message_type) if event.message_type is not None else None,
        message_id=event.message_id,
        received_at=datetime.fromtimestamp(event.received_us / 1e6, UTC),
        connection_id=event.connection_id,
        frame=event.frame,
    )
