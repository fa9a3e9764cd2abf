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


@pytest.mark.postgres
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


@pytest.mark.postgres
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


@pytest.mark.postgres
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


@pytest.mark.postgres
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
        # Nothing of the next group can have committed on the dead connection:
        # it is written again on a new one.
        (stored,) = await store.append(AppendBatch(("catalog",), 1, [event()]))
        assert stored.position == 2
        assert [e.sequence for e in await store.read(("catalog",))] == [0, 1]
        await store.close()

    run(main())


@pytest.mark.postgres
def test_status_names_the_store_without_its_password(url: str) -> None:
    store = PostgresStore(url.replace("postgres@", "postgres:secret@"))
    status = store.status()
    assert status["type"] == "postgresql" and status["open"] is False
    assert "secret" not in str(status["url"]) and "***" in str(status["url"])


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/test",
        pytest.param("postgresql://postgres@127.0.0.1:5432/no_such_db", marks=pytest.mark.postgres),
    ],
)
def test_unreachable_databases_fail_open_with_one_line(url: str) -> None:
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


@pytest.mark.postgres
def test_a_frozen_engine_cannot_hold_the_store(url: str) -> None:
    """A writer stuck mid-transaction is ended by the server; the others go on."""

    async def main() -> None:
        frozen = PostgresStore(url, writer_idle_ms=300)
        other = PostgresStore(url)
        await frozen.open()
        await other.open()
        conn = frozen._writer._conn  # type: ignore[union-attr]
        await conn.execute("BEGIN")
        await conn.execute("SELECT position FROM event_head WHERE id = 1 FOR UPDATE")
        # ...and then nothing, as if the engine had stopped here.
        stored = await asyncio.wait_for(
            other.append(AppendBatch(("catalog",), 0, [event()])), timeout=10
        )
        assert stored[0].position == 1
        # The frozen engine's writer reconnects when it wakes up.
        await frozen.append(AppendBatch(("catalog",), 1, [event()]))
        assert [e.sequence for e in await other.read(("catalog",))] == [0, 1]
        await frozen.close()
        await other.close()

    run(main())


@pytest.mark.postgres
def test_a_sequence_taken_between_check_and_write_is_a_conflict(url: str) -> None:
    """Another engine commits the same sequence while this one waits for the head lock."""

    async def main() -> None:
        store = PostgresStore(url)
        await store.open()
        await store.append(AppendBatch(("flow", "x"), 0, [event()]))
        name = f"argyll/{await schema_of(url)}"
        other = await asyncpg.connect(url.split("?")[0])
        try:
            schema = await schema_of(url)
            await other.execute(f'SET search_path = "{schema}"')
            tx = other.transaction()
            await tx.start()
            await other.execute("SELECT 1 FROM event_head WHERE id = 1 FOR UPDATE")
            # This engine checks sequence 1 (free), then waits for the head lock.
            pending = asyncio.ensure_future(store.append(AppendBatch(("flow", "x"), 1, [event()])))
            for _ in range(500):
                waiting = await other.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = $1 AND wait_event_type = 'Lock'",
                    name,
                )
                if waiting:
                    break
                await asyncio.sleep(0.01)
            assert waiting == 1
            # Meanwhile the other engine stores sequence 1 and commits.
            await other.execute(
                "INSERT INTO events VALUES (2, $1, 1, 0, 'theirs', '\\x7b7d'::bytea)",
                "flow\x1fx",
            )
            await other.execute("UPDATE event_head SET position = 2 WHERE id = 1")
            await tx.commit()
            with pytest.raises(ConcurrencyError) as info:
                await pending
            assert (info.value.expected, info.value.actual) == (1, 2)
        finally:
            await other.close()
        assert [e.type for e in await store.read(("flow", "x"))] == ["step_started", "theirs"]
        (third,) = await store.append(AppendBatch(("flow", "x"), 2, [event()]))
        assert third.position == 3
        await store.close()

    run(main())


@pytest.mark.postgres
def test_an_engine_is_woken_by_another_engines_commit(url: str) -> None:
    async def main() -> None:
        writer, reader = PostgresStore(url), PostgresStore(url)
        await writer.open()
        await reader.open()
        assert await reader.wait_committed(0, 0.01) == 0  # starts listening
        waiter = asyncio.ensure_future(reader.wait_committed(0, 30))
        await asyncio.sleep(0.05)
        started_at = asyncio.get_running_loop().time()
        await writer.append(AppendBatch(("catalog",), 0, [event(), event()]))
        assert await waiter == 2
        assert asyncio.get_running_loop().time() - started_at < 5  # NOTIFY, not the timeout
        await writer.close()
        await reader.close()

    run(main())
