"""The webhook credential: an HMAC that proves a result comes from the step called (ASYNC-1).

Receipt tokens are visible to anyone who can read a flow (its state, events
and subscriptions show them), so a token alone must not be enough to post a
result. The webhook URL handed to an async step carries
``?sig=<HMAC-SHA256(secret, flow, step, token)>``; the webhook route refuses
a missing or wrong credential with 401 before anything is recorded
(API-40). The credential appears only in the ``Argyll-Webhook-URL`` header
and the ``webhook_url`` meta value; it is derived, never stored.

The secret is kept in the event store, in an aggregate of its own that no
API reads and no subscription receives, so every engine sharing the store
signs and verifies alike. The first engine to start creates it; a node that
loses that race reads the winner's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Final

import msgspec

from argyll.engine.store.base import AppendBatch, EventStore, NewEvent
from argyll.errors import ConcurrencyError, EngineError

__all__ = ["SECRET_AGGREGATE", "WebhookSigner"]

#: Where the secret lives; read only by this module.
SECRET_AGGREGATE: Final = ("secret", "webhook")
_EVENT_TYPE: Final = "webhook_secret_created"


class _Secret(msgspec.Struct):
    secret: str


class WebhookSigner:
    """Signs webhook URLs and verifies their credential."""

    def __init__(self) -> None:
        self._key = b""

    async def load(self, store: EventStore) -> None:
        """Read the shared secret from ``store``, creating it if there is none."""
        for _ in range(3):
            events = await store.read(SECRET_AGGREGATE)
            if events:
                self._key = base64.b64decode(
                    msgspec.json.decode(events[0].data, type=_Secret).secret
                )
                return
            key = secrets.token_bytes(32)
            data = msgspec.json.encode(_Secret(base64.b64encode(key).decode()))
            event = NewEvent(_EVENT_TYPE, data, datetime.now(UTC))
            try:
                await store.append(AppendBatch(SECRET_AGGREGATE, 0, [event]))
            except ConcurrencyError:
                continue  # another node created it first: read theirs
            self._key = key
            return
        raise EngineError("failed to load the webhook secret")

    def signature(self, flow_id: str, step_id: str, token: str) -> str:
        """The credential of one work item's webhook (unpadded base64url)."""
        if not self._key:
            raise RuntimeError("webhook secret not loaded")
        message = "\n".join((flow_id, step_id, token)).encode("utf-8", "surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, base: str, flow_id: str, step_id: str, token: str) -> str:
        """``<base>/webhook/<flow>/<step>/<token>?sig=<credential>`` (ASYNC-1)."""
        sig = self.signature(flow_id, step_id, token)
        return f"{base}/webhook/{flow_id}/{step_id}/{token}?sig={sig}"

    def verify(self, flow_id: str, step_id: str, token: str, sig: str) -> bool:
        """True when ``sig`` is the credential of this work item (constant time)."""
        if not sig or not self._key:
            return False
        expected = self.signature(flow_id, step_id, token)
        return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "surrogatepass"))
