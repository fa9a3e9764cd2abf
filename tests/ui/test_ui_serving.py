"""The engine serves the web UI (routes_ui): /ui/ with SPA fallback, / redirects.

In-process through ``httpx.ASGITransport`` with a real engine on a memory store.
Also checks that the build shipped in the package matches ``ui/``'s source.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.server.app import create_app
from argyll.engine.server.responses import error_response
from argyll.engine.server.routes_ui import UI_DIR, ui_routes
from argyll.engine.store import MemoryStore
from argyll.errors import EngineError

ROOT = Path(__file__).resolve().parents[2]


def with_client(body: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
    async def run() -> None:
        engine = Engine(Config(data_dir=None), store=MemoryStore())
        await engine.start()
        try:
            app = create_app(engine, manage_engine=False)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://engine") as client:
                await body(client)
        finally:
            await engine.stop()

    asyncio.run(run())


def asset_paths() -> list[str]:
    html = (UI_DIR / "index.html").read_text()
    return re.findall(r'(?:src|href)="/ui/(assets/[^"]+)"', html)


def test_shipped_build_matches_its_source() -> None:
    """ui_dist/build-info.json holds the hash of ui/'s source it was built from;
    after a change to ui/, run scripts/build-ui and commit the new build."""
    info = json.loads((UI_DIR / "build-info.json").read_text())
    current = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "ui_source_hash.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert info["source_sha256"] == current, "the shipped UI is stale: run scripts/build-ui"
    assets = asset_paths()
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert (UI_DIR / asset).is_file(), asset


def test_root_and_ui_redirect_to_ui_slash() -> None:
    async def body(client: httpx.AsyncClient) -> None:
        for path in ("/", "/ui"):
            r = await client.get(path)
            assert r.status_code == 307 and r.headers["location"] == "/ui/"

    with_client(body)


@pytest.mark.parametrize(
    "path", ["/ui/", "/ui/flow/order-1", "/ui/flow/a%20b/", "/ui/anything/deep"]
)
def test_app_pages_answer_index_html(path: str) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        r = await client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["cache-control"] == "no-cache"
        assert '<div id="root">' in r.text

    with_client(body)


def test_assets_are_served_and_cached_missing_ones_are_404() -> None:
    async def body(client: httpx.AsyncClient) -> None:
        for asset in asset_paths():
            r = await client.get(f"/ui/{asset}")
            assert r.status_code == 200, asset
            assert r.content == (UI_DIR / asset).read_bytes()
            assert "immutable" in r.headers["cache-control"]
            kind = "javascript" if asset.endswith(".js") else "css"
            assert kind in r.headers["content-type"]
        head = await client.head(f"/ui/{asset_paths()[0]}")
        assert head.status_code == 200
        missing = await client.get("/ui/assets/nope.js")
        assert missing.status_code == 404
        assert missing.json() == {"error": "not found: /ui/assets/nope.js", "status": 404}
        # A name longer than the file system allows is just not there (found by schemathesis).
        too_long = await client.get("/ui/assets/" + "x" * 300 + ".js")
        assert too_long.status_code == 404

    with_client(body)


def test_api_routes_are_unchanged() -> None:
    async def body(client: httpx.AsyncClient) -> None:
        r = await client.get("/engine")
        assert r.status_code == 200 and r.json()["steps"] == {}
        assert (await client.get("/health")).json()["status"] == "healthy"
        nowhere = await client.get("/nowhere")
        assert nowhere.status_code == 404 and set(nowhere.json()) == {"error", "status"}
        assert (await client.post("/ui/")).status_code == 404

    with_client(body)


def test_paths_outside_the_build_are_never_served(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<p>app</p>")
    (tmp_path / "secret.txt").write_text("secret")
    app = Starlette(routes=ui_routes(tmp_path / "dist"))

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            for path in ("/ui/../secret.txt", "/ui/%2e%2e/secret.txt", "/ui/..%2fsecret.txt"):
                r = await client.get(path)
                assert "secret" not in r.text, path

    asyncio.run(run())


def test_without_a_build_the_ui_answers_a_json_404(tmp_path: Path) -> None:
    async def render(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, EngineError)
        return error_response(exc)

    app = Starlette(routes=ui_routes(tmp_path), exception_handlers={EngineError: render})

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            r = await client.get("/ui/flow/x")
            assert r.status_code == 404
            assert r.json() == {"error": "web UI not built: run scripts/build-ui", "status": 404}

    asyncio.run(run())
