"""The ``argyll`` command line and MCP server: clients of the engine's public API.

Loaded only by ``argyll.__main__`` (``import argyll`` never imports it).
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Run the command line on ``argv``; returns the process exit code."""
    from argyll.cli.app import cli

    try:
        cli.main(args=argv, prog_name="argyll", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
