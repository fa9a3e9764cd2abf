"""Issue 16 items 2, 3, 4 and 9 over HTTP, in process (ASGI app on the memory store).

- CONV-6 (revised): unknown fields in bodies a user writes are 400
  ``unknown field: <dotted path>``; bodies machines write stay lenient.
- FLOW-2 (revised): init values must have the type the catalog declares.
- VAL-2: a type conflict names the steps and types involved.
- FLOW-3: the start answer's ``message`` says what happened.

Each case uses the exact input that was observed to be silently accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from asgi_engine import asgi_engine

Body = Callable[[httpx.AsyncClient], Awaitable[None]]


def run(body: Body) -> None:
    async def main() -> None:
        async with asgi_engine() as (_engine, client):
            await body(client)

    asyncio.run(main())


def script_step(step_id: str = "double", **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": "Double",
        "type": "script",
        "attributes": {"n": {"role": "required", "type": "number"}, "r": {"role": "output"}},
        "script": {"language": "lua", "script": "return {r = n * 2}"},
        **extra,
    }


async def error_of(response: Awaitable[httpx.Response]) -> tuple[int, str]:
    r = await response
    return r.status_code, r.json().get("error", "")


def test_unknown_step_fields_are_rejected_with_their_path() -> None:  # CONV-6
    async def body(client: httpx.AsyncClient) -> None:
        base = script_step()
        attrs = base["attributes"]
        cases: list[tuple[dict[str, Any], str]] = [
            ({**base, "atributes": attrs}, "unknown field: atributes"),
            ({**base, "tpye": "script"}, "unknown field: tpye"),
            ({**base, "work_cofig": {"max_retries": 1}}, "unknown field: work_cofig"),
            (
                {**base, "attributes": {**attrs, "m": {"role": "optional", "defualt": "1"}}},
                "unknown field: attributes.m.defualt",
            ),
            (
                {
                    **base,
                    "attributes": {**attrs, "m": {"role": "optional", "optional": {"dflt": "1"}}},
                },
                "unknown field: attributes.m.optional.dflt",
            ),
            (
                {**base, "script": {"language": "lua", "script": "return {}", "lang": "x"}},
                "unknown field: script.lang",
            ),
            ({**base, "work_config": {"retries": 3}}, "unknown field: work_config.retries"),
            (
                {**base, "predicate": {"language": "lua", "script": "return true", "x": 1}},
                "unknown field: predicate.x",
            ),
            (
                {
                    **base,
                    "attributes": {
                        **attrs,
                        "m": {
                            "role": "required",
                            "required": {"mapping": {"name": "k", "scirpt": {}}},
                        },
                    },
                },
                "unknown field: attributes.m.required.mapping.scirpt",
            ),
        ]
        for step, message in cases:
            assert await error_of(client.post("/engine/step", json=step)) == (400, message)
            # updates check the same way
            assert await error_of(client.put("/engine/step/double", json=step)) in (
                (400, message),
                (404, "step not found: double"),
            )
        http = {"id": "h", "name": "h", "type": "sync", "http": {"endpoint": "http://x", "url": 1}}
        assert await error_of(client.post("/engine/step", json=http)) == (
            400,
            "unknown field: http.url",
        )
        flow = {"id": "f", "name": "f", "type": "flow", "flow": {"goals": ["x"], "goal": "y"}}
        assert await error_of(client.post("/engine/step", json=flow)) == (
            400,
            "unknown field: flow.goal",
        )
        # nothing was registered by the refused bodies
        assert (await client.get("/engine/step")).json()["count"] == 0
        assert (await client.post("/engine/step", json=base)).status_code == 201
        # a wrong JSON type is still a 400 of its own
        status, error = await error_of(client.post("/engine/step", json={**base, "name": 5}))
        assert status == 400 and error.startswith("invalid JSON request")

    run(body)


def test_unknown_flow_plan_and_query_fields_are_rejected() -> None:  # CONV-6
    async def body(client: httpx.AsyncClient) -> None:
        assert (await client.post("/engine/step", json=script_step())).status_code == 201
        start = {"id": "f1", "goals": ["double"], "init": {"n": [2]}}
        assert await error_of(client.post("/engine/flow", json={**start, "lables": {}})) == (
            400,
            "unknown field: lables",
        )
        assert await error_of(
            client.post("/engine/plan", json={"goals": ["double"], "inits": {}})
        ) == (400, "unknown field: inits")
        # init values are free-form: their keys are data, not fields
        ok = {**start, "init": {"n": [2], "extra": [{"any": {"thing": 1}}]}}
        assert (await client.post("/engine/flow", json=ok)).status_code == 201
        # the observed defect: {"status": [...]} instead of "statuses" returned every flow
        assert await error_of(client.post("/engine/flow/query", json={"status": ["failed"]})) == (
            400,
            "unknown field: status",
        )
        query = await client.post("/engine/flow/query", json={"statuses": ["failed"]})
        assert query.status_code == 200 and query.json()["count"] == 0

    run(body)


def test_machine_written_bodies_stay_lenient() -> None:  # CONV-6
    async def body(client: httpx.AsyncClient) -> None:
        step = {
            "id": "later",
            "name": "later",
            "type": "async",
            "attributes": {"a_out": {"role": "output"}},
            "http": {"endpoint": "http://127.0.0.1:9/never"},
        }
        assert (await client.post("/engine/step", json=step)).status_code == 201
        # a webhook result with fields the step does not declare is fine
        r = await client.post("/webhook/nope/later/tok", json={"a_out": 1, "extra": 2})
        assert r.status_code in (200, 400, 404)
        assert "unknown field" not in r.text

    run(body)


def test_init_values_must_have_the_declared_type() -> None:  # FLOW-2 (revised)
    async def body(client: httpx.AsyncClient) -> None:
        assert (await client.post("/engine/step", json=script_step())).status_code == 201
        # the observed input: ["abc"] for a number attribute was accepted
        bad = {"id": "typed", "goals": ["double"], "init": {"n": ["abc"]}}
        assert await error_of(client.post("/engine/flow", json=bad)) == (
            400,
            "invalid init value for n: expected number, got string",
        )
        nested = {"id": "typed", "goals": ["double"], "init": {"n": [["abc"]]}}
        assert await error_of(client.post("/engine/flow", json=nested)) == (
            400,
            "invalid init value for n: expected number, got array",
        )
        flag = {"id": "typed", "goals": ["double"], "init": {"n": [True]}}
        assert await error_of(client.post("/engine/flow", json=flag)) == (
            400,
            "invalid init value for n: expected number, got boolean",
        )
        # nothing was recorded
        assert (await client.get("/engine/flow/typed")).status_code == 404
        good = {"id": "typed", "goals": ["double"], "init": {"n": [2.5]}}
        assert (await client.post("/engine/flow", json=good)).status_code == 201
        # untyped and `any` attributes accept everything
        free = {
            "id": "free",
            "name": "free",
            "type": "script",
            "attributes": {
                "u": {"role": "required"},
                "a": {"role": "required", "type": "any"},
                "fo": {"role": "output"},
            },
            "script": {"language": "lua", "script": "return {fo = 1}"},
        }
        assert (await client.post("/engine/step", json=free)).status_code == 201
        anything = {"id": "free-1", "goals": ["free"], "init": {"u": [[1]], "a": [{"x": None}]}}
        assert (await client.post("/engine/flow", json=anything)).status_code == 201

    run(body)


def test_type_conflict_names_steps_and_types() -> None:  # VAL-2, issue 16 item 4
    async def body(client: httpx.AsyncClient) -> None:
        assert (await client.post("/engine/step", json=script_step())).status_code == 201
        other = {
            "id": "greet",
            "name": "Greet",
            "type": "script",
            "attributes": {"n": {"role": "required", "type": "string"}, "g": {"role": "output"}},
            "script": {"language": "lua", "script": "return {g = n}"},
        }
        status, error = await error_of(client.post("/engine/step", json=other))
        assert status == 400
        assert "invalid step" in error
        assert error.endswith(
            'attribute type conflict: n: step "greet" declares string; '
            'already declared as number by step "double"'
        )

    run(body)


def test_start_message_says_what_happened() -> None:  # FLOW-3, issue 16 item 9
    async def body(client: httpx.AsyncClient) -> None:
        assert (await client.post("/engine/step", json=script_step())).status_code == 201
        start = {"id": "Once", "goals": ["double"], "init": {"n": [1]}}
        first = await client.post("/engine/flow", json=start)
        assert first.status_code == 201
        assert first.json() == {"message": "flow started", "flow_id": "once"}
        again = await client.post("/engine/flow", json=start)
        assert again.status_code == 201
        assert again.json() == {"message": "flow already exists", "flow_id": "once"}

    run(body)
