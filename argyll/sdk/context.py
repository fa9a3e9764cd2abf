"""What a step handler receives (``StepContext``) and how async steps report back.

Sync handlers get a ``StepContext`` (``ctx.client`` a blocking
``FlowClient``); ``async def`` handlers get an ``AsyncStepContext`` (``ctx.client``
an ``AsyncFlowClient``). ``AsyncContext`` posts the result of an async step
to the engine's webhook (ASYNC-4): outputs as JSON for success, RFC 9457
problem details for failure, blocking or awaited. Nothing here imports the
step server.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx
import msgspec

from argyll.errors import WebhookError
from argyll.sdk.problem import PROBLEM_CONTENT_TYPE, problem_details
from argyll.sdk.webhook import WebhookPost

if TYPE_CHECKING:
    from argyll.sdk.flow_client import AsyncFlowClient, FlowClient

__all__ = [
    "HEADER_METADATA",
    "AsyncContext",
    "AsyncStepContext",
    "CompensateHandler",
    "StepContext",
    "StepHandler",
]

#: The ``Argyll-*`` request headers and the metadata keys they fill (HTTP-2).
HEADER_METADATA = {
    "Argyll-Flow-ID": "flow_id",
    "Argyll-Step-ID": "step_id",
    "Argyll-Receipt-Token": "receipt_token",
    "Argyll-Webhook-URL": "webhook_url",
}

_pool_lock = threading.Lock()
_sync_pool: list[httpx.Client] = []


def _shared_sync_pool() -> httpx.Client:
    """One process-wide blocking pool for contexts whose engine client has none."""
    with _pool_lock:
        if not _sync_pool:
            _sync_pool.append(httpx.Client())
        return _sync_pool[0]


class _Invocation:
    """What both contexts read from ``metadata``."""

    metadata: dict[str, str]

    @property
    def flow_id(self) -> str:
        """The executing flow's ID (``""`` when the engine did not send one)."""
        return self.metadata.get("flow_id", "")

    @property
    def receipt_token(self) -> str:
        """The work item's token: the idempotency key of this invocation (RETRY-6)."""
        return self.metadata.get("receipt_token", "")

    @property
    def webhook_url(self) -> str:
        """Where an async step posts its result (``""`` for sync steps)."""
        return self.metadata.get("webhook_url", "")


@dataclass(frozen=True)
class StepContext(_Invocation):
    """The context of one step invocation.

    Attributes:
        client: A ``FlowClient`` for the executing flow.
        step_id: The ID of the step being run.
        metadata: ``flow_id``, ``step_id``, ``receipt_token`` and (async steps
            only) ``webhook_url``, each present when the engine sent the
            matching ``Argyll-*`` header.
    """

    client: FlowClient
    step_id: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AsyncStepContext(_Invocation):
    """The context of one invocation of an ``async def`` handler.

    The same as ``StepContext``, but ``client`` is an ``AsyncFlowClient``
    (``await ctx.client.get_state()``) on the step server's event loop.
    """

    client: AsyncFlowClient
    step_id: str
    metadata: dict[str, str] = field(default_factory=dict)


#: ``def handle(ctx: StepContext, args) -> outputs`` or ``async def
#: handle(ctx: AsyncStepContext, args) -> outputs``. Returning ``None`` means
#: no outputs.
StepHandler: TypeAlias = (
    Callable[[StepContext, dict[str, Any]], "dict[str, Any] | None"]
    | Callable[[AsyncStepContext, dict[str, Any]], "Awaitable[dict[str, Any] | None]"]
)

#: ``def undo(ctx, inputs, outputs) -> None``; ``async def`` (with an
#: ``AsyncStepContext``) works too.
CompensateHandler: TypeAlias = (
    Callable[[StepContext, dict[str, Any], dict[str, Any]], None]
    | Callable[[AsyncStepContext, dict[str, Any], dict[str, Any]], Awaitable[None]]
)


