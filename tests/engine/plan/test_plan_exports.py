"""The public surface of argyll.engine.plan is declared, sorted and complete."""

from __future__ import annotations

import argyll.engine.plan as plan


def test_all_is_sorted_and_exported() -> None:
    assert plan.__all__ == sorted(plan.__all__)
    for name in plan.__all__:
        assert hasattr(plan, name), name


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, value in vars(plan).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(plan.__name__)
    }
    assert public <= set(plan.__all__)
