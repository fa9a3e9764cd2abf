"""``argyll step``: list, get, register, update and delete steps."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import msgspec
import yaml
from rich.table import Table
from rich.text import Text

from argyll.cli.common import console, engine_call, json_option, print_json, settings
from argyll.model.step import Step

__all__ = ["load_steps", "step", "to_yaml"]


@click.group()
def step() -> None:
    """Register and inspect steps."""


def load_steps(path: Path) -> list[Step]:
    """The steps in a JSON or YAML file: one step, a list, or ``{"steps": [...]}``.

    A YAML file may also hold several documents (``---``), one step each.
    ``-`` reads standard input (JSON is YAML too, so either works).

    Raises:
        click.BadParameter: The file cannot be read or parsed, or an entry is
            not a step.
    """
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="-f") from exc
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"{path} is not utf-8 text", param_hint="-f") from exc
    try:
        if path.suffix.lower() == ".json":
            docs: list[Any] = [json.loads(text)]
        else:
            docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except (ValueError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise click.BadParameter(
            f"{path} is not valid JSON/YAML: {detail}", param_hint="-f"
        ) from exc
    entries: list[Any] = []
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("steps"), list):
            entries.extend(doc["steps"])
        elif isinstance(doc, list):
            entries.extend(doc)
        else:
            entries.append(doc)
    if not entries:
        raise click.BadParameter(f"{path} holds no steps", param_hint="-f")
    steps = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise click.BadParameter(f"{path}: entry {number} is not an object", param_hint="-f")
        try:
            steps.append(msgspec.convert(entry, Step))
        except msgspec.ValidationError as exc:
            name = entry.get("id", number)
            raise click.BadParameter(f"{path}: step {name}: {exc}", param_hint="-f") from exc
    return steps


def _inputs(step: dict[str, Any], *roles: str) -> str:
    attributes = step.get("attributes") or {}
    names = [n for n, spec in attributes.items() if (spec or {}).get("role") in roles]
    return ", ".join(sorted(names))


class _Dumper(yaml.SafeDumper):
    """YAML output with multi-line strings (scripts) as literal ``|`` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(value: Any) -> str:
    """``value`` as block YAML in key order (what ``step get`` prints)."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True).rstrip()


@step.command("list")
@json_option
def list_steps() -> None:
    """List the registered steps."""
    opts = settings()
    with engine_call():
        steps = opts.api().list_steps()
    if opts.json:
        print_json(steps)
        return
    table = Table("ID", "TYPE", "NAME", "REQUIRED", "OPTIONAL", "OUTPUTS", box=None)
    for item in steps:
        cells = (
            item.get("id", ""),
            item.get("type", ""),
            item.get("name", ""),
            _inputs(item, "required"),
            _inputs(item, "optional"),
            _inputs(item, "output"),
        )
        table.add_row(*(Text(str(cell)) for cell in cells))
    out = console()
    out.print(table if steps else "no steps registered")


@step.command("get")
@click.argument("step_id")
@json_option
def get_step(step_id: str) -> None:
    """Show one step's definition (YAML; JSON with --json)."""
    opts = settings()
    with engine_call():
        found = opts.api().get_step(step_id)
    if opts.json:
        print_json(found)
    else:
        click.echo(to_yaml(found))


def _write_steps(path: Path, update: bool) -> None:
    opts = settings()
    steps = load_steps(path)
    api = opts.api()
    done: list[dict[str, Any]] = []
    for definition in steps:
        with engine_call():
            done.append(api.update_step(definition) if update else api.register_step(definition))
    if opts.json:
        print_json(done)
        return
    verb = "updated" if update else "registered"
    for echoed in done:
        click.echo(f"{verb} step {echoed.get('id', '')}")


_FILE = click.option(
    "-f",
    "--file",
    "path",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="A .json or .yaml file with one step or a list of steps; - reads stdin.",
)


@step.command("register")
@_FILE
@json_option
def register(path: Path) -> None:
    """Register the steps in a file (identical re-registration succeeds)."""
    _write_steps(path, update=False)


@step.command("update")
@_FILE
@json_option
def update(path: Path) -> None:
    """Replace registered steps with the definitions in a file."""
    _write_steps(path, update=True)


@step.command("delete")
@click.argument("step_ids", nargs=-1, required=True)
@json_option
def delete(step_ids: tuple[str, ...]) -> None:
    """Unregister steps (running flows keep their snapshot)."""
    opts = settings()
    api = opts.api()
    for step_id in step_ids:
        with engine_call():
            api.unregister_step(step_id)
        if not opts.json:
            click.echo(f"deleted step {step_id}")
    if opts.json:
        print_json({"deleted": list(step_ids)})
