"""Report builder: an async HTTP step that completes later through its webhook.

The handler answers at once with ``{}`` and hands the work to a thread; the
thread posts the outputs to the engine's webhook with ``AsyncContext``. The
flow waits for the webhook (ASYNC-1..5).

To run it, start an engine (``python -m argyll serve``) and then::

    scripts/python examples/sdk_async_step.py

``ENGINE_URL`` selects another engine (default ``http://localhost:8080``).
The engine must be able to reach this process (the step server listens on
127.0.0.1), and the engine's ``WEBHOOK_BASE_URL`` must point at the engine.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

from argyll import AsyncContext, AttributeType, Client, StepContext
from argyll.errors import WebhookError


def build_report(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    """Accept the work, finish it in the background, and return no outputs now."""
    async_ctx = AsyncContext(context=ctx, webhook_url=ctx.metadata["webhook_url"])

    def work() -> None:
        try:
            time.sleep(0.2)  # the slow part: rendering the report
            async_ctx.success({"report_url": f"https://reports.example/{args['report_id']}.pdf"})
        except WebhookError as exc:
            print(f"could not deliver the result: {exc}")
        except Exception as exc:
            async_ctx.fail(f"report failed: {exc}")

    threading.Thread(target=work, daemon=True).start()
    return {}


def main(engine_url: str, report_id: str = "q3-sales") -> str:
    """Serve the async step, run one flow and return the ``report_url``."""
    with Client(engine_url) as client:
        builder = (
            client.new_step()
            .with_name("Report Builder")
            .with_async_execution()
            .required("report_id", AttributeType.STRING)
            .output("report_url", AttributeType.STRING)
        )
        with builder.serve(build_report):
            flow = (
                client.new_flow(f"report-{uuid.uuid4().hex[:8]}")
                .with_goals(builder.step_id)
                .with_initial_state({"report_id": [report_id]})
                .start()
            )
            state = flow.wait(timeout=30)
        if state["status"] != "completed":
            raise RuntimeError(f"flow {flow.flow_id} failed: {state.get('error')}")
        url: str = state["attributes"]["report_url"][0]["value"]
        return url


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
