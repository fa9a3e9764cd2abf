"""The memo cache of memoizable steps (MEMO-1..4): an in-memory LRU per process."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import msgspec

from argyll.model.step import Step

__all__ = ["MemoCache", "memo_key"]

_encoder = msgspec.json.Encoder(order="sorted")


def _normalize(value: Any) -> Any:
    # CONV-7: 5 and 5.0 hash alike.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def step_hash(step: Step) -> str:
    """H(step) of MEMO-2: the functional definition, without id, name and labels."""
    http = step.http
    if http is not None and not http.method:
        http = msgspec.structs.replace(http, method="POST")
    functional = {
        "type": step.type,
        "memoizable": step.memoizable,
        "attributes": dict(sorted(step.attrs().items())),
        "http": http,
        "script": step.script,
        "flow_goals": step.flow.goals if step.flow else None,
        "predicate": step.predicate,
        "work_config": step.work_config,
    }
    return hashlib.sha256(_encoder.encode(functional)).hexdigest()


def inputs_hash(inputs: dict[str, Any]) -> str:
    """H(inputs) of MEMO-2: the sorted ``[name, value]`` pairs (empty inputs hash "")."""
    pairs = [[k, _normalize(inputs[k])] for k in sorted(inputs)]
    data = _encoder.encode(pairs) if pairs else b""
    return hashlib.sha256(data).hexdigest()


def memo_key(step: Step, inputs: dict[str, Any]) -> str:
    """MEMO-2: ``H(step) + ":" + H(inputs)``."""
    return f"{step_hash(step)}:{inputs_hash(inputs)}"


class MemoCache:
    """An LRU of raw outputs keyed by ``memo_key`` (MEMO-1); failures are never stored."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        # Step hashes by object identity; the step is kept to make the id stable.
        self._hashes: dict[int, tuple[Step, str]] = {}

    def _key(self, step: Step, inputs: dict[str, Any]) -> str:
        cached = self._hashes.get(id(step))
        if cached is not None and cached[0] is step:
            h = cached[1]
        else:
            if len(self._hashes) >= 4096:
                self._hashes.clear()
            h = step_hash(step)
            self._hashes[id(step)] = (step, h)
        return f"{h}:{inputs_hash(inputs)}"

    def get(self, step: Step, inputs: dict[str, Any]) -> dict[str, Any] | None:
        """Cached raw outputs (``{}`` for a cached "no outputs"), or ``None``."""
        key = self._key(step, inputs)
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key] or {}

    def put(self, step: Step, inputs: dict[str, Any], outputs: dict[str, Any] | None) -> None:
        """Store a success (MEMO-3), evicting the least recently used entry."""
        key = self._key(step, inputs)
        self._entries[key] = outputs
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
