"""HTTPInvoker against real loopback servers: HTTP-1..6, ASYNC-1/2, COMP-3/4, HEALTH-4.

``step_service`` is a starlette app under uvicorn in a background thread,
started once per session (the httpx ``tests/conftest.py`` pattern). Each test
takes a fresh route with a scripted reply and reads back exactly what the
engine sent to it. Every test runs its coroutine with ``asyncio.run`` and a
fresh ``HTTPInvoker`` that it closes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from argyll.engine.execute.http import HTTPInvoker, MissingArgument, Outcome, resolve_url
from argyll.model.step import HTTPConfig, Step
from argyll.model.validate import endpoint_params

# ------------------------------------------------------- loopback step service


@dataclass(frozen=True)
class Reply:
    """What a route answers: status, body, headers, after an optional delay."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the service saw it."""

    method: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def header_names(self) -> set[str]:
        """Lower-case names of every header sent."""
        return {k for k, _ in self.headers}


class StepService:
    """Routes ``/r/<key>/...`` to scripted replies and records every request."""

    def __init__(self) -> None:
        self.base = ""
        self._replies: dict[str, Reply] = {}
        self._received: dict[str, list[Received]] = {}

    def route(self, reply: Reply | None = None, **kwargs: object) -> str:
        """A new route answering ``reply`` (or ``Reply(**kwargs)``); returns its URL."""
        key = uuid.uuid4().hex
        self._replies[key] = reply if reply is not None else Reply(**kwargs)  # type: ignore[arg-type]
        self._received[key] = []
        return f"{self.base}/r/{key}"

    def received(self, url: str) -> list[Received]:
        """Requests that reached the route ``url`` (or any path below it)."""
        key = url.removeprefix(f"{self.base}/r/").split("/", 1)[0]
        return self._received[key]

    async def _handle(self, request: Request) -> Response:
        key = request.path_params["key"]
        reply = self._replies.get(key)
        if reply is None:
            return Response(status_code=404)
        body = await request.body()
        self._received[key].append(
            Received(
                method=request.method,
                raw_path=request.scope["raw_path"].decode("latin-1"),
                query=request.scope["query_string"].decode("latin-1"),
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                body=body,
            )
        )
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return Response(content=reply.body, status_code=reply.status, headers=reply.headers)

    def app(self) -> Starlette:
        """The ASGI app."""
        methods = ["GET", "POST", "PUT", "DELETE"]
        return Starlette(
            routes=[
                Route("/r/{key}", self._handle, methods=methods),
                Route("/r/{key}/{rest:path}", self._handle, methods=methods),
            ]
        )


def free_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def step_service() -> Iterator[StepService]:
    """The loopback step service, serving in a thread for the whole session."""
    service = StepService()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    service.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        service.app(),
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)  # signal handlers: uvicorn skips them off the main thread
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("step service did not start")
        time.sleep(0.01)
    try:
        yield service
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# ------------------------------------------------------------------- helpers

T = TypeVar("T")

ARGYLL_HEADERS = {"argyll-flow-id", "argyll-step-id", "argyll-receipt-token"}


def run(body: Callable[[HTTPInvoker], Awaitable[T]], **kwargs: Any) -> T:
    """Run ``body`` with a fresh invoker in a fresh loop, closing the invoker after."""

    async def main() -> T:
        invoker = HTTPInvoker(**kwargs)
        try:
            return await body(invoker)
        finally:
            await invoker.close()

    return asyncio.run(main())


def step(
    endpoint: str,
    *,
    method: str = "POST",
    type: str = "sync",
    timeout: int = 0,
    compensate: str = "",
) -> Step:
    return Step(
        id="step-a",
        name="Step A",
        type=type,
        http=HTTPConfig(method=method, endpoint=endpoint, timeout=timeout, compensate=compensate),
    )


def metadata(**extra: Any) -> dict[str, Any]:
    return {
        "flow_id": f"flow-{uuid.uuid4()}",
        "step_id": "step-a",
        "receipt_token": f"token-{uuid.uuid4()}",
        **extra,
    }


def invoke(
    s: Step, args: dict[str, Any] | None = None, meta: dict[str, Any] | None = None, **kw: Any
) -> Outcome:
    return run(lambda inv: inv.invoke(s, args or {}, meta or metadata()), **kw)


