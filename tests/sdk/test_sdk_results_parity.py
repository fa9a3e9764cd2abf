"""The SDK's typed results keep every field the engine serves (API-50..52).

``argyll.sdk.results`` mirrors the engine's projection structs with enums
for statuses; a field added on the engine side must reach SDK users too.
"""

from __future__ import annotations

import msgspec
import pytest

from argyll.model import flow as engine
from argyll.sdk import results as sdk


def wire_names(cls: type) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(cls)}


@pytest.mark.parametrize(
    ("served", "read"),
    [
        (engine.FlowState, sdk.FlowState),
        (engine.ExecutionState, sdk.StepExecution),
        (engine.WorkState, sdk.WorkItem),
    ],
)
def test_sdk_results_have_every_served_field(served: type, read: type) -> None:
    assert wire_names(served) == wire_names(read)


def test_waiting_and_mapping_errors_reach_the_sdk() -> None:  # HEALTH-6, MAP-2
    execution = engine.ExecutionState(status="active", waiting="step s unhealthy")
    execution.mapping_errors["x"] = "input mapping failed"
    decoded = msgspec.json.decode(msgspec.json.encode(execution), type=sdk.StepExecution)
    assert decoded.waiting == "step s unhealthy"
    assert decoded.mapping_errors == {"x": "input mapping failed"}
