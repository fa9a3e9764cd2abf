"""Ale, the Lisp of the original engine, compiled through Hy into sandboxed Python.

Entry points: :func:`~.engine.compile_ale`, :func:`~.engine.load_ale` and
:func:`~.engine.call_ale`. Importing this package does not import Hy.
"""

from .engine import CompiledAle, call_ale, compile_ale, load_ale

__all__ = ["CompiledAle", "call_ale", "compile_ale", "load_ale"]