def assert_transient(outcome: Outcome, *parts: str) -> None:
    # HTTP-6 / CONV-5: assert containment of wrapper and cause, not the separator.
    assert outcome.kind == "transient", outcome
    assert "work not completed" in outcome.error
    for part in parts:
        assert part in outcome.error


# ---------------------------------------------------------------- HTTP-1 (pure)


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("plain", "plain"),
        ("a b", "a%20b"),
        ("a/b", "a%2Fb"),
        ("q?x;y,z#f%", "q%3Fx%3By%2Cz%23f%25"),
        ("€ü", "%E2%82%AC%C3%BC"),
        ("-._~$&+:=@", "-._~$&+:=@"),
        (42, "42"),
        (-1.5, "-1.5"),
        (5.0, "5"),  # CONV-7: integral numbers render as integers
        (True, "true"),
        (None, "null"),
        ({"k": "v w"}, "%7B%22k%22:%22v%20w%22%7D"),
        ([1, "a"], "%5B1%2C%22a%22%5D"),
        ("", ""),
    ],
)
def test_http1_placeholder_encoding(value: Any, segment: str) -> None:
    assert resolve_url("http://svc/x/{v}/y", {"v": value}) == f"http://svc/x/{segment}/y"


def test_http1_every_placeholder_and_repeats() -> None:
    url = "http://svc/{a}/{b}?q={a}"
    assert endpoint_params(url) == ["a", "b", "a"]
    assert resolve_url(url, {"a": "1 2", "b": 3, "c": "unused"}) == "http://svc/1%202/3?q=1%202"


def test_http1_no_placeholders_is_unchanged() -> None:
    assert resolve_url("http://svc/a b", {}) == "http://svc/a b"


def test_http1_missing_argument_names_first_missing() -> None:
    with pytest.raises(MissingArgument) as info:
        resolve_url("http://svc/{present}/{absent}/{other}", {"present": 1})
    assert info.value.name == "absent"
    assert str(info.value) == "missing endpoint argument: absent"


# ---------------------------------------------------------- HTTP-1 on the wire


def test_http1_encoded_path_reaches_server_verbatim(step_service: StepService) -> None:
    base = step_service.route(body=b"{}")
    s = step(base + "/{id}/{name}/{n}/{obj}", method="GET")
    args = {"id": "a/b c", "name": "€", "n": 7, "obj": {"k": 1}}
    assert invoke(s, args) == Outcome("success", outputs={})
    (req,) = step_service.received(base)
    prefix = base.removeprefix(step_service.base)
    assert req.raw_path == f"{prefix}/a%2Fb%20c/%E2%82%AC/7/%7B%22k%22:1%7D"


def test_http1_missing_argument_is_permanent_and_sends_nothing(step_service: StepService) -> None:
    base = step_service.route()
    outcome = invoke(step(base + "/{customer_id}"), {"other": 1})
    assert outcome == Outcome("permanent", error="missing endpoint argument: customer_id")
    assert step_service.received(base) == []


# ------------------------------------------------------- HTTP-2, HTTP-3 methods


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", ""])
def test_http3_body_methods_send_args_as_json(step_service: StepService, method: str) -> None:
    base = step_service.route(body=b'{"ok": true}')
    args = {"customer_id": "c-1", "amount": 12.5, "tags": ["a"], "nested": {"x": None}}
    meta = metadata()
    assert invoke(step(base, method=method), args, meta) == Outcome("success", outputs={"ok": True})
    (req,) = step_service.received(base)
    assert req.method == (method or "POST")  # DATA-11: "" means POST
    assert json.loads(req.body) == args
    # HTTP-2
    assert req.header("content-type") == "application/json"
    assert req.header("accept") == "application/json"
    assert req.header("user-agent") == "Argyll-Engine/0.1.0"
    assert {h for h in req.header_names if h.startswith("argyll-")} == ARGYLL_HEADERS
    assert req.header("argyll-flow-id") == meta["flow_id"]
    assert req.header("argyll-step-id") == "step-a"
    assert req.header("argyll-receipt-token") == meta["receipt_token"]


