"""The error answers of the /api/v1 routes, declared once for /openapi.json.

Every route: 401 (the bearer token) and 503 (the store is down); ``NOT_FOUND`` on the
routes that name something that may not exist, ``UNREADABLE_BODY`` on those that take a
body. Each is ``{"detail": "..."}``, the shape of FastAPI's own errors (``api/errors.py``).
422 (invalid parameters or body) FastAPI declares itself.
"""

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str


Responses = dict[int | str, dict[str, Any]]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


EVERY_ROUTE: Responses = {
    401: _error("Missing or wrong bearer token (`WWW-Authenticate: Bearer`)"),
    503: _error("The store is unavailable: try again"),
}
NOT_FOUND: Responses = {404: _error("Not found (the path names what does not exist)")}
UNREADABLE_BODY: Responses = {400: _error("The body cannot be read as JSON")}
NOT_AVAILABLE: Responses = {501: _error("Not available in this mode")}
COMMAND_ERRORS: Responses = {
    409: {"description": "not connected"},
    502: {"description": "the charge point answered with a CALLERROR"},
    503: {"description": "the CSMS could not deliver the command (outcome error)"},
    504: {"description": "sent, but no answer (timed_out, connection_lost)"},
}
"""The answers of a route that sends one command (``OUTCOME_STATUS`` in api/routes/commands.py)."""
