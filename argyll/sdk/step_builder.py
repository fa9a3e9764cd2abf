"""Building, registering and serving one step definition (SPEC 1.2-1.3).

The builder wraps a frozen ``Step`` and derives a copy for every change;
``build()`` validates with the shared VAL-1 rules (``step_problems``) plus
the SDK's own checks. Serving a step needs starlette and uvicorn, which are
imported only inside ``start()`` and ``serve()`` (ARCHITECTURE principle 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Self

from msgspec import structs

from argyll.errors import ClientError, StepRegistrationError, StepValidationError
from argyll.model.ids import kebab_case, sanitize_id
from argyll.model.step import AttributeSpec, FlowConfig, HTTPConfig, ScriptConfig, Step, WorkConfig
from argyll.sdk.attributes import (
    const_spec,
    for_each_spec,
    meta_spec,
    optional_spec,
    output_spec,
    required_spec,
)
from argyll.sdk.validation import build_problems

if TYPE_CHECKING:
    from argyll.sdk.async_client import AsyncClient
    from argyll.sdk.client import Client
    from argyll.sdk.context import CompensateHandler, StepHandler
    from argyll.sdk.runner import ServerHandle

__all__ = ["AsyncStepBuilder", "StepBuilder", "StepDefinition", "use_client_classes"]


def _new_step() -> Step:
    return Step(type="sync")


class _ClientClasses:
    """The client classes, for builders made without a client (``StepBuilder()``).

    ``argyll.sdk.client`` and ``argyll.sdk.async_client`` import this module
    (their ``new_step`` returns a builder) and hand their class in when they
    load, so this module never imports them: no import cycle. Loading
    ``argyll.sdk`` loads both.
    """

    def __init__(self) -> None:
        self.client: type[Client] | None = None
        self.async_client: type[AsyncClient] | None = None

    def new_client(
        self, base_url: str | None = None, timeout: float = 30, token: str | None = None
    ) -> Client:
        if self.client is None:
            raise RuntimeError("import argyll.sdk.client first")
        return self.client(base_url, timeout, token=token)

    def new_async_client(self) -> AsyncClient:
        if self.async_client is None:
            raise RuntimeError("import argyll.sdk.async_client first")
        return self.async_client()


_CLIENTS = _ClientClasses()


def use_client_classes(
    client: type[Client] | None = None, async_client: type[AsyncClient] | None = None
) -> None:
    """Set the classes builders use when made without a client (called by the client modules)."""
    if client is not None:
        _CLIENTS.client = client
    if async_client is not None:
        _CLIENTS.async_client = async_client


@dataclass(frozen=True)
class StepDefinition:
    """An immutable step definition under construction; every method returns a new one.

    ``StepBuilder`` (blocking) and ``AsyncStepBuilder`` (``await
    register()``) add the ways to register and serve it. Unset fields are
    omitted from the step's JSON. Declaring an attribute name again replaces it.

    Attributes:
        step: The definition so far (its ``id`` may still be empty, see
            ``step_id``).
        compensate_handler: Served at ``/{step_id}/compensate`` by
            ``start``/``serve``.
        for_update: Set by ``update()``: register by updating (PUT).
    """

    step: Step = field(default_factory=_new_step)
    compensate_handler: CompensateHandler | None = None
    for_update: bool = False

    @property
    def step_id(self) -> str:
        """The step's ID: the one given to ``with_id``, else derived from the name.

        ``"Price Calculator"`` -> ``price-calculator``, ``"AsyncTask"`` -> ``async-task``.
        """
        return self.step.id or kebab_case(self.step.name)

    def _with(self, **changes: Any) -> Self:
        return replace(self, step=structs.replace(self.step, **changes))

    def _with_http(self, **changes: Any) -> Self:
        http = self.step.http if self.step.http is not None else HTTPConfig()
        return self._with(http=structs.replace(http, **changes))

    def _with_attribute(self, name: str, spec: AttributeSpec) -> Self:
        return self._with(attributes={**self.step.attributes, name: spec})

    # -- identity -----------------------------------------------------------

    def with_id(self, step_id: str) -> Self:
        """Set the ID, sanitized as the engine does (DATA-1): ``"My Step"`` -> ``"my-step"``."""
        return self._with(id=sanitize_id(step_id))

    def with_name(self, name: str) -> Self:
        """Set the human-readable name; without ``with_id`` the ID is its kebab case.

        ``"Price Calculator"`` gives the ID ``"price-calculator"``.
        """
        return self._with(name=name)

    def with_label(self, key: str, value: str) -> Self:
        """Add (or replace) one label."""
        return self._with(labels={**self.step.labels, key: value})

    def with_labels(self, labels: Mapping[str, str]) -> Self:
        """Add (or replace) several labels; labels set before are kept."""
        return self._with(labels={**self.step.labels, **labels})

    # -- attributes ---------------------------------------------------------

    def required(
        self,
        name: str,
        type: str = "",
        *,
        collect: str = "",
        for_each: bool = False,
        inner_name: str = "",
    ) -> Self:
        """Declare a required input.

        Args:
            name: The flow attribute name.
            type: An ``AttributeType``; ``""`` leaves it untyped.
            collect: An ``InputCollect`` mode; ``""`` means ``first``.
            for_each: Run one work item per element of the array value.
            inner_name: The parameter name the step receives (mapping).
        """
        return self._with_attribute(name, required_spec(type, collect, for_each, inner_name))

    def optional(
        self,
        name: str,
        type: str = "",
        default: Any = "",
        *,
        collect: str = "",
        for_each: bool = False,
        deadline: int = 0,
        inner_name: str = "",
    ) -> Self:
        """Declare an optional input.

        Args:
            name: The flow attribute name.
            type: An ``AttributeType``; ``""`` leaves it untyped.
            default: The value used when no upstream value exists: a plain
                Python value (``0``, ``"guest"``, ``[1, 2]``), encoded for you,
                or its JSON text (``"0"``, ``'"guest"'``). A string that is
                not JSON is taken as a plain string. ``""`` or ``None`` means
                no default.
            collect: An ``InputCollect`` mode; ``""`` means ``first``.
            for_each: Run one work item per element of the array value.
            deadline: Milliseconds to wait for upstream values (``0``: do
                not wait).
            inner_name: The parameter name the step receives (mapping).

        Raises:
            TypeError: ``default`` cannot be encoded as JSON.
        """
        spec = optional_spec(type, default, collect, for_each, deadline, inner_name)
        return self._with_attribute(name, spec)

    def const(self, name: str, type: str, value: Any) -> Self:
        """Declare a fixed input baked into the definition.

        Args:
            name: The parameter name.
            type: An ``AttributeType``; ``""`` leaves it untyped.
            value: A plain Python value (``42``, ``"EUR"``), encoded for you,
                or its JSON text (``"42"``, ``'"EUR"'``); a string that is not
                JSON is taken as a plain string.

        Raises:
            TypeError: ``value`` cannot be encoded as JSON.
        """
        return self._with_attribute(name, const_spec(type, value))

    def meta(self, name: str, meta_key: str, type: str = "") -> Self:
        """Declare an input filled from execution metadata at run time (TYPE-2).

        Args:
            name: The parameter name.
            meta_key: ``flow_id``, ``step_id``, ``receipt_token``,
                ``webhook_url`` (async steps) or a flow metadata key.
            type: An ``AttributeType``; ``""`` leaves it untyped.
        """
        return self._with_attribute(name, meta_spec(type, meta_key))

    def output(self, name: str, type: str = "", *, inner_name: str = "") -> Self:
        """Declare an output.

        Args:
            name: The flow attribute name the value is stored under.
            type: An ``AttributeType``; ``""`` leaves it untyped.
            inner_name: The key the step returns it under (mapping).
        """
        return self._with_attribute(name, output_spec(type, inner_name))

    def with_for_each(self, name: str) -> Self:
        """Mark the declared input ``name`` for per-element expansion (WORK-3).

        Raises:
            StepValidationError: ``name`` is not a declared required or
                optional attribute.
        """
        return self._with_attribute(name, for_each_spec(name, self.step.attributes.get(name)))

    # -- execution type -----------------------------------------------------

    def with_sync_execution(self) -> Self:
        """Make it a sync HTTP step: the response carries the outputs (the default)."""
        return self._with(type="sync")

    def with_async_execution(self) -> Self:
        """Make it an async HTTP step: the result arrives later through the webhook."""
        return self._with(type="async")

    def with_script(self, script: str) -> Self:
        """Make it a script step running the Ale source ``script`` in the engine."""
        return self.with_script_language("ale", script)

    def with_script_language(self, language: str, script: str) -> Self:
        """Make it a script step in ``language`` (``ScriptLanguage.ALE``, ``LUA`` or ``JPATH``)."""
        return self._with(type="script", script=ScriptConfig(language=str(language), script=script))

    def with_flow_goals(self, *goals: str) -> Self:
        """Make it a flow step running a child flow with these goals (SUB-1)."""
        return self._with(type="flow", flow=FlowConfig(goals=list(goals)))

    def with_predicate(self, language: str, script: str) -> Self:
        """Run the step only when this script is true for its inputs (PRED rules)."""
        return self._with(predicate=ScriptConfig(language=str(language), script=script))

    # -- HTTP ---------------------------------------------------------------

    def with_endpoint(self, url: str) -> Self:
        """Set the URL the engine calls; ``{name}`` placeholders take required inputs."""
        return self._with_http(endpoint=url)

    def with_method(self, method: str) -> Self:
        """Set the HTTP method (upper-cased); unset means ``POST``."""
        return self._with_http(method=method.upper())

    def with_timeout(self, timeout_ms: int) -> Self:
        """Set the HTTP timeout in milliseconds; ``<= 0`` means the engine's default."""
        return self._with_http(timeout=timeout_ms)

    def with_health_check(self, url: str) -> Self:
        """Set the URL the engine probes with ``GET`` for the step's health."""
        return self._with_http(health_check=url)

    def with_compensate(self, url: str) -> Self:
        """Set the URL the engine POSTs to undo succeeded work after a failure (COMP-3)."""
        return self._with_http(compensate=url)

    def with_compensate_handler(self, handler: CompensateHandler) -> Self:
        """Serve ``handler(ctx, inputs, outputs)`` as the compensation of this step.

        ``start``/``serve`` serve it at ``/{step_id}/compensate`` and, unless
        ``with_compensate(url)`` was given, register that URL.
        """
        return replace(self, compensate_handler=handler)

    def with_server(self, base_url: str) -> Self:
        """Point the step at a step server at ``base_url`` (what ``start``/``serve`` do).

        Sets the endpoint to ``{base_url}/{step_id}``, the health check to
        ``{base_url}/health`` and, with a compensate handler and no
        compensate URL, the compensate URL to ``{base_url}/{step_id}/compensate``.
        """
        base = base_url.rstrip("/")
        built = self.with_endpoint(f"{base}/{self.step_id}").with_health_check(f"{base}/health")
        http = built.step.http
        if self.compensate_handler is not None and http is not None and not http.compensate:
            built = built.with_compensate(f"{base}/{self.step_id}/compensate")
        return built

    # -- behavior -----------------------------------------------------------

    def with_memoizable(self, memoizable: bool = True) -> Self:
        """Cache results by inputs in the engine (MEMO rules); not with compensation."""
        return self._with(memoizable=memoizable)

    def with_work_config(
        self,
        *,
        max_retries: int | None = None,
        init_backoff: int | None = None,
        max_backoff: int | None = None,
        backoff_type: str | None = None,
        parallelism: int | None = None,
    ) -> Self:
        """Set retry and parallelism settings (DATA-14); arguments left ``None`` are kept.

        Args:
            max_retries: Retries of a transient failure; ``0`` = the engine's
                default, negative = unlimited.
            init_backoff: Milliseconds before the first retry; ``0`` = default.
            max_backoff: Cap on the backoff in milliseconds; ``0`` = default.
            backoff_type: A ``BackoffType``; ``""`` = default.
            parallelism: Work items of this step running at once (``<= 0``: 1).
        """
        current = self.step.work_config or WorkConfig()
        changes: dict[str, Any] = {
            "max_retries": max_retries,
            "init_backoff": init_backoff,
            "max_backoff": max_backoff,
            "backoff_type": None if backoff_type is None else str(backoff_type),
            "parallelism": parallelism,
        }
        merged = structs.replace(current, **{k: v for k, v in changes.items() if v is not None})
        return self._with(work_config=merged)

    # -- lifecycle ----------------------------------------------------------

    def build(self) -> Step:
        """Validate the definition and return the typed step.

        A step without ``with_id`` gets the kebab case of its name as ID.

        Raises:
            StepValidationError: Listing every problem found: a missing ID or
                name, no execution config, memoizable together with
                compensation, bad attribute configs, and the other VAL-1
                rules that need no script compiler.
        """
        step = self.step if self.step.id else structs.replace(self.step, id=self.step_id)
        problems = build_problems(step, has_compensate_handler=self.compensate_handler is not None)
        if problems:
            raise StepValidationError(
                f"invalid step {step.id or '(no ID)'}: " + "; ".join(problems), problems
            )
        return step

    def update(self) -> Self:
        """Mark the step as existing: ``register``/``start`` update it (PUT) instead.

        Updating a step that does not exist yet falls back to registering it.
        """
        return replace(self, for_update=True)

    def _sync_client(self) -> Client:
        """The blocking client that registers the served step."""
        raise NotImplementedError

    def serve(
        self,
        handler: StepHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hostname: str | None = None,
        register: bool = True,
    ) -> ServerHandle:
        """Run a step server for ``handler`` in a background thread; returns at once.

        For tests and for embedding a step in a larger program. The server
        is listening when this returns; stop it with ``handle.stop()`` or use
        the handle as a context manager.

        Args:
            handler: ``handler(ctx, args) -> outputs`` (sync or ``async def``).
            host: The interface to listen on. Defaults to ``127.0.0.1``.
            port: The port; ``0`` (the default) picks a free one.
            hostname: The host name advertised to the engine; defaults to
                ``STEP_HOSTNAME``, else ``host`` (``localhost`` for a
                wildcard host).
            register: Register (or update) the step pointing at this server,
                retrying while the engine starts. Defaults to True.

        Returns:
            A ``ServerHandle`` with ``url``, ``endpoint``, ``step`` and ``stop()``.

        Raises:
            StepValidationError: The step is invalid; no server was started.
            StepRegistrationError: Registration failed; the server was stopped.
            StepServerError: The port could not be bound (e.g. it is in use).
        """
        from argyll.sdk.runner import serve_step

        return serve_step(
            self,
            handler,
            self._sync_client(),
            host=host,
            port=port,
            hostname=hostname,
            register=register,
        )

    def start(self, handler: StepHandler) -> None:
        """Register the step and serve ``handler``, blocking until SIGINT or SIGTERM.

        Listens on all interfaces at ``STEP_PORT`` (default 8081) and
        registers the endpoint ``http://{STEP_HOSTNAME or localhost}:{port}/{step_id}``
        with ``/health`` as the health check (and ``/{step_id}/compensate``
        for a compensate handler). Registration is retried with backoff while
        the engine starts; a 409 (or ``update()``) updates the step. On
        SIGINT/SIGTERM the server stops accepting connections, lets in-flight
        requests finish, and this returns; a second signal forces the exit.
        Signals can be caught only in the main thread: called from another
        thread, this serves until the process ends.

        Raises:
            StepValidationError: The step is invalid; nothing was started.
            StepRegistrationError: Registration failed; the server was stopped.
            ValueError: ``STEP_PORT`` is not a port number.
            StepServerError: The port could not be bound (e.g. it is in use).
        """
        from argyll.sdk.runner import run_step

        run_step(self, handler, self._sync_client())


