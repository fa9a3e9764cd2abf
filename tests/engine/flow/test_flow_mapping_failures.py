"""Failed mapping scripts are recorded facts, not only log lines (MAP-2, MAP-3)."""

from __future__ import annotations

from flow_sim import Sim, ok, plan, step

from argyll.model import events as ev
from argyll.model.step import (
    AttributeMapping,
    AttributeSpec,
    OutputConfig,
    RequiredConfig,
    ScriptConfig,
)


def mapped_input(source: str) -> AttributeSpec:
    mapping = AttributeMapping(script=ScriptConfig("lua", source))
    return AttributeSpec(role="required", required=RequiredConfig(mapping=mapping))


def mapped_output(source: str) -> AttributeSpec:
    mapping = AttributeMapping(script=ScriptConfig("lua", source))
    return AttributeSpec(role="output", output=OutputConfig(mapping=mapping))


def test_a_failed_input_mapping_keeps_the_value_and_is_recorded() -> None:  # MAP-2
    g = step("g", {"x": mapped_input("broken"), "r": AttributeSpec(role="output")})
    seen: list[dict[str, object]] = []
    sim = Sim(
        plan(["g"], [g]),
        {"g": lambda args: seen.append(args) or ok(r=1)},
        init={"x": [5]},
    ).start()
    assert sim.status == "completed"
    assert seen == [{"x": 5}]  # the original value was used
    (failed,) = sim.of(ev.MappingFailed)
    assert (failed.step_id, failed.attribute, failed.direction) == ("g", "x", "input")
    assert "no such script: broken" in failed.error
    assert sim.state is not None
    assert sim.state.executions["g"].mapping_errors == {"x": failed.error}


def test_a_failed_output_mapping_drops_the_output_and_is_recorded() -> None:  # MAP-3
    g = step("g", {"r": mapped_output("broken"), "s": AttributeSpec(role="output")})
    sim = Sim(plan(["g"], [g]), {"g": lambda _: ok(r=1, s=2)}).start()
    (failed,) = sim.of(ev.MappingFailed)
    assert (failed.attribute, failed.direction) == ("r", "output")
    keys = [e.key for e in sim.of(ev.AttributeSet)]
    assert keys == ["s"]
    assert sim.state is not None
    assert "r" in sim.state.executions["g"].mapping_errors


def test_a_working_mapping_records_nothing() -> None:
    g = step("g", {"x": mapped_input("double"), "r": AttributeSpec(role="output")})
    seen: list[dict[str, object]] = []
    sim = Sim(
        plan(["g"], [g]),
        {"g": lambda args: seen.append(args) or ok(r=1)},
        scripts={"double": lambda v: v * 2},
        init={"x": [5]},
    ).start()
    assert seen == [{"x": 10}] and sim.of(ev.MappingFailed) == []
