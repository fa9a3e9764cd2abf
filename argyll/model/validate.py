"""Step validation (VAL-1) as pure functions, shared by the SDK and the engine.

``step_problems`` returns every problem of the first failing stage, in the
order SPEC.md gives; the engine reports the first one (VAL-1 "the first
failure wins"), the SDK reports them all. Script compilation (stage 7 and the
script-step part of stage 8) needs the engine's sandbox, so it is a callback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

from argyll.model.ids import sanitize_id
from argyll.model.step import (
    AttributeMapping,
    AttributeSpec,
    Step,
    inner_name,
    step_arg_names,
)

__all__ = [
    "ATTRIBUTE_ROLES",
    "ATTRIBUTE_TYPES",
    "BACKOFF_TYPES",
    "COLLECT_MODES",
    "HTTP_METHODS",
    "MAX_DEADLINE_MS",
    "SCRIPT_LANGUAGES",
    "STEP_SCRIPT_LANGUAGES",
    "STEP_TYPES",
    "CompileCheck",
    "endpoint_params",
    "first_problem",
    "parse_json_text",
    "step_problems",
]

STEP_TYPES = ("sync", "async", "script", "flow")
ATTRIBUTE_ROLES = ("required", "optional", "const", "meta", "output")
ATTRIBUTE_TYPES = ("string", "number", "boolean", "object", "array", "null", "any")
COLLECT_MODES = ("first", "last", "all", "some", "none")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE")
BACKOFF_TYPES = ("fixed", "linear", "exponential")
SCRIPT_LANGUAGES = ("ale", "lua", "jpath")
STEP_SCRIPT_LANGUAGES = ("ale", "lua", "jpath")
MAX_DEADLINE_MS = 31_536_000_000

#: ``check(language, source, arg_names, purpose)`` returns an error text, or
#: ``None`` when the script compiles. ``purpose`` is ``script``, ``predicate``,
#: ``match`` or ``mapping``.
CompileCheck = Callable[[str, str, Sequence[str], str], "str | None"]

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_MISSING = object()


def endpoint_params(url: str) -> list[str]:
    """The ``{param}`` placeholders of a URL, in order of appearance."""
    return _PLACEHOLDER.findall(url)


def parse_json_text(text: str) -> object:
    """Parse a default/const JSON text; invalid JSON gives ``None`` (DATA-24)."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_type_problem(text: str, attr_type: str) -> str | None:
    try:
        value = json.loads(text)
    except ValueError:
        return "must be valid JSON"
    checks: dict[str, tuple[Callable[[object], bool], str]] = {
        "string": (lambda v: isinstance(v, str), "must be a valid JSON string"),
        "number": (
            lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "must be a valid number",
        ),
        "boolean": (lambda v: isinstance(v, bool), 'must be "true" or "false"'),
        "object": (lambda v: isinstance(v, dict), "must be valid JSON object"),
        "array": (lambda v: isinstance(v, list), "must be valid JSON array"),
        "null": (lambda v: v is None, 'must be "null"'),
    }
    check = checks.get(attr_type)
    if check is None or check[0](value):
        return None
    return check[1]


def _mapping_problem(mapping: AttributeMapping | None, name: str) -> str | None:
    if mapping is not None and not mapping.name and mapping.script is None:
        return f'invalid attribute mapping: "{name}"'
    return None


def _attribute_problem(name: str, spec: AttributeSpec | None) -> str | None:
    if name == "":
        return "argument name empty"
    if spec is None:
        return "attribute has nil definition"
    if spec.role not in ATTRIBUTE_ROLES:
        return f'invalid attribute role: {spec.role} for attribute "{name}"'
    if spec.type and spec.type not in ATTRIBUTE_TYPES:
        return f'invalid attribute type: {spec.type} for attribute "{name}"'
    configs = {
        "required": spec.required,
        "optional": spec.optional,
        "const": spec.const,
        "meta": spec.meta,
        "output": spec.output,
    }
    if any(cfg is not None for role, cfg in configs.items() if role != spec.role):
        return f'config type does not match attribute role: "{name}"'
    if spec.role in ("required", "optional"):
        cfg = spec.required if spec.role == "required" else spec.optional
        if cfg is None:
            return None
        if cfg.for_each and spec.type not in ("array", "any", ""):
            return (
                "for_each processing requires an array attribute type: "
                f'type {spec.type} for attribute "{name}"'
            )
        if spec.optional is not None:
            opt = spec.optional
            if opt.default and spec.type:
                reason = _json_type_problem(opt.default, spec.type)
                if reason:
                    return f'invalid default value for type for attribute "{name}": {reason}'
            if not 0 <= opt.deadline <= MAX_DEADLINE_MS:
                return (
                    "deadline must be between 0 and 1 year in milliseconds: "
                    f'deadline {opt.deadline} for attribute "{name}"'
                )
        if cfg.collect and cfg.collect not in COLLECT_MODES:
            return f'invalid input collect: {cfg.collect} for attribute "{name}"'
        return _mapping_problem(cfg.mapping, name)
    if spec.role == "const":
        if spec.const is None or not spec.const.value:
            return f'const value required for const attribute: const for attribute "{name}"'
        if spec.type:
            reason = _json_type_problem(spec.const.value, spec.type)
            if reason:
                return f'invalid default value for type for attribute "{name}": {reason}'
        return None
    if spec.role == "meta":
        if spec.meta is None or not spec.meta.key:
            return f'meta key required for meta attribute: meta for attribute "{name}"'
        return None
    return _mapping_problem(spec.output.mapping if spec.output else None, name)


