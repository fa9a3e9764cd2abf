"""Step files for the command-line tests: Lua steps with unique IDs and attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def price_steps(uid: str) -> list[dict[str, Any]]:
    """``sub-<uid>`` (Lua: price * qty) feeding ``tax-<uid>`` (Lua: total, label)."""
    price, qty, sub, total = f"price_{uid}", f"qty_{uid}", f"sub_{uid}", f"total_{uid}"
    return [
        {
            "id": f"sub-{uid}",
            "name": "Subtotal",
            "type": "script",
            "attributes": {
                price: {"role": "required", "type": "number"},
                qty: {"role": "required", "type": "number"},
                sub: {"role": "output", "type": "number"},
            },
            "script": {"language": "lua", "script": f"return {{{sub} = {price} * {qty}}}"},
        },
        {
            "id": f"tax-{uid}",
            "name": "With tax",
            "type": "script",
            "attributes": {
                sub: {"role": "required", "type": "number"},
                total: {"role": "output", "type": "number"},
            },
            "script": {"language": "lua", "script": f"return {{{total} = {sub} * 2}}"},
        },
    ]


def failing_step(uid: str) -> dict[str, Any]:
    """``boom-<uid>``: a Lua step whose script always raises (a permanent failure)."""
    return {
        "id": f"boom-{uid}",
        "name": "Boom",
        "type": "script",
        "attributes": {
            f"in_{uid}": {"role": "required", "type": "number"},
            f"out_{uid}": {"role": "output", "type": "number"},
        },
        "script": {"language": "lua", "script": "error('boom on purpose')"},
    }


def write_yaml(path: Path, steps: list[dict[str, Any]]) -> Path:
    """Several steps as YAML documents separated by ``---``."""
    path.write_text(yaml.safe_dump_all(steps, sort_keys=False), encoding="utf-8")
    return path
