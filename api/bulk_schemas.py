"""POST /api/v1/commands/bulk: what it takes and answers."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chargestream.api.schemas import CommandOut, Text

MAX_BULK_TARGETS = 1000
ChargePointId = Annotated[Text, StringConstraints(min_length=1, max_length=48)]
Name = Annotated[Text, StringConstraints(min_length=1, max_length=50)]


class BulkFilter(BaseModel):
    """Charge points that match every field given (an empty filter matches them all)."""

    model_config = ConfigDict(extra="forbid")

    connected: bool | None = Field(None, description="connected to a gateway right now")
    registered: bool | None = Field(None, description="registered by an operator")
    vendor: Name | None = Field(None, description="chargePointVendor of its last boot")
    model: Name | None = Field(None, description="chargePointModel of its last boot")


class BulkCommandIn(BaseModel):
    """One OCPP command to a list of charge points or to those a filter matches."""

    model_config = ConfigDict(extra="forbid")

    action: Name = Field(description="a CSMS action of OCPP 1.6 or 2.0.1, e.g. ClearCache")
    payload: dict[str, Any] = Field(
        default_factory=dict, description="the request payload, validated once for all"
    )
    charge_point_ids: list[ChargePointId] | None = Field(
        None, min_length=1, max_length=MAX_BULK_TARGETS
    )
    filter: BulkFilter | None = None

    @model_validator(mode="after")
    def one_selection(self) -> Self:
        if (self.charge_point_ids is None) == (self.filter is None):
            raise ValueError("give either charge_point_ids or filter")
        return self


class BulkCommandOut(BaseModel):
    action: str
    total: int = Field(description="charge points the command was sent to")
    outcomes: dict[str, int] = Field(description="how many ended in each outcome")
    results: list[CommandOut] = Field(description="one command record per charge point")
