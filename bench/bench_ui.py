"""Web UI responsiveness: a 500-step catalog and a 1,000-work-item flow.

To run things: ``.venv/bin/python bench/bench_ui.py`` (``--steps N``,
``--items N``). Needs Debian's ``chromium`` (``apt-get install chromium``);
no browser is downloaded.

The engine runs as a user would (``python -m argyll serve``, fresh SQLite
data dir) and the UI is the build shipped in the package, driven by headless
Chromium through Playwright. Measured, in wall-clock milliseconds on this
machine (the browser and the engine share its cores):

- overview: navigation until the graph shows every step (``N steps`` and
  the first cards drawn), with the longest main-thread task (Long Tasks API);
- plan preview: a click on the last step of the dependency chain until the
  plan summary names it;
- live update: a step registered over the API until the overview counts it;
- pan: frame times while dragging the 500-step graph (median and worst);
- the flow: a Lua step with ``for_each`` over N items; from the start request
  until the live view shows ``completed`` with N/N work items, and the same
  for the engine alone (``GET /engine/flow/<id>/status``), with the longest
  main-thread task while events streamed in; then switching to its timeline
  and scrolling it to the end.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
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

LONG_TASKS = """
window.__long = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__long.push(e.duration);
}).observe({ type: "longtask", buffered: true });
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_engine(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "error"}
    cmd = [sys.executable, "-m", "argyll", "serve", "--port", str(port), "--data-dir", data_dir]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("engine did not come up")


def layered_steps(n: int, width: int = 10) -> list[dict[str, Any]]:
    """``n`` Lua steps in layers of ``width``; each reads an output of the layer before."""
    steps = []
    for i in range(n):
        attrs: dict[str, Any] = {f"v{i}": {"role": "output", "type": "number"}}
        if i >= width:
            attrs[f"v{i - width - (i % 3 == 0 and i % width > 0)}"] = {
                "role": "required",
                "type": "number",
            }
        else:
            attrs["seed"] = {"role": "required", "type": "number"}
        steps.append(
            {
                "id": f"s{i:03d}",
                "name": f"Step {i}",
                "type": "script",
                "attributes": attrs,
                "script": {"language": "lua", "script": f"return {{v{i} = 1}}"},
            }
        )
    return steps


def fan_out_step() -> dict[str, Any]:
    return {
        "id": "double-each",
        "name": "Double Each",
        "type": "script",
        "attributes": {
            "items": {"role": "required", "type": "array", "required": {"for_each": True}},
            "doubled": {"role": "output", "type": "number"},
        },
        "script": {"language": "lua", "script": "return {doubled = items * 2}"},
        "work_config": {"parallelism": 50},
    }


