"""The memo cache (MEMO-1..4): keys from the step's function and its inputs, an LRU."""

from __future__ import annotations

import hashlib

import msgspec

from argyll.engine.execute.memo import MemoCache, inputs_hash, memo_key, step_hash
from argyll.model.step import AttributeSpec, HTTPConfig, ScriptConfig, Step


def script_step(step_id: str = "double", source: str = "{:y (* x 2)}", **fields: object) -> Step:
    return Step(
        id=step_id,
        name=step_id.title(),
        type="script",
        memoizable=True,
        attributes={"x": AttributeSpec(role="required"), "y": AttributeSpec(role="output")},
        script=ScriptConfig(language="ale", script=source),
        **fields,  # type: ignore[arg-type]
    )


def test_step_hash_ignores_id_name_and_labels_but_not_the_function() -> None:  # MEMO-2
    base = script_step()
    assert step_hash(base) == step_hash(script_step("other-id", labels={"team": "a"}))
    assert step_hash(base) == step_hash(msgspec.structs.replace(base, name="Renamed"))
    assert step_hash(base) != step_hash(script_step(source="{:y (* x 3)}"))
    assert step_hash(base) != step_hash(msgspec.structs.replace(base, memoizable=False))
    typed = {"x": AttributeSpec(role="required", type="number"), "y": AttributeSpec(role="output")}
    assert step_hash(base) != step_hash(msgspec.structs.replace(base, attributes=typed))


def test_an_empty_http_method_hashes_as_post() -> None:  # MEMO-2, DATA-11
    def http(method: str) -> Step:
        return Step(id="s", type="sync", http=HTTPConfig(method=method, endpoint="http://h/x"))

    assert step_hash(http("")) == step_hash(http("POST"))
    assert step_hash(http("")) != step_hash(http("PUT"))


def test_inputs_hash_sorts_names_and_treats_whole_floats_as_ints() -> None:  # MEMO-2, CONV-7
    assert inputs_hash({"a": 1, "b": "x"}) == inputs_hash({"b": "x", "a": 1})
    assert inputs_hash({"a": 5}) == inputs_hash({"a": 5.0})
    assert inputs_hash({"a": {"n": [1.0, 2]}}) == inputs_hash({"a": {"n": [1, 2.0]}})
    assert inputs_hash({"a": 5}) != inputs_hash({"a": 5.5})
    assert inputs_hash({"a": 1}) != inputs_hash({"a": "1"})
    assert inputs_hash({}) == hashlib.sha256(b"").hexdigest()


def test_memo_key_joins_both_hashes() -> None:  # MEMO-2
    step = script_step()
    assert memo_key(step, {"x": 2}) == f"{step_hash(step)}:{inputs_hash({'x': 2})}"


def test_get_returns_stored_outputs_and_empty_outputs_as_a_hit() -> None:  # MEMO-1, MEMO-3
    cache = MemoCache(8)
    step = script_step()
    assert cache.get(step, {"x": 2}) is None
    cache.put(step, {"x": 2}, {"y": 4})
    cache.put(step, {"x": 0}, None)  # a success without outputs
    assert cache.get(step, {"x": 2.0}) == {"y": 4}
    assert cache.get(script_step("renamed"), {"x": 2}) == {"y": 4}  # same function
    assert cache.get(step, {"x": 0}) == {}
    assert cache.get(step, {"x": 3}) is None
    assert len(cache) == 2


def test_the_least_recently_used_entry_is_evicted() -> None:  # MEMO-4
    cache = MemoCache(2)
    step = script_step()
    cache.put(step, {"x": 1}, {"y": 2})
    cache.put(step, {"x": 2}, {"y": 4})
    assert cache.get(step, {"x": 1}) == {"y": 2}  # x=1 is now the most recent
    cache.put(step, {"x": 3}, {"y": 6})
    assert len(cache) == 2
    assert cache.get(step, {"x": 2}) is None
    assert cache.get(step, {"x": 1}) == {"y": 2}
    assert cache.get(step, {"x": 3}) == {"y": 6}


def test_putting_a_key_again_replaces_and_refreshes_it() -> None:
    cache = MemoCache(2)
    step = script_step()
    cache.put(step, {"x": 1}, {"y": 1})
    cache.put(step, {"x": 2}, {"y": 4})
    cache.put(step, {"x": 1}, {"y": 2})
    cache.put(step, {"x": 3}, {"y": 6})
    assert cache.get(step, {"x": 1}) == {"y": 2}
    assert cache.get(step, {"x": 2}) is None


def test_step_hashes_follow_the_step_object_not_its_id() -> None:
    cache = MemoCache(8)
    first = script_step()
    changed = script_step(source="{:y (* x 3)}")  # same ID, new function (an update)
    cache.put(first, {"x": 2}, {"y": 4})
    assert cache.get(changed, {"x": 2}) is None
    cache.put(changed, {"x": 2}, {"y": 6})
    assert cache.get(first, {"x": 2}) == {"y": 4}
    assert cache.get(changed, {"x": 2}) == {"y": 6}
