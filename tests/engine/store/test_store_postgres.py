"""What only the PostgreSQL store does: several engines on one schema, migrations, URLs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from store_helpers import FakeClock, event, one_loop, pg_schema, run, started

from argyll.engine.store import AppendBatch, ConcurrencyError, StoredEvent
from argyll.engine.store.postgres import PostgresStore
from argyll.engine.store.postgres_schema import SCHEMA_VERSION
from argyll.engine.store.postgres_url import is_postgres_url, parse_postgres_url, redact
from argyll.errors import ConfigError, StoreError


@pytest.fixture
def url() -> Iterator[str]:
    """A store URL on a schema of this test's own, all on one event loop."""
    with one_loop(), pg_schema() as store_url:
        yield store_url


async def schema_of(url: str) -> str:
    return parse_postgres_url(url).schema


def test_two_engines_share_sequences_and_one_gap_free_order(url: str) -> None:
    """Two stores (two engines) append to the same aggregates while a third tails."""
    aggs = [("flow", f"f{n}") for n in range(6)]

    async def writer(store: PostgresStore, agg: tuple[str, str], wins: list[StoredEvent]) -> None:
        while len(wins) < 30:
            seq = await store.next_sequence(agg)
            try:
                wins.extend(await store.append(AppendBatch(agg, seq, [event()])))
            except ConcurrencyError:
                pass  # the other engine took this sequence: read again

    async def main() -> None:
        a, b, reader = PostgresStore(url), PostgresStore(url), PostgresStore(url)
        for store in (a, b, reader):
            await store.open()
        wins: dict[tuple[str, str], list[StoredEvent]] = {agg: [] for agg in aggs}
        seen: list[StoredEvent] = []
        stop = asyncio.Event()

        async def tailer() -> None:
            after = 0
            while True:
                finished = stop.is_set()
                page = await reader.read_committed(after, 10)
                seen.extend(page)
                if page:
                    after = page[-1].position
                elif finished:
                    return
                else:
                    await asyncio.sleep(0.001)

        tail = asyncio.ensure_future(tailer())
        await asyncio.gather(*(writer(s, agg, wins[agg]) for s in (a, b) for agg in aggs))
        stop.set()
        await tail
        total = sum(len(w) for w in wins.values())
        assert [e.position for e in seen] == list(range(1, total + 1))
        for agg in aggs:
            log = await reader.read(agg)
            assert [e.sequence for e in log] == list(range(len(log)))
            assert [e.position for e in log] == sorted(e.position for e in wins[agg])
        assert a.transactions + b.transactions < total  # group commit shared transactions
        for store in (a, b, reader):
            await store.close()

    run(main())


def test_index_time_is_monotonic_across_engines(url: str) -> None:
    async def main() -> None:
        ahead = PostgresStore(url, clock=FakeClock(start_ns=2_000_000_000_000_000_000))
        behind = PostgresStore(url, clock=FakeClock(start_ns=1_000_000_000_000_000_000))
        await ahead.open()
        await behind.open()
        await ahead.append(AppendBatch(("flow", "a"), 0, [started("a")]))
        await behind.append(AppendBatch(("flow", "b"), 0, [started("b")]))
        a, b = await behind.flow_entry("a"), await ahead.flow_entry("b")
        assert a is not None and b is not None and b.timestamp >= a.timestamp
        await ahead.close()
        await behind.close()

    run(main())


def test_migrations_run_once_and_newer_schemas_are_refused(url: str) -> None:
    async def main() -> None:
        stores = [PostgresStore(url) for _ in range(3)]
        await asyncio.gather(*(s.open() for s in stores))  # racing on a fresh schema
        for s in stores:
            await s.close()
        schema = await schema_of(url)
        conn = await asyncpg.connect(url.split("?")[0])
        try:
            versions = await conn.fetch(f'SELECT version FROM "{schema}".schema_version')
            assert [r[0] for r in versions] == list(range(1, SCHEMA_VERSION + 1))
            await conn.execute(f'INSERT INTO "{schema}".schema_version (version) VALUES (99)')
        finally:
            await conn.close()
        with pytest.raises(StoreError, match="schema version 99"):
            await PostgresStore(url).open()

    run(main())


def test_the_writer_reconnects_after_losing_its_connection(url: str) -> None:
    async def main() -> None:
        store = PostgresStore(url)
        await store.open()
        await store.append(AppendBatch(("catalog",), 0, [event()]))
        conn = await asyncpg.connect(url.split("?")[0])
        try:
            killed = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1",
                f"argyll/{await schema_of(url)}",
            )
            assert len(killed) >= 2  # the writer and the pooled reader
        finally:
            await conn.close()
        # The append in flight when the connection died fails; the next ones work.
        for seq in (1, 1):
            try:
                await store.append(AppendBatch(("catalog",), seq, [event()]))
                break
            except StoreError as exc:
                assert not isinstance(exc, ConcurrencyError)
        assert [e.sequence for e in await store.read(("catalog",))] == [0, 1]
        await store.close()

    run(main())


def test_status_names_the_store_without_its_password(url: str) -> None:
    store = PostgresStore(url.replace("postgres@", "postgres:secret@"))
    status = store.status()
    assert status["type"] == "postgresql" and status["open"] is False
    assert "secret" not in str(status["url"]) and "***" in str(status["url"])


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@127.0.0.1:1/test", "postgresql://postgres@127.0.0.1:5432/no_such_db"],
)
def test_unreachable_databases_fail_open_with_one_line(url: str) -> None:
    if "5432" in url:
        with pg_schema():  # needs the server, not the database
            pass
    with pytest.raises(StoreError) as info:
        run(PostgresStore(url).open())
    message = str(info.value)
    assert message.startswith("cannot open event store postgresql://") and "\n" not in message


# -- URLs (no server needed) -------------------------------------------------


def test_urls_are_checked_before_connecting() -> None:
    parsed = parse_postgres_url("postgres://u:pw@db.example:6543/app?schema=s1&pool_size=3&x=1")
    assert parsed.schema == "s1" and parsed.pool_size == 3
    assert parsed.dsn == "postgresql://u:pw@db.example:6543/app?x=1"
    assert parsed.display == "postgresql://u:***@db.example:6543/app?x=1"
    assert parse_postgres_url("postgresql://u@h/db").schema == "argyll"
    assert is_postgres_url("postgresql://h/db") and not is_postgres_url("/var/lib/argyll")
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://u@h/db", "use postgresql://"),
        ("postgresql:///db", "no host"),
        ("postgresql://u@h:99999/db", "out of range"),
        ("postgresql://u@h:port/db", "invalid"),
        ("postgresql://u@h", "no database"),
        ("postgresql://u@h/db?schema=a-b", "not a plain identifier"),
        ("postgresql://u:pw@h/db?pool_size=0", "pool_size"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as info:
        parse_postgres_url(url)
    assert "pw" not in str(info.value)
