"""Outbound HTTP of the engine: step invocation, compensation, health probes.

SPEC 8.5 (HTTP-1..6), 8.6 (ASYNC-1/2), 9 (COMP-3/4) and 14.1 (HEALTH-4, the
probe). Every call goes through one pooled ``aiohttp.ClientSession``
(ARCHITECTURE "Choices already made"). Step-side problems come back as an
``Outcome`` or a health tuple, never as an exception; the runner decides what
to record. This module knows nothing of flows, events or retries.

The pure parts live beside it: ``http_url`` (placeholders, HTTP-1) and
``http_outcome`` (response classification, HTTP-5/6); this module re-exports
their public names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import aiohttp
import msgspec

from argyll.engine.execute.bounds import BodyTooLarge, read_limited
from argyll.engine.execute.egress import EgressDenied, EgressPolicy, PolicyConnector
from argyll.engine.execute.http_outcome import (
    NO_OUTPUTS,
    Outcome,
    outputs_outcome,
    permanent,
    status_outcome,
    transient,
)
from argyll.engine.execute.http_url import MissingArgument, resolve_url, to_url
from argyll.model.nesting import DEFAULT_MAX_DEPTH, too_deep
from argyll.model.step import Step

__all__ = ["HTTPInvoker", "MissingArgument", "Outcome", "resolve_url"]

_JSON: Final = "application/json"
_MAX_CONNECTIONS: Final = 1024
_KEEPALIVE_S: Final = 30.0

_encode = msgspec.json.Encoder().encode

# Metadata key -> header (HTTP-2). Only these become headers; the webhook URL
# only for async steps (ASYNC-1), whatever the flow metadata carries.
_META_HEADERS: Final = (
    ("flow_id", "Argyll-Flow-ID"),
    ("step_id", "Argyll-Step-ID"),
    ("receipt_token", "Argyll-Receipt-Token"),
)
_WEBHOOK_HEADER: Final = ("webhook_url", "Argyll-Webhook-URL")


def _exc_text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _invalid_url(url: str, exc: Exception) -> str:
    if isinstance(exc, aiohttp.NonHttpUrlClientError):
        reason = "scheme must be http or https"
    elif isinstance(exc, aiohttp.InvalidURL):
        reason = exc.description or ""
    else:
        reason = str(exc)
    return f"invalid URL: {url}: {reason}" if reason else f"invalid URL: {url}"


class HTTPInvoker:
    """Sends step, compensation and health-check requests over one pool.

    The ``aiohttp.ClientSession`` is created on first use, inside the running
    event loop, and bound to it: use one invoker per loop and ``close()`` it
    before the loop ends. Cookies are never stored, proxies from the
    environment are ignored, redirects are followed (up to 10).

    Args:
        default_timeout_ms: ``STEP_TIMEOUT``, used when a step's
            ``http.timeout`` is ``<= 0`` (HTTP-4).
        user_agent: The ``User-Agent`` header of every request (HTTP-2).
        max_body: Largest response body read (``STEP_RESULT_LIMIT``); a 2xx
            body over it fails the item permanently, unread past the limit.
        max_depth: Deepest JSON nesting accepted in a 2xx body (``JSON_MAX_DEPTH``).
    """

    def __init__(
        self,
        *,
        default_timeout_ms: int = 30000,
        user_agent: str = "Argyll-Engine/0.1.0",
        max_body: int = 1 << 20,
        max_depth: int = DEFAULT_MAX_DEPTH,
        policy: EgressPolicy | None = None,
    ) -> None:
        if default_timeout_ms <= 0:
            raise ValueError(f"default_timeout_ms must be > 0, got {default_timeout_ms}")
        self._default_timeout_ms = default_timeout_ms
        self._max_body = max_body
        self._max_depth = max_depth
        self._policy = policy
        self._user_agent = user_agent
        self._client: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._get_headers = {"Accept": _JSON, "User-Agent": user_agent}
        self._body_headers = {**self._get_headers, "Content-Type": _JSON}

    def _session(self) -> aiohttp.ClientSession:
        client = self._client
        loop = asyncio.get_running_loop()
        if client is not None and loop is self._loop:
            return client
        if self._closed:
            raise RuntimeError("HTTPInvoker is closed")
        if client is not None:
            raise RuntimeError("HTTPInvoker is bound to another event loop")
        options: dict[str, Any] = {
            "limit": _MAX_CONNECTIONS,
            "limit_per_host": 0,
            "keepalive_timeout": _KEEPALIVE_S,
        }
        connector = (
            PolicyConnector(self._policy, **options)
            if self._policy is not None
            else aiohttp.TCPConnector(**options)
        )
        client = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=self._timeout(self._default_timeout_ms / 1000),
            trust_env=False,
        )
        self._client, self._loop = client, loop
        return client

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return timeout

    def _timeout_ms(self, step: Step) -> int:
        # HTTP-4: the step's timeout when > 0, otherwise STEP_TIMEOUT.
        if step.http is not None and step.http.timeout > 0:
            return step.http.timeout
        return self._default_timeout_ms

    def _headers(
        self, with_body: bool, metadata: Mapping[str, Any], webhook: bool
    ) -> dict[str, str]:
        headers = (self._body_headers if with_body else self._get_headers).copy()
        pairs = (*_META_HEADERS, _WEBHOOK_HEADER) if webhook else _META_HEADERS
        for key, header in pairs:
            value = metadata.get(key)
            if value is not None and value != "":
                headers[header] = value if isinstance(value, str) else str(value)
        return headers

    async def _send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout_ms: int,
    ) -> tuple[int, str, bytes] | Outcome:
        """One request; the response, or the Outcome of a failed exchange."""
        try:
            target = to_url(url)
        except ValueError as exc:
            return permanent(_invalid_url(url, exc))
        session = self._session()
        try:
            async with session.request(
                method, target, data=body, headers=headers, timeout=self._timeout(timeout_ms / 1000)
            ) as resp:
                status = resp.status
                content_type = resp.headers.get("Content-Type", "")
                try:
                    data = await read_limited(resp.content, self._max_body)
                except BodyTooLarge:
                    if 200 <= status < 300:
                        return permanent(
                            f"{method} {url}: response body exceeds the limit of "
                            f"{self._max_body} bytes"
                        )
                    data = b""  # the status alone classifies the failure
                except TimeoutError:
                    raise
                except (aiohttp.ClientError, OSError) as exc:
                    if 200 <= status < 300:
                        # HTTP-5: an unreadable body is permanent, whatever the cause.
                        return permanent(f"unreadable response body: {_exc_text(exc)}")
                    data = b""  # the status alone classifies the failure
                return status, content_type, data
        except EgressDenied as exc:
            return permanent(f"{method} {url}: {exc}")
        except TimeoutError:
            # HTTP-4: a timeout is transient. (aiohttp's ServerTimeoutError is
            # also a ClientError, hence this clause first.)
            return transient(f"{method} {url}: timed out after {timeout_ms} ms")
        except aiohttp.TooManyRedirects as exc:
            return permanent(f"{method} {url}: {_exc_text(exc)}")
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            return permanent(_invalid_url(url, exc))
        except ValueError as exc:
            # aiohttp/yarl reject a malformed URL or header value this way.
            return permanent(f"{method} {url}: invalid request: {_exc_text(exc)}")
        except (aiohttp.ClientError, OSError) as exc:
            # RETRY-1: refused, DNS, reset and friends are transient.
            return transient(f"{method} {url}: {_exc_text(exc)}")

    async def invoke(self, step: Step, args: dict[str, Any], metadata: dict[str, Any]) -> Outcome:
        """Invoke a ``sync`` or ``async`` step once (HTTP-1..6, ASYNC-1/2).

        ``GET`` sends no body; ``POST``, ``PUT`` and ``DELETE`` send ``args``
        as a JSON object. Headers: ``Accept``, ``User-Agent``,
        ``Content-Type`` with a body, and ``Argyll-Flow-ID``,
        ``Argyll-Step-ID``, ``Argyll-Receipt-Token`` from ``metadata``
        (``flow_id``, ``step_id``, ``receipt_token``), plus
        ``Argyll-Webhook-URL`` (``webhook_url``) for ``async`` steps.

        Args:
            step: The step; ``step.http`` gives method, endpoint and timeout.
            args: Invocation arguments by inner name (meta values included).
            metadata: Execution metadata (TYPE-2).

        Returns:
            ``success`` with the outputs (``None`` when the body is empty,
            whitespace or ``null``; always ``None`` for async steps, whose
            results come by webhook); ``permanent`` for a missing placeholder
            argument, a 4xx or other non-2xx status, a malformed or unreadable
            2xx body, an invalid URL; ``transient`` for a 5xx, a timeout or a
            transport error, with the text ``work not completed: <cause>``.

        Raises:
            RuntimeError: The invoker is closed or bound to another loop.
            TypeError: An argument cannot be encoded as JSON.
        """
        http = step.http
        if http is None or not http.endpoint:
            return permanent(f"step {step.id} has no http endpoint")
        try:
            url = resolve_url(http.endpoint, args)
        except MissingArgument as exc:
            return permanent(str(exc))  # RETRY-1: placeholder errors are permanent
        method = http.method or "POST"
        is_async = step.type == "async"
        with_body = method != "GET"  # HTTP-3
        body = _encode(args) if with_body else None
        headers = self._headers(with_body, metadata, is_async)
        response = await self._send(method, url, body, headers, self._timeout_ms(step))
        if isinstance(response, Outcome):
            return response
        status, content_type, data = response
        if not 200 <= status < 300:
            return status_outcome(status, content_type, data)
        if too_deep(data, self._max_depth):
            return permanent(
                f"step response nested too deeply: maximum is {self._max_depth} levels"
            )
        outcome = outputs_outcome(data)
        if is_async and outcome.kind == "success":
            # ASYNC-2: the body is checked but its outputs are ignored.
            return NO_OUTPUTS
        return outcome

    async def compensate(
        self,
        step: Step,
        inputs: dict[str, Any],
        outputs: dict[str, Any] | None,
        metadata: dict[str, Any],
    ) -> Outcome:
        """Ask a step to undo one succeeded work item (COMP-3, COMP-4).

        ``POST`` to ``step.http.compensate``, its placeholders resolved from
        ``inputs`` merged with ``outputs`` (outputs win); body
        ``{"input": inputs, "output": outputs}``; the ``Argyll-Flow-ID``,
        ``Argyll-Step-ID`` and ``Argyll-Receipt-Token`` headers; timeout as
        for ``invoke`` (HTTP-4). The response body is ignored.

        Args:
            step: The step; ``step.http.compensate`` is the URL template.
            inputs: The work item's inputs (WORK-4).
            outputs: The work item's raw outputs, if any.
            metadata: Execution metadata with ``flow_id``, ``step_id`` and
                ``receipt_token``.

        Returns:
            ``success`` on 2xx; ``transient`` on 5xx, timeout or transport
            error; ``permanent`` on any other status, an unresolvable
            placeholder or an invalid URL.

        Raises:
            RuntimeError: The invoker is closed or bound to another loop.
            TypeError: An input or output cannot be encoded as JSON.
        """
        http = step.http
        if http is None or not http.compensate:
            return permanent(f"step {step.id} has no compensate URL")
        values = {**inputs, **outputs} if outputs else inputs
        try:
            url = resolve_url(http.compensate, values)
        except MissingArgument as exc:
            return permanent(str(exc))
        body = _encode({"input": inputs, "output": outputs})
        headers = self._headers(True, metadata, False)
        response = await self._send("POST", url, body, headers, self._timeout_ms(step))
        if isinstance(response, Outcome):
            return response
        status, content_type, data = response
        if 200 <= status < 300:
            return NO_OUTPUTS
        return status_outcome(status, content_type, data)

    async def probe(self, url: str, timeout_s: float = 3.0) -> tuple[str, str]:
        """Probe a step's ``health_check`` URL with a ``GET`` (HEALTH-4).

        Args:
            url: The health-check URL.
            timeout_s: Total time allowed, in seconds (CFG-3: 3 s).

        Returns:
            ``("healthy", "")`` for a status below 400;
            ``("unhealthy", "HTTP <code> <reason>")`` otherwise; and
            ``("unhealthy", <error text>)`` for a transport error, timeout or
            invalid URL.

        Raises:
            RuntimeError: The invoker is closed or bound to another loop.
        """
        session = self._session()
        try:
            async with session.get(
                to_url(url), headers=self._get_headers, timeout=self._timeout(timeout_s)
            ) as resp:
                status = resp.status
        except EgressDenied as exc:
            return "unhealthy", f"GET {url}: {exc}"
        except TimeoutError:
            return "unhealthy", f"GET {url}: timed out after {timeout_s:g} s"
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError, ValueError) as exc:
            return "unhealthy", _invalid_url(url, exc)
        except (aiohttp.ClientError, OSError) as exc:
            return "unhealthy", f"GET {url}: {_exc_text(exc)}"
        if status >= 400:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
            return "unhealthy", f"HTTP {status} {reason}".rstrip()
        return "healthy", ""

    async def close(self) -> None:
        """Close the pool; later calls raise ``RuntimeError``. Idempotent."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            await client.close()
