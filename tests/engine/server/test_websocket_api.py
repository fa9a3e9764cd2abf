"""The WebSocket stream against an in-process engine over loopback (SPEC 13, API-1, API-41).

A real ``websockets`` client talks to ``GET /engine/ws`` of the test's own
engine. Every wait is bounded (``recv`` timeouts, ``eventually``); absence of
a message is proven by ordering (a later message on the same connection),
never by sleeping.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import Api, eventually
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Msg = dict[str, Any]


def ws_url(engine_url: str) -> str:
    return engine_url.replace("http://", "ws://") + "/engine/ws"


class Client:
    """One socket with JSON helpers."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    async def send(self, kind: str, **data: Any) -> None:
        await self.conn.send(json.dumps({"type": kind, "data": data}))

    async def recv(self, timeout: float = 30.0) -> Msg:
        msg: Msg = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
        return msg

    async def until(self, stop: Callable[[Msg], bool], timeout: float = 15.0) -> list[Msg]:
        """Every message up to and including the first one ``stop`` accepts."""
        seen: list[Msg] = []
        while True:
            msg = await self.recv(timeout)
            seen.append(msg)
            if stop(msg):
                return seen


def unix_ms(rfc3339: str) -> int:
    """WS-5 timestamps: unix milliseconds of the event's RFC 3339 time."""
    ts = datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def chain(api: Api, tag: str, length: int) -> str:
    """Register a chain of Lua steps ``tag-0 .. tag-<length-1>``; returns the goal."""
    # Attribute names are unique per chain (several chains share an engine):
    # the inner names the scripts see stay ``n`` and ``v<i>`` (mapping.name, MAP-1).
    prefix = tag.replace("-", "_")
    for i in range(length):
        src = "n" if i == 0 else f"v{i - 1}"
        outer_src = "n" if i == 0 else f"{prefix}_v{i - 1}"
        r = api.register(
            {
                "id": f"{tag}-{i}",
                "name": f"{tag} {i}",
                "type": "script",
                "attributes": {
                    outer_src: {"role": "required", "required": {"mapping": {"name": src}}},
                    f"{prefix}_v{i}": {"role": "output", "output": {"mapping": {"name": f"v{i}"}}},
                },
                "script": {"language": "lua", "script": f"return {{v{i} = {src} + 1}}"},
            }
        )
        assert r.status_code == 201, r.text
    return f"{tag}-{length - 1}"


def is_deactivated(flow_id: str) -> Callable[[Msg], bool]:
    return lambda m: m["type"] == "flow_deactivated" and m["id"] == ["flow", flow_id]


def test_snapshot_and_stream_have_no_gap_or_duplicate(api: Api, engine_url: str, uid: str) -> None:
    """WS-4, WS-5, WS-6: subscribing mid-flight, state + stream == the event log."""
    goal = chain(api, f"gap-{uid}", 6)
    flows = [f"gap-{uid}-{i}" for i in range(24)]

    async def scenario() -> dict[str, tuple[Msg, list[Msg]]]:
        async with connect(ws_url(engine_url)) as conn:
            ws = Client(conn)
            async with httpx.AsyncClient(base_url=engine_url) as http:
                for flow_id in flows:  # subscribe to each flow at once, wherever it got to
                    r = await http.post(
                        "/engine/flow", json={"id": flow_id, "goals": [goal], "init": {"n": [0]}}
                    )
                    assert r.status_code == 201, r.text
                    await ws.send(
                        "subscribe",
                        sub_id=flow_id,
                        aggregate_ids=[["flow", flow_id]],
                        include_state=True,
                    )
            replies: dict[str, Msg] = {}
            streams: dict[str, list[Msg]] = {f: [] for f in flows}
            done: set[str] = set()
            while len(done) < len(flows):
                msg = await ws.recv()
                if msg["type"] == "subscribed":
                    assert msg["sub_id"] not in replies
                    replies[msg["sub_id"]] = msg
                    (item,) = msg["items"]
                    if not item["data"]["deactivated_at"].startswith("0001-"):
                        # Under load a flow can finish before its subscription
                        # is served: its snapshot then holds every event.
                        done.add(msg["sub_id"])
                    continue
                assert msg["sub_id"] in replies, "event before its subscribed reply"
                streams[msg["sub_id"]].append(msg)
                if msg["type"] == "flow_deactivated":
                    done.add(msg["sub_id"])
            return {f: (replies[f], streams[f]) for f in flows}

    results = run(scenario())
    mid_flight = 0
    for flow_id, (reply, stream) in results.items():
        (item,) = reply["items"]
        assert item["id"] == ["flow", flow_id]
        boundary = item["sequence"]
        log = api.events(flow_id)
        assert [m["sequence"] for m in stream] == list(range(boundary, len(log)))
        for msg, event in zip(stream, log[boundary:], strict=True):
            assert (msg["type"], msg["data"], msg["id"]) == (
                event["type"],
                event["data"],
                event["aggregate_id"],
            )
            assert msg["timestamp"] == unix_ms(event["timestamp"])
        # the state is exactly the fold of events [0, boundary)
        state = item["data"]
        assert state["id"] == flow_id
        assert state["last_updated"] == log[boundary - 1]["timestamp"]
        completed = sum(1 for e in log[:boundary] if e["type"] == "step_completed")
        assert completed == sum(
            1 for x in state["executions"].values() if x.get("status") == "completed"
        )
        mid_flight += 0 < boundary < len(log) - 1
    assert mid_flight > 0, "no subscription landed mid-flight; the boundary went untested"


