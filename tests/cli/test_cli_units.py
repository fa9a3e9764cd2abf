"""Pure pieces of the command line: parsing, step files, the flow view, templates."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from rich.console import Console

from argyll.cli.api import websocket_url
from argyll.cli.common import parse_init, parse_labels
from argyll.cli.flow_view import FlowView, parse_time, render_flow
from argyll.cli.handler_template import handler_template
from argyll.cli.steps import load_steps

ROOT = Path(__file__).resolve().parents[2]


def test_init_values_are_json_with_a_string_fallback() -> None:
    init = parse_init(("n=1", "n=2", "xs=[1,2]", "name=Ada", 'quoted="x"', 'obj={"a":1}'))
    assert init == {
        "n": [1, 2],
        "xs": [[1, 2]],
        "name": ["Ada"],
        "quoted": ["x"],
        "obj": [{"a": 1}],
    }
    assert parse_init(("eq=a=b",)) == {"eq": ["a=b"]}
    with pytest.raises(click.BadParameter):
        parse_init(("novalue",))
    with pytest.raises(click.BadParameter):
        parse_init(("=1",))


def test_labels() -> None:
    assert parse_labels(("team=a", "env=prod")) == {"team": "a", "env": "prod"}
    with pytest.raises(click.BadParameter):
        parse_labels(("team=",))


def test_websocket_url() -> None:
    assert websocket_url("http://localhost:8080/") == "ws://localhost:8080/engine/ws"
    assert websocket_url("https://argyll.example/engine") == "wss://argyll.example/engine/ws"


STEP = {"id": "a", "name": "A", "type": "script", "script": {"language": "lua", "script": "1"}}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("one.json", json.dumps(STEP)),
        ("list.json", json.dumps([STEP, {**STEP, "id": "b"}])),
        ("wrapped.yaml", json.dumps({"steps": [STEP, {**STEP, "id": "b"}]})),
        ("docs.yaml", "id: a\nname: A\ntype: script\n---\nid: b\nname: B\ntype: script\n"),
        ("list.yml", "- {id: a, name: A, type: script}\n- {id: b, name: B, type: script}\n"),
    ],
)
def test_step_files(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    ids = [step.id for step in load_steps(path)]
    assert ids == (["a"] if name == "one.json" else ["a", "b"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no steps"),
        ("- 5\n", "entry 1 is not an object"),
        ("id: a\nattributes: {x: {role: 7}}\n", "step a: Expected `str`, got `int`"),
        ("{", "is not valid JSON/YAML"),
    ],
)
def test_bad_step_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "steps.yaml"
    path.write_text(text)
    with pytest.raises(click.BadParameter, match=message.replace("[", r"\[")):
        load_steps(path)


def test_parse_time() -> None:
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("nonsense") is None
    parsed = parse_time("2026-01-02T03:04:05.123456789Z")
    assert parsed == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def _plain(view: FlowView, now: datetime) -> str:
    out = Console(width=160, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    out.print(render_flow(view, now))
    out.file.close()
    return out.export_text()


def test_view_shows_progress_retries_and_outputs() -> None:
    plan = {
        "goals": ["fan"],
        "steps": {
            "fan": {
                "id": "fan",
                "attributes": {"xs": {"role": "required"}, "ys": {"role": "output"}},
            }
        },
    }
    view = FlowView("f1")
    view.apply("flow_started", {"flow_id": "f1", "plan": plan, "init": {}}, 0)
    tokens = {"t1": {}, "t2": {}, "t3": {}}
    view.apply("step_started", {"step_id": "fan", "work_items": tokens}, 1000)
    view.apply("work_started", {"step_id": "fan", "token": "t1"}, 1001)
    view.apply("work_succeeded", {"step_id": "fan", "token": "t1", "outputs": {}}, 1002)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    retry_at = (now + timedelta(seconds=2.5)).isoformat().replace("+00:00", "Z")
    view.apply(
        "work_retry_scheduled",
        {"step_id": "fan", "token": "t2", "retry_count": 1, "next_retry_at": retry_at,
         "error": "HTTP 503 [busy]"},
        1003,
    )  # fmt: skip
    later = (now + timedelta(seconds=4)).isoformat().replace("+00:00", "Z")
    view.apply(
        "work_retry_scheduled",
        {"step_id": "fan", "token": "t3", "retry_count": 2, "next_retry_at": later,
         "error": "timeout"},
        1003,
    )  # fmt: skip
    view.apply("work_started", {"step_id": "nope", "token": "t9"}, 1004)  # unknown: ignored
    text = _plain(view, now)
    assert "flow f1 active" in text
    assert "1/3" in text
    assert "retry 1 in 2.5s (+1 more): HTTP 503 [busy]" in text
    assert not view.terminal

    for token in ("t2", "t3"):
        view.apply("work_succeeded", {"step_id": "fan", "token": token, "outputs": {}}, 1005)
    view.apply("step_completed", {"step_id": "fan", "outputs": {"ys": [1]}, "duration": 7}, 1006)
    view.apply("attribute_set", {"step_id": "fan", "key": "ys", "value": [1, 2]}, 1006)
    view.apply("flow_completed", {"flow_id": "f1", "result": {"ys": [1, 2]}}, 1007)
    assert view.terminal and not view.finished
    view.apply("flow_deactivated", {"flow_id": "f1", "status": "completed"}, 1008)
    assert view.finished
    text = _plain(view, now)
    assert "flow f1 completed" in text
    assert "3/3" in text
    assert "7 ms" in text
    assert "[1,2]" in text
    assert view.outputs() == {"ys": [1, 2]}


def test_view_of_a_failed_flow() -> None:
    view = FlowView("f2", {"id": "f2", "status": "active", "executions": {}, "attributes": {}})
    view.apply("step_failed", {"step_id": "s", "error": "lua execution error: boom"}, 5)
    view.apply("flow_failed", {"flow_id": "f2", "error": "step s failed"}, 6)
    assert view.status == "failed"
    text = _plain(view, datetime.now(UTC))
    assert "flow f2 failed  step s failed" in text
    assert "lua execution error: boom" in text


FULL_STEP = {
    "id": "ship-order",
    "name": "Ship order",
    "type": "async",
    "attributes": {
        "order": {"role": "required", "type": "object", "required": {"for_each": True}},
        "class": {"role": "optional", "type": "string", "optional": {"default": '"std"'}},
        "region code": {
            "role": "required",
            "type": "string",
            "required": {"mapping": {"name": "region-code"}},
        },
        "currency": {"role": "const", "type": "string", "const": {"value": '"EUR"'}},
        "flow": {"role": "meta", "meta": {"key": "flow_id"}},
        "tracking": {"role": "output", "type": "string", "output": {"mapping": {"name": "trk"}}},
    },
    "labels": {"team": "logistics"},
    "predicate": {"language": "lua", "script": "return true"},
    "http": {"endpoint": "http://x/ship", "timeout": 5000},
    "work_config": {"max_retries": 3, "backoff_type": "fixed"},
}


def test_handler_template_is_valid_python_for_every_attribute_kind() -> None:
    code = handler_template(FULL_STEP)
    compile(code, "ship_order.py", "exec")
    assert "order = args['order']  # required, object" in code
    assert "class_ = args.get('class')  # optional, string" in code
    assert "region_code = args['region-code']" in code
    assert ".required('order', 'object', for_each=True)" in code
    assert ".required('region code', 'string', inner_name='region-code')" in code
    assert ".optional('class', 'string', '\"std\"')" in code
    assert ".const('currency', 'string', '\"EUR\"')" in code
    assert ".meta('flow', 'flow_id', '')" in code
    assert ".output('tracking', 'string', inner_name='trk')" in code
    assert ".with_async_execution()" in code
    assert "webhook.success({'trk': None})" in code
    assert ".with_work_config(max_retries=3, backoff_type='fixed')" in code
    assert ".with_timeout(5000)" in code


def test_handler_template_builds_the_same_step(tmp_path: Path) -> None:
    """The generated builder, run for real, produces the definition it came from."""
    step = {
        "id": "greet",
        "name": "Greet",
        "type": "sync",
        "attributes": {
            "who": {"role": "required", "type": "string"},
            "greeting": {"role": "output", "type": "string"},
        },
    }
    module = tmp_path / "greet_step.py"
    module.write_text(handler_template(step))
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import msgspec, greet_step\n"
        "from argyll import Client, StepContext\n"
        "built = greet_step.step(Client()).with_endpoint('http://s/greet').build()\n"
        "print(json.dumps(msgspec.to_builtins(built)))\n"
        "ctx = StepContext(client=Client().flow('f'), step_id='greet')\n"
        "print(json.dumps(greet_step.handle(ctx, {'who': 'Ada'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    built, outputs = (json.loads(line) for line in result.stdout.splitlines())
    assert built["id"] == "greet"
    assert built["attributes"] == step["attributes"]
    assert outputs == {"greeting": None}


def test_import_argyll_does_not_load_the_cli() -> None:
    code = "import json, sys, argyll\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    # click and rich are not listed: httpx itself imports them when they are installed.
    heavy = ("mcp", "yaml", "websockets", "pydantic", "anyio")
    assert [m for m in loaded if m.split(".")[0] in heavy or m.startswith("argyll.cli")] == []


def test_view_lists_steps_in_dependency_order() -> None:
    plan = {
        "steps": {"c": {}, "a": {}, "b": {}, "d": {}},
        "attributes": {
            "x": {"providers": ["a"], "consumers": ["c"]},
            "y": {"providers": ["c"], "consumers": ["b"]},
            "z": {"providers": ["b"], "consumers": ["outside"]},
        },
    }
    view = FlowView("f", {"id": "f", "status": "active", "plan": plan, "executions": {}})
    assert view.step_ids() == ["a", "d", "c", "b"]
    cyclic = {
        "steps": {"p": {}, "q": {}},
        "attributes": {
            "u": {"providers": ["p"], "consumers": ["q"]},
            "v": {"providers": ["q"], "consumers": ["p"]},
        },
    }
    view = FlowView("g", {"id": "g", "status": "active", "plan": cyclic, "executions": {}})
    assert view.step_ids() == ["p", "q"]
