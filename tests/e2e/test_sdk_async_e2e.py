"""The second edition of the SDK against a real engine: the async client, flow
queries, events and live watching, async handlers with the async client and
awaited webhook completion, ``ENGINE_URL``, and a clear port clash.

Everything runs against the session's engine (``engine_url``) with unique
step, attribute and flow IDs; step servers are the SDK's own on loopback.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from pathlib import Path
from typing import Any

import pytest
from support import EngineProcess

from argyll import (
    AsyncClient,
    AsyncContext,
    AsyncStepContext,
    AttributeType,
    Client,
    FlowEvent,
    FlowSnapshot,
    FlowState,
    FlowStatus,
)
from argyll.errors import ClientError, StepServerError, WaitTimeoutError
from argyll.sdk.runner import bind_socket


def double_step(client: Client | AsyncClient, uid: str) -> Any:
    return (
        client.new_step(f"Double {uid}")
        .required(f"n_{uid}", AttributeType.NUMBER)
        .output(f"twice_{uid}", AttributeType.NUMBER)
        .with_script(f"{{:twice_{uid} (* n_{uid} 2)}}")
    )


def test_async_client_registers_starts_queries_and_watches(engine_url: str, uid: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(engine_url) as client:
            step = await double_step(client, uid).register()
            assert step.id == f"double-{uid}"
            plan = await client.plan([step.id])
            assert plan.required == [f"n_{uid}"]

            flows = []
            for i in range(3):
                flow = (
                    await client.new_flow(f"q-{uid}-{i}")
                    .with_goals(step.id)
                    .with_initial_state({f"n_{uid}": [i]})
                    .with_labels({"batch": uid})
                    .start()
                )
                flows.append(flow)
            states = [await flow.wait(timeout=15) for flow in flows]
            assert [s.value(f"twice_{uid}") for s in states] == [0, 2, 4]
            assert all(s.status is FlowStatus.COMPLETED for s in states)
            assert states[1]["attributes"][f"twice_{uid}"][0]["value"] == 2

            # Listing pages through the cursor: three flows, one per page.
            listed = [f async for f in client.flows(prefix=f"q-{uid}", page_size=1)]
            assert sorted(f.id for f in listed) == [f"q-{uid}-{i}" for i in range(3)]
            by_label = [f async for f in client.flows(labels={"batch": uid}, limit=2)]
            assert len(by_label) == 2
            assert [f async for f in client.flows(prefix=f"q-{uid}", status="failed")] == []

            events = await flows[0].events()
            types = [e.type for e in events]
            assert types[0] == "flow_started" and "flow_completed" in types
            assert [e.sequence for e in events] == list(range(len(events)))

            # Watching a finished flow yields its snapshot only.
            items = [item async for item in flows[2].watch(timeout=10)]
            assert len(items) == 1 and isinstance(items[0], FlowSnapshot)
            assert items[0].state.status is FlowStatus.COMPLETED
            await client.unregister_step(step.id)  # keep the shared catalog small

    asyncio.run(scenario())


def test_watch_follows_a_flow_live_until_it_ends(engine_url: str, uid: str) -> None:
    """A flow waiting on a gate step: watch sees the snapshot, then the rest live."""
    release = threading.Event()

    def gate(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
        release.wait(10)
        return {f"opened_{uid}": True}

    with Client(engine_url) as client:
        builder = (
            client.new_step(f"Gate {uid}")
            .required(f"ask_{uid}", AttributeType.STRING)
            .output(f"opened_{uid}", AttributeType.BOOLEAN)
        )
        with builder.serve(gate):
            flow = (
                client.new_flow(f"watch-{uid}")
                .with_goals(f"gate-{uid}")
                .with_initial_state({f"ask_{uid}": ["please"]})
                .start()
            )
            seen: list[FlowSnapshot | FlowEvent] = []
            for item in flow.watch(timeout=15):
                seen.append(item)
                if isinstance(item, FlowSnapshot):
                    release.set()
        snapshot, *events = seen
        assert isinstance(snapshot, FlowSnapshot)
        assert snapshot.state.status is FlowStatus.ACTIVE
        assert all(isinstance(e, FlowEvent) for e in events)
        assert events[-1].type == "flow_completed" and events[-1].terminal
        assert [e.sequence for e in events] == list(
            range(snapshot.sequence, snapshot.sequence + len(events))
        )
        assert events[0].flow_id == f"watch-{uid}"
        client.unregister_step(f"gate-{uid}")  # no health probes of a stopped server
        # The watch saw exactly the history after the snapshot.
        history = flow.events()
        assert [e.type for e in history[snapshot.sequence :]][: len(events)] == [
            e.type for e in events
        ]


def test_watch_times_out_with_a_timeout_error(engine_url: str, uid: str) -> None:
    with Client(engine_url) as client, pytest.raises(TimeoutError) as info:
        list(client.flow(f"never-{uid}").watch(timeout=0.3))
    assert isinstance(info.value, WaitTimeoutError)


def test_async_handler_gets_the_async_client_and_completes_by_awaiting(
    engine_url: str, uid: str
) -> None:
    """An ``async def`` handler of an async step: reads its flow through the
    async client, returns at once, and completes later with ``await asuccess``."""
    seen: dict[str, Any] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def handle(ctx: AsyncStepContext, args: dict[str, Any]) -> dict[str, Any]:
        state = await ctx.client.get_state()
        seen["client"] = type(ctx.client).__name__
        seen["status"] = state.status
        async_ctx = AsyncContext(context=ctx)

        async def finish() -> None:
            await asyncio.sleep(0.05)
            if args[f"word_{uid}"] == "fail":
                await async_ctx.afail("the word was fail")
            else:
                await async_ctx.asuccess({f"shout_{uid}": args[f"word_{uid}"].upper()})

        task = asyncio.get_running_loop().create_task(finish())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return {}

    with Client(engine_url) as client:
        builder = (
            client.new_step(f"Shout {uid}")
            .with_async_execution()
            .required(f"word_{uid}", AttributeType.STRING)
            .output(f"shout_{uid}", AttributeType.STRING)
        )
        with builder.serve(handle):
            ok = (
                client.new_flow(f"shout-{uid}")
                .with_goals(f"shout-{uid}")
                .with_initial_state({f"word_{uid}": ["hey"]})
                .start()
                .wait(timeout=15)
            )
            failed = (
                client.new_flow(f"shout-fail-{uid}")
                .with_goals(f"shout-{uid}")
                .with_initial_state({f"word_{uid}": ["fail"]})
                .start()
                .wait(timeout=15)
            )
        client.unregister_step(f"shout-{uid}")  # no health probes of a stopped server
    assert seen == {"client": "AsyncFlowClient", "status": FlowStatus.ACTIVE}
    assert ok.status is FlowStatus.COMPLETED and ok.value(f"shout_{uid}") == "HEY"
    assert failed.status is FlowStatus.FAILED
    assert "the word was fail" in failed.error


def test_engine_url_is_the_default_base_url(
    engine_url: str, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGINE_URL", engine_url)
    step = double_step(Client(), uid).register()  # the builder's own Client()
    with Client() as client:
        assert client.base_url == engine_url
        state = (
            client.new_flow(f"env-{uid}")
            .with_goals(step.id)
            .with_initial_state({f"n_{uid}": [5]})
            .start()
            .wait(timeout=15)
        )
    assert isinstance(state, FlowState) and state.value(f"twice_{uid}") == 10

    async def read() -> FlowStatus:
        async with AsyncClient() as client:
            return (await client.flow(f"env-{uid}").get_state()).status

    assert asyncio.run(read()) is FlowStatus.COMPLETED
    with Client(engine_url) as client:
        client.unregister_step(step.id)  # keep the shared catalog small


def test_port_clash_in_start_is_one_clear_error(
    engine_url: str, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = bind_socket("0.0.0.0", 0)
    port = holder.getsockname()[1]
    monkeypatch.setenv("STEP_PORT", str(port))
    builder = Client(engine_url).new_step(f"Clash {uid}").output("x", AttributeType.ANY)
    try:
        with pytest.raises(StepServerError) as info:
            builder.start(lambda ctx, args: {})
    finally:
        holder.close()
    message = str(info.value)
    assert f"port {port} is already in use" in message and "STEP_PORT" in message
    assert info.value.port == port and isinstance(info.value, OSError)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_async_client_example(isolated_engine_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "sdk_async_client.py"
    spec = importlib.util.spec_from_file_location("example_sdk_async_client", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    quotes = example.main(isolated_engine_url)
    assert sorted(quotes.values()) == [3, 7.5, 12]
    out = capsys.readouterr().out
    # The watch printed the snapshot (and, when it was quicker than the flow,
    # the events up to flow_completed); then the history of the first flow.
    assert "at sequence" in out and "events, the last" in out


def test_bearer_token_against_an_engine_with_api_tokens(
    tmp_path: Path, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both clients (and watch) with ``token=``/``ARGYLL_TOKEN``; none is a 401."""
    engine = EngineProcess(tmp_path / "engine", env={"API_TOKENS": "s3cret:full"})
    engine.start()
    try:
        with Client(engine.url, token="s3cret") as client:
            step = double_step(client, uid).register()
            flow = (
                client.new_flow(f"tok-{uid}")
                .with_goals(step.id)
                .with_initial_state({f"n_{uid}": [4]})
                .start()
            )
            items = list(flow.watch(timeout=15))
            assert isinstance(items[-1], FlowSnapshot | FlowEvent)
            assert flow.wait(timeout=15).value(f"twice_{uid}") == 8

        monkeypatch.setenv("ARGYLL_TOKEN", "s3cret")

        async def read() -> tuple[FlowStatus, list[str]]:
            async with AsyncClient(engine.url) as client:
                flow = client.flow(f"tok-{uid}")
                items = [item async for item in flow.watch(timeout=15)]
                return (await flow.get_state()).status, [type(i).__name__ for i in items]

        assert asyncio.run(read()) == (FlowStatus.COMPLETED, ["FlowSnapshot"])

        monkeypatch.delenv("ARGYLL_TOKEN")
        with Client(engine.url) as anonymous, pytest.raises(ClientError) as info:
            anonymous.list_steps()
        assert info.value.status_code == 401
    finally:
        engine.stop()
