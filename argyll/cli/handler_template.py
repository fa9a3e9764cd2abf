"""Python SDK step-handler templates generated from a step definition.

``handler_template(step)`` writes a runnable module: a handler with one
local per input and a ``return`` of every output, the ``StepBuilder`` that
registers the same definition, and a ``__main__`` that serves it. The MCP
server offers it as a tool; it is a pure function of the step JSON.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

__all__ = ["handler_template"]

_NOT_IDENT = re.compile(r"\W")


def _ident(name: str) -> str:
    text = _NOT_IDENT.sub("_", name) or "value"
    if text[0].isdigit() or keyword.iskeyword(text):
        text = f"{text}_"
    return text


def _inner(name: str, config: dict[str, Any] | None) -> str:
    mapping = (config or {}).get("mapping") or {}
    return str(mapping.get("name") or name)


def _builder_line(name: str, spec: dict[str, Any]) -> str | None:
    role = spec.get("role", "")
    kind = spec.get("type", "")
    raw = spec.get(role)
    config: dict[str, Any] = raw if isinstance(raw, dict) else {}
    extras: list[str] = []
    if role in ("required", "optional"):
        if config.get("collect"):
            extras.append(f"collect={config['collect']!r}")
        if config.get("for_each"):
            extras.append("for_each=True")
        if _inner(name, config) != name:
            extras.append(f"inner_name={_inner(name, config)!r}")
    if role == "required":
        return f".required({', '.join([repr(name), repr(kind), *extras])})"
    if role == "optional":
        if config.get("deadline"):
            extras.append(f"deadline={config['deadline']!r}")
        default = repr(str(config.get("default", "")))
        return f".optional({', '.join([repr(name), repr(kind), default, *extras])})"
    if role == "const":
        return f".const({name!r}, {kind!r}, {str(config.get('value', ''))!r})"
    if role == "meta":
        return f".meta({name!r}, {str(config.get('key', ''))!r}, {kind!r})"
    if role == "output":
        inner = _inner(name, config)
        extra = f", inner_name={inner!r}" if inner != name else ""
        return f".output({name!r}, {kind!r}{extra})"
    return None


def _input_lines(attributes: dict[str, Any]) -> list[str]:
    lines = []
    for name, spec in attributes.items():
        role = (spec or {}).get("role", "")
        if role not in ("required", "optional", "const", "meta"):
            continue
        config = (spec or {}).get(role) or {}
        inner = _inner(name, config if isinstance(config, dict) else None)
        kind = (spec or {}).get("type") or "any"
        getter = f"args[{inner!r}]" if role == "required" else f"args.get({inner!r})"
        lines.append(f"    {_ident(inner)} = {getter}  # {role}, {kind}")
    return lines


def _step_lines(step: dict[str, Any]) -> list[str]:
    lines = [f"        .with_id({step.get('id', '')!r})"]
    if step.get("name"):
        lines.append(f"        .with_name({step['name']!r})")
    if step.get("type") == "async":
        lines.append("        .with_async_execution()")
    for name, spec in (step.get("attributes") or {}).items():
        line = _builder_line(name, spec or {})
        if line:
            lines.append(f"        {line}")
    for key, value in (step.get("labels") or {}).items():
        lines.append(f"        .with_label({key!r}, {value!r})")
    predicate = step.get("predicate") or {}
    if predicate.get("script"):
        lines.append(
            f"        .with_predicate({predicate.get('language', '')!r}, {predicate['script']!r})"
        )
    http = step.get("http") or {}
    if http.get("timeout"):
        lines.append(f"        .with_timeout({int(http['timeout'])})")
    if step.get("memoizable"):
        lines.append("        .with_memoizable()")
    work = {k: v for k, v in (step.get("work_config") or {}).items() if v not in (0, "", None)}
    if work:
        args = ", ".join(f"{k}={v!r}" for k, v in work.items())
        lines.append(f"        .with_work_config({args})")
    return lines


def handler_template(step: dict[str, Any]) -> str:
    """A Python module that implements and serves ``step`` with the Argyll SDK."""
    step_id = str(step.get("id") or "my-step")
    attributes: dict[str, Any] = step.get("attributes") or {}
    outputs = [
        _inner(name, (spec or {}).get("output"))
        for name, spec in attributes.items()
        if (spec or {}).get("role") == "output"
    ]
    is_async = step.get("type") == "async"
    note = ""
    if step.get("type") in ("script", "flow"):
        note = (
            f"\nThe registered step is a {step.get('type')} step; serving this module\n"
            "registers it as a sync HTTP step instead.\n"
        )
    head = [
        f'"""Step {step_id}: {step.get("name") or step_id} (an Argyll SDK step handler).',
        note,
        "Run it with the engine up: ``python this_file.py`` registers the step and",
        "serves it on STEP_PORT (default 8081); ENGINE_URL picks the engine.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import os",
        "from typing import Any",
        "",
    ]
    if is_async:
        head.append("from argyll import AsyncContext, Client, StepBuilder, StepContext")
    else:
        head.append("from argyll import Client, StepBuilder, StepContext")
    head += ["from argyll.errors import HTTPError", "", ""]
    body = [
        "def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:",
        '    """Inputs in ``args`` (by inner name), outputs returned as a dict.',
        "",
        "    Raise HTTPError(4xx, ...) for a permanent failure, HTTPError(5xx, ...) or",
        "    any other exception to have the engine retry. ctx.receipt_token is the",
        '    idempotency key of this work item (it survives retries)."""',
        *_input_lines(attributes),
    ]
    result = "{" + ", ".join(f"{name!r}: None" for name in outputs) + "}"
    if is_async:
        body += [
            '    webhook = AsyncContext(context=ctx, webhook_url=ctx.metadata["webhook_url"])',
            "    # Start the work elsewhere; when it is done call",
            f"    # webhook.success({result}) or webhook.fail('reason').",
            "    return {}",
        ]
    else:
        body += [
            "    # Input that can never work: raise HTTPError(422, 'what is wrong').",
            f"    return {result}  # TODO: compute the outputs",
        ]
    builder = [
        "",
        "",
        "def step(client: Client) -> StepBuilder:",
        '    """The step definition; ``start`` fills in the endpoint."""',
        "    return (",
        "        client.new_step()",
        *_step_lines(step),
        "    )",
        "",
        "",
        'if __name__ == "__main__":',
        '    with Client(os.environ.get("ENGINE_URL", "http://localhost:8080")) as client:',
        "        step(client).start(handle)",
        "",
    ]
    return "\n".join([*head, *body, *builder])
