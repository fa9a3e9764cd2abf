"""No input gets a 5xx: every route, every body, every path (issue 17 item 1; CONV-3).

A hypothesis property walks the application's own route table, so a route
added later is covered without editing this file: any method, any path
parameter text (control characters, slashes, percent signs), bodies that are
JSON of any shape, nested far past the limit, raw bytes, ``text/plain`` or
form encoded, with or without a foreign ``Origin``. The answer is always
below 500 and every error is ``{"error", "status"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inproc import InprocClient, inproc_engine
from starlette.routing import Route, WebSocketRoute

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["id", "goals", "init", "labels", "name", "type", "attributes", "statuses", "limit"]


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["json", "object", "deep", "deep-init", "raw", "form", "text"]))
    if kind == "json":
        return draw(json_values.map(lambda v: _encode(v))), "application/json"
    if kind == "object":
        obj = draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5))
        return _encode(obj), "application/json"
    if kind == "deep":
        depth = draw(st.integers(100, 3000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        return opener * depth + b"1" + closer * depth, "application/json"
    if kind == "deep-init":
        depth = draw(st.integers(100, 1500))
        value = b"[" * depth + b"]" * depth
        return b'{"id":"d","goals":["x"],"init":{"v":[' + value + b"]}}", "application/json"
    if kind == "raw":
        return draw(st.binary(max_size=200)), draw(st.sampled_from(["", "application/json"]))
    if kind == "form":
        return b"id=x&goals=a", "application/x-www-form-urlencoded"
    return draw(st.text(max_size=50)).encode(), "text/plain"


def _encode(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


ids = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["a\x1fb", "\x00", "..", "a/b", "%", "x" * 300, "\u202e", "\udc80"]),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocClient]:
    with inproc_engine(tmp_path_factory.mktemp("no5xx")) as client:
        yield client


def _routes(client: InprocClient) -> list[tuple[str, str, list[str]]]:
    """(method, path template, parameter names) for every route of the app."""
    out = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route):
            for method in sorted(route.methods or ["GET"]):
                if method != "HEAD":
                    out.append((method, route.path, list(route.param_convertors)))
        elif isinstance(route, WebSocketRoute):
            out.append(("GET", route.path, list(route.param_convertors)))
    return out


def check(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "status"}, body
        assert body["status"] == response.status_code
        assert isinstance(body["error"], str) and body["error"]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_route_answers_5xx(client: InprocClient, data: st.DataObject) -> None:
    method, template, params = data.draw(st.sampled_from(_routes(client)))
    path = template
    for name in params:
        value = data.draw(ids)
        text = quote(value.encode("utf-8", "surrogatepass"), safe="")
        path = path.replace("{" + name + "}", text).replace("{" + name + ":path}", text)
    body, content_type = data.draw(bodies())
    headers = {"content-type": content_type} if content_type else {}
    origin = data.draw(st.sampled_from([None, "http://testserver", "http://evil.example", "null"]))
    if origin is not None:
        headers["origin"] = origin
    query = data.draw(st.sampled_from(["", "?sig=", "?sig=abc", "?limit=x", "?%ff=%00"]))
    sent = body if method in ("POST", "PUT") else None
    response = client.request(method, path + query, content=sent, headers=headers)
    check(response)
    if origin in ("http://evil.example", "null"):
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/engine/flow"),
        ("POST", "/engine/plan"),
        ("POST", "/engine/flow/query"),
        ("POST", "/engine/step"),
        ("PUT", "/engine/step/s"),
        ("POST", "/webhook/f/s/t"),
    ],
)
def test_deep_bodies_are_refused_on_every_body_route(
    client: InprocClient, method: str, path: str
) -> None:
    for deep in (b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000):
        response = client.request(method, path, content=deep)
        check(response)
        assert response.status_code == 400
        assert response.json()["error"].startswith("body nested too deeply")


def test_deep_init_values_within_the_limit_work(client: InprocClient) -> None:
    step = {
        "id": "deep-echo",
        "name": "deep echo",
        "type": "script",
        "attributes": {"v": {"role": "required"}, "out": {"role": "output"}},
        "script": {"language": "lua", "script": "return {out = 1}"},
    }
    assert client.post("/engine/step", json=step).status_code == 201
    value = b"[" * 100 + b"]" * 100
    body = b'{"id":"deep-1","goals":["deep-echo"],"init":{"v":[' + value + b"]}}"
    assert client.post("/engine/flow", content=body).status_code == 201
    assert client.post("/engine/flow", content=body).status_code == 201  # FLOW-3 duplicate
    too_deep = b"[" * 1000 + b"]" * 1000
    refused = client.post("/engine/flow", content=body.replace(value, too_deep))
    assert refused.status_code == 400


def test_query_list_sizes_are_capped(client: InprocClient) -> None:
    labels = {f"k{i}": "v" for i in range(1000)}
    response = client.post("/engine/flow/query", json={"labels": labels})
    check(response)
    assert response.json()["error"] == "too many labels: maximum is 32"
    response = client.post("/engine/flow/query", json={"statuses": ["active"] * 1000})
    assert response.status_code == 400
    response = client.post("/engine/flow/query", json={"id_prefix": "x" * 1000})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/engine/flow/a%1Fb"),
        ("GET", "/engine/flow/a%1Fb/events"),
        ("GET", "/engine/flow/a%1Fb/status"),
        ("GET", "/engine/step/a%00b"),
        ("POST", "/webhook/a%1Fb/s/t"),
        ("POST", "/webhook/f/s%1F/t"),
    ],
)
def test_control_characters_in_ids_answer_404(client: InprocClient, method: str, path: str) -> None:
    response = client.request(method, path, json={})
    check(response)
    assert response.status_code == 404
