"""Posting an async step's result to its webhook (ASYNC-4), blocking or awaited.

Both ways share the retry policy (5xx and network errors are retried with
backoff, 4xx is final) and reuse pooled connections: one ``httpx.Client``
per process for the blocking posts, one ``httpx.AsyncClient`` per event loop
for the awaited ones, whose backoff is ``asyncio.sleep`` so the loop keeps
running. No bearer token is sent: the webhook URL carries its own credential.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from dataclasses import dataclass

import httpx

from argyll.errors import WebhookError

__all__ = ["WebhookPost"]

_MAX_BACKOFF = 8.0
_HEADERS = {"Accept": "application/json", "User-Agent": "argyll-python-sdk"}

_lock = threading.Lock()
_sync_pool: httpx.Client | None = None
_async_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _client() -> httpx.Client:
    global _sync_pool
    with _lock:
        if _sync_pool is None:
            _sync_pool = httpx.Client(headers=_HEADERS, follow_redirects=True)
        return _sync_pool


def _async_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _async_pools.get(loop)
    if client is None:
        client = _async_pools[loop] = httpx.AsyncClient(headers=_HEADERS, follow_redirects=True)
    return client


@dataclass(frozen=True)
class WebhookPost:
    """One result to post: ``body`` with ``content_type`` to ``url`` for ``step_id``."""

    url: str
    body: bytes
    content_type: str
    step_id: str
    timeout: float = 30.0
    max_attempts: int = 5
    backoff: float = 0.5

    def _delays(self) -> list[float]:
        """The pause after each failed attempt but the last."""
        delays, delay = [], self.backoff
        for _ in range(max(1, self.max_attempts) - 1):
            delays.append(delay)
            delay = min(delay * 2, _MAX_BACKOFF)
        return delays

    def _failure(self, response: httpx.Response) -> str:
        """The failure of ``response`` to retry; raises on a final (4xx) answer."""
        status = response.status_code
        failure = f"HTTP {status} {response.text.strip()}".rstrip()
        if status < 500:
            raise WebhookError(
                f"webhook {self.url} rejected the result of step {self.step_id}: {failure}",
                status,
            )
        return failure

    def _gave_up(self, failure: str, status: int | None) -> WebhookError:
        return WebhookError(
            f"webhook {self.url} failed for step {self.step_id} after "
            f"{max(1, self.max_attempts)} attempts: {failure}",
            status,
        )

    def send(self) -> None:
        """Post, blocking (and sleeping between retries).

        Raises:
            WebhookError: A 4xx answer, or every attempt failed.
        """
        headers = {"Content-Type": self.content_type}
        failure, status = "", None
        for delay in [*self._delays(), None]:
            try:
                response = _client().post(
                    self.url, content=self.body, headers=headers, timeout=self.timeout
                )
            except httpx.HTTPError as exc:
                failure, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.is_success:
                    return
                failure, status = self._failure(response), response.status_code
            if delay is not None:
                time.sleep(delay)
        raise self._gave_up(failure, status)

    async def asend(self) -> None:
        """Post without blocking the event loop; see ``send``."""
        headers = {"Content-Type": self.content_type}
        failure, status = "", None
        for delay in [*self._delays(), None]:
            try:
                response = await _async_client().post(
                    self.url, content=self.body, headers=headers, timeout=self.timeout
                )
            except httpx.HTTPError as exc:
                failure, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.is_success:
                    return
                failure, status = self._failure(response), response.status_code
            if delay is not None:
                await asyncio.sleep(delay)
        raise self._gave_up(failure, status)
