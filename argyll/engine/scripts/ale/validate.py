"""Allow-list check of the Python AST Hy produced for a translated Ale script.

Defence in depth: the translator should never emit anything rejected here. The
check runs on the mangled Python AST (after Hy), so it cannot be fooled by
symbol spelling. It admits no attribute access, subscripts, comprehensions,
imports, globals, try/raise/with, yield/await, f-strings, keyword arguments,
defaults or decorators; only calls of plain names, and only names the
translator generates.
"""

from __future__ import annotations

import ast
import re

__all__ = ["UnsafeCode", "validate"]

_NODES: tuple[type[ast.AST], ...] = (
    ast.Module,
    ast.Expr,
    ast.Assign,
    ast.FunctionDef,
    ast.Lambda,
    ast.arguments,
    ast.arg,
    ast.Return,
    ast.If,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Constant,
    ast.List,
    ast.Dict,
    ast.Starred,
    ast.Compare,
    ast.IsNot,
    ast.Pass,
    ast.UnaryOp,
    ast.USub,
)

_NAME = re.compile(
    r"(RESULT|[alrt]\d+|P\d+_[A-Za-z0-9]*|R_[a-z]+|C\d+|True|False|None"
    r"|_hy_anon_var_\d+|_hy_anon_\d+|_hy_anon_fn_\d+|_hy_let_[alrt]\d+_\d+)"
)


_GLOBAL = re.compile(r"P\d+_.*|R_.*|C\d+")


class UnsafeCode(Exception):
    """The generated code contains something outside the allow-list."""


def validate(tree: ast.Module, global_names: frozenset[str]) -> None:
    """Raise :class:`UnsafeCode` unless ``tree`` is inside the allowed subset.

    Args:
        tree: The module Hy compiled from the translator's output.
        global_names: Every name the execution namespace will define.
    """
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise UnsafeCode(f"disallowed node {type(node).__name__}")
        problem = _problem(node, global_names)
        if problem:
            raise UnsafeCode(problem)


def _name_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.FunctionDef):
        return node.name
    if isinstance(node, ast.arg):
        return node.arg
    return None


def _problem(node: ast.AST, global_names: frozenset[str]) -> str:
    name = _name_of(node)
    if name is not None:
        if "__" in name or not _NAME.fullmatch(name):
            return f"disallowed name {name!r}"
        if isinstance(node, ast.Name) and _GLOBAL.fullmatch(name) and name not in global_names:
            return f"unknown global {name!r}"
    if isinstance(node, ast.FunctionDef) and (node.decorator_list or node.returns):
        return "decorators and annotations are not allowed"
    if isinstance(node, ast.arguments) and (
        node.defaults or node.kw_defaults or node.kwonlyargs or node.kwarg or node.posonlyargs
    ):
        return "only positional parameters are allowed"
    if isinstance(node, ast.arg) and node.annotation is not None:
        return "annotations are not allowed"
    if isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name)):
        return "only plain calls of generated names are allowed"
    if isinstance(node, ast.Assign) and (
        len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name)
    ):
        return "only single-name assignment is allowed"
    if isinstance(node, ast.Compare) and (
        len(node.ops) != 1
        or not isinstance(node.comparators[0], ast.Constant)
        or node.comparators[0].value is not False
    ):
        return "only 'is not False' comparisons are allowed"
    if isinstance(node, ast.Constant) and type(node.value) not in (
        str,
        int,
        float,
        bool,
        type(None),
    ):
        return f"disallowed constant {type(node.value).__name__}"
    if isinstance(node, ast.Dict) and any(
        not isinstance(key, ast.Constant) or type(key.value) is not str for key in node.keys
    ):
        return "object literal keys must be strings"
    if isinstance(node, ast.UnaryOp) and not isinstance(node.operand, ast.Constant):
        return "unary operators only apply to constants"
    return ""
