"""Identifier sanitizing (DATA-1)."""

from __future__ import annotations

import re

__all__ = ["ALLOWED_ID_CHARS", "is_valid_id_text", "kebab_case", "sanitize_id"]

ALLOWED_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+ ")
_DISALLOWED = re.compile(r"[^A-Za-z0-9_.+\- ]")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[\s_]+")


def sanitize_id(raw: str) -> str:
    """Sanitize an ID per DATA-1.

    Lowercase; delete every disallowed character; replace each space with
    ``-`` (no collapsing); trim leading and trailing ``-``.

    >>> sanitize_id("My Flow@1")
    'my-flow1'
    """
    return _DISALLOWED.sub("", raw.lower()).replace(" ", "-").strip("-")


def is_valid_id_text(text: str) -> bool:
    """True when every character of ``text`` is allowed by DATA-1."""
    return all(c in ALLOWED_ID_CHARS for c in text)


def kebab_case(name: str) -> str:
    """The ID the original SDK derives from a step name, sanitized per DATA-1.

    CamelCase boundaries and runs of spaces or underscores become ``-``:
    ``"AsyncTask"`` -> ``"async-task"``, ``"Price Calculator"`` ->
    ``"price-calculator"``, ``"order_total v2"`` -> ``"order-total-v2"``.
    """
    text = _CAMEL.sub(r"\1-\2", name.strip())
    return sanitize_id(_SEPARATORS.sub("-", text)).strip("-")
