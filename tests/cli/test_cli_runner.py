"""The ``argyll`` command line through click's CliRunner, against a real engine."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_support import failing_step, price_steps, write_yaml
from click.testing import CliRunner, Result

from argyll import __version__
from argyll.cli.app import cli
from argyll.cli.flow_view import FlowView


@pytest.fixture
def run(engine_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--engine", engine_url, *args], catch_exceptions=False)

    return invoke


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"argyll, version {__version__}"


def test_steps_register_list_get_update_delete(run: Any, uid: str, tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "steps.yaml", price_steps(uid))
    registered = run("step", "register", "-f", str(path))
    assert registered.exit_code == 0, registered.output
    assert registered.stdout.splitlines() == [
        f"registered step sub-{uid}",
        f"registered step tax-{uid}",
    ]
    ids = [s["id"] for s in as_json(run("step", "list", "--json"))]
    assert {f"sub-{uid}", f"tax-{uid}"} <= set(ids)
    assert f"sub-{uid}" in run("step", "list").stdout

    got = as_json(run("step", "get", f"tax-{uid}", "--json"))
    assert got["script"]["language"] == "lua"
    assert "name: With tax" in run("step", "get", f"tax-{uid}").stdout

    changed = price_steps(uid)[1:]
    changed[0]["name"] = "With double tax"
    update_file = tmp_path / "update.json"
    update_file.write_text(json.dumps(changed[0]))
    updated = as_json(run("step", "update", "-f", str(update_file), "--json"))
    assert updated[0]["name"] == "With double tax"

    assert run("step", "delete", f"tax-{uid}").stdout.strip() == f"deleted step tax-{uid}"
    missing = run("step", "get", f"tax-{uid}")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"Error: step not found: tax-{uid}"


def test_plan_shows_what_is_missing(run: Any, uid: str, tmp_path: Path) -> None:
    run("step", "register", "-f", str(write_yaml(tmp_path / "s.yaml", price_steps(uid))))
    plan = as_json(run("plan", f"tax-{uid}", "--init", f"price_{uid}=2", "--json"))
    assert plan["required"] == [f"qty_{uid}"]
    assert set(plan["steps"]) == {f"sub-{uid}", f"tax-{uid}"}
    tree = run("plan", f"tax-{uid}", "--init", f"price_{uid}=2").stdout
    assert f"qty_{uid} missing" in tree
    assert f"price_{uid} init" in tree
    assert f"missing inputs: qty_{uid}" in tree


def test_start_wait_get_list_events(run: Any, uid: str, tmp_path: Path) -> None:
    run("step", "register", "-f", str(write_yaml(tmp_path / "s.yaml", price_steps(uid))))
    flow_id = f"order-{uid}"
    started = run(
        "flow", "start", flow_id, "--goal", f"tax-{uid}",
        "--init", f"price_{uid}=2.5", "--init", f"qty_{uid}=4",
        "--label", f"team={uid}", "--wait", "--json",
    )  # fmt: skip
    state = as_json(started)
    assert state["status"] == "completed"
    assert state["attributes"][f"total_{uid}"][0]["value"] == 20

    shown = run("flow", "get", flow_id)
    assert shown.exit_code == 0
    assert f"flow {flow_id} completed" in shown.stdout
    assert f"total_{uid}" in shown.stdout

    listed = as_json(run("flow", "list", "--label", f"team={uid}", "--json"))
    assert [f["id"] for f in listed["flows"]] == [flow_id]
    assert (
        as_json(run("flow", "list", "--prefix", flow_id, "--status", "failed", "--json"))["flows"]
        == []
    )
    assert flow_id in run("flow", "list", "--label", f"team={uid}").stdout

    events = as_json(run("flow", "events", flow_id, "--type", "step_completed", "--json"))
    assert [e["data"]["step_id"] for e in events] == [f"sub-{uid}", f"tax-{uid}"]
    assert "step_completed" in run("flow", "events", flow_id).stdout


def test_replaying_real_events_gives_the_engine_state(run: Any, uid: str, tmp_path: Path) -> None:
    """The watch view's projection agrees with the engine's on a real flow."""
    run("step", "register", "-f", str(write_yaml(tmp_path / "s.yaml", price_steps(uid))))
    flow_id = f"replay-{uid}"
    goal = ["--goal", f"tax-{uid}", "--init", f"price_{uid}=3", "--init", f"qty_{uid}=2"]
    as_json(run("flow", "start", flow_id, *goal, "--wait", "--json"))
    state = as_json(run("flow", "get", flow_id, "--json"))
    view = FlowView(flow_id)
    for event in as_json(run("flow", "events", flow_id, "--json")):
        view.apply(event["type"], event["data"], event["timestamp"])
    assert view.status == "completed"
    assert view.deactivated
    assert view.outputs() == {f"total_{uid}": 12}
    for step_id, execution in state["executions"].items():
        mine = view.state["executions"][step_id]
        assert mine["status"] == execution["status"]
        assert {t: i["status"] for t, i in mine["work_items"].items()} == {
            t: i["status"] for t, i in execution["work_items"].items()
        }


def test_failing_flow_exits_1(run: Any, uid: str, tmp_path: Path) -> None:
    run("step", "register", "-f", str(write_yaml(tmp_path / "s.yaml", [failing_step(uid)])))
    flow_id = f"boom-{uid}"
    started = run("flow", "start", flow_id, "--goal", f"boom-{uid}", "--init", f"in_{uid}=1")
    assert started.exit_code == 0, started.output
    watched = run("flow", "watch", flow_id, "--timeout", "30")
    assert watched.exit_code == 1, watched.output
    assert f"flow {flow_id} failed" in watched.stdout
    assert "boom on purpose" in watched.stdout
    again = run("flow", "start", f"{flow_id}-2", "--goal", f"boom-{uid}",
                "--init", f"in_{uid}=1", "--wait")  # fmt: skip
    assert again.exit_code == 1


def test_health_and_cluster(run: Any, uid: str, tmp_path: Path) -> None:
    run("step", "register", "-f", str(write_yaml(tmp_path / "s.yaml", price_steps(uid))))
    health = as_json(run("health", "--json"))
    assert health["service"]["status"] == "healthy"
    nodes = health["steps"]["nodes"]
    assert any(f"sub-{uid}" in (n.get("health") or {}) for n in nodes.values())
    one = as_json(run("health", f"sub-{uid}", "--json"))
    assert one["status"] == "healthy"
    assert run("health", f"sub-{uid}").stdout.strip() == f"sub-{uid} healthy"
    assert "argyll-engine healthy" in run("health").stdout
    cluster = as_json(run("cluster", "--json"))
    assert "argyll-1" in cluster["nodes"]
    assert "argyll-1" in run("cluster").stdout


def test_engine_errors_are_one_line_and_exit_1(run: Any, uid: str) -> None:
    missing = run("flow", "get", f"nope-{uid}")
    assert missing.exit_code == 1
    assert missing.stderr == f"Error: flow not found: nope-{uid}\n"
    unknown_goal = run("flow", "start", f"x-{uid}", "--goal", f"nope-{uid}")
    assert unknown_goal.exit_code == 1
    assert unknown_goal.stderr == f"Error: step not found: [nope-{uid}]\n"
    bad_label = run("flow", "list", "--label", "team=")
    assert bad_label.exit_code == 2


def test_unreachable_engine_exits_1() -> None:
    result = CliRunner().invoke(cli, ["--engine", "http://127.0.0.1:9", "step", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the engine at http://127.0.0.1:9")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["flow", "start", "f1"],  # no --goal
        ["flow", "list", "--status", "bogus"],
        ["flow", "list", "--limit", "5000"],
        ["plan", "g", "--init", "novalue"],
        ["step", "register"],
        ["step", "register", "-f", "/nonexistent/steps.yaml"],
        ["nosuchcommand"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--engine", "http://127.0.0.1:9", *args])
    assert result.exit_code == 2, result.output


def test_bad_step_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nname: [unclosed\n")
    result = CliRunner().invoke(cli, ["step", "register", "-f", str(path)])
    assert result.exit_code == 2
    assert "is not valid JSON/YAML" in result.stderr
    path.write_text("id: 5\n")
    result = CliRunner().invoke(cli, ["step", "register", "-f", str(path)])
    assert result.exit_code == 2
    assert "Expected `str`, got `int`" in result.stderr


def test_token_is_sent_as_bearer_on_every_request() -> None:
    """--token reaches a real HTTP server as ``Authorization: Bearer``, on SDK and thin calls."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            body = b'{"steps": [], "count": 0, "nodes": {}, "status": "healthy"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        runner = CliRunner(env={"ARGYLL_TOKEN": "s3cret"})
        assert runner.invoke(cli, ["--engine", url, "step", "list"]).exit_code == 0
        assert runner.invoke(cli, ["--engine", url, "cluster", "--json"]).exit_code == 0
        flag = runner.invoke(cli, ["--engine", url, "--token", "other", "step", "list"])
        assert flag.exit_code == 0
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [
        ("/engine/step", "Bearer s3cret"),
        ("/engine/cluster", "Bearer s3cret"),
        ("/engine/step", "Bearer other"),
    ]


