"""``python -m argyll`` and the ``argyll`` console script.

``serve`` goes straight to the engine CLI; every other command is the client
command line in ``argyll.cli``. Heavy imports happen only here.
"""

from __future__ import annotations

import importlib.util
import sys

#: Import names of the libraries the ``cli`` extra installs.
_CLI_LIBRARIES = ("click", "rich", "yaml", "mcp")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        from argyll.engine.cli import run

        return run(args)
    missing = [name for name in _CLI_LIBRARIES if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"argyll: the command line needs the cli extra (missing {', '.join(missing)}): "
            "pip install 'argyll[cli]'",
            file=sys.stderr,
        )
        return 2
    from argyll.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
