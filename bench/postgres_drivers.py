"""asyncpg against psycopg 3 on the PostgreSQL store's group-commit transaction.

Run: ``.venv/bin/python bench/postgres_drivers.py`` (or ``bench_postgres.py
--drivers``); psycopg is measured only when installed (``pip install
"psycopg[binary]"``, not a dependency of Argyll). 64 coroutines each append
one 332-byte event to their own aggregate through one writer task that
commits everything queued in one transaction: lock the head row, read the
last sequences, insert with ``unnest``, update the head, commit. This is
the measurement behind the choice of asyncpg (see ``argyll/engine/store/postgres.py``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
import uuid
from typing import Any

PAYLOAD = json.dumps({"flow_id": "wf-0000", "step_id": "step", "x": "y" * 280}).encode()[:332]
CONCURRENCY = 64

SCHEMA = """
CREATE SCHEMA {s};
CREATE TABLE {s}.events (position bigint PRIMARY KEY, aggregate text COLLATE "C" NOT NULL,
  sequence bigint NOT NULL, timestamp bigint NOT NULL, type text NOT NULL, data bytea NOT NULL,
  UNIQUE (aggregate, sequence));
CREATE TABLE {s}.head (id int PRIMARY KEY, position bigint NOT NULL);
INSERT INTO {s}.head VALUES (1, 0);
"""
LOCK = "SELECT position FROM {s}.head WHERE id = 1 FOR UPDATE"
LAST = (
    "SELECT (SELECT e.sequence FROM {s}.events e WHERE e.aggregate = k"
    " ORDER BY e.sequence DESC LIMIT 1) FROM unnest($1::text[]) AS k"
)
INSERT = (
    "INSERT INTO {s}.events SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[],"
    " $4::bigint[], $5::text[], $6::bytea[])"
)
SET_HEAD = "UPDATE {s}.head SET position = $1 WHERE id = 1"


def psycopg_sql(sql: str) -> str:
    for n in range(6, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


async def commit(kind: str, conn: Any, s: str, group: list[tuple[str, int]]) -> None:
    keys = [k for k, _ in group]
    n = len(group)

    def rows(pos: int) -> list[Any]:
        positions = list(range(pos + 1, pos + n + 1))
        return [positions, keys, [q for _, q in group], [0] * n, ["t"] * n, [PAYLOAD] * n]

    if kind == "asyncpg":
        async with conn.transaction():
            pos = await conn.fetchval(LOCK.format(s=s))
            await conn.fetch(LAST.format(s=s), keys)
            await conn.execute(INSERT.format(s=s), *rows(pos))
            await conn.execute(SET_HEAD.format(s=s), pos + n)
    else:
        async with conn.transaction():
            (pos,) = await (await conn.execute(LOCK.format(s=s))).fetchone()
            await (await conn.execute(psycopg_sql(LAST.format(s=s)), [keys])).fetchall()
            await conn.execute(psycopg_sql(INSERT.format(s=s)), rows(pos))
            await conn.execute(psycopg_sql(SET_HEAD.format(s=s)), [pos + n])


async def measure(kind: str, url: str, seconds: float) -> tuple[float, float]:
    """Appends/s and transactions/s of one driver."""
    s = f"argyll_drivers_{uuid.uuid4().hex[:12]}"
    if kind == "asyncpg":
        import asyncpg

        conn = await asyncpg.connect(url)
    else:
        import psycopg

        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, prepare_threshold=0)
    for statement in SCHEMA.format(s=s).split(";"):
        if statement.strip():
            await conn.execute(statement)
    queue: asyncio.Queue[tuple[asyncio.Future[None], tuple[str, int]]] = asyncio.Queue()
    transactions = 0

    async def writer() -> None:
        nonlocal transactions
        while True:
            group = [await queue.get()]
            while not queue.empty():
                group.append(queue.get_nowait())
            await commit(kind, conn, s, [item for _, item in group])
            transactions += 1
            for future, _ in group:
                future.set_result(None)

    loop = asyncio.get_running_loop()
    stop = time.perf_counter() + seconds
    done = 0

    async def worker(w: int) -> None:
        nonlocal done
        seq = 0
        while time.perf_counter() < stop:
            future: asyncio.Future[None] = loop.create_future()
            queue.put_nowait((future, (f"flow\x1fwf-{w}", seq)))
            await future
            seq += 1
            done += 1

    task = asyncio.ensure_future(writer())
    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    task.cancel()
    await conn.execute(f"DROP SCHEMA {s} CASCADE")
    await conn.close()
    return done / elapsed, transactions / elapsed


async def compare(url: str, seconds: float) -> None:
    print(f"drivers, {CONCURRENCY} coroutines, group commit, {seconds:.0f} s each:")
    for kind in ("asyncpg", "psycopg"):
        if importlib.util.find_spec(kind) is None:
            print(f"  {kind:<8} not installed: skipped")
            continue
        rate, tps = await measure(kind, url, seconds)
        print(f"  {kind:<8} appends/s {rate:>9,.0f}  transactions/s {tps:>6,.0f}")


if __name__ == "__main__":
    asyncio.run(compare("postgresql://postgres@127.0.0.1:5432/test", 4.0))
