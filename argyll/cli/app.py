"""The ``argyll`` command group: global options and the command tree.

Every command except ``serve`` is a client of the engine's public HTTP and
WebSocket API. ``serve`` hands its arguments, unchanged, to the engine's own
command line (``argyll.engine.cli``), imported only when it runs.
"""

from __future__ import annotations

import click

from argyll import __version__
from argyll.cli.api import DEFAULT_BASE_URL
from argyll.cli.common import Settings
from argyll.cli.flows import flow
from argyll.cli.plans import plan
from argyll.cli.status import cluster, health
from argyll.cli.steps import step

__all__ = ["cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="argyll")
@click.option(
    "--engine",
    envvar="ENGINE_URL",
    default=DEFAULT_BASE_URL,
    show_default=True,
    metavar="URL",
    help="The engine's base URL (or ENGINE_URL).",
)
@click.option(
    "--token",
    envvar="ARGYLL_TOKEN",
    default=None,
    metavar="TOKEN",
    help="Sent as 'Authorization: Bearer TOKEN' (or ARGYLL_TOKEN).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each request.",
)
@click.pass_context
def cli(ctx: click.Context, engine: str, token: str | None, timeout: float) -> None:
    """Argyll: run the engine, manage steps, start and watch flows."""
    ctx.obj = Settings(engine=engine, token=token or None, timeout=timeout)


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def serve(args: tuple[str, ...]) -> None:
    """Run the engine (serve --help lists its options)."""
    from argyll.engine.cli import run

    raise SystemExit(run(["serve", *args]))


@cli.command("mcp")
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(1, 65535),
    default=None,
    metavar="PORT",
    help="Serve streamable HTTP on PORT (at /mcp) instead of stdio.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen host for --http.")
@click.pass_obj
def mcp_command(opts: Settings, http_port: int | None, host: str) -> None:
    """Run the MCP server for AI assistants (stdio, or --http PORT)."""
    from argyll.cli.mcp_server import run_server

    run_server(opts.engine, opts.token, opts.timeout, http_port=http_port, host=host)


cli.add_command(step)
cli.add_command(plan)
cli.add_command(flow)
cli.add_command(health)
cli.add_command(cluster)
