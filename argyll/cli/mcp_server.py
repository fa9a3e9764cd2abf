"""``argyll mcp``: an MCP server that lets AI assistants drive an engine.

Built on the official MCP Python SDK (``MCPServer``). It is a client of one
engine's public API (``EngineApi``), like the command line: tools for steps,
plans, flows, events and health, a step-handler template generator, guidance
resources and a prompt for implementing a step. Tool arguments are validated
from their annotations; an engine error comes back as a tool error carrying
the engine's message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
import msgspec
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources import TextResource
from mcp.types import ToolAnnotations
from pydantic import Field

from argyll import __version__
from argyll.cli.api import EngineApi
from argyll.cli.handler_template import handler_template
from argyll.cli.mcp_guides import GUIDES, implement_step_prompt
from argyll.errors import ClientError
from argyll.model.step import Step

__all__ = ["build_server", "run_server"]

_T = TypeVar("_T")

INSTRUCTIONS = """\
Argyll is a goal-driven orchestration engine: register steps (units of work
with typed input/output attributes), then start flows that name goal steps;
the engine plans which steps must run and runs them. Read argyll://guide/steps
before writing a step. Typical loop: list_steps -> register_step ->
preview_plan (check `required`) -> start_flow -> wait_for_flow (or get_flow_status)
-> get_flow.
"""

StepId = Annotated[str, Field(min_length=1, max_length=256, description="A step ID.")]
FlowId = Annotated[str, Field(min_length=1, max_length=256, description="A flow ID.")]
StepJson = Annotated[
    dict[str, Any],
    Field(description="A step definition (see argyll://guide/steps): id, name, type, ..."),
]
Goals = Annotated[list[str], Field(min_length=1, max_length=64, description="Goal step IDs.")]
Init = Annotated[
    dict[str, list[Any]] | None,
    Field(
        description="Initial values: each attribute maps to a LIST of values, "
        'e.g. {"price": [10]}; wrap an array to pass it as one value: {"items": [[1, 2]]}.'
    ),
]
Status = Literal["active", "completed", "failed"]

#: Hints for clients: reads change nothing; writes are idempotent (re-registering the
#: same step or starting the same flow again changes nothing); unregistering removes.
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
REMOVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)


def _step(definition: dict[str, Any]) -> Step:
    try:
        return msgspec.convert(definition, Step)
    except msgspec.ValidationError as exc:
        raise ToolError(f"invalid step: {exc}") from exc


def build_server(api: EngineApi) -> MCPServer:
    """The MCP server with every tool, resource and prompt, talking to ``api``."""
    server = MCPServer(
        name="argyll", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    async def call(fn: Callable[[], _T]) -> _T:
        try:
            return await anyio.to_thread.run_sync(fn)
        except ClientError as exc:
            raise ToolError(exc.message) from exc

    @server.tool(description="List the registered steps (full definitions).", annotations=READ)
    async def list_steps() -> dict[str, Any]:
        steps = await call(api.list_steps)
        return {"steps": steps, "count": len(steps)}

    @server.tool(description="Get one registered step's definition.", annotations=READ)
    async def get_step(step_id: StepId) -> dict[str, Any]:
        return await call(lambda: api.get_step(step_id))

    @server.tool(
        description="Register a new step (identical re-registration succeeds).", annotations=WRITE
    )
    async def register_step(step: StepJson) -> dict[str, Any]:
        typed = _step(step)
        return await call(lambda: api.register_step(typed))

    @server.tool(
        description="Replace a registered step with a new definition (same id).", annotations=WRITE
    )
    async def update_step(step: StepJson) -> dict[str, Any]:
        typed = _step(step)
        return await call(lambda: api.update_step(typed))

    @server.tool(
        description="Unregister a step (running flows keep their snapshot).", annotations=REMOVE
    )
    async def unregister_step(step_id: StepId) -> dict[str, Any]:
        await call(lambda: api.unregister_step(step_id))
        return {"unregistered": step_id}

    @server.tool(
        description="Preview the execution plan for goals: the steps that would run and, "
        "in `required`, the inputs that init must still provide. Never fails for "
        "missing inputs.",
        annotations=READ,
    )
    async def preview_plan(goals: Goals, init: Init = None) -> dict[str, Any]:
        return await call(lambda: api.plan(goals, init or {}))

    @server.tool(
        description="Start a flow for goal steps with initial values and labels.", annotations=WRITE
    )
    async def start_flow(
        flow_id: FlowId,
        goals: Goals,
        init: Init = None,
        labels: Annotated[dict[str, str] | None, Field(description="Flow labels.")] = None,
    ) -> dict[str, Any]:
        started = await call(lambda: api.start_flow(flow_id, goals, init or {}, labels or {}))
        return {"flow_id": started}

    @server.tool(
        description="A flow's full state: status, plan, attributes (values with the step "
        "that produced them), each step's execution and error.",
        annotations=READ,
    )
    async def get_flow(flow_id: FlowId) -> dict[str, Any]:
        return await call(lambda: api.get_flow(flow_id))

    @server.tool(
        description="Wait until a flow has completed or failed (and no work is still "
        "running or compensating), then return its full state. Gives an error if it is "
        "still active after timeout_seconds.",
        annotations=READ,
    )
    async def wait_for_flow(
        flow_id: FlowId,
        timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30,
    ) -> dict[str, Any]:
        flow = api.sdk.flow(flow_id)
        return await call(lambda: flow.wait(timeout=timeout_seconds, deactivated=True).to_dict())

    @server.tool(description="A flow's status: active, completed or failed.", annotations=READ)
    async def get_flow_status(flow_id: FlowId) -> dict[str, Any]:
        return await call(lambda: api.flow_status(flow_id))

    @server.tool(
        description="Find flows by ID prefix, labels and statuses, newest first.", annotations=READ
    )
    async def query_flows(
        id_prefix: Annotated[str, Field(max_length=256)] = "",
        labels: dict[str, str] | None = None,
        statuses: list[Status] | None = None,
        limit: Annotated[int, Field(ge=0, le=1000)] = 50,
        cursor: Annotated[str, Field(description="next_cursor of a previous page")] = "",
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"limit": limit, "sort": "recent_desc"}
        if id_prefix:
            query["id_prefix"] = id_prefix
        if labels:
            query["labels"] = labels
        if statuses:
            query["statuses"] = list(statuses)
        if cursor:
            query["cursor"] = cursor
        return await call(lambda: api.query_flows(query))

    @server.tool(
        description="A flow's event history, optionally only some event types.", annotations=READ
    )
    async def flow_events(
        flow_id: FlowId,
        types: Annotated[
            list[str] | None, Field(description="e.g. step_failed, work_retry_scheduled")
        ] = None,
    ) -> dict[str, Any]:
        events = await call(lambda: api.flow_events(flow_id))
        if types:
            events = [e for e in events if e.get("type") in types]
        return {"events": events, "count": len(events)}

    @server.tool(
        description="The engine's state: catalog, attribute graph and step health.",
        annotations=READ,
    )
    async def engine_state() -> dict[str, Any]:
        return await call(api.engine_state)

    @server.tool(
        description="Step health: every step per engine node, or one step's merged health.",
        annotations=READ,
    )
    async def step_health(
        step_id: Annotated[str | None, Field(description="One step; omit for all.")] = None,
    ) -> dict[str, Any]:
        return await call(lambda: api.step_health(step_id or None))

    @server.tool(
        description="A Python SDK module implementing and serving a step: pass a step "
        "definition, or the ID of a registered step.",
        annotations=READ,
    )
    async def step_handler_template(
        step: Annotated[dict[str, Any] | None, Field(description="A step definition.")] = None,
        step_id: Annotated[str | None, Field(description="A registered step's ID.")] = None,
    ) -> str:
        if step is None and not step_id:
            raise ToolError("give a step definition or a step_id")
        if step is None:
            found = await call(lambda: api.get_step(str(step_id)))
            return handler_template(found)
        return handler_template(msgspec.to_builtins(_step(step)))

    for key, (title, description, text) in GUIDES.items():
        server.add_resource(
            TextResource(
                uri=f"argyll://guide/{key}",
                name=key,
                title=title,
                description=description,
                mime_type="text/markdown",
                text=text,
            )
        )

    @server.prompt(description="Design, register and try out a new or existing step.")
    async def implement_step(description: str, step_id: str = "") -> str:
        step_json = ""
        template = ""
        if step_id:
            try:
                found = await anyio.to_thread.run_sync(lambda: api.get_step(step_id))
            except ClientError:
                found = None
            if found is not None:
                step_json = json.dumps(found, indent=2)
                template = handler_template(found)
        return implement_step_prompt(description, step_json, template)

    return server


def run_server(
    engine: str,
    token: str | None,
    timeout: float,
    *,
    http_port: int | None = None,
    host: str = "127.0.0.1",
) -> None:
    """Serve MCP on stdio (default) or streamable HTTP on ``host:http_port`` at ``/mcp``."""
    with EngineApi(engine, token, timeout) as api:
        server = build_server(api)
        if http_port is None:
            server.run("stdio")
        else:
            server.run("streamable-http", host=host, port=http_port)
