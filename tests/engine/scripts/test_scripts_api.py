"""The script corpus and sandbox attacks through real flows (issue 3, SCRIPT-*, PRED-1).

Every script and predicate case of tests/engine/scripts/script_corpus.py is
registered as a script step on a real engine and run in a flow. Attribute
names are made unique per case through ``mapping.name`` (the script still sees
its original names, SCRIPT-2, MAP-1), so cases cannot clash in the catalog.
Attacks run as steps too: each must fail the step while the engine keeps
answering and finishes an unrelated flow.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from local_engine import LocalEngine
from support import Api, eventually

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_corpus import CASES, Case, same

SCRIPTS = [c for c in CASES if c.kind == "script"]
PREDICATES = [c for c in CASES if c.kind == "predicate" and c.error is None]


def mapped_inputs(case: Case, suffix: str, role: str = "optional") -> dict[str, Any]:
    return {
        f"{name}_{suffix}": {"role": role, role: {"mapping": {"name": name}}} for name in case.names
    }


def init_for(case: Case, suffix: str) -> dict[str, list[Any]]:
    return {f"{name}_{suffix}": [value] for name, value in case.args.items()}


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    """One engine for the module, with script workers of its own: attacks kill
    workers, which must not disturb the workers other tests share."""
    with LocalEngine(shared_scripts=False) as engine:
        yield engine.url


@pytest.fixture(scope="module")
def api(engine_url: str) -> Iterator[Api]:
    client = Api(engine_url)
    yield client
    client.close()


@pytest.mark.parametrize("case", SCRIPTS, ids=[c.id for c in SCRIPTS])
def test_script_corpus_through_flows(api: Api, case: Case) -> None:  # SCRIPT-1..5
    suffix = case.id.replace("-", "_")
    outputs = sorted(case.expected) if isinstance(case.expected, dict) else ["result"]
    step = {
        "id": f"corpus-{case.id}",
        "name": case.id,
        "type": "script",
        "attributes": {
            **mapped_inputs(case, suffix),
            **{
                f"{key}_{suffix}": {"role": "output", "output": {"mapping": {"name": key}}}
                for key in outputs
            },
        },
        "script": {"language": case.language, "script": case.source},
    }
    r = api.register(step)
    if case.error == "compile":  # VAL-1 stage 8
        assert r.status_code == 400 and "invalid step" in r.json()["error"], r.text
        assert case.fragment in r.json()["error"]
        return
    assert r.status_code == 201, r.text
    assert api.start(f"flow-{case.id}", [step["id"]], init_for(case, suffix)).status_code == 201
    state = api.wait_terminal(f"flow-{case.id}")
    if case.error == "runtime":  # SCRIPT-5: a permanent failure with the interpreter's text
        assert state["status"] == "failed"
        assert case.fragment in state["error"], state["error"]
        return
    assert state["status"] == "completed", state.get("error")
    got = {
        key: state["attributes"][f"{key}_{suffix}"][0]["value"]
        for key in outputs
        if f"{key}_{suffix}" in state["attributes"]
    }
    assert same(got, case.expected), (got, case.expected)


@pytest.mark.parametrize("case", PREDICATES, ids=[c.id for c in PREDICATES])
def test_predicate_corpus_through_flows(api: Api, case: Case) -> None:  # PRED-1, SCRIPT-4
    suffix = case.id.replace("-", "_")
    step = {
        "id": f"pred-{case.id}",
        "name": case.id,
        "type": "script",
        "attributes": {**mapped_inputs(case, suffix), f"ran_{suffix}": {"role": "output"}},
        "predicate": {"language": case.language, "script": case.source},
        "script": {"language": "lua", "script": f"return {{ran_{suffix} = true}}"},
    }
    assert api.register(step).status_code == 201
    assert api.start(f"pflow-{case.id}", [step["id"]], init_for(case, suffix)).status_code == 201
    state = api.wait_terminal(f"pflow-{case.id}")
    assert state["status"] == "completed"  # EDGE-3: a predicate-skipped goal completes
    execution = state["executions"][step["id"]]
    if case.expected:
        assert execution["status"] == "completed"
    else:
        assert execution["status"] == "skipped" and execution["error"] == "predicate returned false"


ATTACKS = [
    ("lua-busy-loop", "lua", "while true do end", "time limit"),
    (
        "lua-pcall-swallow",
        "lua",
        "while true do pcall(function() while true do end end) end",
        "time limit",
    ),
    (
        "lua-memory",
        "lua",
        "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) end",
        "limit",
    ),
    ("lua-io", "lua", "io.open('{canary}', 'w')", "lua execution error"),
    ("lua-python", "lua", "return python.eval('1')", "lua execution error"),
    ("ale-recursion", "ale", "(let [f (fn [f n] (f f (+ n 1)))] (f f 0))", "limit"),
    ("ale-loop", "ale", "(reduce + 0 (range 1000000000000))", "limit"),
]


def test_attacks_fail_while_the_engine_keeps_serving(
    api: Api, engine_url: str, tmp_path: Path
) -> None:  # SCRIPT-6
    canary = tmp_path / "canary"
    api.register(
        {
            "id": "innocent",
            "name": "Innocent",
            "type": "script",
            "attributes": {
                "seed_innocent": {"role": "required"},
                "out_innocent": {"role": "output"},
            },
            "script": {"language": "lua", "script": "return {out_innocent = seed_innocent + 1}"},
        }
    )
    started: list[str] = []
    for name, language, source, _ in ATTACKS:
        src = source.replace("{canary}", str(canary))
        r = api.register(
            {
                "id": f"attack-{name}",
                "name": name,
                "type": "script",
                "attributes": {f"out_{name.replace('-', '_')}": {"role": "output"}},
                "script": {"language": language, "script": src},
            }
        )
        if r.status_code == 400:  # rejected at registration: contained too
            continue
        assert r.status_code == 201, r.text
        assert api.start(f"attack-{name}", [f"attack-{name}"]).status_code == 201
        started.append(name)
    assert len(started) >= 6, started  # all but compile-time rejections really run
    # While attacks run, the engine answers and completes unrelated work promptly.
    t0 = time.monotonic()
    assert httpx.get(f"{engine_url}/health", timeout=5).status_code == 200
    assert api.start("innocent-1", ["innocent"], {"seed_innocent": [41]}).status_code == 201
    state = api.wait_terminal("innocent-1", timeout=10)
    assert state["status"] == "completed"
    assert state["attributes"]["out_innocent"][0]["value"] == 42
    assert time.monotonic() - t0 < 8
    expected = {name: fragment for name, _, _, fragment in ATTACKS}
    for name in started:
        result = api.wait_terminal(f"attack-{name}", timeout=30)
        assert result["status"] == "failed", (name, result)
        assert expected[name] in result["error"], (name, result["error"])
        assert "Traceback" not in result["error"] and "/work/" not in result["error"]
    assert not canary.exists()


def test_concurrent_runaways_do_not_stall_other_flows(api: Api) -> None:  # SCRIPT-6
    api.register(
        {
            "id": "spin",
            "name": "Spin",
            "type": "script",
            "attributes": {"n_spin": {"role": "required"}, "out_spin": {"role": "output"}},
            "script": {"language": "lua", "script": "while true do end"},
        }
    )
    api.register(
        {
            "id": "quick",
            "name": "Quick",
            "type": "script",
            "attributes": {"n_quick": {"role": "required"}, "out_quick": {"role": "output"}},
            "script": {"language": "ale", "script": "{:out_quick (* n_quick 2)}"},
        }
    )
    for i in range(4):
        api.start(f"spin-{i}", ["spin"], {"n_spin": [i]})
    done: list[float] = []

    def quick() -> None:
        t = time.monotonic()
        for i in range(10):
            api_local = Api(api.url)
            api_local.start(f"quick-{i}", ["quick"], {"n_quick": [i]})
            state = api_local.wait_terminal(f"quick-{i}", timeout=20)
            assert state["attributes"]["out_quick"][0]["value"] == i * 2
            api_local.close()
        done.append(time.monotonic() - t)

    thread = threading.Thread(target=quick)
    thread.start()
    thread.join(timeout=60)
    assert done, "quick flows did not finish"
    for i in range(4):
        assert eventually(lambda i=i: api.status(f"spin-{i}") == "failed", timeout=30)
