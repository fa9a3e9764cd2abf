"""AsyncContext against a real loopback webhook that records posts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from argyll import AsyncClient, AsyncContext, AsyncStepContext, Client, StepContext
from argyll.errors import WebhookError
from argyll.sdk.runner import ServerHandle, bind_socket


class Webhook:
    """Records every post; answers with the queued statuses, then 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        self.statuses: list[int] = []

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.posts.append((request.headers["content-type"], json.loads(await request.body())))
            status = self.statuses.pop(0) if self.statuses else 200
            return Response(b"" if status == 200 else b"nope", status_code=status)

        return Starlette(routes=[Route("/webhook/{rest:path}", receive, methods=["POST"])])


@pytest.fixture(scope="module")
def webhook_server() -> Iterator[tuple[Webhook, str]]:
    webhook = Webhook()
    handle = ServerHandle(
        webhook.app(), bind_socket("127.0.0.1", 0), hostname="127.0.0.1", step_id="webhook"
    )
    handle.start()
    try:
        yield webhook, f"{handle.url}/webhook/flow-1/report/token-1"
    finally:
        handle.stop()


@pytest.fixture
def webhook(webhook_server: tuple[Webhook, str]) -> tuple[Webhook, str]:
    hook, url = webhook_server
    hook.posts.clear()
    hook.statuses.clear()
    return hook, url


def context(webhook_url: str = "") -> StepContext:
    metadata = {"flow_id": "flow-1", "step_id": "report", "receipt_token": "token-1"}
    if webhook_url:
        metadata["webhook_url"] = webhook_url
    return StepContext(client=Client().flow("flow-1"), step_id="report", metadata=metadata)


def test_success_posts_outputs_as_json(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    async_ctx = AsyncContext(context=context(url), webhook_url=url)
    async_ctx.success({"report_url": "s3://r/1", "pages": 3})
    assert hook.posts == [("application/json", {"report_url": "s3://r/1", "pages": 3})]


def test_complete_is_success_and_url_defaults_to_metadata(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    async_ctx = AsyncContext(context=context(url))
    assert async_ctx.webhook_url == url
    assert (async_ctx.flow_id, async_ctx.step_id) == ("flow-1", "report")
    assert async_ctx.client.flow_id == "flow-1"
    assert async_ctx.metadata["receipt_token"] == "token-1"
    async_ctx.complete({})
    assert hook.posts == [("application/json", {})]


def test_fail_posts_problem_details(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    AsyncContext(context=context(url)).fail("printer on fire")
    assert hook.posts == [
        (
            "application/problem+json",
            {
                "type": "about:blank",
                "title": "Unprocessable Entity",
                "status": 422,
                "detail": "printer on fire",
            },
        )
    ]


def test_5xx_is_retried(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    hook.statuses = [500, 503]
    AsyncContext(context=context(url), backoff=0.01).success({"ok": True})
    assert len(hook.posts) == 3
    assert all(body == {"ok": True} for _, body in hook.posts)


def test_4xx_raises_without_retry(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    hook.statuses = [400]
    with pytest.raises(WebhookError, match="rejected") as info:
        AsyncContext(context=context(url), backoff=0.01).success({"ok": True})
    assert info.value.status_code == 400
    assert len(hook.posts) == 1


def test_exhausted_retries_raise(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    hook.statuses = [500, 500, 500]
    with pytest.raises(WebhookError, match="after 3 attempts") as info:
        AsyncContext(context=context(url), backoff=0.01, max_attempts=3).fail("x")
    assert info.value.status_code == 500
    assert len(hook.posts) == 3


def test_network_errors_are_retried_then_raise() -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}/webhook/f/s/t"
    with pytest.raises(WebhookError, match="after 2 attempts") as info:
        AsyncContext(context=context(url), backoff=0.01, max_attempts=2).success({})
    assert info.value.status_code is None


def test_outputs_must_be_json(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    with pytest.raises(WebhookError, match="not JSON"):
        AsyncContext(context=context(url)).success({"when": object()})
    assert hook.posts == []


def test_no_webhook_url_raises() -> None:
    with pytest.raises(WebhookError, match="async"):
        AsyncContext(context=context())


# -- awaited posts ------------------------------------------------------------------


def async_context(webhook_url: str, client: AsyncClient | None = None) -> AsyncStepContext:
    client = client or AsyncClient("http://engine.test")
    metadata = {"flow_id": "flow-1", "step_id": "report", "webhook_url": webhook_url}
    return AsyncStepContext(client=client.flow("flow-1"), step_id="report", metadata=metadata)


def test_awaited_success_and_fail_post_like_the_blocking_ones(
    webhook: tuple[Webhook, str],
) -> None:
    hook, url = webhook

    async def post() -> None:
        async with AsyncClient("http://engine.test") as client:
            async_ctx = AsyncContext(context=async_context(url, client))
            await async_ctx.asuccess({"pages": 3})
            await async_ctx.acomplete({})
            await async_ctx.afail("printer on fire")
        # A blocking StepContext can await too (a pool for the post).
        await AsyncContext(context=context(url)).asuccess({"sync": True})

    asyncio.run(post())
    assert [ct for ct, _ in hook.posts] == [
        "application/json",
        "application/json",
        "application/problem+json",
        "application/json",
    ]
    assert hook.posts[2][1]["detail"] == "printer on fire"
    assert hook.posts[3][1] == {"sync": True}


def test_awaited_retries_back_off_without_blocking_the_loop(
    webhook: tuple[Webhook, str],
) -> None:
    hook, url = webhook
    hook.statuses = [503, 500]
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def post() -> float:
        task = asyncio.get_running_loop().create_task(ticker())
        start = time.monotonic()
        await AsyncContext(context=async_context(url), backoff=0.1).asuccess({"ok": True})
        task.cancel()
        return time.monotonic() - start

    elapsed = asyncio.run(post())
    assert len(hook.posts) == 3 and elapsed >= 0.3  # 0.1 + 0.2 of backoff
    assert len(ticks) >= 10  # the loop kept running while waiting


def test_awaited_4xx_and_exhaustion_raise(webhook: tuple[Webhook, str]) -> None:
    hook, url = webhook
    hook.statuses = [409]
    with pytest.raises(WebhookError, match="rejected") as info:
        asyncio.run(AsyncContext(context=async_context(url)).afail("x"))
    assert info.value.status_code == 409
    hook.statuses = [500, 500]
    with pytest.raises(WebhookError, match="after 2 attempts"):
        asyncio.run(
            AsyncContext(context=async_context(url), backoff=0.01, max_attempts=2).asuccess({})
        )


def test_posts_reuse_the_engine_clients_pool_without_its_token() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    url = "http://engine.test/webhook/flow-1/report/t?sig=abc"
    client = Client(token="secret", transport=httpx.MockTransport(record))
    metadata = {"webhook_url": url}
    AsyncContext(context=StepContext(client.flow("flow-1"), "report", metadata)).success({})

    async def post() -> None:
        async with AsyncClient(token="secret", transport=httpx.MockTransport(record)) as aclient:
            await AsyncContext(context=async_context(url, aclient)).afail("no")

    asyncio.run(post())
    assert [str(r.url) for r in seen] == [url, url]
    assert all("authorization" not in r.headers for r in seen)
