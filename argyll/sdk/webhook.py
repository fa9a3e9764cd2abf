"""Posting an async step's result to its webhook (ASYNC-4), blocking or awaited.

Both ways share the retry policy (5xx and network errors are retried with
backoff, 4xx is final). They reuse the connection pool of the handler's
engine client: ``httpx.Client`` for the blocking post, ``httpx.AsyncClient``
for the awaited one, whose backoff is ``asyncio.sleep`` so the event loop
keeps running. Requests are built by hand and ``send``-ed, so the client's
default headers (its bearer token) are not sent: the webhook URL carries
its own credential.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from argyll.errors import WebhookError

__all__ = ["WebhookPost"]

_MAX_BACKOFF = 8.0


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

    def _request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.url,
            content=self.body,
            headers={
                "Content-Type": self.content_type,
                "Accept": "application/json",
                "User-Agent": "argyll-python-sdk",
            },
            extensions={"timeout": httpx.Timeout(self.timeout).as_dict()},
        )

    def _delays(self) -> list[float | None]:
        """The pause after each attempt; ``None`` after the last."""
        delays: list[float | None] = []
        delay = self.backoff
        for _ in range(max(1, self.max_attempts) - 1):
            delays.append(delay)
            delay = min(delay * 2, _MAX_BACKOFF)
        return [*delays, None]

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

    def send(self, http: httpx.Client) -> None:
        """Post through ``http``'s pool, blocking (and sleeping between retries).

        Raises:
            WebhookError: A 4xx answer, or every attempt failed.
        """
        failure, status = "", None
        for delay in self._delays():
            try:
                response = http.send(self._request(), follow_redirects=True)
            except httpx.HTTPError as exc:
                failure, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.is_success:
                    return
                failure, status = self._failure(response), response.status_code
            if delay is not None:
                time.sleep(delay)
        raise self._gave_up(failure, status)

    async def asend(self, http: httpx.AsyncClient | None) -> None:
        """Post through ``http``'s pool (``None``: a pool for this post) without blocking.

        Raises:
            WebhookError: As for ``send``.
        """
        if http is None:
            async with httpx.AsyncClient() as own:
                return await self.asend(own)
        failure, status = "", None
        for delay in self._delays():
            try:
                response = await http.send(self._request(), follow_redirects=True)
            except httpx.HTTPError as exc:
                failure, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.is_success:
                    return
                failure, status = self._failure(response), response.status_code
            if delay is not None:
                await asyncio.sleep(delay)
        raise self._gave_up(failure, status)
