"""``GET /version``: the engine's version, store kind and node ID."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from argyll.engine.server.responses import JSONResponse

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["VersionInfo", "version_routes"]


class VersionInfo(msgspec.Struct):
    """What ``GET /version`` answers."""

    version: str
    store: str
    node_id: str


def version_info(engine: Engine) -> VersionInfo:
    """This engine's version, store kind (``sqlite``, ``memory``, ...) and node ID."""
    from argyll import __version__

    kind = engine.store_status().get("type", "unknown")
    return VersionInfo(version=__version__, store=str(kind), node_id=engine.config.node_id)


def version_routes(engine: Engine) -> list[Route]:
    """The ``/version`` route bound to ``engine``."""

    async def version(_: Request) -> JSONResponse:
        return JSONResponse(version_info(engine))

    return [Route("/version", version, methods=["GET"])]
