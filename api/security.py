"""Security headers on every response, and the interactive docs under a policy that lets them load.

Every response has ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and a Content-Security-Policy that allows nothing
(``default-src 'none'``): the API answers JSON, which a browser never needs to run or
frame. Responses under /api/ are also ``Cache-Control: no-store``: they hold operator data.

/docs is Swagger UI, served by the API itself so it works offline. The page is ours rather
than FastAPI's, so it has no inline script: it loads Swagger UI 5's bundle and stylesheet
from /docs/assets/, read from the installed ``fastapi-swagger`` package (its files, not its
page), checked by Subresource Integrity (a file changed on the way is refused by the
browser), and starts it with /docs/init.js. Its policy allows exactly that: scripts and the
stylesheet from this server, images from this server and ``data:`` URIs (Swagger UI's
icons), requests to this server (the schema, "Try it out"). Nothing comes from elsewhere.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.resources
from functools import cache

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SWAGGER_UI = importlib.resources.files("fastapi_swagger.resources")  # Swagger UI 5, vendored

SWAGGER_UI_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (a route may set its own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                headers.setdefault("content-security-policy", API_POLICY)
                if private:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chargestream API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css" integrity="{css}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js" integrity="{js}"></script>
<script src="docs/init.js"></script>
</body>
</html>
"""

# relative URLs: the page works under a path prefix too
_DOCS_INIT = """window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


@cache
def swagger_asset(name: str) -> bytes:
    """One of Swagger UI's files from the installed package (read once: file I/O)."""
    return (SWAGGER_UI / name).read_bytes()


@cache
def docs_page() -> str:
    """The page, with the integrity of the very files /docs/assets/ serves."""

    def integrity(name: str) -> str:
        digest = hashlib.sha384(swagger_asset(name)).digest()
        return "sha384-" + base64.b64encode(digest).decode()

    return _DOCS_PAGE.format(css=integrity("swagger-ui.css"), js=integrity("swagger-ui-bundle.js"))


def docs_router() -> APIRouter:
    """/docs (Swagger UI), its assets and start script; no token needed, like /openapi.json."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        page = await asyncio.to_thread(docs_page)  # hashing 1 MB: off the event loop
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    @router.get("/docs/assets/{name}")
    async def docs_asset(name: str) -> Response:
        if name not in SWAGGER_UI_ASSETS:  # only these two: no path from the request is read
            raise HTTPException(404, "no such file")
        body = await asyncio.to_thread(swagger_asset, name)
        return Response(body, media_type=SWAGGER_UI_ASSETS[name])

    @router.get("/docs/init.js")
    async def docs_init() -> Response:
        return Response(_DOCS_INIT, media_type="text/javascript")

    return router
