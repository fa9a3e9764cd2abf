"""Cross-site requests are refused before anything is recorded (issue 17 item 6, SPEC 12).

A browser attaches ``Origin`` to cross-site requests, including the simple
ones it sends without a preflight (``text/plain`` and form bodies). Only the
engine's own origin and ``CORS_ORIGINS`` pass; requests without ``Origin``
(curl, SDKs, step services) are unaffected. WebSocket upgrades are covered
over real HTTP in ``tests/e2e/test_hardening_e2e.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inproc import InprocClient, inproc_engine

from argyll.engine.guard_config import GuardConfig
from argyll.errors import ConfigError

FLOW = b'{"id": "csrf-1", "goals": ["nothing"]}'
EVIL = "http://evil.example"
FRIEND = "https://ui.example.com"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocClient]:
    env = {"CORS_ORIGINS": f"{FRIEND}, http://localhost:5173"}
    with inproc_engine(tmp_path_factory.mktemp("origin"), env) as client:
        yield client


def _recorded(client: InprocClient) -> int:
    return len(client.get("/engine/flow").json()) + client.get("/engine/step").json()["count"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", FLOW),
        ("application/x-www-form-urlencoded", b"id=csrf-1&goals=nothing"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n" + FLOW + b"\r\n--x--"),
        ("application/json", FLOW),
    ],
)
def test_foreign_origin_is_refused_before_anything_is_recorded(
    client: InprocClient, content_type: str, body: bytes
) -> None:
    before = _recorded(client)
    for path in ("/engine/flow", "/engine/step", "/webhook/f/s/t", "/engine/plan"):
        response = client.post(
            path, content=body, headers={"content-type": content_type, "origin": EVIL}
        )
        assert response.status_code == 403
        assert response.json() == {"error": "origin not allowed", "status": 403}
        assert "access-control-allow-origin" not in response.headers
    for method in ("GET", "DELETE", "OPTIONS", "PUT"):
        response = client.request(method, "/engine/step/x", headers={"origin": "null"})
        assert response.status_code == 403
    assert _recorded(client) == before


def test_requests_without_origin_are_unaffected(client: InprocClient) -> None:
    response = client.post("/engine/flow", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 400  # judged on its content, as curl -d expects
    response = client.get("/engine/flow")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_own_origin_passes_without_cors_headers(client: InprocClient) -> None:
    for own in ("http://testserver", "http://TestServer:80", "http://testserver/"):
        response = client.get("/engine/flow", headers={"origin": own})
        assert response.status_code == 200, own
        assert "access-control-allow-origin" not in response.headers


def test_listed_origins_get_cors_headers_naming_them(client: InprocClient) -> None:
    response = client.get("/engine/flow", headers={"origin": FRIEND})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRIEND
    assert response.headers["vary"] == "Origin"
    preflight = client.request(
        "OPTIONS",
        "/engine/flow",
        headers={"origin": "http://localhost:5173", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 200 and preflight.content == b""
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert client.get("/engine/flow", headers={"origin": FRIEND + ".evil"}).status_code == 403


def test_errors_from_listed_origins_carry_cors_headers(client: InprocClient) -> None:
    response = client.get("/engine/flow/nope", headers={"origin": FRIEND})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == FRIEND


def test_wildcard_only_without_tokens(tmp_path: Path) -> None:
    assert GuardConfig.from_env({"CORS_ORIGINS": "*"}).cors_origins == ("*",)
    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        GuardConfig.from_env({"CORS_ORIGINS": "*", "API_TOKENS": "s3cret:full"})
    with inproc_engine(tmp_path, {"CORS_ORIGINS": "*"}) as client:
        response = client.get("/engine/flow", headers={"origin": EVIL})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == EVIL  # named, never "*"
