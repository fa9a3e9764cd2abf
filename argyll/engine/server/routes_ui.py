"""The web UI: the built single-page app under ``/ui/``, and ``/`` redirecting to it.

The app is built from ``ui/`` in the repository by ``scripts/build-ui`` into
``ui_dist/`` beside this module and ships inside the package, so serving it
needs no Node.js. Files that exist are served as they are (the hashed
``assets/`` for a year, everything else revalidated); any other path under
``/ui/`` answers the app's ``index.html`` so deep links such as
``/ui/flow/<id>`` load the app, which routes in the browser. Missing assets
answer the usual JSON 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from argyll.errors import NotFoundError

__all__ = ["UI_DIR", "ui_routes"]

#: Where ``scripts/build-ui`` writes the built app.
UI_DIR: Final = Path(__file__).resolve().parent / "ui_dist"

_IMMUTABLE: Final = {"Cache-Control": "public, max-age=31536000, immutable"}
_REVALIDATE: Final = {"Cache-Control": "no-cache"}


def _file(root: Path, rel: str) -> Path | None:
    """``root/rel`` when it is a regular file inside ``root`` (no ``..`` escapes)."""
    if not rel or "\x00" in rel:
        return None
    try:
        path = (root / rel).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
    except OSError:  # e.g. a name longer than the file system allows
        return None
    return path


def ui_routes(root: Path = UI_DIR) -> list[BaseRoute]:
    """``/`` and ``/ui`` redirect to ``/ui/``; ``/ui/{path}`` serves the app from ``root``."""
    root = root.resolve()

    async def to_ui(_: Request) -> Response:
        return RedirectResponse("/ui/", status_code=307)

    async def serve(request: Request) -> Response:
        rel: str = request.path_params.get("path", "")
        found = _file(root, rel)
        if found is not None and found.name != "index.html":
            headers = _IMMUTABLE if rel.startswith("assets/") else _REVALIDATE
            return FileResponse(found, headers=headers)
        if rel.startswith("assets/"):
            raise NotFoundError(f"not found: /ui/{rel}")
        index = root / "index.html"
        if not index.is_file():
            raise NotFoundError("web UI not built: run scripts/build-ui")
        return FileResponse(index, headers=_REVALIDATE, media_type="text/html")

    methods = ["GET", "HEAD"]
    return [
        Route("/", to_ui, methods=methods),
        Route("/ui", to_ui, methods=methods),
        Route("/ui/", serve, methods=methods),
        Route("/ui/{path:path}", serve, methods=methods),
    ]
