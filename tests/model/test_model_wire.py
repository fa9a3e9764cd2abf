"""The wire JSON of SPEC sections 1 and 12 (DATA-10..27, CONV-2, CONV-4, API-50, API-53)."""

from __future__ import annotations

import json

import msgspec

from argyll.model.flow import FlowState
from argyll.model.plan import ExecutionPlan
from argyll.model.step import Step

SPEC_STEP = {  # the example of SPEC 1.2, with one attribute of every role (1.3)
    "id": "lookup-customer",
    "name": "Lookup Customer",
    "type": "sync",
    "attributes": {
        "customer_id": {
            "role": "required",
            "type": "string",
            "required": {
                "collect": "first",
                "match": {"language": "lua", "script": "return value ~= ''"},
                "mapping": {"name": "cid"},
            },
        },
        "tier": {
            "role": "optional",
            "type": "string",
            "optional": {"collect": "last", "default": '"guest"', "deadline": 2000},
        },
        "region": {"role": "const", "type": "object", "const": {"value": '{"k": 1}'}},
        "flow": {"role": "meta", "meta": {"key": "flow_id"}},
        "customer": {
            "role": "output",
            "output": {"mapping": {"script": {"language": "jpath", "script": "$.customer"}}},
        },
    },
    "labels": {"team": "crm"},
    "predicate": {"language": "ale", "script": "(> amount 100)"},
    "memoizable": True,
    "http": {
        "method": "POST",
        "endpoint": "https://svc/customers/{cid}",
        "health_check": "https://svc/health",
        "timeout": 5000,
    },
    "work_config": {
        "max_retries": 3,
        "init_backoff": 1000,
        "max_backoff": 30000,
        "backoff_type": "exponential",
        "parallelism": 4,
    },
}


def test_spec_step_round_trips_exactly() -> None:  # DATA-10..14, DATA-20..27
    step = msgspec.json.decode(json.dumps(SPEC_STEP), type=Step)
    assert msgspec.json.decode(msgspec.json.encode(step)) == SPEC_STEP
    spec = step.attrs()
    assert spec["customer_id"].required is not None
    assert spec["customer_id"].required.match is not None  # DATA-26
    assert spec["tier"].optional is not None and spec["tier"].optional.deadline == 2000  # DATA-25


def test_empty_fields_are_omitted_and_lists_present() -> None:  # CONV-2, CONV-4, DATA-16
    bare = msgspec.json.decode(msgspec.json.encode(Step(id="a", name="A", type="flow")))
    assert bare == {"id": "a", "name": "A", "type": "flow", "attributes": {}}
    plan = msgspec.json.decode(msgspec.json.encode(ExecutionPlan(goals=["g"])))
    assert plan == {"goals": ["g"], "required": [], "steps": {}, "attributes": {}, "excluded": {}}


def test_flow_state_shape() -> None:  # API-50, API-53, CONV-1
    state = msgspec.json.decode(msgspec.json.encode(FlowState(id="wf")))
    assert set(state) == {
        "id",
        "status",
        "created_at",
        "completed_at",
        "deactivated_at",
        "last_updated",
        "plan",
        "attributes",
        "executions",
    }
    assert state["deactivated_at"] == "0001-01-01T00:00:00Z"
