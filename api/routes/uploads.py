"""/uploads/{token}/: where charge points upload diagnostics (GetDiagnostics' location).

Outside /api/v1 and without the bearer token, which charge points do not have: the one-time
token in the path is the only permission. PUT sends the file as the body (a name after the
last slash is taken as the file name), POST as the first file part of multipart/form-data.
"""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from chargestream.api.dependencies import Services
from chargestream.api.services.diagnostics import (
    MULTIPART_OVERHEAD,
    InvalidUpload,
    MalformedUpload,
    UsedUpload,
)
from chargestream.storage.diagnostics import TooLarge


def uploads_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route("/uploads/{token}/{name:path}", methods=["PUT", "POST"])
    async def upload(token: str, name: str, request: Request, services: Services) -> JSONResponse:
        limit = services.diagnostics.max_bytes + MULTIPART_OVERHEAD
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise HTTPException(413, "the file is larger than the CSMS accepts")
        try:
            record = await services.diagnostics.receive(
                token, request.stream(), request.headers.get("content-type"), name or None
            )
        except InvalidUpload:
            raise HTTPException(404, "no such upload location") from None
        except UsedUpload:
            raise HTTPException(409, "this upload location has been used") from None
        except MalformedUpload:
            raise HTTPException(400, "a multipart body needs a part with a filename") from None
        except TooLarge:
            raise HTTPException(413, "the file is larger than the CSMS accepts") from None
        return JSONResponse(
            {"file_id": record.file_id, "size": record.size, "sha256": record.sha256},
            status_code=201,
        )

    return router