def _registration_failed(step: Step, exc: ClientError) -> StepRegistrationError:
    return StepRegistrationError(
        f"registering step {step.id} failed: {exc.message}", exc.status_code
    )


@dataclass(frozen=True)
class StepBuilder(StepDefinition):
    """A step to register and serve through a blocking ``Client``.

    Get one from ``client.new_step(name)``.

    Attributes:
        client: The engine client used by ``register``/``start``/``serve``;
            ``None`` means ``Client()`` (``ENGINE_URL``, else
            ``http://localhost:8080``).
    """

    client: Client | None = None

    def _sync_client(self) -> Client:
        return self.client if self.client is not None else _CLIENTS.new_client()

    def register(self) -> Step:
        """Build the step and register it (or update it, after ``update()``).

        Returns:
            The step as the engine echoed it.

        Raises:
            StepValidationError: ``build()`` failed; nothing was sent.
            StepRegistrationError: The engine refused the step or is
                unreachable; the message names the step.
        """
        step = self.build()
        client = self._sync_client()
        try:
            if not self.for_update:
                return client.register_step(step)
            try:
                return client.update_step(step)
            except ClientError as exc:
                if exc.status_code != 404:
                    raise
                return client.register_step(step)
        except ClientError as exc:
            raise _registration_failed(step, exc) from exc