def test_filters_and_several_subscriptions(api: Api, engine_url: str, uid: str) -> None:
    """WS-1, WS-3: prefixes, event types and sub_id routing on one connection."""
    goal = chain(api, f"flt-{uid}", 2)
    flow_id = f"flt-{uid}"

    async def scenario() -> list[Msg]:
        async with connect(ws_url(engine_url)) as conn:
            ws = Client(conn)
            subs: list[dict[str, Any]] = [
                {"sub_id": "catalog", "aggregate_ids": [["catalog"]]},
                {"sub_id": "ends", "aggregate_ids": [["flow"]], "event_types": ["flow_completed"]},
                {"sub_id": "one", "aggregate_ids": [["flow", flow_id]]},
            ]
            for sub in subs:
                await ws.send("subscribe", **sub)
                assert await ws.recv() == {
                    "type": "subscribed",
                    "sub_id": sub["sub_id"],
                    "items": [],
                }
            extra = api.register(
                {
                    "id": f"flt-{uid}-extra",
                    "name": "extra",
                    "type": "script",
                    "attributes": {"q": {"role": "output"}},
                    "script": {"language": "lua", "script": "return {q = 1}"},
                }
            )
            assert extra.status_code == 201
            assert api.start(flow_id, [goal], {"n": [1]}).status_code == 201
            return await ws.until(lambda m: m["sub_id"] == "one" and is_deactivated(flow_id)(m))

    seen = run(scenario())
    by_sub: dict[str, list[Msg]] = {}
    for m in seen:
        by_sub.setdefault(m["sub_id"], []).append(m)
    assert [m["type"] for m in by_sub["catalog"]] == ["step_registered"]
    assert by_sub["catalog"][0]["id"] == ["catalog"]
    assert by_sub["catalog"][0]["data"]["step"]["id"] == f"flt-{uid}-extra"
    assert {m["type"] for m in by_sub["ends"]} == {"flow_completed"}
    assert flow_id in {m["data"]["flow_id"] for m in by_sub["ends"]}
    assert all(m["id"][0] == "flow" for m in by_sub["ends"])
    one = by_sub["one"]
    assert {tuple(m["id"]) for m in one} == {("flow", flow_id)}
    assert [m["sequence"] for m in one] == list(range(len(one)))  # from 0: it started after
    assert one[0]["type"] == "flow_started" and one[-1]["type"] == "flow_deactivated"


def test_replace_and_unsubscribe(api: Api, engine_url: str, uid: str) -> None:
    """WS-4 (same sub_id replaces), WS-7 (ack, also for unknown IDs)."""
    goal = chain(api, f"rep-{uid}", 1)
    a, b, c = (f"rep-{uid}-{x}" for x in "abc")

    async def scenario() -> tuple[list[Msg], list[Msg]]:
        async with connect(ws_url(engine_url)) as conn:
            ws = Client(conn)
            await ws.send("subscribe", sub_id="x", aggregate_ids=[["flow", a]])
            await ws.recv()
            await ws.send("subscribe", sub_id="x", aggregate_ids=[["flow", b]])
            assert (await ws.recv())["type"] == "subscribed"
            api.start(a, [goal], {"n": [1]})
            api.start(b, [goal], {"n": [1]})
            first = await ws.until(is_deactivated(b))
            await ws.send("unsubscribe", sub_id="x")
            assert await ws.recv() == {"type": "unsubscribed", "sub_id": "x"}
            await ws.send("unsubscribe", sub_id="never-subscribed")
            assert await ws.recv() == {"type": "unsubscribed", "sub_id": "never-subscribed"}
            # a flow-wide watcher proves x gets nothing more: any x message for c
            # would be queued before the watcher's copy of c's last event
            await ws.send("subscribe", sub_id="y", aggregate_ids=[["flow", c]])
            await ws.recv()
            await ws.send("subscribe", sub_id="x", aggregate_ids=[["flow", b]])
            await ws.recv()
            await ws.send("unsubscribe", sub_id="x")
            await ws.recv()
            api.start(c, [goal], {"n": [1]})
            second = await ws.until(is_deactivated(c))
            return first, second

    first, second = run(scenario())
    assert {m["sub_id"] for m in first} == {"x"}
    assert {tuple(m["id"]) for m in first} == {("flow", b)}  # a's events never arrived
    assert {m["sub_id"] for m in second} == {"y"}


