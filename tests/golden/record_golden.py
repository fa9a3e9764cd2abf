"""Record golden event logs from a real engine: ``python tests/golden/record_golden.py``.

Starts an engine on a temporary data dir and a loopback step service, runs
a few representative flows, and writes ``<name>.jsonl`` (one REST event per
line) and ``<name>.state.json`` (``GET /engine/flow/{id}`` after
deactivation) next to this file. test_golden_replay.py folds the events and
must reproduce the state exactly.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from support import Api, EngineProcess, StepServer  # noqa: E402

CALLS: dict[str, int] = {}


async def handle(request: Request) -> Response:
    path = request.url.path
    CALLS[path] = CALLS.get(path, 0) + 1
    body = await request.json() if await request.body() else {}
    if path == "/flaky" and CALLS[path] < 3:
        return Response(status_code=503)
    if path == "/charge" and body.get("sku") == "c":
        return JSONResponse(
            {"detail": "card declined"}, status_code=402, media_type="application/problem+json"
        )
    if path.startswith("/refund"):
        return Response(status_code=204)
    return JSONResponse({"out": body, "charge_id": f"ch-{body.get('sku', '')}"})


def main() -> None:
    app = Starlette(routes=[Route("/{p:path}", handle, methods=["POST"])])
    with StepServer(app) as service, tempfile.TemporaryDirectory() as tmp:
        engine = EngineProcess(Path(tmp))
        engine.start()
        try:
            api = Api(engine.url)
            url = service.url
            steps = [
                {
                    "id": "double",
                    "name": "Double",
                    "type": "script",
                    "attributes": {"n": {"role": "required"}, "twice": {"role": "output"}},
                    "script": {"language": "lua", "script": "return {twice = n * 2}"},
                },
                {
                    "id": "label",
                    "name": "Label",
                    "type": "script",
                    "attributes": {
                        "twice": {"role": "required"},
                        "tag": {"role": "optional", "optional": {"default": '"x"'}},
                        "text": {"role": "output"},
                    },
                    "script": {"language": "ale", "script": '{:text (str tag "-" twice)}'},
                },
                {
                    "id": "flaky",
                    "name": "Flaky",
                    "type": "sync",
                    "attributes": {"out": {"role": "output"}},
                    "http": {"endpoint": url + "/flaky"},
                    "work_config": {"init_backoff": 10, "max_backoff": 20, "max_retries": 5},
                },
                {
                    "id": "charge",
                    "name": "Charge",
                    "type": "sync",
                    "attributes": {
                        "skus": {
                            "role": "required",
                            "required": {"for_each": True, "mapping": {"name": "sku"}},
                        },
                        "charge_id": {"role": "output"},
                    },
                    "http": {
                        "endpoint": url + "/charge",
                        "compensate": url + "/refund/{charge_id}",
                    },
                },
                {
                    "id": "child",
                    "name": "Child",
                    "type": "flow",
                    "attributes": {"n": {"role": "required"}, "text": {"role": "output"}},
                    "flow": {"goals": ["label"]},
                },
            ]
            for step in steps:
                assert api.register(step).status_code == 201, step["id"]
            flows = {
                "chain": ("golden-chain", ["label"], {"n": [21]}),
                "retries": ("golden-retries", ["flaky"], {}),
                "compensation": ("golden-compensation", ["charge"], {"skus": [["a", "b", "c"]]}),
                "subflow": ("golden-subflow", ["child"], {"n": [5]}),
            }
            for name, (flow_id, goals, init) in flows.items():
                assert api.start(flow_id, goals, init).status_code == 201
                state = api.wait_terminal(flow_id, timeout=30)
                events = api.events(flow_id)
                (HERE / f"{name}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
                (HERE / f"{name}.state.json").write_text(json.dumps(state, indent=1) + "\n")
                print(name, state["status"], len(events), "events")
        finally:
            engine.stop()


if __name__ == "__main__":
    main()
