"""Endpoint URLs: placeholder resolution (HTTP-1) and the exact URL sent.

Pure functions over strings; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final
from urllib.parse import quote

import msgspec
from yarl import URL

from argyll.errors import MissingArgument

__all__ = ["MissingArgument", "resolve_url", "to_url"]


# Same pattern as argyll.model.validate.endpoint_params; split() puts the
# names at the odd indexes.
_PLACEHOLDER: Final = re.compile(r"\{([^{}]+)\}")
# HTTP-1: a path segment keeps letters, digits, "-._~" (always safe for
# quote) and "$&+:=@"; "/ ? ; ," and space are encoded (Go's url.PathEscape).
_SEGMENT_SAFE: Final = "$&+:=@"
# RFC 3986 characters only, with well-formed %XX escapes.
_ENCODED_URL: Final = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")

_encode = msgspec.json.Encoder().encode


@lru_cache(maxsize=1024)
def _template_parts(template: str) -> tuple[str, ...]:
    return tuple(_PLACEHOLDER.split(template))


def _segment(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        # CONV-7: an integral float renders like the integer ("5", not "5.0").
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        text = _encode(value).decode()
    return quote(text, safe=_SEGMENT_SAFE)


def resolve_url(template: str, args: Mapping[str, Any]) -> str:
    """Fill the ``{name}`` placeholders of an endpoint template (HTTP-1).

    A string argument is used as-is, any other value as compact JSON text;
    either is then percent-encoded as a URL path segment: ASCII letters,
    digits, ``-._~`` and ``$&+:=@`` stay literal, everything else (``/``,
    ``?``, ``;``, ``,``, space, non-ASCII as UTF-8) is encoded. The rest of
    the template is copied unchanged.

    Args:
        template: The endpoint or compensate URL with placeholders.
        args: Invocation arguments by inner name.

    Returns:
        The URL with every placeholder replaced.

    Raises:
        MissingArgument: A placeholder names no argument (the first one found,
            left to right).
        TypeError: An argument value cannot be encoded as JSON.
    """
    if "{" not in template:
        return template
    parts = _template_parts(template)
    if len(parts) == 1:
        return template
    out = list(parts)
    for i in range(1, len(parts), 2):
        name = parts[i]
        if name not in args:
            raise MissingArgument(name)
        out[i] = _segment(args[name])
    return "".join(out)


@lru_cache(maxsize=4096)
def to_url(text: str) -> URL:
    """The URL object to send for ``text``, validated eagerly.

    A URL already in encoded form is sent byte for byte: yarl's default
    re-quoting would decode the ``%2C``, ``%3B``, ``%24`` that HTTP-1 asks
    for. Anything else (e.g. a space in the template itself) is normalized by
    yarl rather than sent as an invalid request line.

    Raises:
        ValueError: ``text`` is not a URL yarl can parse (bad port, IPv6
            brackets, ...).
    """
    url = URL(text, encoded=True) if _ENCODED_URL.fullmatch(text) else URL(text)
    url.port  # noqa: B018 -- yarl parses the authority lazily; fail here, not mid-request
    return url
