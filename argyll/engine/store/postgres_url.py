"""Store URLs: which store ``--store`` / ``STORE_URL`` names, checked before start-up.

``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB`` (or ``postgres://``) selects
the PostgreSQL store. Two query parameters belong to Argyll and are removed
before the URL reaches the driver:

- ``schema``: the schema holding Argyll's tables (default ``argyll``),
  created on first use; engines sharing one store use the same schema, and
  tests isolate themselves in a schema of their own;
- ``pool_size``: most pooled read connections per engine (default 10; each
  engine also holds one connection for writing).

Every other query parameter (``sslmode``, ``connect_timeout``...) is passed
to the driver unchanged. Nothing here imports the driver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from argyll.errors import ConfigError

__all__ = ["DEFAULT_SCHEMA", "PostgresURL", "is_postgres_url", "parse_postgres_url", "redact"]

DEFAULT_SCHEMA = "argyll"
_SCHEMES = ("postgresql", "postgres")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_DEFAULT_POOL = 10
_MAX_POOL = 1000


@dataclass(frozen=True, slots=True)
class PostgresURL:
    """A checked PostgreSQL store URL.

    Attributes:
        dsn: The URL for the driver (Argyll's own parameters removed).
        schema: The schema of Argyll's tables (a plain identifier).
        pool_size: Most pooled read connections.
        display: The URL without its password, for logs and ``/health``.
    """

    dsn: str
    schema: str
    pool_size: int
    display: str


def is_postgres_url(url: str) -> bool:
    """True when ``url`` names a PostgreSQL store (by its scheme)."""
    return urlsplit(url.strip()).scheme.lower() in _SCHEMES


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (unparseable text is kept short)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return url[:80]


def parse_postgres_url(url: str) -> PostgresURL:
    """Check a PostgreSQL store URL without connecting.

    Raises:
        ConfigError: ``invalid store URL "<url>": <reason>`` (password hidden).
    """
    text = url.strip()

    def bad(reason: str) -> ConfigError:
        return ConfigError(f'invalid store URL "{redact(text)}": {reason}')

    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise bad(str(exc)) from None
    if parts.scheme.lower() not in _SCHEMES:
        raise bad("use postgresql://USER@HOST:PORT/DB")
    if not parts.hostname:
        raise bad("no host")
    if port == 0:
        raise bad("port 0")
    database = parts.path.lstrip("/")
    if not database or "/" in database:
        raise bad("no database name (postgresql://USER@HOST:PORT/DB)")
    try:
        params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise bad(f"bad query string ({exc})") from None
    schema = DEFAULT_SCHEMA
    pool_size = _DEFAULT_POOL
    rest: list[tuple[str, str]] = []
    for key, value in params:
        if key == "schema":
            if not _IDENTIFIER.fullmatch(value):
                raise bad(f'schema "{value}" is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)')
            schema = value
        elif key == "pool_size":
            if not value.isdigit() or not 1 <= int(value) <= _MAX_POOL:
                raise bad(f'pool_size "{value}" is not a number in [1, {_MAX_POOL}]')
            pool_size = int(value)
        else:
            rest.append((key, value))
    dsn = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(rest)))
    return PostgresURL(dsn=dsn, schema=schema, pool_size=pool_size, display=redact(dsn))
