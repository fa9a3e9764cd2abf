"""Guidance the MCP server hands to assistants: resources and the step prompt."""

from __future__ import annotations

__all__ = ["GUIDES", "implement_step_prompt"]

STEPS_GUIDE = """\
# Writing Argyll steps

A step is a unit of work with typed attributes; attributes connect steps (a
step that outputs `customer` provides it to every step that takes `customer`
as an input). The engine plans backward from a flow's goal steps and runs only
the steps the goals need.

## Step JSON
{"id": "subtotal", "name": "Subtotal", "type": "script",
 "attributes": {"price": {"role": "required", "type": "number"},
                "qty": {"role": "required", "type": "number"},
                "subtotal": {"role": "output", "type": "number"}},
 "script": {"language": "lua", "script": "return {subtotal = price * qty}"}}

`id` (letters, digits, `-`, `_`, `.`), `name` and `type` are required. `type`
is one of `script`, `sync`, `async`, `flow`.

## Attributes (role)
- `required`: must have a value before the step runs. Options under
  `required`: `collect` (first|last|some|all|none), `for_each` (one work item
  per array element), `match` (a script choosing accepted values), `mapping`
  (`name`: the inner name the step sees; `script`: a transform).
- `optional`: may be absent. Under `optional`: `default` (a JSON *text*, e.g.
  "0.2" or "\\"EUR\\""), `deadline` (ms to wait for upstream values),
  `collect`, `for_each`, `mapping`.
- `const`: fixed in the definition: `{"role": "const", "const": {"value": "42"}}`
  (JSON text).
- `meta`: filled from execution metadata: `{"role": "meta", "meta": {"key":
  "flow_id"}}` (flow_id, step_id, receipt_token, webhook_url, or a flow
  metadata key).
- `output`: a value the step produces (`output.mapping.name`: the key the step
  returns it under).

Types: string, number, boolean, object, array, null, any.

## Other fields
- `predicate`: {"language": "ale"|"lua"|"jpath", "script": ...}: run or skip.
- `work_config`: max_retries (negative = unlimited), init_backoff,
  max_backoff (ms), backoff_type (fixed|linear|exponential), parallelism.
- `memoizable`: cache results by inputs.
- `labels`: string map.

## Flows
Start a flow with goals and init values; each init attribute is a *list* of
values: {"id": "order-1", "goals": ["with-tax"], "init": {"price": [10],
"qty": [3]}}. Pass an array as one value by wrapping it: {"items": [["a","b"]]}.
Preview the plan first: its `required` list names the inputs you must supply.
"""

SCRIPTS_GUIDE = """\
# Script languages

Script steps run inside the engine's sandbox, no service needed.

| where | languages |
|---|---|
| `script` step (`script.script`) | ale, lua, jpath |
| `predicate`, `required.match`, `mapping.script` | ale, lua, jpath |

Every script is compiled at registration: a compile error rejects the step
with `invalid step: ...`.

Inputs are bound by their inner names; a missing input is `null` (Ale) or
`nil` (Lua). A map/table result becomes the outputs (only declared outputs
are kept); any other value v becomes {"result": v}. A runtime error fails the
work item permanently (no retry).

## Lua
return {subtotal = price * qty}
Lua 5.2, sandboxed: `string`, `table`, `math` and `bit32` are available;
`io`, `os`, `debug`, `require`, `load` are removed, and there is no
`string.match`/`gmatch`/`gsub` (`string.find` searches plain text). Every call
gets a fresh global environment.

## Ale (a Lisp)
{:total (* subtotal (+ 1 rate)) :label (str "total for " subtotal)}
(let* ([sub (* quantity unit_price)] [tax (* sub 0.08)]) {:subtotal sub :total (+ sub tax)})
Keywords become strings (`:paid` -> "paid"); `eq` is type-strict; `str`
concatenates.

## jpath
A JSONPath query over the inputs (by inner name): `$.amount`,
`$.order.items[*].sku`. As a step script, one match is the value, several are
a list, none fails the work item (`jpath produced no matches`); a non-map
result goes to the step's only output when it declares exactly one. As a
predicate it is true when it selects at least one node.

Limits (engine defaults): a step script may run 1 s and use 64 MiB; a
predicate, match or mapping 0.1 s and 16 MiB; source up to 32 KiB. Exceeding
a limit fails the work item permanently.
"""

HTTP_GUIDE = """\
# The HTTP step contract (sync and async steps)

{"id": "lookup-customer", "name": "Lookup customer", "type": "sync",
 "attributes": {"customer_id": {"role": "required"}, "customer": {"role": "output"}},
 "http": {"endpoint": "http://crm:8081/customers/{customer_id}", "method": "POST",
          "timeout": 5000, "health_check": "http://crm:8081/health"}}

Request: `{name}` placeholders in the endpoint are replaced by the input of
that name (each must be a required input). POST/PUT/DELETE send the inputs as
a JSON object; GET sends no body. Headers: `Argyll-Flow-ID`, `Argyll-Step-ID`,
`Argyll-Receipt-Token` (the work item token: use it as an idempotency key; a
retry reuses it).

Response: a 2xx JSON object is the outputs; empty body, 204 or `null` means no
outputs. 4xx fails the item permanently; 5xx, a timeout or a connection error
is retried per `work_config` (exponential backoff by default). An
`application/problem+json` body adds its `detail` to the error.

Async steps (`"type": "async"`) also get `Argyll-Webhook-URL`; answer 2xx at
once, then POST the outputs (a JSON object) to that URL, or an
`application/problem+json` body {"status": 422, "detail": "..."} to fail the
item. After an engine restart an async item may be invoked again with the
same token: deduplicate on it.

Health: with `http.health_check`, the engine GETs it periodically; an
unhealthy step's work waits (pending) until it is healthy again.

With the Python SDK, `client.new_step()...start(handler)` registers the step
and serves it; use the `step_handler_template` tool to generate one.
"""

GUIDES: dict[str, tuple[str, str, str]] = {
    "steps": ("Writing steps", "Step JSON, attribute roles, types, flows", STEPS_GUIDE),
    "scripts": ("Script languages", "Ale, Lua and jpath in script steps", SCRIPTS_GUIDE),
    "http-steps": ("HTTP step contract", "Sync/async HTTP steps and webhooks", HTTP_GUIDE),
}


def implement_step_prompt(description: str, step_json: str, template: str) -> str:
    """The text of the ``implement_step`` prompt."""
    parts = [
        "You are implementing a step for the Argyll orchestration engine.",
        f"What the step must do: {description}",
    ]
    if step_json:
        parts.append(f"Its current definition:\n{step_json}")
    parts += [
        "Follow the guidance in the resources argyll://guide/steps, argyll://guide/scripts "
        "and argyll://guide/http-steps. Decide whether a script step (Lua or Ale, runs in "
        "the engine) is enough or the step needs a service (sync or async HTTP step).",
        "Then: 1) write the step definition JSON with typed attributes; 2) register it "
        "with register_step (or update_step); 3) call preview_plan for it and check "
        "`required`; 4) start a flow with start_flow and wait_for_flow until it "
        "ends; fix and update the step if it fails.",
    ]
    if template:
        parts.append(f"For an HTTP step, start from this Python SDK handler:\n{template}")
    return "\n\n".join(parts)
