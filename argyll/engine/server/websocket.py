"""The live event stream, ``GET /engine/ws`` (SPEC 13, WS-1..8).

One :class:`WebSocketHub` per engine subscribes once to the event bus and
fans each committed event out to the matching subscriptions of every open
connection. The bus calls it synchronously, in commit order, right after
each commit, so delivery never waits for a client: messages go into a
bounded per-connection queue drained by one writer task.

Guarantees and limits (documented in docs/guides/monitoring.md):

- Snapshots (``include_state``, WS-4) neither drop nor duplicate events
  (WS-5, WS-6): the subscription starts buffering its events *before* any
  state is read, each item's data is encoded at the moment its sequence is
  read, and buffered events below that sequence are dropped. Catalog and
  cluster snapshots are taken without an await, so they are exact; flow
  snapshots are folded from committed events only (the runner's cache may
  hold a write that is not yet committed).
- A malformed message or a ``subscribe`` without ``sub_id`` is answered
  with ``{"type": "error", "error": "..."}`` and the connection stays open
  (WS-2; the reference only logged them). A message of an unknown ``type``,
  such as a client's ``{"type": "ping"}`` keep-alive, is ignored.
- Inbound messages over 64 KiB close the connection with code 1009 (WS-8).
- A client that falls more than 10,000 messages behind is closed with code
  1008 and reason ``slow consumer: more than 10000 messages queued``; a
  single write that blocks for over 10 s closes it with 1008 ``write
  timeout`` (WS-8). Either way the engine never waits for the client.
- A connection holds at most 1,000 subscriptions; more are refused with an
  error reply (an extension: the reference had no bound).
- Pings and the pong deadline are the server's (uvicorn) keepalive.

The wire formats are in ``ws_protocol``; this module does the I/O.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import msgspec
from starlette.requests import Request
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from argyll.engine.bus import AggregateId, StoredEvent
from argyll.engine.server.ws_protocol import (
    Item,
    Subscribe,
    Unsubscribe,
    covering,
    decode_message,
    encode_state,
    error_message,
    event_parts,
    subscribed_message,
    unsubscribed_message,
)
from argyll.errors import BadRequestError

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = [
    "MAX_INBOUND_BYTES",
    "MAX_QUEUED_MESSAGES",
    "MAX_SUBSCRIPTIONS",
    "WRITE_TIMEOUT_S",
    "WebSocketHub",
    "websocket_routes",
]

log = logging.getLogger("argyll.websocket")

#: WS-8: inbound message limit; larger messages close the connection (1009).
MAX_INBOUND_BYTES: Final = 64 * 1024
#: Outbound messages a connection may have queued before it is closed (1008).
MAX_QUEUED_MESSAGES: Final = 10_000
#: WS-8: a single write blocked longer than this closes the connection (1008).
WRITE_TIMEOUT_S: Final = 10.0
#: Subscriptions one connection may hold; more are refused with an error.
MAX_SUBSCRIPTIONS: Final = 1000

CLOSE_POLICY: Final = 1008
CLOSE_TOO_BIG: Final = 1009
SLOW_REASON: Final = f"slow consumer: more than {MAX_QUEUED_MESSAGES} messages queued"


@dataclass(eq=False, slots=True)
class _Subscription:
    """One ``sub_id``: its filters (WS-3) and stale-event boundaries (WS-6)."""

    conn: _Connection
    sub_id: str
    prefixes: tuple[AggregateId, ...]
    types: frozenset[str] | None
    sub_json: str = ""
    min_seq: dict[AggregateId, int] = field(default_factory=dict)
    #: Events held back while a snapshot is being taken; ``None`` when live.
    pending: list[StoredEvent] | None = None

    def fresh(self, event: StoredEvent) -> bool:
        """WS-6: not older than the snapshot of its aggregate."""
        return not self.min_seq or event.sequence >= self.min_seq.get(event.aggregate_id, 0)


class _Connection:
    """One socket: its subscriptions, its outbound queue and its writer."""

    def __init__(self, hub: WebSocketHub, ws: WebSocket) -> None:
        self.hub = hub
        self.ws = ws
        self.subs: dict[str, _Subscription] = {}
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.writer: asyncio.Task[None] | None = None
        self._sending_since: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None

    # outbound ----------------------------------------------------------------

    def push(self, text: str) -> bool:
        """Queue a message; False (and the connection is closing) when it cannot."""
        if self.close_code is not None:
            return False
        if len(self.queue) >= MAX_QUEUED_MESSAGES:
            self.abort(CLOSE_POLICY, SLOW_REASON)
            return False
        self.queue.append(text)
        self.wake.set()
        return True

    def push_event(self, sub: _Subscription, event: StoredEvent) -> bool:
        head, tail = event_parts(event)
        return self.push(head + sub.sub_json + tail)

    def abort(self, code: int, reason: str) -> None:
        """Stop writing at once and close with ``code``/``reason`` (the first reason wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            log.warning("closing WebSocket client: %s", reason)
        self.queue.clear()
        if self.writer is not None:
            self.writer.cancel()

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        queue, send = self.queue, self.ws.send
        while True:
            while queue:
                text = queue.popleft()
                self._sending_since = loop.time()
                await send({"type": "websocket.send", "text": text})
            self._sending_since = None
            self.wake.clear()
            await self.wake.wait()

    def _watch(self) -> None:
        """Once a second: close a connection whose current write is stuck (WS-8)."""
        since = self._sending_since
        if since is not None and asyncio.get_running_loop().time() - since > WRITE_TIMEOUT_S:
            self.abort(CLOSE_POLICY, "write timeout")
        elif self.close_code is None:
            self._watchdog = asyncio.get_running_loop().call_later(1.0, self._watch)

    # inbound -----------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw: str | bytes = message.get("text") or message.get("bytes") or b""
            size = len(raw.encode()) if isinstance(raw, str) else len(raw)
            if size > MAX_INBOUND_BYTES:
                self.abort(CLOSE_TOO_BIG, f"message too big: limit is {MAX_INBOUND_BYTES} bytes")
                return
            await self._handle(raw)

    def _error(self, text: str) -> None:
        log.info("WebSocket client message rejected: %s", text)
        self.push(error_message(text))

    async def _handle(self, raw: str | bytes) -> None:
        try:
            message = decode_message(raw)
        except msgspec.DecodeError as exc:
            self._error(f"invalid JSON message: {exc}")
            return
        if not isinstance(message, dict):
            self._error("invalid message: expected a JSON object")
            return
        kind = message.get("type")
        try:
            if kind == "subscribe":
                await self._subscribe(msgspec.convert(message.get("data"), Subscribe))
            elif kind == "unsubscribe":
                self._unsubscribe(msgspec.convert(message.get("data"), Unsubscribe))
            else:  # WS-2: unknown types (e.g. a client's "ping" keep-alive) are ignored
                log.debug("WebSocket client message of unknown type ignored: %r", kind)
        except msgspec.ValidationError as exc:
            self._error(f"invalid {kind} message: {exc}")

    def _unsubscribe(self, req: Unsubscribe) -> None:
        """WS-7: acknowledged also for unknown IDs."""
        if not req.sub_id:
            self._error("unsubscribe requires sub_id")
            return
        self._drop(req.sub_id)
        self.push(unsubscribed_message(req.sub_id))

    def _drop(self, sub_id: str) -> None:
        sub = self.subs.pop(sub_id, None)
        if sub is not None:
            self.hub.unindex(sub)

    async def _subscribe(self, req: Subscribe) -> None:
        """WS-4: add or replace a subscription and answer ``subscribed``."""
        if not req.sub_id:
            self._error("subscribe requires sub_id")
            return
        if req.sub_id not in self.subs and len(self.subs) >= MAX_SUBSCRIPTIONS:
            self._error(f"too many subscriptions: maximum is {MAX_SUBSCRIPTIONS} per connection")
            return
        ids = [tuple(a) for a in req.aggregate_ids or []]
        sub = _Subscription(
            conn=self,
            sub_id=req.sub_id,
            prefixes=covering(ids),
            types=frozenset(req.event_types) if req.event_types else None,
            sub_json=encode_state(req.sub_id).decode(),
        )
        self._drop(req.sub_id)
        self.subs[req.sub_id] = sub
        self.hub.index(sub)
        if not req.include_state:
            self.push(subscribed_message(req.sub_id, []))
            return
        sub.pending = []  # buffer from now on: no event can slip between state and stream
        items: list[Item] = []
        try:
            for agg in ids:
                snap = await self.hub.snapshot(agg)
                if snap is None:
                    continue  # WS-4: a flow that does not exist is left out
                data, seq = snap
                items.append(Item(list(agg), msgspec.Raw(data), seq))
                if data != b"null":
                    sub.min_seq[agg] = seq
        except Exception as exc:
            log.exception("snapshot for subscription %s failed", req.sub_id)
            if self.subs.get(req.sub_id) is sub:
                self._drop(req.sub_id)
            self._error(f"subscribe {req.sub_id} failed: {exc}")
            return
        held, sub.pending = sub.pending, None
        if not self.push(subscribed_message(req.sub_id, items)):
            return
        for event in held:
            if sub.fresh(event) and not self.push_event(sub, event):
                return

    # lifecycle ---------------------------------------------------------------

    async def serve(self) -> None:
        """Run the connection until the client leaves or it is closed; never raises."""
        await self.ws.accept()
        self.hub.add(self)
        self.writer = asyncio.ensure_future(self._write())
        reader = asyncio.ensure_future(self._read())
        self._watchdog = asyncio.get_running_loop().call_later(1.0, self._watch)
        try:
            await asyncio.wait({self.writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if self._watchdog is not None:
                self._watchdog.cancel()
            for sub_id in list(self.subs):  # WS-8: closing drops the subscriptions
                self._drop(sub_id)
            self.hub.remove(self)
            for task in (self.writer, reader):
                task.cancel()
            await asyncio.gather(self.writer, reader, return_exceptions=True)
            if self.close_code is not None:
                try:
                    await asyncio.wait_for(
                        self.ws.close(self.close_code, self.close_reason), WRITE_TIMEOUT_S
                    )
                except Exception:
                    pass  # the client is gone or stuck; the server drops the socket


class WebSocketHub:
    """Every open connection of one engine, fed by one bus subscriber.

    Subscriptions are indexed by prefix, so an event costs one dictionary
    lookup per prefix length of its aggregate ID (``()``, ``("flow",)``,
    ``("flow", id)``) plus the subscriptions it matches, however many
    connections watch other flows.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connections: set[_Connection] = set()
        self._index: dict[AggregateId, dict[_Subscription, None]] = {}
        self._unsubscribe = engine.subscribe(self._publish)

    def index(self, sub: _Subscription) -> None:
        """Start routing events to ``sub`` (WS-3)."""
        for prefix in sub.prefixes:
            self._index.setdefault(prefix, {})[sub] = None

    def unindex(self, sub: _Subscription) -> None:
        """Stop routing events to ``sub``."""
        for prefix in sub.prefixes:
            bucket = self._index.get(prefix)
            if bucket is not None:
                bucket.pop(sub, None)
                if not bucket:
                    del self._index[prefix]

    @property
    def clients(self) -> int:
        """Open connections (API-1 ``details.websocket.clients``)."""
        return len(self.connections)

    def add(self, conn: _Connection) -> None:
        self.connections.add(conn)

    def remove(self, conn: _Connection) -> None:
        self.connections.discard(conn)

    def _publish(self, events: list[StoredEvent]) -> None:
        """Bus subscriber: queue each event for every matching subscription (WS-3, WS-5)."""
        index = self._index
        if not index:
            return
        for event in events:
            agg = event.aggregate_id
            parts: tuple[str, str] | None = None
            for size in range(len(agg) + 1):
                bucket = index.get(agg[:size])
                if not bucket:
                    continue
                for sub in bucket:
                    if sub.types is not None and event.type not in sub.types:
                        continue
                    if sub.pending is not None:
                        if len(sub.pending) >= MAX_QUEUED_MESSAGES:
                            sub.conn.abort(CLOSE_POLICY, SLOW_REASON)
                        else:
                            sub.pending.append(event)
                        continue
                    if not sub.fresh(event):
                        continue
                    if parts is None:
                        parts = event_parts(event)
                    sub.conn.push(parts[0] + sub.sub_json + parts[1])

    async def snapshot(self, agg: AggregateId) -> tuple[bytes, int] | None:
        """WS-4 item data (encoded now) and the aggregate's next sequence; ``None``
        when the flow does not exist."""
        snap = await self.engine.snapshot(agg)
        if snap is None:
            return None
        state, sequence = snap
        return encode_state(state), sequence

    async def endpoint(self, ws: WebSocket) -> None:
        """The ``/engine/ws`` WebSocket endpoint (any origin is accepted, WS-8)."""
        await _Connection(self, ws).serve()

    def close(self) -> None:
        """Stop receiving events from the bus."""
        self._unsubscribe()


def websocket_routes(hub: WebSocketHub) -> list[BaseRoute]:
    """``/engine/ws``: the WebSocket, and 400 for a plain GET (API-41)."""

    async def not_upgrade(_: Request) -> Any:
        raise BadRequestError("WebSocket upgrade required: connect with a WebSocket client")

    return [
        WebSocketRoute("/engine/ws", hub.endpoint),
        Route("/engine/ws", not_upgrade, methods=["GET"]),
    ]