def test_http3_get_sends_no_body_and_no_content_type(step_service: StepService) -> None:
    base = step_service.route(body=b'{"x": 1}')
    assert invoke(step(base, method="GET"), {"a": 1}) == Outcome("success", outputs={"x": 1})
    (req,) = step_service.received(base)
    assert req.method == "GET"
    assert req.body == b""
    assert not {"content-type", "content-length", "transfer-encoding"} & req.header_names
    assert req.header("accept") == "application/json"


def test_http2_only_four_metadata_keys_become_headers(step_service: StepService) -> None:
    # A sync step never sends Argyll-Webhook-URL, even when the flow metadata
    # happens to carry a webhook_url key (ASYNC-1: async only).
    base = step_service.route()
    meta = metadata(webhook_url="http://engine/webhook/x", parent_flow_id="p", custom="c")
    run(lambda inv: inv.invoke(step(base), {}, meta), user_agent="Argyll-Engine/9.9")
    (req,) = step_service.received(base)
    assert {h for h in req.header_names if h.startswith("argyll-")} == ARGYLL_HEADERS
    assert "custom" not in req.header_names
    assert req.header("user-agent") == "Argyll-Engine/9.9"


# ------------------------------------------------------------ HTTP-5 responses


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"total": 3, "items": [1, 2]}', Outcome("success", {"total": 3, "items": [1, 2]})),
        (201, b"{}", Outcome("success", {})),
        (200, b"", Outcome("success")),
        (200, b" \r\n\t ", Outcome("success")),
        (200, b"null", Outcome("success")),
        (200, b" null \n", Outcome("success")),
        (204, b"", Outcome("success")),
    ],
)
def test_http5_2xx_outputs(
    step_service: StepService, status: int, body: bytes, expected: Outcome
) -> None:
    base = step_service.route(
        status=status, body=body, headers={"Content-Type": "application/json"}
    )
    assert invoke(step(base)) == expected


@pytest.mark.parametrize(
    "body", [b"[1, 2]", b'"text"', b"42", b"true", b"{not json", b'{"a": 1} trailing']
)
def test_http5_2xx_non_object_is_permanent(step_service: StepService, body: bytes) -> None:
    outcome = invoke(step(step_service.route(body=body)))
    assert outcome.kind == "permanent"
    assert outcome.error.startswith("invalid output JSON: ")


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_http5_4xx_is_permanent(step_service: StepService, status: int) -> None:
    outcome = invoke(step(step_service.route(status=status, body=b"nope")))
    # HTTP-5 (revised): the body's text is kept
    assert outcome == Outcome("permanent", error=f"step returned HTTP error: status {status}: nope")


def test_http5_other_non_2xx_is_permanent(step_service: StepService) -> None:
    # RETRY-1: "any other non-2xx status"; a 3xx without Location is not followed.
    outcome = invoke(step(step_service.route(status=302)))
    assert outcome == Outcome("permanent", error="step returned HTTP error: status 302")


PROBLEM = {"Content-Type": "application/problem+json"}


@pytest.mark.parametrize(
    ("problem", "headers", "suffix"),
    [
        (
            {"type": "t", "title": "Bad", "detail": "amount too large"},
            PROBLEM,
            ": amount too large",
        ),
        ({"title": "Bad Thing"}, PROBLEM, ": Bad Thing"),
        ({"title": "T", "detail": ""}, PROBLEM, ": T"),
        ({"detail": "d"}, {"Content-Type": "Application/Problem+JSON; charset=utf-8"}, ": d"),
        # HTTP-5 (revised): otherwise a JSON error/message/detail, else the text
        ({"detail": "d"}, {"Content-Type": "application/json"}, ": d"),
        ({"error": "db down", "detail": "d"}, {}, ": db down"),
        ({"message": "m"}, {"Content-Type": "application/json"}, ": m"),
        ({"status": 400}, PROBLEM, ': {"status": 400}'),  # no type, title or detail
        ({"type": "about:blank"}, PROBLEM, ': {"type": "about:blank"}'),
        ({"detail": 5}, PROBLEM, ': {"detail": 5}'),  # not a string
    ],
)
def test_http5_problem_json_extends_error(
    step_service: StepService, problem: dict[str, Any], headers: dict[str, str], suffix: str
) -> None:
    url = step_service.route(status=400, body=json.dumps(problem).encode(), headers=headers)
    outcome = invoke(step(url))
    assert outcome == Outcome("permanent", error=f"step returned HTTP error: status 400{suffix}")


