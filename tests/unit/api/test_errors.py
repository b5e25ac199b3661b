"""Every service error has its HTTP status, answered in FastAPI's ``{"detail": …}`` shape."""

from __future__ import annotations

import json

from starlette.requests import Request

from chargestream.api.errors import HTTP_STATUS, service_error_response
from chargestream.api.services.errors import InvalidInput, NotAvailable, NotFound, ServiceError


def test_every_service_error_has_a_status() -> None:
    assert set(ServiceError.__subclasses__()) == set(HTTP_STATUS)


async def test_the_response_carries_the_status_and_the_message() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    for error, status in ((NotFound("gone"), 404), (InvalidInput("bad"), 422)):
        response = await service_error_response(request, error)
        assert response.status_code == status
        assert json.loads(bytes(response.body)) == {"detail": str(error)}
    assert (await service_error_response(request, NotAvailable("no"))).status_code == 501
