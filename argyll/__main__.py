"""``python -m argyll`` and the ``argyll`` console script: the engine CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the engine CLI; heavy imports happen only here."""
    from argyll.engine.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
