"""What a step handler receives (``StepContext``) and how async steps report back.

``AsyncContext`` posts the result of an async step to the engine's webhook
(ASYNC-4): outputs as JSON for success, RFC 9457 problem details for failure.
It uses httpx only; nothing here imports the step server.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx
import msgspec

from argyll.errors import WebhookError
from argyll.sdk.problem import PROBLEM_CONTENT_TYPE, problem_details

if TYPE_CHECKING:
    from argyll.sdk.flow_client import FlowClient

__all__ = [
    "HEADER_METADATA",
    "AsyncContext",
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

_MAX_BACKOFF = 8.0


@dataclass(frozen=True)
class StepContext:
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


#: ``def handle(ctx, args) -> outputs``; ``async def`` works too. Returning
#: ``None`` means no outputs.
StepHandler: TypeAlias = Callable[
    [StepContext, dict[str, Any]],
    "dict[str, Any] | Awaitable[dict[str, Any] | None] | None",
]

#: ``def undo(ctx, inputs, outputs) -> None``; ``async def`` works too.
CompensateHandler: TypeAlias = Callable[
    [StepContext, dict[str, Any], dict[str, Any]], "Awaitable[None] | None"
]


@dataclass(frozen=True)
class AsyncContext:
    """Reports the result of an async step through its webhook.

    The handler of an async step returns ``{}`` at once, keeps the context
    and later calls exactly one of ``success``/``complete``/``fail``. The
    engine keeps the first result it gets for a work item (ASYNC-5), so
    repeating a call is harmless. The methods block while they post (and
    retry); call them from a worker thread, not from an event loop.

    Args:
        context: The ``StepContext`` of the invocation.
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

    context: StepContext
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
    def client(self) -> FlowClient:
        """The ``FlowClient`` of the executing flow."""
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

    def success(self, outputs: dict[str, Any]) -> None:
        """Complete the work item with ``outputs`` (POSTed as a JSON object).

        Raises:
            WebhookError: The outputs are not JSON-serializable, the engine
                answered 4xx, or 5xx/network errors persisted through
                ``max_attempts`` attempts.
        """
        try:
            body = msgspec.json.encode(outputs)
        except (TypeError, msgspec.EncodeError) as exc:
            raise WebhookError(f"outputs of step {self.step_id} are not JSON: {exc}") from exc
        self._post(body, "application/json")

    def complete(self, outputs: dict[str, Any]) -> None:
        """Same as ``success(outputs)``."""
        self.success(outputs)

    def fail(self, message: str) -> None:
        """Fail the work item permanently with ``message`` as its error (ASYNC-4).

        Posts problem details with status 422 and ``detail`` = ``message``.

        Raises:
            WebhookError: As for ``success``.
        """
        body = msgspec.json.encode(problem_details(422, message))
        self._post(body, PROBLEM_CONTENT_TYPE)

    def _post(self, body: bytes, content_type: str) -> None:
        """POST ``body``; retry 5xx and network errors with backoff, raise on 4xx."""
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        delay = self.backoff
        attempts = max(1, self.max_attempts)
        failure = ""
        status: int | None = None
        for attempt in range(1, attempts + 1):
            try:
                response = httpx.post(
                    self.webhook_url,
                    content=body,
                    headers=headers,
                    timeout=self.timeout,
                    follow_redirects=True,
                )
            except httpx.HTTPError as exc:
                failure, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.is_success:
                    return
                status = response.status_code
                failure = f"HTTP {status} {response.text.strip()}".rstrip()
                if status < 500:
                    # Permanent: the engine will not accept this result (API-40).
                    raise WebhookError(
                        f"webhook {self.webhook_url} rejected the result of step "
                        f"{self.step_id}: {failure}",
                        status,
                    )
            if attempt < attempts:
                time.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF)
        raise WebhookError(
            f"webhook {self.webhook_url} failed for step {self.step_id} after "
            f"{attempts} attempts: {failure}",
            status,
        )
