"""VAL-1 step validation and DATA-1 sanitizing as pure functions."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from argyll.model.codec import json_equal
from argyll.model.ids import kebab_case, sanitize_id
from argyll.model.step import Step, WorkConfig, step_arg_names, with_work_defaults
from argyll.model.validate import step_problems

DEFAULTS = WorkConfig(
    max_retries=10, init_backoff=1000, max_backoff=60000, backoff_type="exponential"
)


def make(**fields: Any) -> Step:
    body: dict[str, Any] = {
        "id": "s",
        "name": "S",
        "type": "sync",
        "http": {"endpoint": "http://x"},
    }
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    return with_work_defaults(msgspec.convert(body, Step), DEFAULTS)


def first(step: Step) -> str:
    problems = step_problems(step)
    return problems[0] if problems else ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MyFlow-ABC", "myflow-abc"),
        ("my flow test", "my-flow-test"),
        ("flow@#$%123", "flow123"),
        ("@#$%^&*()", ""),
        ("my:flow", "myflow"),
        ("a  b", "a--b"),
        (" -x- ", "x"),
        ("A.b_c+d", "a.b_c+d"),
    ],
)
def test_sanitize_id(raw: str, expected: str) -> None:  # DATA-1
    assert sanitize_id(raw) == expected


def test_kebab_case() -> None:
    assert kebab_case("Price Calculator") == "price-calculator"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": ""}, "step ID empty"),
        ({"id": "Bad:ID"}, "step ID contains invalid characters"),
        ({"name": ""}, "step name empty"),
        ({"http": None}, "http required"),
        ({"flow": {"goals": ["x"]}}, "flow not allowed for step type"),
        ({"script": {"language": "ale", "script": "1"}}, "script not allowed for step type"),
        ({"http": {"endpoint": ""}}, "step endpoint empty"),
        ({"http": {"endpoint": "http://x", "method": "PATCH"}}, "invalid HTTP method: PATCH"),
        ({"http": {"endpoint": "http://x", "method": "get"}}, "invalid HTTP method: get"),
        (
            {"http": {"endpoint": "http://x", "compensate": "http://y"}, "memoizable": True},
            "compensate not allowed for memoizable steps",
        ),
        ({"http": {"endpoint": "http://x/{id}"}}, 'URL contains unknown parameter: "id"'),
        (
            {"http": {"endpoint": "http://x", "compensate": "http://y/{z}"}},
            'compensate URL contains unknown parameter: "z"',
        ),
        ({"type": "flow", "http": None}, "flow required"),
        ({"type": "flow", "flow": {"goals": ["a"]}}, "http not allowed for step type"),
        ({"type": "flow", "http": None, "flow": {"goals": []}}, "flow goals required"),
        ({"type": "script", "http": None}, "script required"),
        (
            {"type": "script", "http": None, "script": {"language": "", "script": "1"}},
            "script language empty",
        ),
        (
            {"type": "script", "http": None, "script": {"language": "python", "script": "$"}},
            "invalid script language: python",
        ),
        (
            {"type": "script", "http": None, "script": {"language": "lua", "script": ""}},
            "script empty",
        ),
        ({"attributes": {"": {"role": "required"}}}, "argument name empty"),
        ({"attributes": {"a": None}}, "attribute has nil definition"),
        (
            {"attributes": {"a": {"role": "bogus"}}},
            'invalid attribute role: bogus for attribute "a"',
        ),
        (
            {"attributes": {"a": {"role": "required", "type": "int"}}},
            'invalid attribute type: int for attribute "a"',
        ),
        (
            {"attributes": {"a": {"role": "required", "optional": {}}}},
            'config type does not match attribute role: "a"',
        ),
        (
            {
                "attributes": {
                    "a": {"role": "required", "type": "string", "required": {"for_each": True}}
                }
            },
            'for_each processing requires an array attribute type: type string for attribute "a"',
        ),
        (
            {"attributes": {"a": {"role": "required", "required": {"collect": "most"}}}},
            'invalid input collect: most for attribute "a"',
        ),
        (
            {"attributes": {"a": {"role": "required", "required": {"mapping": {}}}}},
            'invalid attribute mapping: "a"',
        ),
        (
            {
                "attributes": {
                    "a": {"role": "optional", "type": "number", "optional": {"default": "x"}}
                }
            },
            'invalid default value for type for attribute "a": must be valid JSON',
        ),
        (
            {
                "attributes": {
                    "a": {"role": "optional", "type": "string", "optional": {"default": "1"}}
                }
            },
            'invalid default value for type for attribute "a": must be a valid JSON string',
        ),
        (
            {
                "attributes": {
                    "a": {"role": "optional", "type": "boolean", "optional": {"default": "1"}}
                }
            },
            'invalid default value for type for attribute "a": must be "true" or "false"',
        ),
        (
            {
                "attributes": {
                    "a": {"role": "optional", "type": "null", "optional": {"default": "1"}}
                }
            },
            'invalid default value for type for attribute "a": must be "null"',
        ),
        (
            {"attributes": {"a": {"role": "optional", "optional": {"deadline": -1}}}},
            'deadline must be between 0 and 1 year in milliseconds: deadline -1 for attribute "a"',
        ),
        (
            {"attributes": {"a": {"role": "const"}}},
            'const value required for const attribute: const for attribute "a"',
        ),
        (
            {"attributes": {"a": {"role": "const", "type": "array", "const": {"value": "{}"}}}},
            'invalid default value for type for attribute "a": must be valid JSON array',
        ),
        (
            {"attributes": {"a": {"role": "meta", "meta": {}}}},
            'meta key required for meta attribute: meta for attribute "a"',
        ),
        (
            {"attributes": {"a": {"role": "output", "output": {"mapping": {}}}}},
            'invalid attribute mapping: "a"',
        ),
        (
            {
                "attributes": {
                    "a": {"role": "required", "required": {"mapping": {"name": "x"}}},
                    "b": {"role": "optional", "optional": {"mapping": {"name": "x"}}},
                }
            },
            'duplicate mapped parameter name: "x"',
        ),
        ({"work_config": {"parallelism": -1}}, "parallelism cannot be negative"),
        ({"work_config": {"init_backoff": -1}}, "backoff cannot be negative"),
        (
            {"work_config": {"init_backoff": 5000, "max_backoff": 100}},
            "max_backoff must be >= backoff",
        ),
        ({"work_config": {"backoff_type": "random"}}, "invalid backoff type"),
        ({"type": "nope"}, "invalid step type: nope"),
        ({"type": ""}, "invalid step type: "),
    ],
)
def test_val1_messages(fields: dict[str, Any], message: str) -> None:  # VAL-1
    assert first(make(**fields)) == message


def test_valid_steps_have_no_problems() -> None:
    assert (
        step_problems(
            make(attributes={"id": {"role": "required"}}, http={"endpoint": "http://x/{id}"})
        )
        == []
    )
    mapped = make(
        attributes={"order": {"role": "required", "required": {"mapping": {"name": "id"}}}},
        http={"endpoint": "http://x/{id}", "compensate": "http://x/{id}/{out}"},
    )
    assert first(mapped) == 'compensate URL contains unknown parameter: "out"'


def test_stored_form_merges_work_defaults() -> None:  # DATA-15
    step = make(work_config={"max_retries": 3, "parallelism": 2})
    assert step.work_config == WorkConfig(
        max_retries=3,
        init_backoff=1000,
        max_backoff=60000,
        backoff_type="exponential",
        parallelism=2,
    )


def test_wire_form_matches_spec_example() -> None:  # DATA-11, DATA-16, SPEC 4.3 snapshot
    step = with_work_defaults(
        Step(
            id="resolver",
            name="Resolver",
            type="sync",
            attributes={"data": msgspec.convert({"role": "output", "type": "string"}, Any)},
        ),
        DEFAULTS,
    )
    raw = msgspec.json.decode(
        b'{"id":"resolver","name":"Resolver","type":"sync","attributes":{"data":'
        b'{"role":"output","type":"string"}},"http":{"endpoint":"http://svc","timeout":0},'
        b'"work_config":{"backoff_type":"exponential","max_retries":10,"init_backoff":1000,'
        b'"max_backoff":60000}}',
        type=Step,
    )
    assert msgspec.json.decode(msgspec.json.encode(raw)) == {
        "id": "resolver",
        "name": "Resolver",
        "type": "sync",
        "attributes": {"data": {"role": "output", "type": "string"}},
        "http": {"endpoint": "http://svc", "timeout": 0},
        "work_config": {
            "backoff_type": "exponential",
            "max_retries": 10,
            "init_backoff": 1000,
            "max_backoff": 60000,
        },
    }
    assert msgspec.json.decode(msgspec.json.encode(Step(id="x")))["attributes"] == {}
    assert step.id == "resolver"


def test_arg_names_are_sorted_inner_names() -> None:  # SCRIPT-2
    step = make(
        attributes={
            "b": {"role": "required", "required": {"mapping": {"name": "zz"}}},
            "a": {"role": "optional"},
            "c": {"role": "const", "const": {"value": "1"}},
            "m": {"role": "meta", "meta": {"key": "flow_id"}},
            "o": {"role": "output"},
        }
    )
    assert step_arg_names(step) == ["a", "c", "m", "zz"]


def test_json_equal_treats_int_and_float_alike() -> None:  # CONV-7
    assert json_equal({"a": [5]}, {"a": [5.0]})
    assert not json_equal(True, 1)
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})


def test_mapping_scripts_are_checked_against_the_bound_name() -> None:  # VAL-1 stage 7, MAP-2/3
    seen: list[list[str]] = []

    def check(language: str, source: str, names: Any, purpose: str) -> str | None:
        seen.append(list(names))
        return None

    step = make(
        attributes={
            "customer": {
                "role": "required",
                "required": {
                    "mapping": {"name": "cust", "script": {"language": "ale", "script": "cust"}}
                },
            },
            "total": {
                "role": "output",
                "output": {
                    "mapping": {"name": "t", "script": {"language": "jpath", "script": "$.t"}}
                },
            },
        }
    )
    assert step_problems(step, check) == []
    assert seen == [["cust"], ["total"]]


def test_flow_state_always_carries_statuses_and_timestamps() -> None:  # API-51, API-52, CONV-1
    from argyll.model.flow import ExecutionState, WorkState

    ex = msgspec.json.decode(msgspec.json.encode(ExecutionState()))
    assert ex == {
        "status": "pending",
        "started_at": "0001-01-01T00:00:00Z",
        "completed_at": "0001-01-01T00:00:00Z",
        "inputs": None,
    }
    work = msgspec.json.decode(msgspec.json.encode(WorkState()))
    assert work["status"] == "pending" and work["next_retry_at"] == "0001-01-01T00:00:00Z"
    assert work["inputs"] is None
