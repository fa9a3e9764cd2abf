"""Named graph shapes for the planner tests (as hamilton names its cyclic fixtures)."""

from __future__ import annotations

import pytest
from plan_builders import POSTAL, graph_of, required, step

from argyll.engine.plan import AttributeGraph


@pytest.fixture
def chain() -> AttributeGraph:
    """SPEC 4.3 shorthands: resolver -> data -> processor -> result -> collector."""
    return graph_of(
        step("resolver", outputs=["data"]),
        step("processor", requires=["data"], outputs=["result"]),
        step("collector", requires=["result"]),
    )


@pytest.fixture
def diamond() -> AttributeGraph:
    """source -> (left, right) -> sink: two paths share one upstream step."""
    return graph_of(
        step("source", outputs=["seed"]),
        step("left", requires=["seed"], outputs=["l"]),
        step("right", requires=["seed"], outputs=["r"]),
        step("sink", requires=["l", "r"], outputs=["done"]),
    )


@pytest.fixture
def cycle() -> AttributeGraph:
    """ping needs pong's output and vice versa (only reachable without VAL-2)."""
    return graph_of(
        step("ping", requires=["b"], outputs=["a"]),
        step("pong", requires=["a"], outputs=["b"]),
        step("driver", requires=["a"], outputs=["out"]),
    )


@pytest.fixture
def optional_input() -> AttributeGraph:
    """processor has an optional input with and without a provider."""
    return graph_of(
        step("resolver", outputs=["optional_data"]),
        step("processor", optionals=["optional_data", "unprovided"], outputs=["result"]),
    )


@pytest.fixture
def fan_out() -> AttributeGraph:
    """One provider, three consumers, each a goal of its own."""
    return graph_of(
        step("hub", requires=["seed"], outputs=["shared"]),
        step("a", requires=["shared"], outputs=["out-a"]),
        step("b", requires=["shared"], outputs=["out-b"]),
        step("c", requires=["shared"], outputs=["out-c"]),
    )


@pytest.fixture
def alternatives() -> AttributeGraph:
    """SPEC 4.3 Example E: two providers of product_info, one needing input."""
    return graph_of(
        step("provider-with-input", requires=["product_id"], outputs=["product_info"]),
        step("provider-without-input", outputs=["product_info"]),
        step("consumer", requires=["product_info"], outputs=["result"]),
    )


@pytest.fixture
def match_gate() -> AttributeGraph:
    """SPEC 4.3 Example G, first variant: customer-lookup and a postal-gated sender."""
    return graph_of(
        step("customer-lookup", requires=["customer_id"], outputs=["customer"]),
        step(
            "send-postal",
            requires=["customer"],
            outputs=["result"],
            attrs={"notification_type": required(match=POSTAL)},
        ),
    )
