"""The script layer: compile, cache and run Ale, Lua and jpath under sandbox limits.

This is the only way engine code runs user scripts (ARCHITECTURE rule 6).
:class:`Scripts` compiles once per (language, source, sorted argument names)
into bounded LRU caches and evaluates:

- predicates, matches and mappings synchronously, in process, under the
  small ``eval`` budget (thread-safe; Lua gets one runtime per thread);
- step scripts (:meth:`Scripts.run`) off the event loop: Ale and Lua in a
  warm pool of worker processes with rlimits and a hard-kill watchdog;
  jpath queries (JPATH-4) on a thread under the script budget (a query
  only selects from its document, its evaluation is metered node by node).

Importing this package loads neither Hy, lupa nor jsonpath-ng and starts no
process; each is loaded or started on first use.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from argyll.errors import ScriptCompileError, ScriptRuntimeError

from .cache import LRUCache, script_key
from .execute import extract_mapping, run_ale, run_lua
from .limits import Budget, Purpose, ScriptLimits, format_bytes

if TYPE_CHECKING:
    from .ale import CompiledAle
    from .jpath import CompiledJPath
    from .pool import WorkerPool

__all__ = ["ScriptLimits", "Scripts"]

_ALL_LANGUAGES = ("ale", "lua", "jpath")
_SCRIPT_LANGUAGES = ("ale", "lua", "jpath")
_JPATH_CACHE = 10240
_WORKER_HEADROOM = 256 << 20


class Scripts:
    """Compile-check and evaluate scripts with caching and limits.

    Args:
        limits: The bounds to apply; ``ScriptLimits.from_env()`` when ``None``.

    Call :meth:`close` when done: it stops the worker processes (if any were
    started). Every method is thread-safe.
    """

    def __init__(self, limits: ScriptLimits | None = None) -> None:
        self.limits = limits if limits is not None else ScriptLimits.from_env()
        self._ale: LRUCache[CompiledAle] = LRUCache(self.limits.cache_size)
        self._lua: LRUCache[str] = LRUCache(self.limits.cache_size)
        self._jpath: LRUCache[CompiledJPath] = LRUCache(max(_JPATH_CACHE, self.limits.cache_size))
        self._lock = threading.Lock()
        self._pool: WorkerPool | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        self._eval = self.limits.budget("predicate")
        self._script = self.limits.budget("script")

    # --- compile ---------------------------------------------------------------

    def check(
        self,
        language: str,
        source: str,
        arg_names: Sequence[str],
        purpose: Literal["script", "predicate", "match", "mapping"],
    ) -> None:
        """Compile-check a script (cached); registration calls this (VAL-1).

        Args:
            language: ``ale``, ``lua`` or ``jpath``.
            source: The script text.
            arg_names: The step's runtime input names (``["value"]`` for matches).
            purpose: What the script is for.

        Raises:
            ScriptCompileError: The compiler's error text, e.g.
                ``jpath compile error: <src>`` or ``invalid script language: <lang>``.
        """
        self._language(language, purpose)
        self._compile(language, source, arg_names)

    def _language(self, language: str, purpose: Purpose) -> None:
        allowed = _SCRIPT_LANGUAGES if purpose == "script" else _ALL_LANGUAGES
        if language not in allowed:
            raise ScriptCompileError(f"invalid script language: {language}", language)

    def _compile(self, language: str, source: str, arg_names: Sequence[str]) -> Any:
        if language == "ale":
            return self._compile_ale(source, arg_names)
        if language == "lua":
            return self._compile_lua(source, arg_names)
        if language == "jpath":
            return self._compile_jpath(source)
        raise ScriptCompileError(f"invalid script language: {language}", language)

    def _check_size(self, language: str, source: str) -> None:
        if len(source) * 4 > self.limits.max_source and (
            len(source.encode("utf-8", "surrogatepass")) > self.limits.max_source
        ):
            limit = format_bytes(self.limits.max_source)
            raise ScriptCompileError(f"script exceeded its source size limit ({limit})", language)

    # Caches are keyed by (source, sorted names) tuples; the sha256 key of
    # the reference (cache.script_key) is computed once, on a miss, for the
    # worker protocol.

    def _compile_ale(self, source: str, arg_names: Sequence[str]) -> CompiledAle:
        names = tuple(sorted(arg_names))
        compiled = self._ale.get((source, names))
        if compiled is None:
            from .ale import compile_ale

            self._check_size("ale", source)
            compiled = compile_ale(source, names)
            self._ale.put((source, names), compiled)
        return compiled

    def _compile_lua(self, source: str, arg_names: Sequence[str]) -> str:
        names = tuple(sorted(arg_names))
        key = self._lua.get((source, names))
        if key is None:
            from .lua.engine import sandbox_for_thread

            self._check_size("lua", source)
            key = script_key("lua", source, names)
            sandbox_for_thread(self.limits.cache_size).compile(key, source, names)
            self._lua.put((source, names), key)
        return key

    def _compile_jpath(self, source: str) -> CompiledJPath:
        compiled = self._jpath.get(source)
        if compiled is None:
            from .jpath import compile_jpath

            self._check_size("jpath", source)
            compiled = compile_jpath(source)
            self._jpath.put(source, compiled)
        return compiled

    # --- in-process evaluation ------------------------------------------------------

    def _evaluate(
        self, language: str, source: str, arg_names: Sequence[str], args: dict[str, Any]
    ) -> tuple[Any, Any]:
        """Run an Ale or Lua script under the eval budget: (raw result, runner)."""
        if language == "ale":
            from .ale import call_ale

            compiled = self._compile_ale(source, arg_names)
            raw, _ = call_ale(compiled, args, self._eval, convert=False)
            return raw, None
        from .lua.engine import sandbox_for_thread

        key = self._compile_lua(source, arg_names)
        sandbox = sandbox_for_thread(self.limits.cache_size)
        chunk = sandbox.compile(key, source, arg_names)
        return sandbox.call(chunk, arg_names, args, self._eval), sandbox

    def _jpath_values(self, source: str, document: Any) -> list[Any]:
        from .jpath import find_values

        return find_values(self._compile_jpath(source), document, self._eval)

    def predicate(
        self, language: str, source: str, arg_names: Sequence[str], args: dict[str, Any]
    ) -> bool:
        """Evaluate a step predicate (PRED-1) in process under the eval budget.

        Ale: anything but ``false`` is true; Lua: anything but ``nil``/``false``
        (SCRIPT-4); jpath: at least one node over the inputs map (JPATH-3).

        Raises:
            ScriptCompileError, ScriptRuntimeError, ScriptLimitExceeded.
        """
        self._language(language, "predicate")
        if language == "jpath":
            return len(self._jpath_values(source, dict(args))) > 0
        raw, _ = self._evaluate(language, source, arg_names, args)
        if language == "ale":
            return raw is not False
        return raw is not None and raw is not False

    def match(self, language: str, source: str, value: Any) -> bool:
        """Evaluate a required-input match script on one candidate (MATCH-2).

        Ale and Lua see the candidate as ``value``; jpath uses it as the document.
        """
        self._language(language, "match")
        if language == "jpath":
            return len(self._jpath_values(source, value)) > 0
        return self.predicate(language, source, ["value"], {"value": value})

    def mapping(self, language: str, source: str, name: str, value: Any) -> Any:
        """Evaluate an attribute mapping script with one argument ``{name: value}``.

        Returns the MAP-4-extracted value (MAP-2, MAP-3; jpath per JPATH-2).

        Raises:
            ScriptRuntimeError: The script failed, or ``jpath produced no matches``.
            ScriptCompileError, ScriptLimitExceeded.
        """
        self._language(language, "mapping")
        if language == "jpath":
            values = self._jpath_values(source, value)
            if not values:
                raise ScriptRuntimeError("jpath produced no matches", "jpath")
            return values[0] if len(values) == 1 else values
        args = {name: value}
        if language == "ale":
            compiled = self._compile_ale(source, [name])
            return extract_mapping(run_ale(compiled, args, self._eval))
        key = self._compile_lua(source, [name])
        outputs = run_lua(key, source, [name], args, self._eval, self.limits.cache_size)
        return extract_mapping(outputs)

    # --- step scripts ---------------------------------------------------------------------

    async def run(
        self,
        language: str,
        source: str,
        arg_names: Sequence[str],
        args: dict[str, Any],
        outputs: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Run a step script (SCRIPT-1..3, 5, 6; JPATH-4) and return its outputs map.

        Ale and Lua run in a worker process (or, with ``workers=0``, on a
        thread), jpath on a thread, all under the script budget; the event
        loop is never blocked.

        Args:
            outputs: The inner names of the step's outputs: a jpath result
                that is not a map goes to the only one, else to ``result``.

        Raises:
            ScriptCompileError: The script does not compile.
            ScriptRuntimeError: The script failed (``error calling procedure: ...``,
                ``lua execution error: ...``, ``jpath produced no matches``).
            ScriptLimitExceeded: Time, memory, size or depth limit.
        """
        self._language(language, "script")
        compiled = self._compile(language, source, arg_names)
        if language == "jpath":
            return await asyncio.to_thread(self._run_jpath, compiled, args, tuple(outputs))
        names = sorted(arg_names)
        executor = self._runner()
        loop = asyncio.get_running_loop()
        if self.limits.workers == 0:
            return await loop.run_in_executor(
                executor, self._run_here, language, compiled, source, names, args
            )
        pool = self._pool
        assert pool is not None
        if language == "ale":
            key = compiled.key
            payload: Any = [compiled.code, compiled.constants]
        else:
            key, payload = compiled, source
        return await pool.call_async(language, key, payload, names, args, self._script, executor)

    def _run_jpath(
        self, compiled: CompiledJPath, args: dict[str, Any], outputs: tuple[str, ...]
    ) -> dict[str, Any]:
        """JPATH-4: query the argument map; shape the matches into outputs."""
        from .jpath import find_values

        values = find_values(compiled, dict(args), self._script)
        if not values:
            raise ScriptRuntimeError("jpath produced no matches", "jpath")
        result = values[0] if len(values) == 1 else values
        if type(result) is dict:
            return result
        return {outputs[0] if len(outputs) == 1 else "result": result}

    def _run_here(
        self, language: str, compiled: Any, source: str, names: list[str], args: dict[str, Any]
    ) -> dict[str, Any]:
        if language == "ale":
            return run_ale(compiled, args, self._script)
        return run_lua(compiled, source, names, args, self._script, self.limits.cache_size)

    def _runner(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise ScriptRuntimeError("script runner is closed")
            if self._executor is None:
                workers = self.limits.workers or 2
                self._executor = ThreadPoolExecutor(workers, thread_name_prefix="argyll-script")
                if self.limits.workers:
                    from .pool import WorkerPool

                    cap = self.limits.script_memory * 2 + _WORKER_HEADROOM
                    self._pool = WorkerPool(self.limits.workers, cap, self.limits.cache_size)
            return self._executor

    @property
    def worker_pids(self) -> list[int]:
        """PIDs of the live worker processes (empty before the first ``run``)."""
        pool = self._pool
        return pool.process_ids if pool is not None else []

    def close(self) -> None:
        """Stop the worker processes and threads; idempotent. ``run`` then fails."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            executor, self._executor = self._executor, None
        if pool is not None:
            pool.close()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def budget(self, purpose: Purpose) -> Budget:
        """The budget applied to scripts of the given purpose."""
        return self.limits.budget(purpose)