def test_http5_invalid_problem_json_keeps_status_text(step_service: StepService) -> None:
    outcome = invoke(step(step_service.route(status=422, body=b"{oops", headers=PROBLEM)))
    assert outcome == Outcome("permanent", error="step returned HTTP error: status 422: {oops")


def test_http5_text_excerpt_is_bounded_and_one_line(step_service: StepService) -> None:
    body = b"<html>\n  <body>" + b"y" * 500 + b"</body>\n</html>"
    outcome = invoke(step(step_service.route(status=404, body=body)))
    expected = ("<html> <body>" + "y" * 500)[:200]
    assert outcome == Outcome(
        "permanent", error=f"step returned HTTP error: status 404: {expected}"
    )
    blank = invoke(step(step_service.route(status=404, body=b"  \n ")))
    assert blank == Outcome("permanent", error="step returned HTTP error: status 404")


@pytest.mark.parametrize("status", [500, 502, 503, 599])
def test_http6_5xx_is_transient(step_service: StepService, status: int) -> None:
    outcome = invoke(step(step_service.route(status=status)))
    assert_transient(outcome, f"step returned HTTP error: status {status}")
    assert outcome.outputs is None


def test_http6_5xx_problem_detail_is_carried(step_service: StepService) -> None:
    body = json.dumps({"title": "Unavailable", "detail": "db down"}).encode()
    outcome = invoke(step(step_service.route(status=503, body=body, headers=PROBLEM)))
    assert_transient(outcome, "step returned HTTP error: status 503", "db down")


def test_http5_redirects_are_followed(step_service: StepService) -> None:
    target = step_service.route(body=b'{"moved": true}')
    get_hop = step_service.route(status=302, headers={"Location": target})
    assert invoke(step(get_hop, method="GET")) == Outcome("success", {"moved": True})
    # 307 keeps the method and the body.
    post_hop = step_service.route(status=307, headers={"Location": target})
    assert invoke(step(post_hop), {"a": 1}) == Outcome("success", {"moved": True})
    post = step_service.received(target)[-1]
    assert (post.method, json.loads(post.body)) == ("POST", {"a": 1})


def test_http5_unreadable_body_is_permanent() -> None:
    # A 200 whose Content-Length promises more than the server sends.
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"
        )
        await writer.drain()
        writer.close()

    async def body(inv: HTTPInvoker) -> Outcome:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await inv.invoke(
                step(f"http://127.0.0.1:{port}/x", method="GET"), {}, metadata()
            )
        finally:
            server.close()
            await server.wait_closed()

    outcome = run(body)
    assert outcome.kind == "permanent"
    assert outcome.error.startswith("unreadable response body")


# ------------------------------------------------------ HTTP-4, RETRY-1 failures


def test_http4_step_timeout_is_transient(step_service: StepService) -> None:
    url = step_service.route(body=b"{}", delay=1.0)
    outcome = invoke(step(url, timeout=150))  # default stays 30 s
    assert_transient(outcome, "timed out after 150 ms")


def test_http4_default_timeout_applies_when_step_has_none(step_service: StepService) -> None:
    url = step_service.route(body=b"{}", delay=1.0)
    outcome = invoke(step(url, timeout=0), default_timeout_ms=150)
    assert_transient(outcome, "timed out after 150 ms")


def test_http4_step_timeout_overrides_default(step_service: StepService) -> None:
    url = step_service.route(body=b'{"late": 1}', delay=0.3)
    assert invoke(step(url, timeout=5000), default_timeout_ms=100) == Outcome(
        "success", {"late": 1}
    )


def test_retry1_connection_refused_is_transient() -> None:
    outcome = invoke(step(f"http://127.0.0.1:{free_port()}/x"))
    assert_transient(outcome, "127.0.0.1")


def test_retry1_dns_failure_is_transient() -> None:
    assert_transient(invoke(step("http://argyll-test.invalid/x", timeout=3000)))


def test_retry1_connection_reset_is_transient() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()  # no status line at all

    async def body(inv: HTTPInvoker) -> Outcome:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await inv.invoke(step(f"http://127.0.0.1:{port}/x"), {}, metadata())
        finally:
            server.close()
            await server.wait_closed()

    assert_transient(run(body))


