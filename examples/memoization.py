"""Memoization: a deterministic lookup is called once per distinct input.

``lookup-fx-rate`` is ``memoizable``: the engine keeps each successful
result in an in-memory LRU cache keyed by the step's functional definition
and the item's inputs (``MEMO_CACHE_SIZE`` entries, default 65536). The
first flow converts three amounts, two of them in the same currency pair, so
the rate service is called twice; the second flow needs only cached pairs and
calls nothing. A cache hit shows in the flow's events as ``work_succeeded``
with ``"cached": true`` and no ``work_started``.

Only successes are cached, the cache is per engine process and it is lost on
restart. Steps with side effects must not be memoizable (and memoizable steps
cannot have a compensate URL).

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/memoization.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import httpx
from example_support import serve, upsert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

RATES = {"USD/EUR": 0.9, "USD/GBP": 0.8}


class RateService:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def rate(self, request: Request) -> Response:
        pair = (await request.json())["pair"]
        self.calls.append(pair)
        return JSONResponse({"rate": RATES[pair]})


def run(http: httpx.Client, pairs: list[str]) -> list[dict[str, Any]]:
    """Run one flow over ``pairs``; return its events."""
    flow_id = f"fx-{uuid.uuid4().hex[:8]}"
    http.post(
        "/engine/flow",
        json={"id": flow_id, "goals": ["lookup-fx-rate"], "init": {"fx_pairs": [pairs]}},
    ).raise_for_status()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state = http.get(f"/engine/flow/{flow_id}").json()
        if state["deactivated_at"] != "0001-01-01T00:00:00Z":
            events: list[dict[str, Any]] = http.get(f"/engine/flow/{flow_id}/events").json()[
                "events"
            ]
            return events
        time.sleep(0.05)
    raise TimeoutError(flow_id)


def main(engine_url: str) -> dict[str, Any]:
    """Run two flows; return how often the service was called and the cache hits."""
    service = RateService()
    stop, url = serve(Starlette(routes=[Route("/rate", service.rate, methods=["POST"])]))
    try:
        with httpx.Client(base_url=engine_url, timeout=10) as http:
            upsert(
                http,
                {
                    "id": "lookup-fx-rate",
                    "name": "Look up an exchange rate",
                    "type": "sync",
                    "memoizable": True,
                    "attributes": {
                        "fx_pairs": {
                            "role": "required",
                            "type": "array",
                            "required": {"for_each": True, "mapping": {"name": "pair"}},
                        },
                        "fx_rate": {"role": "output", "output": {"mapping": {"name": "rate"}}},
                    },
                    "http": {"endpoint": url + "/rate", "timeout": 5000},
                },
            )
            hits = []
            for pairs in (["USD/EUR", "USD/GBP", "USD/EUR"], ["USD/GBP", "USD/EUR"]):
                events = run(http, pairs)
                hits.append(
                    sum(
                        1
                        for e in events
                        if e["type"] == "work_succeeded" and e["data"].get("cached")
                    )
                )
            return {"service_calls": service.calls, "cache_hits_per_flow": hits}
    finally:
        stop()


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
