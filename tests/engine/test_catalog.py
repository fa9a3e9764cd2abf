"""The catalog aggregate (CAT-1..8): pure decisions over the projection, and apply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec
import pytest

from argyll.engine.catalog import Catalog
from argyll.errors import ConflictError, InvalidStepError, NotFoundError
from argyll.model import events as ev
from argyll.model.codec import ZERO_TIME
from argyll.model.step import AttributeSpec, HTTPConfig, ScriptConfig, Step, WorkConfig

DEFAULTS = WorkConfig(max_retries=3, init_backoff=100, max_backoff=1000, backoff_type="fixed")
T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 1, 2, tzinfo=UTC)


def step(
    step_id: str, inputs: Sequence[str] = (), outputs: Sequence[str] = (), **kw: object
) -> Step:
    attributes: dict[str, AttributeSpec | None] = {
        **{n: AttributeSpec(role="required", type=str(kw.pop("type", "string"))) for n in inputs},
        **{n: AttributeSpec(role="output", type="string") for n in outputs},
    }
    return Step(
        id=step_id,
        name=step_id.title(),
        type="sync",
        attributes=attributes,
        http=HTTPConfig(endpoint=f"http://steps.test/{step_id}"),
        **kw,  # type: ignore[arg-type]
    )


def registered(*steps: Step) -> Catalog:
    catalog = Catalog(DEFAULTS)
    for s in steps:
        payload = catalog.decide_register(s, None)
        assert payload is not None
        catalog.apply(payload, T1)
    return catalog


def test_a_new_catalog_is_empty() -> None:
    catalog = Catalog(DEFAULTS)
    assert catalog.steps == {} and catalog.next_sequence == 0
    assert catalog.to_wire() == {"last_updated": ZERO_TIME, "steps": {}, "attributes": {}}


def test_register_decides_the_stored_form_and_apply_adds_it() -> None:  # CAT-2, DATA-15
    catalog = Catalog(DEFAULTS)
    payload = catalog.decide_register(step("a", outputs=["x"]), None)
    assert isinstance(payload, ev.StepRegistered)
    assert payload.step.work_config == DEFAULTS  # zero retry fields take the defaults
    assert catalog.steps == {}  # deciding writes nothing
    catalog.apply(payload, T1)
    assert list(catalog.steps) == ["a"]
    assert catalog.last_updated == T1 and catalog.next_sequence == 1
    wire = catalog.to_wire()
    assert wire["attributes"]["x"].providers == ["a"]


def test_identical_re_registration_is_a_no_op_and_a_different_one_conflicts() -> None:  # CAT-2
    catalog = registered(step("a", outputs=["x"]))
    same = step("a", outputs=["x"], work_config=DEFAULTS)  # equal once defaulted
    assert catalog.decide_register(same, None) is None
    explicit_post = msgspec.structs.replace(
        same, http=HTTPConfig(method="POST", endpoint="http://steps.test/a")
    )
    assert catalog.decide_register(explicit_post, None) is None
    with pytest.raises(ConflictError, match="step exists: a"):
        catalog.decide_register(step("a", outputs=["y"]), None)


def test_update_needs_an_existing_step_and_skips_no_changes() -> None:  # CAT-3
    catalog = registered(step("a", outputs=["x"]))
    with pytest.raises(NotFoundError, match="step not found: b"):
        catalog.decide_update(step("b"), None)
    assert catalog.decide_update(step("a", outputs=["x"]), None) is None
    payload = catalog.decide_update(step("a", outputs=["x", "y"]), None)
    assert isinstance(payload, ev.StepUpdated)
    catalog.apply(payload, T2)
    assert sorted(catalog.steps["a"].attrs()) == ["x", "y"]
    assert catalog.last_updated == T2 and catalog.next_sequence == 2


def test_unregister_needs_an_existing_step() -> None:  # CAT-4
    catalog = registered(step("a", outputs=["x"]), step("b", inputs=["x"]))
    with pytest.raises(NotFoundError, match="step not found: c"):
        catalog.decide_unregister("c")
    payload = catalog.decide_unregister("a")
    assert payload == ev.StepUnregistered(step_id="a")
    catalog.apply(payload, T2)
    assert list(catalog.steps) == ["b"]
    assert catalog.to_wire()["attributes"]["x"].providers == []


def test_invalid_steps_and_catalog_conflicts_are_rejected() -> None:  # VAL-1, VAL-2
    catalog = registered(step("a", outputs=["x"]))
    with pytest.raises(InvalidStepError):
        catalog.decide_register(Step(id="bad", name="Bad", type="sync"), None)  # no http
    conflict = Step(
        id="b",
        name="B",
        type="sync",
        attributes={"x": AttributeSpec(role="required", type="number")},
        http=HTTPConfig(endpoint="http://steps.test/b"),
    )
    with pytest.raises(InvalidStepError, match="attribute type conflict: x"):
        catalog.decide_register(conflict, None)
    forward = catalog.decide_register(step("b", inputs=["x"], outputs=["y"]), None)
    assert forward is not None
    catalog.apply(forward, T2)
    cycle = step("c", inputs=["y"], outputs=["x"])  # x -> b -> y -> c -> x
    with pytest.raises(InvalidStepError, match="circular dependency"):
        catalog.decide_register(cycle, None)


def test_the_compile_check_is_consulted() -> None:  # VAL-1
    calls: list[tuple[str, str]] = []

    def check(language: str, source: str, names: Sequence[str], purpose: str) -> str | None:
        calls.append((language, purpose))
        return "ale compile error: nope" if "nope" in source else None

    catalog = Catalog(DEFAULTS)

    def script(source: str) -> Step:
        return Step(
            id="s",
            name="S",
            type="script",
            attributes={"y": AttributeSpec(role="output")},
            script=ScriptConfig(language="ale", script=source),
        )

    assert catalog.decide_register(script("{:y 1}"), check) is not None
    with pytest.raises(InvalidStepError, match="nope"):
        catalog.decide_register(script("nope"), check)
    assert ("ale", "script") in calls


def test_unknown_events_only_move_the_sequence_and_time() -> None:  # EVT-10
    catalog = registered(step("a"))
    catalog.apply(ev.StepUnregistered(step_id="missing"), T2)
    assert list(catalog.steps) == ["a"]
    assert catalog.next_sequence == 2 and catalog.last_updated == T2


def test_sorted_steps_are_by_id_and_steps_keep_registration_order() -> None:  # API-10
    catalog = registered(step("b"), step("a"), step("c"))
    assert list(catalog.steps) == ["b", "a", "c"]
    assert [s.id for s in catalog.sorted_steps()] == ["a", "b", "c"]
