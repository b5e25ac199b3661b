"""Service errors as HTTP responses, in the shape of FastAPI's own: ``{"detail": …}``."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chargestream.api.services.errors import (
    InvalidInput,
    NotAvailable,
    NotFound,
    ServiceError,
)
from chargestream.storage.base import StoreUnavailable

HTTP_STATUS: dict[type[Exception], int] = {NotFound: 404, InvalidInput: 422, NotAvailable: 501}


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


def answer_service_errors(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error_response)
    app.add_exception_handler(StoreUnavailable, store_unavailable_response)
