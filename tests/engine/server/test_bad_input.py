"""No request, however malformed, gets a 500 or hurts the engine (CONV-3, CONV-6, CFG-3).

Hypothesis generates bodies for every request type and sends them over real
HTTP to an in-process engine of its own; every answer must be a known status with the
``{"error", "status"}`` body, and the engine must keep serving.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
roles = st.sampled_from(["required", "optional", "const", "meta", "output", "bogus", ""])
types = st.sampled_from(["string", "number", "boolean", "object", "array", "null", "any", "x", ""])
attribute = st.fixed_dictionaries(
    {"role": roles},
    optional={
        "type": types,
        "required": st.fixed_dictionaries(
            {}, optional={"collect": st.text(max_size=6), "for_each": json_values}
        ),
        "optional": st.fixed_dictionaries(
            {},
            optional={"default": st.text(max_size=10), "deadline": st.integers(-5, 2**40)},
        ),
        "const": st.fixed_dictionaries({}, optional={"value": st.text(max_size=10)}),
        "meta": st.fixed_dictionaries({}, optional={"key": st.text(max_size=10)}),
    },
)
step_bodies = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=30), json_values),
        "name": st.one_of(st.text(max_size=10), json_values),
        "type": st.one_of(
            st.sampled_from(["sync", "async", "script", "flow", "nope"]), json_values
        ),
        "attributes": st.one_of(
            st.dictionaries(st.text(max_size=8), attribute, max_size=4), json_values
        ),
        "http": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "endpoint": st.text(max_size=30),
                    "method": st.text(max_size=7),
                    "timeout": st.integers(-(2**40), 2**40),
                },
            ),
            json_values,
        ),
        "script": st.one_of(
            st.fixed_dictionaries(
                {
                    "language": st.sampled_from(["ale", "lua", "jpath", "x"]),
                    "script": st.text(max_size=30),
                }
            ),
            json_values,
        ),
        "flow": st.one_of(
            st.fixed_dictionaries({"goals": st.lists(st.text(max_size=8), max_size=3)}), json_values
        ),
        "work_config": st.one_of(
            st.dictionaries(
                st.sampled_from(
                    ["max_retries", "init_backoff", "max_backoff", "backoff_type", "parallelism"]
                ),
                st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=5)),
            ),
            json_values,
        ),
        "labels": json_values,
        "memoizable": json_values,
    },
)
flow_bodies = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=300), json_values),
        "goals": st.one_of(st.lists(st.text(max_size=10), max_size=70), json_values),
        "init": st.one_of(
            st.dictionaries(st.text(max_size=5), st.lists(json_values, max_size=3), max_size=5),
            json_values,
        ),
        "labels": st.one_of(
            st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=40), json_values
        ),
    },
)
query_bodies = st.fixed_dictionaries(
    {},
    optional={
        "id_prefix": st.text(max_size=10),
        "labels": st.one_of(st.dictionaries(st.text(max_size=3), st.text(max_size=3)), json_values),
        "statuses": st.one_of(
            st.lists(st.sampled_from(["active", "completed", "failed", "x"])), json_values
        ),
        "limit": st.one_of(st.integers(-10, 2000), json_values),
        "cursor": st.one_of(st.text(max_size=20), json_values),
        "sort": st.one_of(st.sampled_from(["recent_asc", "recent_desc", "x"]), json_values),
    },
)

ALLOWED = {200, 201, 400, 404, 409, 413}
FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(response: httpx.Response) -> None:
    assert response.status_code in ALLOWED, (response.status_code, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "status"}
        assert body["status"] == response.status_code
        assert isinstance(body["error"], str) and body["error"]


@pytest.fixture(scope="module")
def http(isolated_engine_url: str) -> Any:
    # An engine of its own: the fuzzer registers random (valid) steps, which
    # must not join other tests' plans.
    with httpx.Client(base_url=isolated_engine_url, timeout=10) as client:
        yield client


@FAST
@given(body=step_bodies)
def test_step_registration_never_500(http: httpx.Client, body: dict[str, Any]) -> None:
    check(http.post("/engine/step", json=body))
    raw_id = body.get("id")
    path_id = quote(raw_id if isinstance(raw_id, str) and raw_id else "x", safe="")
    check(http.put(f"/engine/step/{path_id}", json=body))


@FAST
@given(body=flow_bodies)
def test_flow_start_never_500(http: httpx.Client, body: dict[str, Any]) -> None:
    check(http.post("/engine/flow", json=body))
    check(http.post("/engine/plan", json={k: v for k, v in body.items() if k in ("goals", "init")}))


@FAST
@given(body=query_bodies)
def test_flow_query_never_500(http: httpx.Client, body: dict[str, Any]) -> None:
    check(http.post("/engine/flow/query", json=body))


@FAST
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_500(http: httpx.Client, raw: bytes) -> None:
    for path in ("/engine/step", "/engine/flow", "/engine/plan", "/engine/flow/query"):
        check(http.post(path, content=raw))


@pytest.mark.parametrize(
    "path",
    ["/engine/step", "/engine/flow", "/engine/plan", "/engine/flow/query"],
)
def test_oversized_and_deep_bodies_are_rejected(http: httpx.Client, path: str) -> None:  # CFG-3
    big = b'{"id": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = http.post(path, content=big)
    check(response)
    assert response.status_code == 400 and "exceeds" in response.json()["error"]
    deep = b"[" * 100_000 + b"]" * 100_000
    check(http.post(path, content=deep))


@pytest.mark.parametrize(
    "path",
    [
        "/engine/flow/..%2f..%2fetc%2fpasswd",
        "/engine/step/%00",
        "/engine/flow/%2e%2e/status",
        "/engine/../engine/flow",
        "/nowhere",
        "/engine/flow/x/nothing",
    ],
)
def test_path_tricks_answer_404(http: httpx.Client, path: str) -> None:  # SPEC 12
    response = http.get(path)
    assert response.status_code in (200, 404)
    if response.status_code == 404:
        assert set(response.json()) == {"error", "status"}


def test_unsupported_method_answers_404_and_options_200(http: httpx.Client) -> None:  # SPEC 12
    assert http.patch("/engine/step").status_code == 404
    options = http.options("/engine/anything")
    assert options.status_code == 200 and options.content == b""
    assert options.headers["access-control-allow-origin"] == "*"


def test_engine_still_healthy(http: httpx.Client) -> None:  # API-1
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
    assert response.headers["x-argyll-raft-state"] == "leader"
    assert json.loads(response.text)["service"] == "argyll-engine"