@dataclass(frozen=True)
class AsyncContext:
    """Reports the result of an async step through its webhook.

    The handler of an async step returns ``{}`` at once, keeps the context
    and later calls exactly one of ``success``/``complete``/``fail`` (blocking:
    call them from a worker thread) or awaits ``asuccess``/``acomplete``/
    ``afail`` (from asyncio code; retries wait with ``asyncio.sleep``). Both
    reuse pooled connections. The engine keeps the first result it gets for
    a work item (ASYNC-5), so repeating a call is harmless.

    Args:
        context: The ``StepContext`` (or ``AsyncStepContext``) of the invocation.
        webhook_url: The webhook URL; defaults to
            ``context.metadata["webhook_url"]``.
        timeout: Seconds per webhook request. Defaults to 30.
        max_attempts: Attempts in total before giving up. Defaults to 5.
        backoff: Seconds before the first retry, doubled after each retry up
            to 8 s. Defaults to 0.5.

    Raises:
        WebhookError: No webhook URL was given and the context has none (the
            step is not async).
    """

    context: StepContext | AsyncStepContext
    webhook_url: str = ""
    timeout: float = 30.0
    max_attempts: int = 5
    backoff: float = 0.5

    def __post_init__(self) -> None:
        if not self.webhook_url:
            url = self.context.webhook_url
            if not url:
                raise WebhookError(
                    f"step {self.context.step_id} has no webhook URL: only async steps "
                    "(with_async_execution()) receive Argyll-Webhook-URL"
                )
            object.__setattr__(self, "webhook_url", url)

    @property
    def client(self) -> FlowClient | AsyncFlowClient:
        """The flow client of the executing flow (async for an ``AsyncStepContext``)."""
        return self.context.client

    @property
    def step_id(self) -> str:
        """The ID of the step being run."""
        return self.context.step_id

    @property
    def flow_id(self) -> str:
        """The executing flow's ID."""
        return self.context.flow_id

    @property
    def metadata(self) -> dict[str, str]:
        """The invocation metadata (see ``StepContext.metadata``)."""
        return self.context.metadata

    def _post(self, body: bytes, content_type: str) -> WebhookPost:
        return WebhookPost(
            self.webhook_url,
            body,
            content_type,
            self.step_id,
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
        )

    def _success(self, outputs: dict[str, Any]) -> WebhookPost:
        try:
            body = msgspec.json.encode(outputs)
        except (TypeError, msgspec.EncodeError) as exc:
            raise WebhookError(f"outputs of step {self.step_id} are not JSON: {exc}") from exc
        return self._post(body, "application/json")

    def _failure(self, message: str) -> WebhookPost:
        body = msgspec.json.encode(problem_details(422, message))
        return self._post(body, PROBLEM_CONTENT_TYPE)

    def _sync_http(self) -> httpx.Client:
        """The blocking pool: the sync engine client's, else a process-wide one."""
        client = self.context.client.client
        http = getattr(client, "http", None)
        if isinstance(http, httpx.Client) and not http.is_closed:
            return http
        return _shared_sync_pool()

    def _async_http(self) -> httpx.AsyncClient | None:
        """The awaited pool: the async engine client's (``None``: one per post)."""
        http = getattr(self.context.client.client, "http", None)
        if isinstance(http, httpx.AsyncClient) and not http.is_closed:
            return http
        return None

    def success(self, outputs: dict[str, Any]) -> None:
        """Complete the work item with ``outputs`` (POSTed as a JSON object), blocking.

        Raises:
            WebhookError: The outputs are not JSON-serializable, the engine
                answered 4xx, or 5xx/network errors persisted through
                ``max_attempts`` attempts.
        """
        self._success(outputs).send(self._sync_http())

    def complete(self, outputs: dict[str, Any]) -> None:
        """Same as ``success(outputs)``."""
        self.success(outputs)

    def fail(self, message: str) -> None:
        """Fail the work item permanently with ``message`` as its error, blocking.

        Posts problem details with status 422 and ``detail`` = ``message``.

        Raises:
            WebhookError: As for ``success``.
        """
        self._failure(message).send(self._sync_http())

    async def asuccess(self, outputs: dict[str, Any]) -> None:
        """``success`` without blocking the event loop: ``await async_ctx.asuccess({...})``."""
        await self._success(outputs).asend(self._async_http())

    async def acomplete(self, outputs: dict[str, Any]) -> None:
        """Same as ``await asuccess(outputs)``."""
        await self.asuccess(outputs)

    async def afail(self, message: str) -> None:
        """``fail`` without blocking the event loop: ``await async_ctx.afail("...")``."""
        await self._failure(message).asend(self._async_http())