def test_state_items_for_catalog_cluster_prefix_and_missing_flow(
    api: Api, engine_url: str, uid: str
) -> None:
    """WS-4: catalog/cluster state with their next sequence; bare prefix null; missing left out."""
    chain(api, f"st-{uid}", 1)

    async def scenario() -> Msg:
        async with connect(ws_url(engine_url)) as conn:
            ws = Client(conn)
            await ws.send(
                "subscribe",
                sub_id="s",
                aggregate_ids=[["catalog"], ["cluster"], ["flow"], ["flow", f"missing-{uid}"]],
                include_state=True,
            )
            return await ws.recv()

    reply = run(scenario())
    items = {tuple(i["id"]): i for i in reply["items"]}
    assert set(items) == {("catalog",), ("cluster",), ("flow",)}
    catalog = api.http.get("/engine/catalog/events").json()
    assert items[("catalog",)]["sequence"] == catalog["count"]
    assert f"st-{uid}-0" in items[("catalog",)]["data"]["steps"]
    cluster = api.http.get("/engine/cluster/events").json()
    assert items[("cluster",)]["sequence"] == cluster["count"]
    assert "argyll-1" in items[("cluster",)]["data"]["nodes"]
    assert items[("flow",)] == {"id": ["flow"], "data": None, "sequence": 0}


def test_malformed_messages_get_errors_and_the_connection_stays(engine_url: str) -> None:
    """WS-2 (answered with errors here; unknown types such as a ``ping`` keep-alive
    are ignored), WS-8 (64 KiB inbound limit closes with 1009)."""

    async def scenario() -> tuple[list[Msg], Msg, int | None]:
        async with connect(ws_url(engine_url), max_size=None) as conn:
            ws = Client(conn)
            errors = []
            for raw in [
                "not json",
                "[1, 2]",
                json.dumps({"type": "subscribe", "data": {"aggregate_ids": [["flow"]]}}),
                json.dumps({"type": "subscribe"}),
                json.dumps({"type": "subscribe", "data": {"sub_id": "s", "aggregate_ids": "x"}}),
                json.dumps({"type": "unsubscribe", "data": {}}),
            ]:
                await conn.send(raw)
                errors.append(await ws.recv())
            # no reply to unknown types: the next message is the subscribe reply
            await conn.send(json.dumps({"type": "ping"}))
            await conn.send(json.dumps({"type": "dance", "data": {}}))
            await ws.send("subscribe", sub_id="ok", aggregate_ids=[["catalog"]])
            ok = await ws.recv()
            await conn.send(json.dumps({"type": "subscribe", "data": {"pad": "x" * 70_000}}))
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            code = conn.close_code
            return errors, ok, code

    errors, ok, code = run(scenario())
    assert all(e["type"] == "error" and e["error"] for e in errors), errors
    assert "sub_id" in errors[2]["error"]
    assert ok == {"type": "subscribed", "sub_id": "ok", "items": []}
    assert code == 1009


def test_plain_get_is_400_and_health_counts_sockets(engine_url: str) -> None:
    """API-41 (not an upgrade -> 400), API-1 / WS-8 (open sockets in GET /health)."""
    r = httpx.get(f"{engine_url}/engine/ws")
    assert r.status_code == 400
    assert r.json()["status"] == 400

    def clients() -> int:
        return int(httpx.get(f"{engine_url}/health").json()["details"]["websocket"]["clients"])

    base = eventually(lambda: (n := clients()) == 0 or n, message="idle socket count")
    base = clients()

    async def scenario() -> None:
        async with connect(ws_url(engine_url)), connect(ws_url(engine_url)):
            await asyncio.to_thread(
                eventually, lambda: clients() == base + 2, 10.0, 0.02, "two sockets"
            )

    run(scenario())
    eventually(lambda: clients() == base, message="sockets closed")


def load_example(name: str) -> Any:
    path = Path(__file__).resolve().parents[3] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_monitor_flow_example(
    api: Api, engine_url: str, uid: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/monitor_flow.py watches a flow from before its start to its deactivation."""
    example = load_example("monitor_flow")
    text = (Path(example.__file__)).read_text()
    assert "To run things:" in text and "def main(engine_url: str, flow_id: str)" in text
    goal = chain(api, f"mon-{uid}", 2)
    flow_id = f"mon-{uid}"
    result: list[Any] = []
    watcher = threading.Thread(target=lambda: result.append(example.main(engine_url, flow_id)))
    watcher.start()
    out: list[str] = []

    def waiting() -> bool:
        out.append(capsys.readouterr().out)
        return "does not exist (yet)" in "".join(out)

    eventually(waiting, message="monitor subscribed")
    assert api.start(flow_id, [goal], {"n": [1]}).status_code == 201
    watcher.join(timeout=20)
    assert not watcher.is_alive()
    (events,) = result
    assert [e["sequence"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "flow_started" and events[-1]["type"] == "flow_deactivated"
    printed = "".join(out) + capsys.readouterr().out
    assert "#0   flow_started" in printed and "flow_completed result=" in printed

    # a flow that is already over: the state is printed and the example returns at once
    assert example.main(engine_url, flow_id) == []
    assert f"flow {flow_id}: completed" in capsys.readouterr().out
