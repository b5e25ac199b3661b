"""/api/v1/charge-points/{id}/local-list (OCPP 1.6 LocalAuthListManagement)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from chargestream.api.dependencies import KnownChargePoint, Services
from chargestream.api.responses import NOT_FOUND, UNREADABLE_BODY
from chargestream.api.schemas import unicode_text
from chargestream.api.services.local_lists import LocalListView
from chargestream.domain.records import MAX_LOCAL_LIST, LocalListMode

router = APIRouter(tags=["local lists"])

IdToken = Annotated[
    str, StringConstraints(min_length=1, max_length=20), AfterValidator(unicode_text)
]


class LocalListIn(BaseModel):
    mode: LocalListMode | None = Field(
        None, description='"all": every id tag of the store; "tags" (the default): `tags`'
    )
    tags: list[IdToken] | None = Field(None, max_length=MAX_LOCAL_LIST)

    @model_validator(mode="after")
    def one_of(self) -> LocalListIn:
        if (self.mode is LocalListMode.ALL) == (self.tags is not None):
            raise ValueError('give {"mode": "all"} or {"tags": [...]}')
        return self


class LocalListOut(BaseModel):
    charge_point_id: str
    mode: LocalListMode
    tags: list[str] = Field(description='the id tags named (mode "tags")')
    desired_version: int
    updated_at: datetime = Field(description="when the desired version last changed")
    confirmed_version: int | None = Field(
        description="the version the charge point confirmed (None: not yet)"
    )
    in_sync: bool
    supported: bool = Field(description="False: the charge point has no local list")
    last_status: str | None = Field(description="its last answer to SendLocalList")
    status_at: datetime | None
    checked_at: datetime | None = Field(description="its last GetLocalListVersion answer")
    send_max_length: int | None = Field(
        description="SendLocalListMaxLength it reported (OCPP 2.0.1: ItemsPerMessage)"
    )
    list_max_length: int | None = Field(description="LocalAuthListMaxLength it reported")
    problem: str | None = Field(description="why the list cannot be sent, if it cannot")

    @classmethod
    def of(cls, view: LocalListView) -> LocalListOut:
        assignment, state = view.assignment, view.state
        return cls(
            charge_point_id=assignment.charge_point_id,
            mode=assignment.mode,
            tags=list(assignment.tags),
            desired_version=assignment.desired_version,
            updated_at=assignment.updated_at,
            confirmed_version=None if state is None else state.version,
            in_sync=view.in_sync,
            supported=True if state is None else state.supported,
            last_status=None if state is None else state.last_status,
            status_at=None if state is None else state.status_at,
            checked_at=None if state is None else state.checked_at,
            send_max_length=None if state is None else state.send_max_length,
            list_max_length=None if state is None else state.list_max_length,
            problem=view.problem,
        )


@router.get("/charge-points/{charge_point_id}/local-list", responses=NOT_FOUND)
async def get_local_list(charge_point_id: KnownChargePoint, services: Services) -> LocalListOut:
    """The assigned list with the version the charge point confirmed; 404 when none is
    assigned."""
    return LocalListOut.of(await services.local_lists.get(charge_point_id))


@router.put(
    "/charge-points/{charge_point_id}/local-list",
    responses={**NOT_FOUND, **UNREADABLE_BODY},
)
async def put_local_list(
    charge_point_id: KnownChargePoint, body: LocalListIn, services: Services
) -> LocalListOut:
    """Set which id tags the charge point holds; the CSMS sends it while it is connected."""
    mode = body.mode or LocalListMode.TAGS
    view = await services.local_lists.put(charge_point_id, mode, body.tags or [])
    return LocalListOut.of(view)
