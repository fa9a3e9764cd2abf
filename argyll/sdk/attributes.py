"""Attribute specs from builder arguments (DATA-20..27).

Pure constructors used by ``StepBuilder``: each returns the ``AttributeSpec``
whose JSON omits every sub-config field left at its default (CONV-2).
"""

from __future__ import annotations

import msgspec
from msgspec import structs

from argyll.errors import StepValidationError
from argyll.model.step import (
    AttributeMapping,
    AttributeSpec,
    ConstConfig,
    MetaConfig,
    OptionalConfig,
    OutputConfig,
    RequiredConfig,
)

__all__ = [
    "const_spec",
    "for_each_spec",
    "json_text",
    "meta_spec",
    "optional_spec",
    "output_spec",
    "required_spec",
]


def json_text(what: str, value: object) -> str:
    """``value`` as the JSON text the engine stores (DATA-24).

    A string that parses as JSON is that JSON text already (``"0"``,
    ``'"EUR"'``: the original SDK's calls); any other string is a plain
    string and gets quoted; every other value is encoded.

    Raises:
        TypeError: ``value`` cannot be encoded as JSON.
    """
    if isinstance(value, str):
        try:
            msgspec.json.decode(value)
        except msgspec.DecodeError:
            return msgspec.json.encode(value).decode()
        return value
    try:
        return msgspec.json.encode(value).decode()
    except (TypeError, msgspec.EncodeError) as exc:
        raise TypeError(
            f"{what} must be a JSON value or JSON text, got {type(value).__name__} {value!r}"
        ) from exc


def _mapping(inner_name: str) -> AttributeMapping | None:
    return AttributeMapping(name=inner_name) if inner_name else None


def required_spec(type: str, collect: str, for_each: bool, inner_name: str) -> AttributeSpec:
    """A ``required`` attribute; the sub-config is omitted when all defaults."""
    config = RequiredConfig(collect=str(collect), for_each=for_each, mapping=_mapping(inner_name))
    return AttributeSpec(
        role="required",
        type=str(type),
        required=config if config != RequiredConfig() else None,
    )


def optional_spec(
    type: str, default: object, collect: str, for_each: bool, deadline: int, inner_name: str
) -> AttributeSpec:
    """An ``optional`` attribute; ``""``/``None`` = no default; ``TypeError`` if not JSON."""
    config = OptionalConfig(
        collect=str(collect),
        for_each=for_each,
        default="" if default is None or default == "" else json_text("default", default),
        deadline=deadline,
        mapping=_mapping(inner_name),
    )
    return AttributeSpec(
        role="optional",
        type=str(type),
        optional=config if config != OptionalConfig() else None,
    )


def const_spec(type: str, value: object) -> AttributeSpec:
    """A ``const`` attribute; raises ``TypeError`` when ``value`` is not JSON."""
    return AttributeSpec(
        role="const", type=str(type), const=ConstConfig(value=json_text("value", value))
    )


def meta_spec(type: str, meta_key: str) -> AttributeSpec:
    """A ``meta`` attribute filled from the metadata key ``meta_key``."""
    return AttributeSpec(role="meta", type=str(type), meta=MetaConfig(key=meta_key))


def output_spec(type: str, inner_name: str) -> AttributeSpec:
    """An ``output`` attribute, returned by the step under ``inner_name`` when given."""
    mapping = _mapping(inner_name)
    return AttributeSpec(
        role="output",
        type=str(type),
        output=OutputConfig(mapping=mapping) if mapping is not None else None,
    )


def for_each_spec(name: str, spec: AttributeSpec | None) -> AttributeSpec:
    """``spec`` with ``for_each`` set (WORK-3).

    Raises:
        StepValidationError: ``spec`` is missing or not a required/optional input.
    """
    if spec is None or spec.role not in ("required", "optional"):
        found = "not declared" if spec is None else f"a {spec.role} attribute"
        problem = f'for_each needs a declared required or optional input: "{name}" is {found}'
        raise StepValidationError(problem, [problem])
    if spec.role == "required":
        required = structs.replace(spec.required or RequiredConfig(), for_each=True)
        return structs.replace(spec, required=required)
    optional = structs.replace(spec.optional or OptionalConfig(), for_each=True)
    return structs.replace(spec, optional=optional)
