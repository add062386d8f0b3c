"""The PostgreSQL sender lock is per schema: one sender per deployment, not per server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import storage.sender_lock
from storage.database import Database
from storage.sender_lock import AdvisorySenderLock, advisory_key
from tests.conftest import POSTGRES_UP, POSTGRES_URL, close_database, open_database

needs_postgres = pytest.mark.skipif(not POSTGRES_UP, reason="PostgreSQL server not reachable")


@pytest.fixture
async def schemas(tmp_path: Path) -> AsyncIterator[list[tuple[Database, str]]]:
    """Two fresh schemas of the test database, each with its Database."""
    opened = [await open_database("postgres", tmp_path) for _ in range(2)]
    yield [(db, schema) for db, schema in opened if schema]
    for db, schema in opened:
        await close_database(db, schema)


@pytest.fixture
async def locks() -> AsyncIterator[Callable[[Database], AdvisorySenderLock]]:
    """Makes locks and releases them all afterwards: a held lock pins a connection."""
    made: list[AdvisorySenderLock] = []

    def make(db: Database) -> AdvisorySenderLock:
        made.append(AdvisorySenderLock(db))
        return made[-1]

    yield make
    for lock in made:
        await lock.release()


def test_the_key_is_stable_signed_64_bit_and_per_database_and_schema() -> None:
    key = advisory_key("test", "public")
    assert key == 8512158042221835895  # stable across processes and releases
    assert -(2**63) <= advisory_key("test", "t_0123456789ab") < 2**63
    assert len({key, advisory_key("test", "other"), advisory_key("prod", "public")}) == 3


@needs_postgres
async def test_different_schemas_hold_their_locks_at_the_same_time(
    schemas: list[tuple[Database, str]], locks: Callable[[Database], AdvisorySenderLock]
) -> None:
    (db_a, _), (db_b, _) = schemas
    first, second = locks(db_a), locks(db_b)
    assert await first.try_acquire()
    assert await second.try_acquire()
    assert await first.alive() and await second.alive()


@needs_postgres
async def test_one_schema_admits_one_sender_until_it_releases(
    schemas: list[tuple[Database, str]], locks: Callable[[Database], AdvisorySenderLock]
) -> None:
    db, schema = schemas[0]
    other_process = Database.from_url(POSTGRES_URL, schema=schema)  # its own engine and pool
    try:
        first, second = locks(db), locks(other_process)
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert not await second.try_acquire()  # a failed try leaves nothing behind
        await first.release()
        assert await second.try_acquire()
        assert not await first.try_acquire()
        await second.release()
    finally:
        await other_process.dispose()


@needs_postgres
@pytest.mark.parametrize("sign", [1, -1])
async def test_holder_describes_the_holder_of_this_schemas_lock(
    sign: int,
    schemas: list[tuple[Database, str]],
    locks: Callable[[Database], AdvisorySenderLock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Half of all keys are negative; pg_locks shows the key as two unsigned halves.
    def signed_key(database: str, schema: str) -> int:
        return sign * (advisory_key(database, schema) & (2**62 - 1) | 1)

    monkeypatch.setattr(storage.sender_lock, "advisory_key", signed_key)
    (db_a, _), (db_b, _) = schemas
    held, free = locks(db_a), locks(db_b)
    assert await held.holder() == "unknown process"
    assert await held.try_acquire()
    description = await held.holder()
    assert description.startswith("server pid ")
    assert "outbox-sender" in description
    assert f'"pid": {os.getpid()}' in description
    # The other schema's lock is free, and its holder() does not report this one.
    assert await free.holder() == "unknown process"
    await held.release()
    assert await held.holder() == "unknown process"
