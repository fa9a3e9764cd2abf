"""The dataflow examples run as written against a real engine."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))  # examples import example_support, as when run as scripts
DATAFLOW = [
    "work_items",
    "collect_modes",
    "match_gates",
    "deadlines",
    "compensation",
    "memoization",
    "sub_flows",
]


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_work_items_example(isolated_engine_url: str) -> None:  # WORK-3, WORK-5, WORK-10
    result = load("work_items").main(isolated_engine_url)
    assert result["status"] == "completed"
    assert result["prices"] == [
        ("US", "A", 10),
        ("EU", "A", 12),
        ("APAC", "A", 15),
        ("US", "B", 20),
        ("EU", "B", 24),
        ("APAC", "B", 30),
    ]
    assert 1 <= result["peak_concurrency"] <= 4


def test_collect_modes_example(isolated_engine_url: str) -> None:  # INPUT-3 first/some
    assert load("collect_modes").main(isolated_engine_url) == {
        "status": "completed",
        "cheapest": {"vendor": "b", "price": 95},
        "quotes_seen": 2,
        "estimate": 120,
        "vendors": {"a": "completed", "b": "completed", "c": "failed"},
    }


@pytest.mark.parametrize("channel", ["postal", "email", "sms"])
def test_match_gates_example(isolated_engine_url: str, channel: str) -> None:  # MATCH-2..6
    result = load("match_gates").main(isolated_engine_url, channel)
    assert result == {
        "status": "completed",
        "sent": {f"send-{channel}": {f"sent_{channel}": "customer-42"}},
        "skipped": sorted(f"send-{c}" for c in ("postal", "email", "sms") if c != channel),
    }


def test_deadlines_example(isolated_engine_url: str) -> None:  # OPT-1..5
    result = load("deadlines").main(isolated_engine_url)
    assert result["status"] == "completed"
    assert result["rendered_email"] == "text mail for ada@example.com"
    assert result["waited_ms"] >= 300
    assert result["late_preferences"] == {"format": "html"}


def test_compensation_example(isolated_engine_url: str) -> None:  # COMP-1..5
    result = load("compensation").main(isolated_engine_url)
    assert result["status"] == "failed" and "sku-3 is out of stock" in result["error"]
    assert result["item_statuses"] == ["compensated", "compensated", "failed"]
    assert result["released"] == ["/release/res-sku-1", "/release/res-sku-2"]
    assert result["bodies"][0] == {
        "input": {"sku": "sku-1"},
        "output": {"reservation_id": "res-sku-1"},
    }


def test_memoization_example(isolated_engine_url: str) -> None:  # MEMO-1..4
    assert load("memoization").main(isolated_engine_url) == {
        "service_calls": ["USD/EUR", "USD/GBP"],
        "cache_hits_per_flow": [1, 2],
    }


def test_sub_flows_example(isolated_engine_url: str) -> None:  # SUB-1..5
    assert load("sub_flows").main(isolated_engine_url) == {
        "status": "completed",
        "payment_authorized": True,
        "child_plan_steps": ["approve-payment", "validate-card"],
        "child_status": "completed",
        "child_inputs": {"card_number": "4111111111111111", "amount": 120},
        "child_parent": True,
        "child_listed": False,
    }


@pytest.mark.parametrize("name", DATAFLOW)
def test_examples_say_how_to_run(name: str) -> None:
    text = (EXAMPLES / f"{name}.py").read_text()
    assert "To run things:" in text and "def main(engine_url: str" in text