@dataclass(frozen=True)
class AsyncStepBuilder(StepDefinition):
    """A step to register through an ``AsyncClient``: ``await builder.register()``.

    Get one from ``async_client.new_step(name)``. ``serve`` and ``start``
    work as with ``StepBuilder`` (the step server runs its own event loop).

    Attributes:
        client: The engine client; ``None`` means ``AsyncClient()``.
    """

    client: AsyncClient | None = None

    def _sync_client(self) -> Client:
        if self.client is None:
            return _CLIENTS.new_client()
        core = self.client.core
        return _CLIENTS.new_client(core.base_url, core.timeout, core.token)

    async def register(self) -> Step:
        """Build the step and register it; see ``StepBuilder.register``.

        Raises:
            StepValidationError: ``build()`` failed; nothing was sent.
            StepRegistrationError: The engine refused the step or is unreachable.
        """
        step = self.build()
        if self.client is None:
            async with _CLIENTS.new_async_client() as client:
                return await self._register(client, step)
        return await self._register(self.client, step)

    async def _register(self, client: AsyncClient, step: Step) -> Step:
        try:
            if not self.for_update:
                return await client.register_step(step)
            try:
                return await client.update_step(step)
            except ClientError as exc:
                if exc.status_code != 404:
                    raise
                return await client.register_step(step)
        except ClientError as exc:
            raise _registration_failed(step, exc) from exc
