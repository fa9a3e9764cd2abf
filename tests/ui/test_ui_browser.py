"""The web UI in headless Chromium against a real engine with real steps.

Debian's ``chromium`` driven by Playwright (``scripts/test`` installs it when
missing and it runs as root; no browser is downloaded). The engine is a real
``argyll serve`` process; steps are Lua/Ale scripts and a real loopback HTTP
service. Elements are found by their ``data-testid`` (docs/guides/ui.md).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import EngineProcess, StepServer, eventually

CHROMIUM = os.environ.get("ARGYLL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} not installed (scripts/test installs it when run as root)",
)


def script_step(
    step_id: str, attrs: dict[str, Any], language: str, source: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id.replace("-", " ").title(),
        "type": "script",
        "attributes": attrs,
        "script": {"language": language, "script": source},
        **extra,
    }


ORDER_STEPS = [
    script_step(
        "fetch-order",
        {
            "order_id": {"role": "required", "type": "string"},
            "order": {"role": "output", "type": "object"},
        },
        "lua",
        "return {order = {id = order_id, amount = 120}}",
    ),
    script_step(
        "price-order",
        {
            "order": {"role": "required", "type": "object"},
            "discount": {"role": "optional", "type": "number", "optional": {"default": "0"}},
            "total": {"role": "output", "type": "number"},
        },
        "lua",
        "return {total = order.amount - discount}",
    ),
    script_step(
        "notify",
        {
            "total": {"role": "required", "type": "number"},
            "message": {"role": "output", "type": "string"},
        },
        "ale",
        '{:message (str "total is " total)}',
        predicate={"language": "lua", "script": "return total > 0"},
    ),
    script_step(
        "audit",
        {"order": {"role": "required", "type": "object"}, "audited": {"role": "output"}},
        "lua",
        "return {audited = true}",
    ),
]


async def failing(_: Request) -> JSONResponse:
    return JSONResponse({"error": "inventory service down"}, status_code=503)


async def healthy(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = EngineProcess(tmp_path_factory.mktemp("ui-engine"))
    proc.start()
    try:
        with httpx.Client(base_url=proc.url) as http:
            for step in ORDER_STEPS:
                assert http.post("/engine/step", json=step).status_code == 201
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    routes = [
        Route("/reserve", failing, methods=["POST"]),
        Route("/up", healthy, methods=["GET"]),
        Route("/down", failing, methods=["GET"]),
    ]
    with StepServer(Starlette(routes=routes)) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 1400, "height": 850},
        )
        ctx.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        page.close()
    assert not errors, errors


def shot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    return path


def start_flow(
    engine: str, flow_id: str, goals: list[str], init: dict[str, Any], **extra: Any
) -> None:
    body = {"id": flow_id, "goals": goals, "init": init, **extra}
    r = httpx.post(f"{engine}/engine/flow", json=body)
    assert r.status_code == 201, r.text


def test_overview_shows_steps_and_updates_live(engine: str, page: Page, tmp_path: Path) -> None:
    page.goto(f"{engine}/")
    assert page.url == f"{engine}/ui/"
    for step in ORDER_STEPS:
        expect(page.get_by_test_id(f"step-node-{step['id']}")).to_be_visible()
    card = page.get_by_test_id("step-node-notify")
    expect(card).to_contain_text("Notify")
    expect(card).to_contain_text("total")
    expect(card).to_contain_text("return total > 0")  # the predicate
    expect(page.get_by_test_id("connection")).to_have_text("live")

    new_id = f"late-{uuid.uuid4().hex[:6]}"
    step = script_step(new_id, {"audited": {"role": "required"}}, "lua", "return {}")
    assert httpx.post(f"{engine}/engine/step", json=step).status_code == 201
    expect(page.get_by_test_id(f"step-node-{new_id}")).to_be_visible()
    shot(page, tmp_path, "overview")
    assert httpx.delete(f"{engine}/engine/step/{new_id}").status_code == 200
    expect(page.get_by_test_id(f"step-node-{new_id}")).to_have_count(0)


def test_health_dots_follow_health_checks(engine: str, service: str, page: Page) -> None:
    step_id = f"checked-{uuid.uuid4().hex[:6]}"
    step = {
        "id": step_id,
        "name": "Checked",
        "type": "sync",
        "attributes": {"ping": {"role": "output"}},
        "http": {"endpoint": f"{service}/reserve", "health_check": f"{service}/up"},
    }
    page.goto(f"{engine}/ui/")
    expect(page.get_by_test_id("step-node-notify")).to_be_visible()
    assert httpx.post(f"{engine}/engine/step", json=step).status_code == 201
    card = page.get_by_test_id(f"step-node-{step_id}")
    expect(card).to_have_attribute("data-health", "healthy")
    step["http"] = {"endpoint": f"{service}/reserve", "health_check": f"{service}/down"}
    assert httpx.put(f"{engine}/engine/step/{step_id}", json=step).status_code == 200
    expect(card).to_have_attribute("data-health", "unhealthy")
    assert httpx.delete(f"{engine}/engine/step/{step_id}").status_code == 200


def test_selecting_goals_previews_the_plan(engine: str, page: Page) -> None:
    page.goto(f"{engine}/ui/")
    page.get_by_test_id("step-node-price-order").click()
    expect(page.get_by_test_id("plan-summary")).to_have_text("1 goal, 2 steps")
    expect(page.get_by_test_id("plan-required")).to_have_text("needs: order_id")
    expect(page.get_by_test_id("step-node-notify")).to_have_attribute("data-dimmed", "true")
    expect(page.get_by_test_id("step-node-fetch-order")).to_have_attribute("data-dimmed", "false")
    page.get_by_test_id("step-node-audit").click(modifiers=["Control"])
    expect(page.get_by_test_id("plan-summary")).to_have_text("2 goals, 3 steps")
    # the start panel lists the inputs with their types and defaults
    expect(page.get_by_test_id("init-input-order_id")).to_be_visible()
    expect(page.get_by_test_id("init-input-discount")).to_have_attribute(
        "placeholder", "default: 0"
    )
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("plan-summary")).to_have_count(0)
    # keyboard: focus a step card and press Enter to make it the goal
    page.locator('.react-flow__node[data-id="notify"]').focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("plan-summary")).to_have_text("1 goal, 3 steps")


def test_starting_from_the_form_opens_the_live_view_until_completed(
    engine: str, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{engine}/ui/")
    page.get_by_test_id("step-node-notify").click()
    expect(page.get_by_test_id("plan-summary")).to_have_text("1 goal, 3 steps")
    flow_id = f"order-{uuid.uuid4().hex[:8]}"
    page.get_by_test_id("flow-id-input").fill(flow_id)
    page.get_by_test_id("init-input-discount").fill("20")
    page.get_by_test_id("start-flow").click()  # order_id is missing
    expect(page.get_by_test_id("start-error")).to_contain_text("fix the highlighted inputs")
    page.get_by_test_id("init-input-order_id").fill("o-1")
    page.get_by_test_id("start-flow").click()

    page.wait_for_url(f"**/ui/flow/{flow_id}")
    expect(page.get_by_test_id("flow-status")).to_have_text("completed")
    for step_id in ("fetch-order", "price-order", "notify"):
        expect(page.get_by_test_id(f"live-step-{step_id}")).to_have_attribute(
            "data-status", "completed"
        )
    expect(page.get_by_test_id("attr-message")).to_contain_text('"total is 100"')
    expect(page.get_by_test_id("attr-message")).to_contain_text("from notify")
    expect(page.get_by_test_id("attr-total")).to_contain_text("100")
    expect(page.get_by_test_id(f"flow-row-{flow_id}")).to_have_attribute("data-status", "completed")
    shot(page, tmp_path, "flow-completed")

    page.get_by_test_id("tab-timeline").click()
    timeline = page.get_by_test_id("event-timeline")
    expect(timeline).to_contain_text("flow_started")
    expect(timeline).to_contain_text("flow_completed")
    page.get_by_test_id("timeline-filter").select_option("attribute_set")
    expect(timeline.locator(".event-row")).to_have_count(3)
    timeline.locator(".event-row").first.click()
    expect(page.get_by_test_id("event-payload")).to_contain_text('"key": "order"')

    # the engine refuses a duplicate start with different inputs: its error is shown
    page.goto(f"{engine}/ui/")
    page.get_by_test_id("step-node-notify").click()
    page.get_by_test_id("flow-id-input").fill(flow_id)
    page.get_by_test_id("init-input-order_id").fill("o-2")
    page.get_by_test_id("start-flow").click()
    expect(page.get_by_test_id("start-error")).to_have_text(
        f"flow exists with different plan or init: {flow_id}"
    )

    # deep link, then Run again: a new flow, same goals and inputs
    page.goto(f"{engine}/ui/flow/{flow_id}")
    expect(page.get_by_test_id("flow-status")).to_have_text("completed")
    page.get_by_test_id("run-again").click()
    page.wait_for_url(re.compile(rf".*/ui/flow/{flow_id}-r[0-9a-z]+$"))
    expect(page.get_by_test_id("flow-status")).to_have_text("completed")
    expect(page.get_by_test_id("attr-message")).to_contain_text('"total is 100"')


def test_a_failing_http_step_shows_its_error_and_retry_countdown(
    engine: str, service: str, page: Page, tmp_path: Path
) -> None:
    step = {
        "id": "reserve-stock",
        "name": "Reserve Stock",
        "type": "sync",
        "attributes": {
            "order": {"role": "required", "type": "object"},
            "reserved": {"role": "output"},
        },
        "http": {"endpoint": f"{service}/reserve"},
        "work_config": {"max_retries": 1, "init_backoff": 3000, "backoff_type": "fixed"},
    }
    r = httpx.post(f"{engine}/engine/step", json=step)
    assert r.status_code in (201, 409), r.text
    flow_id = f"reserve-{uuid.uuid4().hex[:8]}"
    page.goto(f"{engine}/ui/flow/{flow_id}")
    expect(page.get_by_test_id("flow-not-found")).to_be_visible()
    start_flow(engine, flow_id, ["reserve-stock"], {"order_id": ["o-9"]})
    page.reload()

    retry = page.get_by_test_id("retry-reserve-stock")
    expect(retry).to_contain_text(re.compile(r"retry in \d+s"))
    error = page.get_by_test_id("error-reserve-stock")
    expect(error).to_contain_text("step returned HTTP error: status 503")
    shot(page, tmp_path, "flow-retrying")
    expect(page.get_by_test_id("flow-status")).to_have_text("failed")
    expect(page.get_by_test_id("live-step-reserve-stock")).to_have_attribute(
        "data-status", "failed"
    )
    expect(page.get_by_test_id("flow-error")).to_contain_text("status 503")
    expect(page.get_by_test_id("work-reserve-stock")).to_contain_text("1 failed")


def test_the_flow_list_filters_and_updates_live(engine: str, page: Page) -> None:
    tag = uuid.uuid4().hex[:6]
    start_flow(engine, f"list-{tag}-a", ["notify"], {"order_id": ["a"]}, labels={"team": "red"})
    start_flow(engine, f"list-{tag}-b", ["notify"], {"order_id": ["b"]}, labels={"team": "blue"})
    page.goto(f"{engine}/ui/")
    rows = page.get_by_test_id("flow-list").locator("a.flow-row")
    expect(page.get_by_test_id(f"flow-row-list-{tag}-a")).to_be_visible()
    page.keyboard.press("/")
    expect(page.get_by_test_id("flow-search")).to_be_focused()
    page.keyboard.type(f"list-{tag}")
    expect(rows).to_have_count(2)
    page.get_by_test_id("flow-label-filter").fill("team=red")
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id(f"flow-row-list-{tag}-a")).to_be_visible()
    page.get_by_test_id("flow-label-filter").fill("")
    page.get_by_test_id("flow-status-filter").select_option("failed")
    expect(rows).to_have_count(0)
    page.get_by_test_id("flow-status-filter").select_option("")
    expect(rows).to_have_count(2)
    # a flow started elsewhere appears, and its status follows
    start_flow(engine, f"list-{tag}-c", ["notify"], {"order_id": ["c"]})
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id(f"flow-row-list-{tag}-c")).to_have_attribute(
        "data-status", "completed"
    )
    page.get_by_test_id(f"flow-row-list-{tag}-c").click()
    page.wait_for_url(f"**/ui/flow/list-{tag}-c")
    expect(page.get_by_test_id("flow-title")).to_have_text(f"list-{tag}-c")


def test_the_flow_list_loads_more_by_cursor(engine: str, page: Page) -> None:
    tag = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=engine) as http:
        for i in range(53):  # one page is 50
            body = {
                "id": f"bulk-{tag}-{i:02d}",
                "goals": ["fetch-order"],
                "init": {"order_id": ["x"]},
            }
            assert http.post("/engine/flow", json=body).status_code == 201

        def all_done() -> bool:
            query = {"id_prefix": f"bulk-{tag}", "statuses": ["active"]}
            return http.post("/engine/flow/query", json=query).json()["count"] == 0

        eventually(all_done, timeout=30, message="bulk flows finished")
    page.goto(f"{engine}/ui/")
    page.get_by_test_id("flow-search").fill(f"bulk-{tag}")
    rows = page.get_by_test_id("flow-list").locator("a.flow-row")
    expect(page.get_by_test_id("flow-count")).to_have_text("50 of 53")
    expect(rows).to_have_count(50)
    page.get_by_test_id("flow-load-more").click()
    expect(rows).to_have_count(53)
    expect(page.get_by_test_id("flow-load-more")).to_have_count(0)
    expect(page.get_by_test_id("flow-count")).to_have_text("53 of 53")


def test_the_step_editor_registers_and_updates_steps(engine: str, page: Page) -> None:
    page.goto(f"{engine}/ui/")
    expect(page.get_by_test_id("step-node-notify")).to_be_visible()
    page.keyboard.press("n")
    editor = page.get_by_test_id("step-editor-json")
    expect(editor).to_be_focused()
    step_id = f"greet-{uuid.uuid4().hex[:6]}"
    step = script_step(
        step_id,
        {"name": {"role": "required", "type": "string"}, "greeting": {"role": "output"}},
        "lua",
        'return {greeting = "hi " .. name}',
    )
    editor.fill('{"id": "bad", "type": "script"}')
    page.get_by_test_id("step-editor-register").click()
    expect(page.get_by_test_id("step-editor-message")).to_contain_text("invalid step")
    editor.fill(json.dumps(step))
    page.get_by_test_id("step-editor-register").click()
    expect(page.get_by_test_id("step-editor-message")).to_have_text(f"Step registered: {step_id}")
    expect(page.get_by_test_id(f"step-node-{step_id}")).to_be_visible()

    page.keyboard.press("Escape")
    page.get_by_test_id(f"step-node-{step_id}").click()
    page.get_by_test_id(f"edit-step-{step_id}").click()
    step["name"] = "Greeter Renamed"
    page.get_by_test_id("step-editor-json").fill(json.dumps(step))
    page.get_by_test_id("step-editor-update").click()
    expect(page.get_by_test_id("step-editor-message")).to_have_text(f"Step updated: {step_id}")
    expect(page.get_by_test_id(f"step-node-{step_id}")).to_contain_text("Greeter Renamed")


def test_theme_switch_and_keyboard_help(engine: str, page: Page, tmp_path: Path) -> None:
    page.goto(f"{engine}/ui/")
    expect(page.get_by_test_id("step-node-notify")).to_be_visible()
    before = page.evaluate("document.documentElement.dataset.theme")
    page.keyboard.press("t")
    after = page.evaluate("document.documentElement.dataset.theme")
    assert {before, after} == {"light", "dark"}
    if after != "dark":
        page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.get_by_test_id("step-node-notify").click()
    expect(page.get_by_test_id("plan-summary")).to_be_visible()
    shot(page, tmp_path, "overview-dark")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()  # the choice is remembered
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.get_by_test_id("theme-toggle").click()


def test_an_engine_with_api_tokens_asks_for_one(
    tmp_path_factory: pytest.TempPathFactory, page: Page
) -> None:
    env = {"API_TOKENS": "full-tok:full,peek:read"}
    proc = EngineProcess(tmp_path_factory.mktemp("ui-auth-engine"), env=env)
    proc.start()
    try:
        step = ORDER_STEPS[0]
        auth = {"Authorization": "Bearer full-tok"}
        assert httpx.post(f"{proc.url}/engine/step", json=step, headers=auth).status_code == 201
        page.goto(f"{proc.url}/ui/")
        expect(page.get_by_test_id("token-message")).to_have_text("missing bearer token")
        page.get_by_test_id("token-input").fill("full-tok")
        page.get_by_test_id("token-save").click()
        expect(page.get_by_test_id("step-node-fetch-order")).to_be_visible()
        expect(page.get_by_test_id("connection")).to_have_text("live")  # the WebSocket too
        page.get_by_test_id("step-node-fetch-order").click()
        page.get_by_test_id("init-input-order_id").fill("o-7")
        page.get_by_test_id("start-flow").click()
        expect(page.get_by_test_id("flow-status")).to_have_text("completed")
        page.evaluate("localStorage.removeItem('argyll-token')")  # leave the profile as found
    finally:
        proc.stop()


def test_a_flow_step_links_to_its_child_flow_and_back(engine: str, page: Page) -> None:
    step = {
        "id": "notify-sub",
        "name": "Notify as a sub-flow",
        "type": "flow",
        "flow": {"goals": ["notify"]},
        "attributes": {
            "customer_order": {"role": "required", "required": {"mapping": {"name": "order_id"}}},
            "summary": {"role": "output", "output": {"mapping": {"name": "message"}}},
        },
    }
    r = httpx.post(f"{engine}/engine/step", json=step)
    assert r.status_code in (201, 409), r.text
    flow_id = f"parent-{uuid.uuid4().hex[:8]}"
    start_flow(engine, flow_id, ["notify-sub"], {"customer_order": ["o-5"]})
    page.goto(f"{engine}/ui/flow/{flow_id}")
    expect(page.get_by_test_id("flow-status")).to_have_text("completed")
    expect(page.get_by_test_id("attr-summary")).to_contain_text('"total is 120"')
    page.get_by_test_id("live-step-notify-sub").click()
    child = page.locator('[data-testid^="child-flow-"]')
    expect(child).to_have_count(1)
    child.click()
    page.wait_for_url(re.compile(rf".*/ui/flow/{flow_id}%3Anotify-sub%3A.+"))
    expect(page.get_by_test_id("flow-title")).to_contain_text(f"{flow_id}:notify-sub:")
    expect(page.get_by_test_id("flow-status")).to_have_text("completed")
    expect(page.get_by_test_id("live-step-notify")).to_have_attribute("data-status", "completed")
    page.get_by_test_id("parent-flow").click()
    expect(page.get_by_test_id("flow-title")).to_have_text(flow_id)
