"""``GET /openapi.json`` and the interactive docs page ``/docs`` (Swagger UI).

Swagger UI's files come from the ``swagger-ui-dist`` npm package and ship
inside this package (``static/swagger-ui``, see its ``VERSION``): the page
works without access to the internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from argyll.engine.server.openapi import build_document
from argyll.errors import NotFoundError

__all__ = ["docs_routes"]

STATIC = Path(__file__).parent / "static" / "swagger-ui"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Argyll engine API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
</script>
</body>
</html>
"""


def docs_routes() -> list[Route]:
    """The document, the page and its assets."""
    cache: dict[str, bytes] = {}

    async def openapi(request: Request) -> Response:
        body = cache.get("doc")
        if body is None:
            from argyll import __version__

            document: dict[str, Any] = build_document(request.app.routes, __version__)
            body = cache["doc"] = msgspec.json.encode(document)
        return Response(body, media_type="application/json")

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(_PAGE)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media = _ASSETS.get(name)
        if media is None:
            raise NotFoundError("not found")
        return FileResponse(
            STATIC / name, media_type=media, headers={"Cache-Control": "public, max-age=86400"}
        )

    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", page, methods=["GET"]),
        Route("/docs/{name}", asset, methods=["GET"], include_in_schema=False),
    ]