@pytest.mark.parametrize("endpoint", ["ftp://svc/x", "http://:99999999/x", "not a url"])
def test_invalid_endpoint_url_is_permanent(endpoint: str) -> None:
    outcome = invoke(step(endpoint))
    assert outcome.kind == "permanent"
    assert outcome.error.startswith(f"invalid URL: {endpoint}")


def test_step_without_http_is_permanent() -> None:
    outcome = run(lambda inv: inv.invoke(Step(id="s", type="sync"), {}, metadata()))
    assert outcome.kind == "permanent"


def test_concurrent_invocations_share_the_pool(step_service: StepService) -> None:
    url = step_service.route(body=b'{"ok": 1}')

    async def body(inv: HTTPInvoker) -> list[Outcome]:
        s = step(url + "/{i}")
        return await asyncio.gather(*(inv.invoke(s, {"i": i}, metadata()) for i in range(100)))

    assert run(body) == [Outcome("success", {"ok": 1})] * 100
    assert len(step_service.received(url)) == 100


# -------------------------------------------------------------- ASYNC-1, ASYNC-2


def test_async1_webhook_header_and_success_without_outputs(step_service: StepService) -> None:
    url = step_service.route(status=202, body=b'{"ignored": true}')
    hook = f"http://localhost:8080/webhook/flow-1/step-a/{uuid.uuid4()}"
    meta = metadata(webhook_url=hook)
    outcome = invoke(step(url, type="async"), {"a": 1}, meta)
    assert outcome == Outcome("success")  # ASYNC-2: outputs come by webhook
    (req,) = step_service.received(url)
    assert req.header("argyll-webhook-url") == hook
    assert {h for h in req.header_names if h.startswith("argyll-")} == ARGYLL_HEADERS | {
        "argyll-webhook-url"
    }
    assert json.loads(req.body) == {"a": 1}


@pytest.mark.parametrize(
    ("body", "kind"), [(b"", "success"), (b"null", "success"), (b"[1]", "permanent")]
)
def test_async2_body_parsed_like_http5(step_service: StepService, body: bytes, kind: str) -> None:
    url = step_service.route(body=body)
    outcome = invoke(step(url, type="async"), {}, metadata(webhook_url="http://e/webhook/f/s/t"))
    assert outcome.kind == kind
    assert outcome.outputs is None


@pytest.mark.parametrize(("status", "kind"), [(404, "permanent"), (500, "transient")])
def test_async2_errors_as_for_sync(step_service: StepService, status: int, kind: str) -> None:
    outcome = invoke(step(step_service.route(status=status), type="async"))
    assert outcome.kind == kind
    assert f"status {status}" in outcome.error


# -------------------------------------------------------------- COMP-3, COMP-4


def compensate(
    s: Step,
    inputs: dict[str, Any],
    outputs: dict[str, Any] | None,
    meta: dict[str, Any] | None = None,
) -> Outcome:
    return run(lambda inv: inv.compensate(s, inputs, outputs, meta or metadata()))


def test_comp3_request_body_headers_and_placeholders(step_service: StepService) -> None:
    base = step_service.route(status=200, body=b"not even json")
    s = step("http://unused/", type="async", compensate=base + "/{id}/{order}/undo", method="GET")
    inputs = {"id": "from-input", "order": "o 1", "amount": 5}
    outputs = {"id": "from/output", "receipt": "r"}
    meta = metadata(webhook_url="http://e/webhook/f/s/t", other="x")
    assert compensate(s, inputs, outputs, meta) == Outcome("success")
    (req,) = step_service.received(base)
    prefix = base.removeprefix(step_service.base)
    assert req.method == "POST"  # always POST, whatever the step's method
    assert req.raw_path == f"{prefix}/from%2Foutput/o%201/undo"  # outputs win
    assert json.loads(req.body) == {"input": inputs, "output": outputs}
    assert req.header("content-type") == "application/json"
    assert req.header("accept") == "application/json"
    assert req.header("user-agent") == "Argyll-Engine/0.1.0"
    # EDGE-7: the Argyll headers, and no webhook URL for a compensation.
    assert {h for h in req.header_names if h.startswith("argyll-")} == ARGYLL_HEADERS
    assert req.header("argyll-receipt-token") == meta["receipt_token"]


