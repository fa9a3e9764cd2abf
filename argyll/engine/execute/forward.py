"""Forwarding a webhook to the cluster node that drives its flow."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from argyll.errors import EngineError

__all__ = ["FORWARDED_HEADER", "ForwardFailed", "Forwarder"]

#: Marks a forwarded request, so that it is never forwarded again.
FORWARDED_HEADER: Final = "Argyll-Forwarded-By"
_TIMEOUT_S: Final = 10.0


class ForwardFailed(Exception):
    """The owner could not be reached (connection refused, timeout)."""


class Forwarder:
    """Relays webhooks to their flow's owner over one pooled HTTP session."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self._session: Any = None

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def webhook(self, address: str, path: str, content_type: str, body: bytes) -> None:
        """POST a webhook body to ``address + path`` and relay the owner's answer.

        Args:
            address: The owner node's base URL.
            path: The webhook path and query, as received.
            content_type: The received ``Content-Type``.
            body: The received body.

        Raises:
            EngineError: The owner refused the result (its status and message).
            ForwardFailed: The owner could not be reached.
        """
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=_TIMEOUT_S), trust_env=False
            )
        headers = {FORWARDED_HEADER: self.node_id}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            async with self._session.post(address + path, data=body, headers=headers) as response:
                text = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ForwardFailed(str(exc) or type(exc).__name__) from exc
        if status < 300:
            return
        try:
            message = str(msgspec.json.decode(text).get("error", ""))
        except (msgspec.DecodeError, AttributeError):
            message = text[:200].decode("utf-8", "replace")
        raise EngineError(message or f"owner node answered {status}", status)
