"""/api/v1/charge-points/{id}/diagnostics: ask for a diagnostics upload, list and download
the uploaded files."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from chargestream.api.dependencies import KnownChargePoint, Sender, Services
from chargestream.api.responses import COMMAND_ERRORS, NOT_FOUND, UNREADABLE_BODY
from chargestream.api.routes.commands import OUTCOME_STATUS
from chargestream.api.schemas import CommandOut, DiagnosticsRequestIn, DiagnosticsRequestOut
from chargestream.domain.diagnostics import DiagnosticsFile

router = APIRouter(tags=["diagnostics"])


@router.post(
    "/charge-points/{charge_point_id}/diagnostics",
    response_model=DiagnosticsRequestOut,
    responses={
        **UNREADABLE_BODY,
        **NOT_FOUND,
        **COMMAND_ERRORS,
        501: {"description": "FTP was asked for, and this CSMS runs no FTP upload server"},
    },
)
async def request_diagnostics(
    charge_point_id: KnownChargePoint,
    request: Request,
    services: Services,
    sent_by: Sender,
    body: DiagnosticsRequestIn | None = None,
    timeout: float | None = Query(None, gt=0, le=300),
) -> JSONResponse:
    """Send GetDiagnostics whose `location` is a one-time upload location of this CSMS:
    `CHARGESTREAM_UPLOAD_URL`/uploads/<token>/ for `"protocol": "http"`, or
    ftp://<user>:<password>@`CHARGESTREAM_FTP_URL`/ for `"ftp"` (501 when no FTP server runs).
    The file the charge point uploads there is listed under `file_id`. The answer's status
    follows the command's outcome."""
    options = body.model_dump() if body is not None else {}
    grant, record = await services.diagnostics.request(
        charge_point_id, options, str(request.base_url), timeout, sent_by=sent_by
    )
    assert record.outcome is not None
    out = DiagnosticsRequestOut(
        file_id=grant.file_id, expires_at=grant.expires_at, command=CommandOut.build(record)
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=OUTCOME_STATUS[record.outcome])


@router.get(
    "/charge-points/{charge_point_id}/diagnostics",
    responses={
        **NOT_FOUND,
        200: {
            "description": "The diagnostics files the charge point uploaded, newest first. "
            "`file_name` is the charge point's text (at most 255 characters), `sha256` the "
            "hex digest of the content."
        },
    },
)
async def list_diagnostics(
    charge_point_id: KnownChargePoint, services: Services
) -> list[DiagnosticsFile]:
    return await services.diagnostics.listing(charge_point_id)


@router.get(
    "/charge-points/{charge_point_id}/diagnostics/{file_id}",
    response_class=FileResponse,
    responses={
        **NOT_FOUND,
        200: {"description": "The file's content", "content": {"application/octet-stream": {}}},
    },
)
async def download_diagnostics(
    charge_point_id: KnownChargePoint, file_id: str, services: Services
) -> FileResponse:
    record, path = await services.diagnostics.file(charge_point_id, file_id)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=record.file_name,
        headers={"X-Content-SHA256": record.sha256},
    )
