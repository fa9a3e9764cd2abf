"""Issue 16 through the SDK against an in-process engine over loopback HTTP.

JPath steps with ``ScriptLanguage.JPATH`` (JPATH-4), the SDK's own requests
passing strict decoding (CONV-6), init type checks (FLOW-2), named type
conflicts (VAL-2) and the HTTP error body excerpt (HTTP-5).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from support import StepServer

from argyll import AttributeType, Client, ScriptLanguage
from argyll.errors import FlowError, StepRegistrationError


@pytest.fixture
def client(engine_url: str) -> Iterator[Client]:
    with Client(engine_url) as sdk_client:
        yield sdk_client


def test_jpath_step_with_the_sdk(client: Client, uid: str) -> None:  # JPATH-4
    step = (
        client.new_step()
        .with_id(f"pick-{uid}")
        .with_name("Pick")
        .required(f"order{uid}", AttributeType.OBJECT, inner_name="order")
        .output(f"picked{uid}", AttributeType.ARRAY)
        .with_script_language(ScriptLanguage.JPATH, "$.order.items[?@.qty > 0]")
    )
    assert step.register().script is not None
    items = [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 0}, {"sku": "c", "qty": 1}]
    state = (
        client.new_flow(f"pick-{uid}")
        .with_goals(f"pick-{uid}")
        .with_initial_state({f"order{uid}": [{"items": items}]})
        .start()
        .wait(timeout=15)
    )
    assert state["status"] == "completed"
    assert state["attributes"][f"picked{uid}"][0]["value"] == [items[0], items[2]]
    with pytest.raises(StepRegistrationError) as bad:
        step.with_id(f"bad-{uid}").with_script_language(ScriptLanguage.JPATH, "$..[").register()
    assert "jpath compile error: $..[" in bad.value.message


def test_sdk_requests_pass_strict_decoding(client: Client, uid: str) -> None:  # CONV-6
    """Every field the SDK can send is one the engine knows."""
    full = (
        client.new_step()
        .with_id(f"full-{uid}")
        .with_name("Full")
        .with_label("team", "x")
        .required(f"a{uid}", AttributeType.NUMBER, collect="first", inner_name="a")
        .optional(f"b{uid}", AttributeType.NUMBER, "1", deadline=10, inner_name="b")
        .const(f"c{uid}", AttributeType.NUMBER, "3")
        .meta(f"fid{uid}", "flow_id", AttributeType.STRING)
        .output(f"s{uid}", AttributeType.NUMBER, inner_name="s")
        .with_script_language(ScriptLanguage.LUA, f"return {{s = a + b + c{uid}}}")
        .with_predicate(ScriptLanguage.LUA, "return true")
        .with_memoizable()
        .with_work_config(max_retries=2, init_backoff=10, max_backoff=20, parallelism=2)
    )
    full.register()
    full.update().register()
    assert client.plan([f"full-{uid}"], {f"a{uid}": [1]})["goals"] == [f"full-{uid}"]
    flow = (
        client.new_flow(f"full-{uid}")
        .with_goals(f"full-{uid}")
        .with_initial_state({f"a{uid}": [1]})
        .with_label("run", uid)
        .start()
    )
    state = flow.wait(timeout=15)
    assert state["attributes"][f"s{uid}"][0]["value"] == 5


def test_sdk_sees_type_errors_and_conflicts(client: Client, uid: str) -> None:
    (
        client.new_step()
        .with_id(f"num-{uid}")
        .with_name("Num")
        .required(f"n{uid}", AttributeType.NUMBER)
        .output(f"r{uid}")
        .with_script_language(ScriptLanguage.LUA, f"return {{r{uid} = n{uid}}}")
        .register()
    )
    # FLOW-2: the observed input ["abc"] for a number attribute
    with pytest.raises(FlowError) as wrong:
        client.start_flow(f"t-{uid}", [f"num-{uid}"], {f"n{uid}": ["abc"]})
    assert wrong.value.status_code == 400
    assert wrong.value.message == f"invalid init value for n{uid}: expected number, got string"
    # VAL-2: the conflict names both steps and both types
    with pytest.raises(StepRegistrationError) as conflict:
        (
            client.new_step()
            .with_id(f"str-{uid}")
            .with_name("Str")
            .required(f"n{uid}", AttributeType.STRING)
            .output(f"q{uid}")
            .with_script_language(ScriptLanguage.LUA, f"return {{q{uid} = 1}}")
            .register()
        )
    assert (
        f'attribute type conflict: n{uid}: step "str-{uid}" declares string; '
        f'already declared as number by step "num-{uid}"'
    ) in conflict.value.message


def test_lua_table_with_holes_via_the_sdk(client: Client, uid: str) -> None:  # item 8
    (
        client.new_step()
        .with_id(f"holes-{uid}")
        .with_name("Holes")
        .output(f"r{uid}")
        .with_script_language(
            ScriptLanguage.LUA,
            f"return {{r{uid} = setmetatable({{[1] = 1, [3] = 3}}, "
            "{__len = function() return 1 end})}",
        )
        .register()
    )
    state = client.new_flow(f"holes-{uid}").with_goals(f"holes-{uid}").start().wait(timeout=15)
    assert state["attributes"][f"r{uid}"][0]["value"] == [1, None, 3]


def failing_service() -> Starlette:
    async def json_error(_: Request) -> Response:
        return JSONResponse({"error": "db down"}, status_code=500)

    async def text_error(_: Request) -> Response:
        return PlainTextResponse("x" * 300, status_code=400)

    async def detail_error(_: Request) -> Response:
        return JSONResponse({"detail": "no such customer"}, status_code=422)

    return Starlette(
        routes=[
            Route("/json", json_error, methods=["POST"]),
            Route("/text", text_error, methods=["POST"]),
            Route("/detail", detail_error, methods=["POST"]),
        ]
    )


def test_step_error_bodies_are_kept(client: Client, uid: str) -> None:  # HTTP-5 (revised)
    with StepServer(failing_service()) as server:
        cases = {
            "json": "step returned HTTP error: status 500: db down",
            "text": "step returned HTTP error: status 400: " + "x" * 200,
            "detail": "step returned HTTP error: status 422: no such customer",
        }
        for path, expected in cases.items():
            step_id = f"fail-{path}-{uid}"
            (
                client.new_step()
                .with_id(step_id)
                .with_name(step_id)
                .output(f"o{path}{uid}")
                .with_endpoint(f"{server.url}/{path}")
                .with_work_config(max_retries=1, init_backoff=10, max_backoff=10)
                .register()
            )
            state = client.new_flow(f"{step_id}").with_goals(step_id).start().wait(timeout=15)
            assert state["status"] == "failed"
            error = state["executions"][step_id]["error"]
            assert expected in error, error
            assert "x" * 201 not in error
