"""Registering a served step while the engine may still be starting.

``start()`` and ``serve()`` register the step after their server listens.
The engine may not be up yet (the two often start together), so network
errors and 5xx answers are retried with backoff; a 409 (the step exists
with another definition, e.g. an old endpoint) becomes an update.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from argyll.errors import ClientError, StepRegistrationError

if TYPE_CHECKING:
    from argyll.model.step import Step
    from argyll.sdk.client import Client

__all__ = ["register_or_update"]

log = logging.getLogger("argyll.sdk")


def _upsert(client: Client, step: Step, update: bool) -> Step:
    """Register (409 -> update) or, when ``update``, update (404 -> register)."""
    if update:
        try:
            return client.update_step(step)
        except ClientError as exc:
            if exc.status_code != 404:
                raise
            return client.register_step(step)
    try:
        return client.register_step(step)
    except ClientError as exc:
        if exc.status_code != 409:
            raise
        return client.update_step(step)


def register_or_update(
    client: Client,
    step: Step,
    *,
    update: bool = False,
    attempts: int = 5,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Step:
    """Register ``step``, retrying while the engine is unreachable or answers 5xx.

    Args:
        client: The engine client.
        step: The built step.
        update: Update first (``StepBuilder.update()``); a 404 falls back to
            registering. Otherwise register first; a 409 falls back to
            updating.
        attempts: Attempts in total. Defaults to 5.
        backoff: Seconds before the first retry, doubled after each retry.
            Defaults to 0.5 (so 0.5 + 1 + 2 + 4 s at most).
        sleep: Injected for tests.

    Returns:
        The step as the engine echoed it.

    Raises:
        StepRegistrationError: The engine rejected the step (4xx: retrying
            cannot help), or every attempt failed; the message names the step.
    """
    attempts = max(1, attempts)
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            return _upsert(client, step, update)
        except ClientError as exc:
            transient = exc.status_code is None or exc.status_code >= 500
            if not transient or attempt == attempts:
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise StepRegistrationError(
                    f"registering step {step.id} failed{tries}: {exc.message}", exc.status_code
                ) from exc
            log.warning(
                "registering step %s failed (%s); retrying in %.1fs", step.id, exc.message, delay
            )
        sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
