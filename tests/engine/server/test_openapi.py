"""The OpenAPI document: valid 3.1, generated from the route table, step interface included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from openapi_spec_validator import validate
from ops_support import running
from starlette.routing import Route

from argyll.engine.server.openapi import build_document, route_operations


async def _fetch(*paths: str) -> list[Any]:
    async with running() as r:
        out: list[Any] = [r.app.routes]
        for path in paths:
            out.append(await r.client.get(path))
        return out


def test_document_validates_and_describes_every_route() -> None:
    routes, response = asyncio.run(_fetch("/openapi.json"))
    assert response.status_code == 200
    doc = response.json()
    validate(doc)  # raises on any schema violation
    assert doc["openapi"].startswith("3.1")
    described = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete")
    }
    served = {(m, p.replace(":path", "")) for m, p in route_operations(routes)}
    assert served == described
    for path in ("/engine/flow", "/engine/step", "/webhook/{flow_id}/{step_id}/{token}"):
        assert path in doc["paths"]
    for item in doc["paths"].values():
        for op in item.values():
            assert {"200", "201", "101", "307"} & set(op["responses"]), op["summary"]


def test_schemas_come_from_the_wire_types() -> None:
    (_, response) = asyncio.run(_fetch("/openapi.json"))
    schemas = response.json()["components"]["schemas"]
    for name in ("Step", "FlowState", "ExecutionPlan", "FlowStartRequest", "ErrorBody"):
        assert name in schemas
    assert set(schemas["ErrorBody"]["required"]) == {"error", "status"}
    start = response.json()["paths"]["/engine/flow"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FlowStartRequest"
    }
    listing = response.json()["paths"]["/engine/flow"]["get"]
    assert "X-Next-Cursor" in listing["responses"]["200"]["headers"]
    assert {p["name"] for p in listing["parameters"]} == {"limit", "cursor"}


def test_refusals_are_described() -> None:
    """Back-pressure (503 with Retry-After) and the webhook credential (401) are in the document."""
    (_, response) = asyncio.run(_fetch("/openapi.json"))
    paths = response.json()["paths"]
    start = paths["/engine/flow"]["post"]["responses"]
    assert "Retry-After" in start["503"]["headers"]
    assert "403" in start and "Origin" in start["403"]["description"]
    webhook = paths["/webhook/{flow_id}/{step_id}/{token}"]["post"]["responses"]
    assert "401" in webhook and "503" not in webhook  # webhooks complete work: never refused
    assert "503" not in paths["/health"]["get"]["responses"]


def test_step_interface_is_described() -> None:
    (_, response) = asyncio.run(_fetch("/openapi.json"))
    hooks = response.json()["webhooks"]
    invoke = hooks["stepInvocation"]["post"]
    headers = {p["name"] for p in invoke["parameters"] if p["in"] == "header"}
    assert {"Argyll-Flow-ID", "Argyll-Step-ID", "Argyll-Receipt-Token"} <= headers
    assert "Argyll-Webhook-URL" in headers
    comp = hooks["stepCompensation"]["post"]["requestBody"]["content"]["application/json"]
    assert comp["schema"] == {"$ref": "#/components/schemas/CompensationRequest"}
    assert "stepHealthCheck" in hooks


def test_an_undescribed_route_fails_the_build() -> None:
    async def nothing(_: Any) -> None:
        return None

    with pytest.raises(KeyError, match="GET /engine/new-thing"):
        build_document([Route("/engine/new-thing", nothing, methods=["GET"])], "0")


def test_docs_page_is_served_from_package_assets() -> None:
    _, page, js, css, missing = asyncio.run(
        _fetch("/docs", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/nope.js")
    )
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/docs/swagger-ui-bundle.js" in page.text and "/openapi.json" in page.text
    assert "https://" not in page.text and "http://" not in page.text  # no CDN
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404


def test_version() -> None:
    (_, response) = asyncio.run(_fetch("/version"))
    from argyll import __version__

    assert response.json() == {"version": __version__, "store": "memory", "node_id": "argyll-1"}