def test_comp3_no_outputs_sends_null(step_service: StepService) -> None:
    base = step_service.route(status=204)
    s = step("http://unused/", compensate=base + "/{id}")
    assert compensate(s, {"id": 1}, None) == Outcome("success")
    (req,) = step_service.received(base)
    assert json.loads(req.body) == {"input": {"id": 1}, "output": None}


def test_comp3_unresolvable_placeholder_is_permanent(step_service: StepService) -> None:
    base = step_service.route()
    s = step("http://unused/", compensate=base + "/{missing}")
    outcome = compensate(s, {"id": 1}, {"x": 2})
    assert outcome == Outcome("permanent", error="missing endpoint argument: missing")
    assert step_service.received(base) == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, "success"),
        (202, "success"),
        (409, "permanent"),
        (302, "permanent"),
        (503, "transient"),
    ],
)
def test_comp4_outcomes(step_service: StepService, status: int, kind: str) -> None:
    s = step("http://unused/", compensate=step_service.route(status=status))
    outcome = compensate(s, {}, {})
    assert outcome.kind == kind
    if kind == "transient":
        assert_transient(outcome, "status 503")


def test_comp4_transport_error_and_timeout_are_transient(step_service: StepService) -> None:
    refused = step("http://unused/", compensate=f"http://127.0.0.1:{free_port()}/undo")
    assert_transient(compensate(refused, {}, {}))
    slow = step("http://unused/", timeout=100, compensate=step_service.route(delay=1.0))
    assert_transient(compensate(slow, {}, {}), "timed out after 100 ms")


def test_comp_without_compensate_url_is_permanent() -> None:
    assert compensate(step("http://svc/x"), {}, {}).kind == "permanent"


# -------------------------------------------------------------------- HEALTH-4


def probe(url: str, timeout_s: float = 3.0) -> tuple[str, str]:
    return run(lambda inv: inv.probe(url, timeout_s))


def test_health4_probe_healthy(step_service: StepService) -> None:
    url = step_service.route(status=200, body=b"ok")
    assert probe(url) == ("healthy", "")
    (req,) = step_service.received(url)
    assert req.method == "GET"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (503, "HTTP 503 Service Unavailable"),
        (404, "HTTP 404 Not Found"),
        (400, "HTTP 400 Bad Request"),
    ],
)
def test_health4_probe_error_status(step_service: StepService, status: int, error: str) -> None:
    assert probe(step_service.route(status=status)) == ("unhealthy", error)


def test_health4_probe_below_400_is_healthy(step_service: StepService) -> None:
    assert probe(step_service.route(status=204)) == ("healthy", "")


def test_health4_probe_refused_and_timeout() -> None:
    status, error = probe(f"http://127.0.0.1:{free_port()}/health")
    assert status == "unhealthy"
    assert error


def test_health4_probe_timeout(step_service: StepService) -> None:
    status, error = probe(step_service.route(delay=1.0), timeout_s=0.1)
    assert (status, "timed out" in error) == ("unhealthy", True)


def test_health4_probe_invalid_url() -> None:
    assert probe("not a url") == ("unhealthy", "invalid URL: not a url")
    assert probe("ftp://svc/h") == (
        "unhealthy",
        "invalid URL: ftp://svc/h: scheme must be http or https",
    )


# ------------------------------------------------------------------- lifecycle


def test_close_is_idempotent_and_final(step_service: StepService) -> None:
    async def body() -> None:
        inv = HTTPInvoker()
        await inv.close()  # never used: nothing to close
        inv = HTTPInvoker()
        assert (await inv.probe(step_service.route()))[0] == "healthy"
        await inv.close()
        await inv.close()
        with pytest.raises(RuntimeError, match="closed"):
            await inv.invoke(step(step_service.route()), {}, metadata())

    asyncio.run(body())


def test_default_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HTTPInvoker(default_timeout_ms=0)


def test_public_surface() -> None:
    from argyll.engine.execute import http

    assert http.__all__ == ["HTTPInvoker", "MissingArgument", "Outcome", "resolve_url"]
    assert all(hasattr(http, name) for name in http.__all__)