def test_register_from_stdin(engine_url: str, uid: str) -> None:
    step = json.dumps(price_steps(uid)[0])
    result = CliRunner().invoke(
        cli, ["--engine", engine_url, "step", "register", "-f", "-"], input=step
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"registered step sub-{uid}\n"


def test_plan_of_a_flow_step_shows_the_child_flow(run: Any, uid: str, tmp_path: Path) -> None:
    parent = {
        "id": f"order-{uid}",
        "name": "Order",
        "type": "flow",
        "flow": {"goals": [f"tax-{uid}"]},
        "attributes": {
            f"unit_{uid}": {
                "role": "required",
                "type": "number",
                "required": {"mapping": {"name": f"price_{uid}"}},
            },
            f"qty_{uid}": {"role": "required", "type": "number"},
            f"total_{uid}": {"role": "output", "type": "number"},
        },
    }
    path = write_yaml(tmp_path / "s.yaml", [*price_steps(uid), parent])
    assert run("step", "register", "-f", str(path)).exit_code == 0
    tree = run("plan", f"order-{uid}", "--init", f"qty_{uid}=2").stdout
    assert "child flow" in tree
    assert f"price_{uid} from parent" in tree
    assert f"unit_{uid} missing" in tree


def test_step_get_output_updates_the_step(run: Any, uid: str, tmp_path: Path) -> None:
    """``step get`` prints YAML that ``step update -f`` takes back (scripts as blocks)."""
    step = price_steps(uid)[0]
    step["script"]["script"] = f"local n = price_{uid} * qty_{uid}\nreturn {{sub_{uid} = n}}\n"
    run("step", "register", "-f", str(write_yaml(tmp_path / "s.yaml", [step])))
    shown = run("step", "get", f"sub-{uid}")
    assert "  script: |\n    local n = " in shown.stdout
    saved = tmp_path / "saved.yaml"
    saved.write_text(shown.stdout)
    assert run("step", "update", "-f", str(saved)).stdout == f"updated step sub-{uid}\n"
    assert as_json(run("step", "get", f"sub-{uid}", "--json"))["script"] == step["script"]