def _http_problems(step: Step) -> list[str]:
    http = step.http
    if http is None:
        return ["http required"]
    if step.flow is not None:
        return ["flow not allowed for step type"]
    if step.script is not None:
        return ["script not allowed for step type"]
    if not http.endpoint:
        return ["step endpoint empty"]
    if http.effective_method not in HTTP_METHODS:
        return [f"invalid HTTP method: {http.effective_method}"]
    if http.compensate and step.memoizable:
        return ["compensate not allowed for memoizable steps"]
    attrs = step.attrs()
    required = {inner_name(n, s) for n, s in attrs.items() if s.role == "required"}
    problems = [
        f'URL contains unknown parameter: "{p}"'
        for p in endpoint_params(http.endpoint)
        if p not in required
    ]
    if problems:
        return problems[:1]
    if http.compensate:
        known = {
            inner_name(n, s)
            for n, s in attrs.items()
            if s.role in ("required", "optional", "output")
        }
        problems = [
            f'compensate URL contains unknown parameter: "{p}"'
            for p in endpoint_params(http.compensate)
            if p not in known
        ]
    return problems[:1]


def _structure_problems(step: Step) -> list[str]:
    if step.type in ("sync", "async"):
        return _http_problems(step)
    if step.type == "flow":
        if step.flow is None:
            return ["flow required"]
        if step.http is not None:
            return ["http not allowed for step type"]
        if step.script is not None:
            return ["script not allowed for step type"]
        if not step.flow.goals:
            return ["flow goals required"]
    elif step.type == "script":
        if step.script is None:
            return ["script required"]
        if step.http is not None:
            return ["http not allowed for step type"]
        if step.flow is not None:
            return ["flow not allowed for step type"]
        if not step.script.language:
            return ["script language empty"]
        if step.script.language not in STEP_SCRIPT_LANGUAGES:
            return [f"invalid script language: {step.script.language}"]
        if not step.script.script:
            return ["script empty"]
    return []


def _inner_name_problems(step: Step) -> list[str]:
    problems: list[str] = []
    for roles in (("required", "optional", "const", "meta"), ("output",)):
        seen: set[str] = set()
        for name in sorted(step.attrs()):
            spec = step.attributes[name]
            assert spec is not None  # attrs() dropped None entries
            mapping = spec.mapping
            if spec.role not in roles or mapping is None or not mapping.name:
                continue
            if mapping.name in seen:
                problems.append(f'duplicate mapped parameter name: "{mapping.name}"')
            seen.add(mapping.name)
    return problems


def _work_config_problems(step: Step) -> list[str]:
    wc = step.work_config
    if wc is None:
        return []
    if wc.parallelism < 0:
        return ["parallelism cannot be negative"]
    if wc.init_backoff < 0:
        return ["backoff cannot be negative"]
    if wc.max_backoff != 0 and wc.max_backoff < wc.init_backoff:
        return ["max_backoff must be >= backoff"]
    if wc.backoff_type and wc.backoff_type not in BACKOFF_TYPES:
        return ["invalid backoff type"]
    return []


def _script_problems(step: Step, check: CompileCheck) -> list[str]:
    problems: list[str] = []
    arg_names = step_arg_names(step)
    for name in sorted(step.attrs()):
        spec = step.attributes[name]
        assert spec is not None
        mapping = spec.mapping
        if mapping is not None and mapping.script is not None and mapping.script.script:
            # MAP-2 binds an input's value to its inner name; MAP-3 binds the raw
            # outputs to the output attribute's own name.
            bound = name if spec.role == "output" else inner_name(name, spec)
            err = check(mapping.script.language, mapping.script.script, [bound], "mapping")
            if err is not None:
                problems.append(
                    f'invalid attribute mapping for attribute "{name}": '
                    f"invalid mapping: {mapping.script.script}"
                )
    pred = step.predicate
    if pred is not None and pred.script:
        err = check(pred.language, pred.script, arg_names, "predicate")
        if err is not None:
            problems.append(err)
    for name in sorted(step.attrs()):
        spec = step.attributes[name]
        assert spec is not None
        match = spec.required.match if spec.role == "required" and spec.required else None
        if match is not None and match.script:
            err = check(match.language, match.script, ["value"], "match")
            if err is not None:
                problems.append(f'invalid script language for attribute "{name}": {err}')
    return problems


def step_problems(step: Step, check: CompileCheck | None = None) -> list[str]:
    """Validate a step (VAL-1); returns the problems of the first failing stage.

    Args:
        step: The step, with work defaults already merged for engine use.
        check: Compiles scripts (stage 7, script steps in stage 8); ``None``
            skips compilation (the SDK, which has no sandbox).

    Returns:
        An empty list when the step is valid.
    """
    if not step.id:
        return ["step ID empty"]
    if sanitize_id(step.id) != step.id:
        return ["step ID contains invalid characters"]
    if not step.name:
        return ["step name empty"]
    stages: list[Callable[[], list[str]]] = [
        lambda: _structure_problems(step),
        lambda: [
            p
            for n, s in sorted(step.attributes.items())
            if (p := _attribute_problem(n, s)) is not None
        ],
        lambda: _inner_name_problems(step),
        lambda: _work_config_problems(step),
    ]
    if check is not None:
        stages.append(lambda: _script_problems(step, check))
    for stage in stages:
        problems = stage()
        if problems:
            return problems
    if step.type not in STEP_TYPES:
        return [f"invalid step type: {step.type}"]
    if check is not None and step.type == "script" and step.script is not None:
        err = check(step.script.language, step.script.script, step_arg_names(step), "script")
        if err is not None:
            return [err]
    return []


def first_problem(step: Step, check: CompileCheck | None = None) -> str | None:
    """The first VAL-1 problem of ``step``, or ``None`` when it is valid."""
    problems = step_problems(step, check)
    return problems[0] if problems else None