def long_max(page: Page) -> float:
    return float(page.evaluate("Math.max(0, ...window.__long)"))


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def frame_times(page: Page, box: dict[str, float]) -> tuple[float, float]:
    page.evaluate(
        """() => { window.__frames = []; let last = performance.now();
        const tick = (t) => { window.__frames.push(t - last); last = t;
          if (window.__frames.length < 400) requestAnimationFrame(tick); };
        requestAnimationFrame(tick); }"""
    )
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(60):
        page.mouse.move(x + (i % 20) * 15 - 150, y + (i % 10) * 10 - 50)
    page.mouse.up()
    frames = sorted(page.evaluate("window.__frames.slice(1)"))
    return frames[len(frames) // 2], frames[-1]


def run(n_steps: int, n_items: int, shots: str = "") -> dict[str, Any]:
    data = tempfile.mkdtemp(prefix="argyll-bench-ui-")
    proc, url = start_engine(data)
    out: dict[str, Any] = {"steps": n_steps, "items": n_items}
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            for step in [*layered_steps(n_steps), fan_out_step()]:
                assert http.post("/engine/step", json=step).status_code == 201
            total_steps = n_steps + 1
            with sync_playwright() as p:
                ctx = p.chromium.launch_persistent_context(
                    tempfile.mkdtemp(prefix="argyll-bench-chromium-"),
                    executable_path=CHROMIUM,
                    args=ARGS,
                    headless=True,
                    viewport={"width": 1400, "height": 850},
                )
                ctx.set_default_timeout(120_000)
                ctx.add_init_script(LONG_TASKS)
                page = ctx.new_page()

                t0 = time.perf_counter()
                page.goto(f"{url}/ui/")
                page.get_by_text(f"{total_steps} steps").wait_for()
                page.locator(".react-flow__node").first.wait_for()
                out["overview_ms"] = ms(t0)
                out["overview_longest_task_ms"] = long_max(page)
                out["overview_cards_drawn"] = page.locator(".react-flow__node").count()
                if shots:
                    page.wait_for_timeout(500)
                    page.screenshot(path=os.path.join(shots, f"ui-overview-{n_steps}.png"))

                graph = page.get_by_test_id("overview-graph").bounding_box()
                assert graph is not None
                out["pan_frame_median_ms"], out["pan_frame_worst_ms"] = frame_times(page, graph)

                last = f"s{n_steps - 1:03d}"
                page.get_by_test_id("step-search").fill(last)  # zooms to the match
                card = page.get_by_test_id(f"step-node-{last}")
                card.wait_for()
                page.wait_for_timeout(1000)  # let the zoom animation settle
                box = card.bounding_box()
                assert box is not None
                t0 = time.perf_counter()
                page.mouse.click(box["x"] + 20, box["y"] + 20)
                page.get_by_test_id("plan-summary").wait_for()
                out["plan_preview_ms"] = ms(t0)
                out["plan_summary"] = page.get_by_test_id("plan-summary").inner_text()
                if shots:
                    page.get_by_test_id("step-search").fill("")
                    page.get_by_test_id("step-search").blur()
                    page.keyboard.press("f")  # fit the plan
                    page.wait_for_timeout(800)
                    page.screenshot(path=os.path.join(shots, f"ui-plan-{n_steps}.png"))
                page.get_by_test_id("step-search").fill("")
                page.wait_for_timeout(500)

                extra = layered_steps(1)[0] | {"id": "late-step"}
                t0 = time.perf_counter()
                assert http.post("/engine/step", json=extra).status_code == 201
                page.get_by_text(f"{total_steps + 1} steps").wait_for()
                out["live_update_ms"] = ms(t0)

                flow_id = "fan-out-1"
                items = list(range(n_items))
                page.goto(f"{url}/ui/flow/{flow_id}")
                page.get_by_test_id("flow-not-found").wait_for()
                page.evaluate("window.__long = []")
                t0 = time.perf_counter()
                body = {"id": flow_id, "goals": ["double-each"], "init": {"items": [items]}}
                assert http.post("/engine/flow", json=body).status_code == 201
                page.reload()
                page.evaluate("window.__long = []")
                engine_done = 0.0
                while True:
                    status = http.get(f"/engine/flow/{flow_id}/status").json()["status"]
                    if status != "active":
                        engine_done = ms(t0)
                        break
                    time.sleep(0.02)
                page.wait_for_function(
                    "document.querySelector('[data-testid=flow-status]')?.textContent === "
                    "'completed'"
                )
                page.get_by_text(f"work {n_items}/{n_items}").wait_for()
                out["flow_engine_ms"] = engine_done
                out["flow_ui_ms"] = ms(t0)
                out["flow_longest_task_ms"] = long_max(page)

                events = http.get(f"/engine/flow/{flow_id}/events").json()["count"]
                out["flow_events"] = events
                t0 = time.perf_counter()
                page.get_by_test_id("tab-timeline").click()
                page.get_by_test_id("tab-timeline").get_by_text(f"Timeline ({events})").wait_for()
                page.get_by_test_id("event-0").wait_for()
                out["timeline_open_ms"] = ms(t0)
                t0 = time.perf_counter()
                page.locator(".timeline-rows").evaluate("el => el.scrollTop = el.scrollHeight")
                page.get_by_test_id(f"event-{events - 1}").wait_for()
                out["timeline_scroll_to_end_ms"] = ms(t0)
                if shots:
                    page.screenshot(path=os.path.join(shots, f"ui-flow-{n_items}-items.png"))
                ctx.close()
    finally:
        print(json.dumps(out), file=sys.stderr)
        proc.terminate()
        proc.wait(timeout=15)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--screenshots", default="", help="a folder to save screenshots in")
    args = parser.parse_args()
    result = run(args.steps, args.items, args.screenshots)
    print(
        json.dumps(
            {k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}, indent=2
        )
    )


if __name__ == "__main__":
    main()
