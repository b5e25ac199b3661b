"""Service errors as HTTP responses, in the shape of FastAPI's own: ``{"detail": …}``."""

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from chargestream.api.services.errors import (
    InvalidInput,
    NotAvailable,
    NotFound,
    ServiceError,
)
from chargestream.api.services.notifications import DeliveryFailed
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.storage.base import StoreUnavailable

HTTP_STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    InvalidInput: 422,
    NotAvailable: 501,
    DeliveryFailed: 502,
}


async def service_error_response(_: Request, error: Exception) -> JSONResponse:
    """422 in the shape of FastAPI's validation errors (what /openapi.json declares for
    422): a list with one item."""
    status = HTTP_STATUS[type(error)]
    detail: object = str(error)
    if status == 422:
        detail = [{"loc": [], "msg": str(error), "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=status)


async def store_unavailable_response(_: Request, error: Exception) -> JSONResponse:
    """503 with a short reason: the driver's message may name hosts, never credentials."""
    return JSONResponse({"detail": "the store is unavailable, try again"}, status_code=503)


async def event_log_unavailable_response(_: Request, error: Exception) -> JSONResponse:
    """503: the frame inspector could not read the event log now."""
    return JSONResponse({"detail": "the event log is unavailable, try again"}, status_code=503)


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: an input echoed back in a 422 may hold a
    lone surrogate, which JSON can escape but UTF-8 cannot encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


async def validation_error_response(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's own 422, except that a password's value is not sent back."""
    assert isinstance(error, RequestValidationError)
    details = [_without_secret_input(e) for e in error.errors()]
    return AsciiJSONResponse({"detail": jsonable_encoder(details)}, status_code=422)


SECRET_FIELDS = ("password", "secret")


def _without_secret_input(detail: Any) -> Any:
    location = detail.get("loc", ()) if isinstance(detail, dict) else ()
    if any(word in str(part).lower() for part in location for word in SECRET_FIELDS):
        return {k: v for k, v in detail.items() if k != "input"}
    return detail


def answer_service_errors(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error_response)
    app.add_exception_handler(StoreUnavailable, store_unavailable_response)
    app.add_exception_handler(EventLogUnavailable, event_log_unavailable_response)
    app.add_exception_handler(RequestValidationError, validation_error_response)
