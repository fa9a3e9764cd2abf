"""Compile Ale source to a sandboxed Python function, and call it under a budget.

Pipeline: :func:`~.reader.read_forms` (data only) -> :class:`~.translate.Translator`
(closed Hy subset, symbols renamed) -> ``hy_compile`` -> :func:`~.validate.validate`
(AST allow-list) -> ``compile`` -> ``exec`` in a namespace holding only the
prelude, the script's constants and an empty ``__builtins__``.

The compiled artefact is marshal-safe (code bytes plus constant specs) so a
worker process can load it without importing Hy. Errors leave this module as
:mod:`argyll.errors` exceptions with no traceback or frame attached.
"""

from __future__ import annotations

import marshal
import threading
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from argyll.errors import ScriptCompileError, ScriptLimitExceeded, ScriptRuntimeError

from ..cache import script_key
from ..limits import Budget
from .budget import AleError, AleLimit, metered
from .convert import from_json, to_json
from .prelude import ALE_NAMES, RUNTIME, globals_for

__all__ = ["CompiledAle", "call_ale", "compile_ale", "load_ale"]

_COMPILE_LOCK = threading.Lock()  # Hy's reader and compiler keep class-level state
_GLOBAL_NAMES = frozenset(ALE_NAMES.values()) | frozenset(RUNTIME)
RUNTIME_PREFIX = "error calling procedure: "
COMPILE_PREFIX = "script compile error: "


@dataclass(frozen=True)
class CompiledAle:
    """A compiled Ale script: positional parameters in ``arg_names`` order."""

    arg_names: tuple[str, ...]
    key: str
    code: bytes
    constants: dict[str, tuple[Any, ...]]
    function: Callable[..., Any] = field(repr=False, compare=False)


def compile_ale(source: str, arg_names: Sequence[str]) -> CompiledAle:
    """Compile ``source`` as the body of ``(lambda (<sorted arg_names>) ...)``.

    Raises:
        ScriptCompileError: Syntax errors, unknown symbols and unsupported forms.
    """
    from hy.compiler import hy_compile  # heavy; only the parent process compiles

    from .reader import AleSyntaxError, read_forms
    from .thread_forms import SPECIAL_FORMS
    from .translate import AleCompileError, Translator
    from .validate import UnsafeCode, validate

    names = tuple(sorted(arg_names))
    try:
        with _COMPILE_LOCK:
            forms = read_forms(source)
            translation = Translator(SPECIAL_FORMS).script(forms, names)
            module = types.ModuleType("ale_script")
            tree = hy_compile(translation.form, module, import_stdlib=False, filename="<ale>")
            validate(tree, _GLOBAL_NAMES | frozenset(translation.constants))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)  # "is not" with a literal
                code = compile(tree, "<ale>", "exec")
    except (AleSyntaxError, AleCompileError) as exc:
        raise ScriptCompileError(COMPILE_PREFIX + str(exc), "ale") from None
    except UnsafeCode as exc:
        raise ScriptCompileError(COMPILE_PREFIX + f"unsupported construct ({exc})", "ale") from None
    except RecursionError:
        raise ScriptCompileError(COMPILE_PREFIX + "forms nested too deeply", "ale") from None
    except Exception as exc:  # Hy rejected the generated forms: a translator gap
        raise ScriptCompileError(COMPILE_PREFIX + f"{type(exc).__name__}: {exc}", "ale") from None
    key = script_key("ale", source, names)
    return load_ale(names, key, marshal.dumps(code), translation.constants, code)


def load_ale(
    arg_names: tuple[str, ...],
    key: str,
    code: bytes,
    constants: dict[str, tuple[Any, ...]],
    code_object: types.CodeType | None = None,
) -> CompiledAle:
    """Rebuild a compiled script from its marshal-safe parts (in a worker)."""
    namespace = globals_for(constants)
    exec(code_object or marshal.loads(code), namespace)
    return CompiledAle(arg_names, key, code, constants, namespace["RESULT"])


def call_ale(
    compiled: CompiledAle, args: dict[str, Any], budget: Budget, convert: bool = True
) -> tuple[Any, Any]:
    """Call a compiled script with ``args`` under ``budget``.

    Returns:
        ``(raw, json)``: the raw Ale result (for truthiness) and its JSON
        conversion (SCRIPT-3), or ``None`` for the latter when ``convert`` is
        false.

    Raises:
        ScriptLimitExceeded: A time, memory, size, depth or recursion limit.
        ScriptRuntimeError: Any other failure, prefixed ``error calling procedure:``.
    """
    values = [from_json(args.get(name)) for name in compiled.arg_names]
    try:
        with metered(budget.timeout, budget.memory):
            raw = compiled.function(*values)
            converted = to_json(raw, budget.max_depth, budget.max_items) if convert else None
    except AleLimit as exc:
        kind = exc.kind if exc.kind in ("time", "memory", "depth", "recursion") else "size"
        message = exc.detail or budget.message(kind)  # type: ignore[arg-type]
        raise ScriptLimitExceeded(message, "ale", kind) from None
    except AleError as exc:
        raise ScriptRuntimeError(RUNTIME_PREFIX + str(exc), "ale") from None
    except RecursionError:
        raise ScriptLimitExceeded(budget.message("recursion"), "ale", "depth") from None
    except MemoryError:
        raise ScriptLimitExceeded(budget.message("memory"), "ale", "memory") from None
    except TypeError as exc:
        raise ScriptRuntimeError(RUNTIME_PREFIX + _type_error(exc), "ale") from None
    except NameError:
        message = "recursive binding used before it was bound"
        raise ScriptRuntimeError(RUNTIME_PREFIX + message, "ale") from None
    except Exception as exc:
        message = f"{type(exc).__name__}"
        raise ScriptRuntimeError(RUNTIME_PREFIX + message, "ale") from None
    return raw, converted


def _type_error(exc: TypeError) -> str:
    text = str(exc)
    if "positional argument" in text or "arguments" in text:
        return "wrong number of arguments"
    return "invalid argument types"
