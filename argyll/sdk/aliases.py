"""Type aliases of the original Argyll SDK, for code written against it."""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["Args", "FlowID", "InitArgs", "Labels", "Metadata", "StepID"]

#: A handler's inputs or outputs: attribute name -> value.
Args: TypeAlias = dict[str, Any]
#: A flow's initial values: attribute name -> list of values.
InitArgs: TypeAlias = dict[str, list[Any]]
#: A step ID.
StepID: TypeAlias = str
#: A flow ID.
FlowID: TypeAlias = str
#: Labels of a step or flow.
Labels: TypeAlias = dict[str, str]
#: Invocation or flow metadata.
Metadata: TypeAlias = dict[str, Any]
