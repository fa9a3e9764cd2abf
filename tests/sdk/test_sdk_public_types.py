"""No public SDK method returns ``Any``: results are typed (mypy --strict checks the rest).

The dict-style accessors of wire types (``state["status"]``, ``get``,
``to_dict``) answer JSON values by design and are not checked here.
"""

from __future__ import annotations

import inspect
import sys
import typing
from typing import Any

import pytest

import argyll
import argyll.sdk.runner
import argyll.sdk.watch

CLASSES = [
    argyll.Client,
    argyll.AsyncClient,
    argyll.FlowClient,
    argyll.AsyncFlowClient,
    argyll.StepBuilder,
    argyll.AsyncStepBuilder,
    argyll.FlowBuilder,
    argyll.AsyncFlowBuilder,
    argyll.AsyncContext,
    argyll.StepContext,
    argyll.AsyncStepContext,
    argyll.FlowState,
]


def namespace(cls: type) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for module in list(sys.modules.values()):
        if module is not None and module.__name__.startswith("argyll."):
            names.update(vars(module))
    names.update(vars(argyll))
    names.update(vars(sys.modules[cls.__module__]))
    return names


def mentions_any(hint: object) -> bool:
    if hint is Any:
        return True
    return any(mentions_any(arg) for arg in typing.get_args(hint))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_public_methods_return_no_any(cls: type) -> None:
    offenders = []
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or name in ("to_dict", "get", "value", "values", "keys"):
            continue
        func = member.fget if isinstance(member, property) else member
        if not callable(func):
            continue
        hints = typing.get_type_hints(func, globalns=namespace(cls))
        if "return" in hints and mentions_any(hints["return"]):
            offenders.append(f"{name} -> {hints['return']}")
    assert offenders == []
