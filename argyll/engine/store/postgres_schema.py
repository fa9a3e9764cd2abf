"""The PostgreSQL store's schema and its versioned migrations.

``migrate`` runs on every ``PostgresStore.open``: inside one transaction
holding an advisory lock (so engines starting together migrate once), it
creates the schema if needed, reads the highest applied version from
``schema_version`` and applies the missing migrations in order, each
recorded with its version. A database migrated by a newer engine is refused.

Version 1:

- ``events(position, aggregate, sequence, timestamp, type, data)``, primary
  key ``(aggregate, sequence)`` (the optimistic-concurrency guard: two
  appends can never both store one sequence), ``position`` unique.
  ``aggregate`` is the aggregate ID joined by U+001F; ``timestamp`` unix
  microseconds (exact for every datetime, the zero time included); ``data``
  the payload bytes exactly as appended (``bytea``: ``jsonb`` would
  reformat them).
- ``event_head(position, index_ns)``: one row, the last assigned position
  and the last index time. Writers lock it first in every append
  transaction; see ``postgres`` for why.
- ``flow_index(flow_id, status, grp, timestamp_ns, neg_ns, labels,
  is_child)``: as in SQLite, with ``labels`` as ``jsonb`` (a GIN index
  answers ``labels @> filter``) and text in the ``"C"`` collation so that
  ``ORDER BY flow_id`` is code-point order, the order of every other store.

Version 2 adds ``flow_index.owner`` (the node driving an active flow) and
``nodes(node_id, address, started, heartbeat)`` for clusters.
"""

from __future__ import annotations

from typing import Any

from argyll.errors import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

_V1 = """
CREATE TABLE events (
    position bigint NOT NULL,
    aggregate text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    timestamp bigint NOT NULL,
    type text NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (aggregate, sequence)
);
CREATE UNIQUE INDEX events_position ON events (position);
CREATE TABLE event_head (
    id integer PRIMARY KEY CHECK (id = 1),
    position bigint NOT NULL,
    index_ns bigint NOT NULL
);
INSERT INTO event_head (id, position, index_ns) VALUES (1, 0, 0);
CREATE TABLE flow_index (
    flow_id text COLLATE "C" PRIMARY KEY,
    status text NOT NULL,
    grp smallint NOT NULL,
    timestamp_ns bigint NOT NULL,
    neg_ns bigint NOT NULL,
    labels jsonb NOT NULL,
    is_child boolean NOT NULL
);
CREATE INDEX flow_index_asc ON flow_index (is_child, grp, timestamp_ns, flow_id);
CREATE INDEX flow_index_desc ON flow_index (is_child, grp, neg_ns, flow_id);
CREATE INDEX flow_index_labels ON flow_index USING gin (labels jsonb_path_ops);
CREATE INDEX flow_index_active ON flow_index (flow_id) WHERE grp = 0;
"""

# Version 2 (clusters): each flow has an owner, the node that drives it; a
# flow_started row records the appending node. ``nodes`` holds each engine's
# heartbeat (database time, so node clocks never matter) and its address.
_V2 = """
ALTER TABLE flow_index ADD COLUMN owner text COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX flow_index_owner ON flow_index (owner) WHERE grp = 0;
CREATE TABLE nodes (
    node_id text COLLATE "C" PRIMARY KEY,
    address text NOT NULL,
    started timestamptz NOT NULL DEFAULT now(),
    heartbeat timestamptz NOT NULL DEFAULT now()
);
"""

#: ``MIGRATIONS[n]`` takes the schema from version ``n`` to ``n + 1``.
MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def migrate(conn: Any, schema: str, where: str) -> int:
    """Bring ``schema`` up to ``SCHEMA_VERSION`` on an asyncpg connection.

    ``conn`` must have ``schema`` first on its ``search_path``; ``where``
    names the store in messages. Returns the version found before migrating.

    Raises:
        StoreError: The schema has a newer version than this engine knows.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"argyll:{schema}")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(_VERSION_TABLE)
        found = int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"event store {where} has schema version {found}; this engine"
                f" supports up to {SCHEMA_VERSION}: upgrade the engine"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            await conn.execute(MIGRATIONS[version - 1])
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
    return found
