"""Security headers on every response, and the interactive docs under a policy that lets them load.

Every response has ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and a Content-Security-Policy that allows nothing
(``default-src 'none'``): the API answers JSON, which a browser never needs to run or
frame. Responses under /api/ are also ``Cache-Control: no-store``: they hold operator data.

/docs is Swagger UI. The page is ours rather than FastAPI's, so it has no inline script:
it loads swagger-ui-dist's bundle and stylesheet from jsDelivr, pinned to one version and
checked by Subresource Integrity (a changed file is refused by the browser), and starts it
with /docs/init.js from this server. Its policy allows exactly that: scripts from this
server and the pinned package, the package's stylesheet, images from this server and
``data:`` URIs (Swagger UI's icons), requests to this server (the schema, "Try it out").
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SWAGGER_UI_VERSION = "5.36.0"
SWAGGER_UI_BASE = f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}/"
# sha384 of the package's files as published on npm (jsDelivr serves them unchanged)
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": (
        "sha384-fUpRgC19yPykTqzdrUbdAg8NTiu16NEKf9U12J+IJWCg8/1mEI8f2+PEIz60Wyd+"
    ),
    "swagger-ui.css": "sha384-z/AtSaOHGn5MJ5auAHXUypohywlIWLBZo1jeGmhdpVIbCnFhxAH92cwdV41oyINc",
}

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = (
    f"default-src 'none'; script-src 'self' {SWAGGER_UI_BASE}; style-src {SWAGGER_UI_BASE}; "
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


_DOCS_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chargestream API</title>
<link rel="stylesheet" href="{SWAGGER_UI_BASE}swagger-ui.css"
  integrity="{SWAGGER_UI_FILES["swagger-ui.css"]}" crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI_BASE}swagger-ui-bundle.js"
  integrity="{SWAGGER_UI_FILES["swagger-ui-bundle.js"]}" crossorigin="anonymous"></script>
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


def docs_router() -> APIRouter:
    """/docs (Swagger UI) and its start script; no token needed, like /openapi.json."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE, headers={"Content-Security-Policy": DOCS_POLICY})

    @router.get("/docs/init.js")
    async def docs_init() -> Response:
        return Response(_DOCS_INIT, media_type="text/javascript")

    return router
