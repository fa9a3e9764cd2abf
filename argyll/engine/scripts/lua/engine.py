"""Lua 5.2 (go-lua's dialect) on lupa: sandboxed runtimes, compile, call, conversions.

One :class:`LuaSandbox` per thread (a lupa runtime is not for concurrent use).
Each is created with ``register_eval=False``, ``register_builtins=False``, a
deny-all attribute filter, ``encoding=None`` (strings cross as bytes, so no
Python ``str`` object ever reaches Lua) and a memory cap, then runs the
trusted ``sandbox.lua`` bootstrap. Every call gets a fresh ``_ENV``; a CPU
deadline is enforced by an instruction hook and the heap by ``max_memory``.
Only plain JSON data crosses the boundary: inputs become Lua tables built by
lupa, results are read back with raw iteration so no metamethod runs outside
the hook window.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any

from argyll.errors import ScriptCompileError, ScriptLimitExceeded, ScriptRuntimeError

from ..cache import LRUCache
from ..gofmt import format_go_number
from ..limits import Budget

__all__ = ["LuaSandbox", "sandbox_for_thread"]

RUNTIME_PREFIX = "lua execution error: "
COMPILE_PREFIX = "lua compile error: "
_BASE_MEMORY = 64 << 20  # headroom above a call's budget between calls
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset(
    [
        "and",
        "break",
        "do",
        "else",
        "elseif",
        "end",
        "false",
        "for",
        "function",
        "goto",
        "if",
        "in",
        "local",
        "nil",
        "not",
        "or",
        "repeat",
        "return",
        "then",
        "true",
        "until",
        "while",
    ]
)
_INT64 = 1 << 63
_SAFE_INT = 1 << 53


def _deny(obj: object, attr: object, is_setting: bool) -> object:
    raise AttributeError("access denied")


def _prologue(arg_names: Sequence[str]) -> str:
    for name in arg_names:
        if not _IDENT.fullmatch(name) or name in _KEYWORDS:
            raise ScriptCompileError(COMPILE_PREFIX + f"invalid parameter name: {name}", "lua")
    # One line, so user line numbers are unchanged (SCRIPT-2).
    return f"local {', '.join(arg_names)} = ...; " if arg_names else ""


def _decode(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class LuaSandbox:
    """A sandboxed Lua runtime with its own compiled-chunk cache."""

    def __init__(self, cache_size: int = 4096) -> None:
        import lupa.lua52 as lua  # heavy; loaded on first Lua use

        self._lua = lua
        self.runtime = lua.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            attribute_filter=_deny,
            encoding=None,
            unpack_returned_tuples=False,
            max_memory=_BASE_MEMORY,
        )
        source = resources.files(__package__).joinpath("sandbox.lua").read_bytes()
        bootstrap = self.runtime.execute(source)
        self._compile, self._run, self._truthy = bootstrap
        self._cache: LRUCache[Any] = LRUCache(cache_size)

    def has(self, key: str) -> bool:
        """Whether the chunk for ``key`` is compiled and cached here."""
        return self._cache.get(key) is not None

    def compile(self, key: str, source: str, arg_names: Sequence[str]) -> Any:
        """Compile (cached by ``key``) and return the Lua chunk function.

        Raises:
            ScriptCompileError: A syntax error or an invalid parameter name.
        """
        chunk = self._cache.get(key)
        if chunk is not None:
            return chunk
        text = (_prologue(sorted(arg_names)) + source).encode("utf-8", "surrogatepass")
        self.runtime.set_max_memory(self.runtime.get_memory_used() + _BASE_MEMORY)
        try:
            compiled = self._compile(text)
        except self._lua.LuaMemoryError:
            raise ScriptCompileError(COMPILE_PREFIX + "script too large", "lua") from None
        chunk, error = compiled if isinstance(compiled, tuple) else (compiled, None)
        if chunk is None:
            message = _decode(error) if isinstance(error, bytes) else str(error)
            raise ScriptCompileError(COMPILE_PREFIX + message, "lua")
        self._cache.put(key, chunk)
        return chunk

    def call(
        self, chunk: Any, arg_names: Sequence[str], args: dict[str, Any], budget: Budget
    ) -> Any:
        """Run a compiled chunk; return its first result (a Lua value, unconverted).

        Raises:
            ScriptLimitExceeded: Time or memory limit.
            ScriptRuntimeError: The script raised; ``lua execution error: ...``.
        """
        runtime = self.runtime
        lua = self._lua
        try:
            runtime.set_max_memory(runtime.get_memory_used() + budget.memory)
            values = [self._to_lua(args.get(name), 0) for name in sorted(arg_names)]
            status, result = self._run(chunk, budget.timeout, *values)
        except lua.LuaMemoryError:
            raise ScriptLimitExceeded(budget.message("memory"), "lua", "memory") from None
        except lua.LuaError as exc:  # the hook fired while the sandbox was unwinding
            if "time limit" in str(exc):
                raise ScriptLimitExceeded(budget.message("time"), "lua", "time") from None
            raise ScriptRuntimeError(RUNTIME_PREFIX + "internal error", "lua") from None
        except RecursionError:
            raise ScriptLimitExceeded(budget.message("depth"), "lua", "depth") from None
        finally:
            runtime.set_max_memory(runtime.get_memory_used() + _BASE_MEMORY)
        if status == b"ok":
            return result
        if status == b"time":
            raise ScriptLimitExceeded(budget.message("time"), "lua", "time")
        if status == b"memory":
            raise ScriptLimitExceeded(budget.message("memory"), "lua", "memory")
        message = _decode(result) if isinstance(result, bytes) else str(result)
        raise ScriptRuntimeError(RUNTIME_PREFIX + message, "lua")

    def truthy(self, value: Any) -> bool:
        """Lua truthiness: only nil and false are false (SCRIPT-4)."""
        return value is not None and value is not False

    # --- conversions ----------------------------------------------------------

    def _to_lua(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if value is None or kind is bool or kind is float:
            return value
        if kind is int:
            return value if -_INT64 <= value < _INT64 else float(value)
        if kind is str:
            return value.encode("utf-8", "surrogatepass")
        if depth > 200:
            raise RecursionError
        if kind is dict:
            table = self.runtime.table()
            for key, item in value.items():
                converted = self._to_lua(item, depth + 1)
                if converted is not None:
                    table[str(key).encode("utf-8", "surrogatepass")] = converted
            return table
        if kind is list or kind is tuple:
            table = self.runtime.table()
            for index, item in enumerate(value, 1):
                converted = self._to_lua(item, depth + 1)
                if converted is not None:
                    table[index] = converted
            return table
        if isinstance(value, int | float):
            return self._to_lua(int(value) if isinstance(value, int) else float(value), depth)
        return str(value).encode("utf-8", "surrogatepass")

    def to_outputs(self, value: Any, budget: Budget) -> dict[str, Any]:
        """Top-level result -> outputs (SCRIPT-3): a table's string/number keys, else result."""
        caps = [budget.max_items]
        if self._lua.lua_type(value) == "table":
            outputs: dict[str, Any] = {}
            for key, item in value.items():
                if isinstance(key, bytes):
                    name = _decode(key)
                elif type(key) is int or type(key) is float:
                    name = _lua_number_text(key)
                else:
                    continue
                outputs[name] = self._from_lua(item, budget, caps, 1)
            return outputs
        return {"result": self._from_lua(value, budget, caps, 0)}

    def to_json(self, value: Any, budget: Budget) -> Any:
        """Convert any Lua value to JSON (nested-table rules of SCRIPT-3)."""
        return self._from_lua(value, budget, [budget.max_items], 0)

    def _from_lua(self, value: Any, budget: Budget, caps: list[int], depth: int) -> Any:
        caps[0] -= 1
        if caps[0] < 0:
            raise ScriptLimitExceeded(budget.message("size"), "lua", "size")
        kind = type(value)
        if value is None or kind is bool:
            return value
        if kind is int:
            return value
        if kind is float:
            if math.isnan(value) or math.isinf(value):
                raise ScriptRuntimeError(
                    RUNTIME_PREFIX + "result is not a valid JSON number", "lua"
                )
            if value.is_integer() and -_INT64 <= value < _INT64:
                return int(value)
            return value
        if kind is bytes:
            return _decode(value)
        if self._lua.lua_type(value) != "table":
            return None  # functions, userdata and threads
        if depth >= budget.max_depth:
            raise ScriptLimitExceeded(budget.message("depth"), "lua", "depth")
        entries = list(value.items())
        if entries and all(_is_numeric_key(key) for key, _ in entries):
            by_index = {_numeric_key(key): item for key, item in entries}
            if all(type(i) is int and i >= 1 for i in by_index):
                # An array up to the largest index, null in the holes: no value
                # is lost, and every null counts against the item limit, so a
                # huge index is a size error rather than a huge list.
                return [
                    self._from_lua(by_index.get(i), budget, caps, depth + 1)
                    for i in range(1, max(by_index) + 1)
                ]
        result: dict[str, Any] = {}
        for key, item in entries:
            result[_map_key(key)] = self._from_lua(item, budget, caps, depth + 1)
        return result


