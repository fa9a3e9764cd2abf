"""The public surface of ``argyll`` is frozen, and importing it stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import argyll
import argyll.errors
import argyll.sdk

ROOT = Path(__file__).resolve().parents[2]

#: SDK.md, "Everything below is importable from the top-level package", plus
#: the second edition (async client, typed results) and the original SDK's names.
SDK_NAMES = [
    "Args",
    "ArgyllError",
    "AsyncClient",
    "AsyncContext",
    "AsyncFlowBuilder",
    "AsyncFlowClient",
    "AsyncStepBuilder",
    "AsyncStepContext",
    "AttributeMapping",
    "AttributeRole",
    "AttributeSpec",
    "AttributeType",
    "BackoffType",
    "Client",
    "ClientError",
    "CompensateHandler",
    "ConstConfig",
    "ExecutionPlan",
    "FlowBuilder",
    "FlowClient",
    "FlowConfig",
    "FlowError",
    "FlowEvent",
    "FlowID",
    "FlowPage",
    "FlowSnapshot",
    "FlowState",
    "FlowStatus",
    "FlowSummary",
    "HTTPConfig",
    "HTTPError",
    "InitArgs",
    "InputCollect",
    "Labels",
    "MappingConfig",
    "MetaConfig",
    "Metadata",
    "OptionalConfig",
    "OutputConfig",
    "PredicateConfig",
    "ProblemDetails",
    "RequiredConfig",
    "ScriptConfig",
    "ScriptLanguage",
    "Step",
    "StepBuilder",
    "StepContext",
    "StepExecution",
    "StepHandler",
    "StepID",
    "StepRegistrationError",
    "StepStatus",
    "StepType",
    "StepValidationError",
    "WaitTimeoutError",
    "WebhookError",
    "WorkConfig",
    "WorkItem",
    "WorkStatus",
]

#: The ``__all__`` of the original Argyll SDK (sdks/python/src/argyll/__init__.py).
ORIGINAL_NAMES = [
    "Client",
    "FlowClient",
    "StepBuilder",
    "FlowBuilder",
    "StepContext",
    "AsyncContext",
    "StepHandler",
    "Step",
    "ProblemDetails",
    "StepType",
    "AttributeRole",
    "AttributeType",
    "AttributeSpec",
    "InputCollect",
    "RequiredConfig",
    "OptionalConfig",
    "ConstConfig",
    "MetaConfig",
    "OutputConfig",
    "MappingConfig",
    "ScriptLanguage",
    "BackoffType",
    "HTTPConfig",
    "ScriptConfig",
    "PredicateConfig",
    "FlowConfig",
    "WorkConfig",
    "Args",
    "InitArgs",
    "StepID",
    "FlowID",
    "Labels",
    "Metadata",
    "ArgyllError",
    "ClientError",
    "StepRegistrationError",
    "StepValidationError",
    "FlowError",
    "WebhookError",
    "HTTPError",
]

#: SDK.md, ``from argyll.errors import ...`` (plus the handler signal
#: ``WorkNotCompletedError``).
SDK_ERRORS = [
    "ArgyllError",
    "ClientError",
    "FlowError",
    "HTTPError",
    "StepRegistrationError",
    "StepServerError",
    "StepValidationError",
    "WaitTimeoutError",
    "WebhookError",
    "WorkNotCompletedError",
]

#: ARCHITECTURE principle 7.
HEAVY_MODULES = [
    "argyll.engine",
    "networkx",
    "hy",
    "lupa",
    "jsonpath_ng",
    "aiohttp",
    "asyncpg",
    "starlette",
    "uvicorn",
    "websockets",
]


def test_all_is_sorted_and_matches_sdk_md() -> None:
    assert argyll.__all__ == sorted(argyll.__all__)
    assert argyll.__all__ == SDK_NAMES
    for name in argyll.__all__:
        assert getattr(argyll, name) is not None


def test_the_original_sdk_names_import_from_argyll() -> None:
    missing = [name for name in ORIGINAL_NAMES if not hasattr(argyll, name)]
    assert missing == []
    assert set(ORIGINAL_NAMES) <= set(argyll.__all__)
    assert argyll.MappingConfig is argyll.AttributeMapping
    assert argyll.PredicateConfig is argyll.ScriptConfig
    assert argyll.Args == dict[str, Any] and argyll.InitArgs == dict[str, list[Any]]
    assert argyll.StepID is str and argyll.FlowID is str
    assert argyll.HTTPError(418, "teapot").status_code == 418


def test_wire_types_have_to_dict_and_item_access() -> None:
    step = argyll.Step(
        id="double",
        name="Double",
        type=argyll.StepType.SCRIPT,
        script=argyll.ScriptConfig(language=argyll.ScriptLanguage.ALE, script="(* value 2)"),
        attributes={"value": argyll.AttributeSpec(role="required", type="number")},
        predicate=argyll.PredicateConfig(language="lua", script="return true"),
    )
    assert step.to_dict() == {
        "id": "double",
        "name": "Double",
        "type": "script",
        "attributes": {"value": {"role": "required", "type": "number"}},
        "predicate": {"language": "lua", "script": "return true"},
        "script": {"language": "ale", "script": "(* value 2)"},
    }
    assert step["script"] == {"language": "ale", "script": "(* value 2)"}
    assert step.get("nope", 1) == 1 and "labels" in step and "nope" not in step
    assert argyll.MappingConfig(name="x").to_dict() == {"name": "x"}
    assert argyll.ProblemDetails(status=422, detail="bad").to_dict() == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "bad",
    }


def test_version() -> None:
    assert argyll.__version__ == "0.1.0"


def test_sdk_package_all_is_sorted_and_importable() -> None:
    assert argyll.sdk.__all__ == sorted(argyll.sdk.__all__)
    for name in argyll.sdk.__all__:
        assert hasattr(argyll.sdk, name)


def test_error_names_and_tree() -> None:
    for name in SDK_ERRORS:
        assert name in argyll.errors.__all__
        assert issubclass(getattr(argyll.errors, name), argyll.errors.ArgyllError)
    assert issubclass(argyll.errors.StepRegistrationError, argyll.errors.ClientError)
    assert issubclass(argyll.errors.FlowError, argyll.errors.ClientError)
    assert not issubclass(argyll.errors.WebhookError, argyll.errors.ClientError)


def test_enum_values_are_wire_values() -> None:
    assert [t.value for t in argyll.StepType] == ["sync", "async", "script", "flow"]
    assert [r.value for r in argyll.AttributeRole] == [
        "required",
        "optional",
        "const",
        "meta",
        "output",
    ]
    assert [t.value for t in argyll.AttributeType] == [
        "string",
        "number",
        "boolean",
        "object",
        "array",
        "null",
        "any",
    ]
    assert [c.value for c in argyll.InputCollect] == ["first", "last", "all", "some", "none"]
    assert [s.value for s in argyll.ScriptLanguage] == ["ale", "lua", "jpath"]
    assert [b.value for b in argyll.BackoffType] == ["fixed", "linear", "exponential"]


def test_import_argyll_loads_no_heavy_modules() -> None:
    code = (
        "import json, sys\n"
        "import argyll\n"
        "argyll.Client().new_step().with_name('x').with_script('1').build()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    heavy = [m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY_MODULES)]
    assert heavy == []
