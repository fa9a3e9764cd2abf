"""The engine command line: ``argyll serve --host --port --data-dir --store --node-id``."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path

from argyll.errors import ConfigError, StoreError

__all__ = ["run"]

log = logging.getLogger("argyll")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="argyll", description="Argyll orchestration engine")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the engine HTTP server")
    serve.add_argument("--host", help="listen host (default 127.0.0.1, or API_HOST)")
    serve.add_argument("--port", type=int, help="listen port (default 8080, or API_PORT)")
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="directory of the embedded SQLite store (default ./argyll-data)",
    )
    serve.add_argument(
        "--store",
        metavar="URL",
        default=None,
        help="shared store postgresql://USER@HOST:PORT/DB (or STORE_URL); default SQLite",
    )
    serve.add_argument(
        "--node-id", default=None, help="name of this engine (or NODE_ID; default argyll-1)"
    )
    serve.add_argument(
        "--memory",
        action="store_true",
        help="keep everything in memory (nothing survives a restart; for tests)",
    )
    return parser


#: Import names of the libraries the ``engine`` extra installs.
_ENGINE_LIBRARIES = ("hy", "lupa", "jsonpath_ng", "networkx", "aiohttp", "prometheus_client")


def _missing_engine_libraries() -> list[str]:
    """The engine libraries that are not installed (the base install has none)."""
    return [name for name in _ENGINE_LIBRARIES if importlib.util.find_spec(name) is None]


def run(argv: list[str]) -> int:
    """Parse ``argv`` and run the command; returns the process exit code."""
    args = _parser().parse_args(argv)
    missing = _missing_engine_libraries()
    if missing:
        print(
            f"argyll: the engine needs the engine extra (missing {', '.join(missing)}): "
            "pip install 'argyll[engine]'",
            file=sys.stderr,
        )
        return 2
    from argyll.engine.config import Config

    try:
        config = Config.from_env(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            store_url=args.store,
            node_id=args.node_id,
        )
    except ConfigError as exc:
        print(f"argyll: {exc}", file=sys.stderr)
        return 2
    if args.memory:
        from dataclasses import replace

        config = replace(config, data_dir=None, store_url="")
    from argyll.engine.serve import serve

    try:
        serve(config)
    except (ConfigError, StoreError) as exc:
        print(f"argyll: {exc}", file=sys.stderr)
        return 2
    return 0