def _is_numeric_key(key: Any) -> bool:
    if type(key) is int or type(key) is float:
        return True
    if isinstance(key, bytes):
        try:
            float(key)
        except ValueError:
            return False
        return True
    return False


def _numeric_key(key: Any) -> Any:
    if isinstance(key, bytes):
        number = float(key)
        return int(number) if number.is_integer() else number
    return key


def _lua_number_text(value: int | float) -> str:
    """A number key as Lua's tostring shows it (``%.14g``)."""
    if type(value) is int:
        return str(value)
    return format(value, ".14g")


def _map_key(key: Any) -> str:
    if isinstance(key, bytes):
        return _decode(key)
    if type(key) is bool:
        return "true" if key else "false"
    if type(key) is int or type(key) is float:
        return format_go_number(key)
    return "<table>"


class _ThreadSandboxes(threading.local):
    sandbox: LuaSandbox | None = None


_sandboxes = _ThreadSandboxes()


def sandbox_for_thread(cache_size: int) -> LuaSandbox:
    """The calling thread's sandbox, created on first use."""
    sandbox = _sandboxes.sandbox
    if sandbox is None:
        sandbox = LuaSandbox(cache_size)
        _sandboxes.sandbox = sandbox
    return sandbox


def reset_thread_sandbox() -> None:
    """Drop the calling thread's sandbox (after a fault left it in doubt)."""
    _sandboxes.sandbox = None
