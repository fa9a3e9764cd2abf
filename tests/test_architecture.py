"""The layering lines of docs/concepts/architecture.md, checked from the source.

Imports are read with ``ast`` (module level and inside functions; imports
under ``if TYPE_CHECKING:`` are for annotations only and do not count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "argyll"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for sub in node.body for n in ast.walk(sub))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for module, imported in MODULES.items():
        g.add_node(module)
        for name in imported:
            if name in MODULES and name != module:
                g.add_edge(module, name)
    return g


def offenders(prefix: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    out = {}
    for module, imported in MODULES.items():
        if module == prefix or module.startswith(prefix + "."):
            bad = sorted(n for n in imported if n.startswith(forbidden))
            if bad:
                out[module] = bad
    return out


#: Cycles tolerated for now; nothing may join this list (the SDK's
#: client/step_builder cycle is gone: builders get the client classes handed in).
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph()) if len(c) > 1]
    assert [c for c in cycles if c not in KNOWN_CYCLES] == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        # The pure core: no I/O, no clock, no scripts, no store, no executors.
        (
            "argyll.engine.flow",
            (
                "asyncio",
                "time",
                "random",
                "os",
                "socket",
                "sqlite3",
                "aiohttp",
                "httpx",
                "argyll.engine.scripts",
                "argyll.engine.store",
                "argyll.engine.execute",
                "argyll.engine.scheduler",
                "argyll.engine.server",
            ),
        ),
        # The facade knows nothing of HTTP serving.
        ("argyll.engine.engine", ("starlette", "uvicorn", "argyll.engine.server")),
        # The server talks to the facade, never to the store.
        ("argyll.engine.server", ("argyll.engine.store",)),
        # Nothing below the server reaches up into it.
        ("argyll.engine.execute", ("argyll.engine.server", "argyll.engine.engine")),
        ("argyll.engine.health_monitor", ("argyll.engine.server", "argyll.engine.engine")),
    ],
)
def test_layering(package: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(package, forbidden) == {}


def test_the_checker_sees_a_cycle() -> None:
    g = graph()
    g.add_edge("argyll.engine.flow.tx", "argyll.engine.flow.decide")
    assert any(len(c) > 1 for c in nx.strongly_connected_components(g))
