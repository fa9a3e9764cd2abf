"""What every command shares: the engine connection, ``--json``, errors, k=v parsing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from rich.console import Console

from argyll.cli.api import EngineApi
from argyll.errors import ClientError

__all__ = [
    "EngineFailure",
    "Settings",
    "console",
    "engine_call",
    "json_option",
    "parse_init",
    "parse_labels",
    "print_json",
    "settings",
    "short_json",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class EngineFailure(click.ClickException):
    """The engine refused a request (or could not be reached): one line, exit 1."""

    exit_code = 1


@dataclass
class Settings:
    """The root options, shared by every command through the click context."""

    engine: str
    token: str | None
    timeout: float
    json: bool = False
    _api: EngineApi | None = field(default=None, repr=False)

    def api(self) -> EngineApi:
        if self._api is None:
            self._api = EngineApi(self.engine, self.token, self.timeout)
            click.get_current_context().call_on_close(self._api.close)
        return self._api


def settings() -> Settings:
    """The ``Settings`` of the running command."""
    obj = click.get_current_context().find_object(Settings)
    if obj is None:  # pragma: no cover - the root group always sets it
        raise click.UsageError("no engine settings")
    return obj


def json_option(fn: _F) -> _F:
    """``--json``: print the engine's answer as JSON instead of tables."""

    def mark(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            obj = ctx.find_object(Settings)
            if obj is not None:
                obj.json = True
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=mark,
        help="Print JSON (for scripts) instead of tables.",
    )(fn)


def console() -> Console:
    """The stdout console (no colours when not a terminal)."""
    return Console(highlight=False, soft_wrap=False)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def short_json(value: Any, limit: int = 60) -> str:
    """``value`` as compact JSON, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def engine_call() -> Iterator[None]:
    """Turn an engine error into one line on stderr and exit status 1."""
    try:
        yield
    except ClientError as exc:
        raise EngineFailure(_one_line(exc.message)) from exc


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _split_pair(option: str, pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
    return key.strip(), value


def parse_init(pairs: tuple[str, ...], option: str = "--init") -> dict[str, list[Any]]:
    """``k=JSON`` pairs as init values; a value that is not JSON is a string.

    Each pair adds one value (DATA-30), so ``--init x=1 --init x=2`` gives
    ``{"x": [1, 2]}``; an array stays one value: ``--init xs=[1,2]``.
    """
    init: dict[str, list[Any]] = {}
    for pair in pairs:
        key, raw = _split_pair(option, pair)
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        init.setdefault(key, []).append(value)
    return init


def parse_labels(pairs: tuple[str, ...], option: str = "--label") -> dict[str, str]:
    """``k=v`` pairs as a label map (values are plain strings)."""
    labels: dict[str, str] = {}
    for pair in pairs:
        key, value = _split_pair(option, pair)
        if not value:
            raise click.BadParameter(f"label {key!r} has no value", param_hint=option)
        labels[key] = value
    return labels
