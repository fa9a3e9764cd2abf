"""Run the script corpus (script_corpus.CASES) unit-level against every runtime.

Step scripts run through ``Scripts.run`` both in worker processes and
in-process; predicates, matches and mappings through their synchronous entry
points. Rules are cited per case in ``script_corpus``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from script_corpus import CASES, Case, same

from argyll.engine.scripts import Scripts
from argyll.errors import ScriptCompileError, ScriptError, ScriptLimitExceeded, ScriptRuntimeError

_ERRORS: dict[str, type[ScriptError]] = {
    "compile": ScriptCompileError,
    "runtime": ScriptRuntimeError,
    "limit": ScriptLimitExceeded,
}


def _evaluate(scripts: Scripts, case: Case) -> Any:
    if case.kind == "script":
        return asyncio.run(scripts.run(case.language, case.source, case.names, case.args))
    if case.kind == "predicate":
        return scripts.predicate(case.language, case.source, case.names, case.args)
    if case.kind == "match":
        return scripts.match(case.language, case.source, case.args["value"])
    ((name, value),) = case.args.items()
    return scripts.mapping(case.language, case.source, name, value)


def _check(scripts: Scripts, case: Case) -> None:
    if case.error is None:
        result = _evaluate(scripts, case)
        assert same(result, case.expected), f"{case.id}: {result!r} != {case.expected!r}"
        return
    with pytest.raises(_ERRORS[case.error]) as caught:
        _evaluate(scripts, case)
    if case.error == "runtime":
        assert not isinstance(caught.value, ScriptLimitExceeded)
    assert case.fragment in caught.value.message
    assert caught.value.language in (case.language, "")


def test_corpus_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    kinds = {(case.language, case.kind) for case in CASES}
    for language in ("ale", "lua"):
        for kind in ("script", "predicate", "match", "mapping"):
            assert (language, kind) in kinds
    for kind in ("predicate", "match", "mapping"):
        assert ("jpath", kind) in kinds


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_case(scripts: Scripts, case: Case) -> None:
    _check(scripts, case)


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.kind == "script"],
    ids=[case.id for case in CASES if case.kind == "script"],
)
def test_corpus_script_in_process(scripts_inproc: Scripts, case: Case) -> None:
    """The same step scripts with ``workers=0`` (threads instead of processes)."""
    _check(scripts_inproc, case)


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.error is None and case.kind != "mapping"],
    ids=[case.id for case in CASES if case.error is None and case.kind != "mapping"],
)
def test_corpus_check_accepts(scripts: Scripts, case: Case) -> None:
    """Every working corpus script passes the registration compile check (VAL-1 step 7/8)."""
    names = ["value"] if case.kind == "match" else case.names
    scripts.check(case.language, case.source, names, case.kind)  # type: ignore[arg-type]
