"""The public surface of ``argyll`` is frozen, and importing it stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import argyll
import argyll.errors
import argyll.sdk

ROOT = Path(__file__).resolve().parents[2]

#: SDK.md, "Everything below is importable from the top-level package".
SDK_NAMES = [
    "AsyncContext",
    "AttributeRole",
    "AttributeType",
    "BackoffType",
    "Client",
    "FlowBuilder",
    "FlowClient",
    "InputCollect",
    "ScriptLanguage",
    "StepBuilder",
    "StepContext",
    "StepType",
]

#: SDK.md, ``from argyll.errors import ...`` (plus the handler signal
#: ``WorkNotCompletedError``).
SDK_ERRORS = [
    "ArgyllError",
    "ClientError",
    "FlowError",
    "HTTPError",
    "StepRegistrationError",
    "StepValidationError",
    "WebhookError",
    "WorkNotCompletedError",
]

#: ARCHITECTURE principle 7.
HEAVY_MODULES = ["argyll.engine", "networkx", "hy", "lupa", "jsonpath_ng", "starlette", "uvicorn"]


def test_all_is_sorted_and_matches_sdk_md() -> None:
    assert argyll.__all__ == sorted(argyll.__all__)
    assert argyll.__all__ == SDK_NAMES
    for name in argyll.__all__:
        assert getattr(argyll, name) is not None


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
