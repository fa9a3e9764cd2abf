"""Steps cannot reach addresses the egress policy denies (issue 17 item 7).

Over real HTTP against a real engine: its own API address is refused at
registration; a host name that resolves to it, and a redirect to it, are
refused when the call is made (after DNS, on every redirect), failing the
work item permanently while the would-be victim stays untouched; and
``STEP_DENIED_HOSTS`` / port rules apply alike. Steps on other local ports
keep working.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from support import EngineProcess, StepServer, free_port

FORBIDDEN_PORT = free_port()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    env = {"STEP_DENIED_HOSTS": f"10.0.0.0/8, :{FORBIDDEN_PORT}"}
    proc = EngineProcess(tmp_path_factory.mktemp("egress"), env=env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def service(engine: EngineProcess) -> Iterator[str]:
    async def ok(_: Request) -> Response:
        return JSONResponse({"out": "fine"})

    async def bounce(_: Request) -> Response:
        return RedirectResponse(f"{engine.url}/engine/step/victim", status_code=307)

    app = Starlette(
        routes=[Route("/ok", ok, methods=["POST"]), Route("/bounce", bounce, methods=["DELETE"])]
    )
    with StepServer(app) as server:
        yield server.url


def step(step_id: str, endpoint: str, **http: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id,
        "type": "sync",
        "attributes": {"out": {"role": "output"}},
        "http": {"endpoint": endpoint, **http},
        "work_config": {"max_retries": 0},
    }


def run(http: httpx.Client, flow_id: str, goal: str) -> dict[str, Any]:
    assert http.post("/engine/flow", json={"id": flow_id, "goals": [goal]}).status_code == 201
    for _ in range(500):
        state: dict[str, Any] = http.get(f"/engine/flow/{flow_id}").json()
        if state["status"] != "active":
            return state
        time.sleep(0.02)
    raise AssertionError(f"flow {flow_id} did not finish")


def test_own_address_and_denied_hosts_are_refused_at_registration(engine: EngineProcess) -> None:
    with httpx.Client(base_url=engine.url, timeout=10) as http:
        for endpoint in (
            f"http://127.0.0.1:{engine.port}/engine/step/victim",
            f"http://localhost:{engine.port}/engine/step/victim",
            f"http://[::1]:{engine.port}/engine/step/victim",
            f"http://127.0.0.1:{FORBIDDEN_PORT}/x",
            "http://10.1.2.3/x",
        ):
            response = http.post("/engine/step", json=step("bad", endpoint, method="DELETE"))
            assert response.status_code == 400, endpoint
            assert response.json()["error"].startswith("invalid step: egress denied: ")
        probe = step("bad", "http://127.0.0.1:1/x", health_check=f"{engine.url}/engine")
        assert http.post("/engine/step", json=probe).status_code == 400
        assert http.get("/engine/step/bad").status_code == 404


def test_calls_are_checked_after_dns_and_on_every_redirect(
    engine: EngineProcess, service: str
) -> None:
    with httpx.Client(base_url=engine.url, timeout=10) as http:
        assert http.post("/engine/step", json=step("victim", service + "/ok")).status_code == 201
        assert run(http, "fine-1", "victim")["status"] == "completed"  # localhost steps work
        bounce = step("bouncer", service + "/bounce", method="DELETE")
        assert http.post("/engine/step", json=bounce).status_code == 201
        state = run(http, "bounce-1", "bouncer")
        assert state["status"] == "failed"
        error = state["executions"]["bouncer"]["error"]
        assert "egress denied" in error and f"127.0.0.1:{engine.port}" in error
        name = socket.gethostname()
        if socket.gethostbyname(name).startswith("127."):  # e.g. "vm" in /etc/hosts
            sneaky = step("sneaky", f"http://{name}:{engine.port}/engine/step/victim")
            sneaky["http"]["method"] = "DELETE"
            assert http.post("/engine/step", json=sneaky).status_code == 201  # a name: later
            state = run(http, "dns-1", "sneaky")
            assert state["status"] == "failed"
            assert "egress denied" in state["executions"]["sneaky"]["error"]
        assert http.get("/engine/step/victim").status_code == 200  # never deleted
