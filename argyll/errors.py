"""Every exception Argyll raises, in one tree.

Our exception hierarchy::

    ArgyllError
    ├── StepValidationError      a step definition breaks a VAL rule (SDK build)
    ├── ClientError              the engine answered an error, or was unreachable
    │   ├── StepRegistrationError    registering/updating a step failed
    │   └── FlowError                starting/reading a flow failed
    │       └── WaitTimeoutError         wait()/watch() timed out (also a TimeoutError)
    ├── WebhookError             posting an async result to the webhook failed
    ├── StepServerError          a step server cannot listen (also an OSError)
    ├── HTTPError                raised by step handlers: 4xx permanent, 5xx retried
    ├── WorkNotCompletedError    raised by handlers: transient, the engine retries
    ├── ConfigError              bad engine configuration (start-up fails)
    ├── MissingArgument          an endpoint placeholder has no argument (HTTP-1)
    ├── EngineError              rendered by the engine as {"error", "status"}
    │   ├── BadRequestError          400
    │   │   └── InvalidStepError         400 "invalid step: <reason>"
    │   ├── NotFoundError            404
    │   ├── ConflictError            409
    │   └── InternalError            500
    ├── ScriptError              a script failed to compile or run
    │   ├── ScriptCompileError
    │   └── ScriptRuntimeError
    │       └── ScriptLimitExceeded      time, memory, size or depth limit hit
    └── StoreError               the event store failed
        └── ConcurrencyError         an append lost an expected-sequence race

This module imports nothing heavy: it is loaded by ``import argyll``.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ArgyllError",
    "BadRequestError",
    "ClientError",
    "ConcurrencyError",
    "ConfigError",
    "ConflictError",
    "EngineError",
    "FlowError",
    "HTTPError",
    "InternalError",
    "InvalidStepError",
    "MissingArgument",
    "NotFoundError",
    "ScriptCompileError",
    "ScriptError",
    "ScriptLimitExceeded",
    "ScriptRuntimeError",
    "StepRegistrationError",
    "StepServerError",
    "StepValidationError",
    "StoreError",
    "WaitTimeoutError",
    "WebhookError",
    "WorkNotCompletedError",
]


class ArgyllError(Exception):
    """Base class of every Argyll exception."""


class StepValidationError(ArgyllError):
    """A step definition is invalid.

    Attributes:
        problems: Every problem found, in validation order (VAL-1).
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems if problems is not None else [message]


class ClientError(ArgyllError):
    """The engine answered with an error status, or could not be reached.

    Attributes:
        status_code: The HTTP status, or ``None`` for network errors.
        message: The engine's error text (the ``error`` field of its body).
    """

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message if status_code is None else f"{message} (HTTP {status_code})")
        self.message = message
        self.status_code = status_code


class StepRegistrationError(ClientError):
    """Registering or updating a step failed; the message names the step."""


class FlowError(ClientError):
    """Starting, reading or waiting for a flow failed."""


class WaitTimeoutError(FlowError, TimeoutError):
    """``wait()`` or ``watch()`` gave up: the flow did not get there in time.

    Also a built-in ``TimeoutError`` (``except TimeoutError`` catches it) and
    a ``FlowError``. ``status_code`` is ``None``.

    Attributes:
        flow_id: The flow waited for.
        timeout: The seconds waited.
    """

    def __init__(self, message: str, flow_id: str = "", timeout: float = 0.0) -> None:
        super().__init__(message)
        self.flow_id = flow_id
        self.timeout = timeout


class StepServerError(ArgyllError, OSError):
    """A step server cannot listen, e.g. its port is taken; the message says what to do.

    Attributes:
        port: The port that could not be bound.
    """

    def __init__(self, message: str, port: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.port = port


class WebhookError(ArgyllError):
    """Posting an async step result to its webhook failed (4xx or retries exhausted)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class HTTPError(ArgyllError):
    """Raised by a step handler to answer with RFC 9457 problem details.

    A 4xx status is a permanent failure of the work item; a 5xx status is
    retried by the engine (RETRY-1).

    Args:
        status: The HTTP status to answer with.
        message: The problem ``detail``.
    """

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.message = message

    @property
    def status_code(self) -> int:
        """``status``, under the original SDK's name."""
        return self.status

    @property
    def permanent(self) -> bool:
        """True when the engine will not retry (any status below 500)."""
        return self.status < 500


class WorkNotCompletedError(ArgyllError):
    """Raised by a handler to signal a transient failure; the engine retries."""


class ConfigError(ArgyllError):
    """Engine configuration is invalid; the message is one line naming the setting."""


class MissingArgument(ArgyllError):
    """An endpoint placeholder has no invocation argument (HTTP-1).

    Attributes:
        name: The placeholder name.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"missing endpoint argument: {name}")
        self.name = name


class EngineError(ArgyllError):
    """An error the engine answers as ``{"error": message, "status": status}``."""

    status: int = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequestError(EngineError):
    """The request is malformed or invalid (400)."""

    status = 400


class InvalidStepError(BadRequestError):
    """A step failed validation (VAL-3): ``invalid step: <reason>``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid step: {reason}")
        self.reason = reason


class NotFoundError(EngineError):
    """The named step, flow or work item does not exist (404)."""

    status = 404


class ConflictError(EngineError):
    """The request conflicts with stored state (409)."""

    status = 409


class InternalError(EngineError):
    """An unexpected failure, reported as 500 with the operation that failed."""

    status = 500


ScriptPhase = Literal["compile", "run"]


class ScriptError(ArgyllError):
    """A script failed.

    Attributes:
        language: ``ale``, ``lua`` or ``jpath``.
        phase: ``compile`` or ``run``.
    """

    phase: ScriptPhase = "run"

    def __init__(self, message: str, language: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.language = language


class ScriptCompileError(ScriptError):
    """The source does not compile (rejected at registration, VAL-1)."""

    phase: ScriptPhase = "compile"


class ScriptRuntimeError(ScriptError):
    """The script raised while running; a permanent work failure (SCRIPT-5)."""


class ScriptLimitExceeded(ScriptRuntimeError):
    """The script hit a sandbox limit (SCRIPT-6).

    Attributes:
        kind: ``time``, ``memory``, ``size``, ``depth`` or ``steps``.
    """

    def __init__(self, message: str, language: str = "", kind: str = "time") -> None:
        super().__init__(message, language)
        self.kind = kind


class StoreError(ArgyllError):
    """The event store failed to read or write."""


class ConcurrencyError(StoreError):
    """An append's expected sequence did not match the aggregate's next sequence."""

    def __init__(self, aggregate: tuple[str, ...], expected: int, actual: int) -> None:
        super().__init__(
            f"aggregate {list(aggregate)} is at sequence {actual}, expected {expected}"
        )
        self.aggregate = aggregate
        self.expected = expected
        self.actual = actual
