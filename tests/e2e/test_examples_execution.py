"""The step-type examples run as written against a real engine."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))  # examples import example_support, as when run as scripts


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_script_step_example(isolated_engine_url: str) -> None:  # SCRIPT-1..3, INPUT-5 defaults
    result = load("script_step").main(isolated_engine_url)
    assert result == {"total": 36.0, "label": "total for 30"}


def test_http_steps_example(isolated_engine_url: str) -> None:  # HTTP-1, ASYNC-1..4
    result = load("http_steps").main(isolated_engine_url)
    assert result == {"status": "completed", "tracking": "TRK-c-42"}


def test_jpath_step_example(isolated_engine_url: str) -> None:  # JPATH-4
    result = load("jpath_step").main(isolated_engine_url)
    assert result == {
        "status": "completed",
        "picked": [{"sku": "pen", "qty": 2}, {"sku": "pad", "qty": 1}],
    }


@pytest.mark.parametrize("name", ["script_step", "http_steps", "jpath_step"])
def test_examples_say_how_to_run(name: str) -> None:
    text = (EXAMPLES / f"{name}.py").read_text()
    assert "To run things:" in text and "def main(engine_url: str)" in text
