"""The storage conventions, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.database import Database
from storage.migrate import current_revision, head_revision, upgrade
from storage.schema import audit_log, ethnicities, metadata, people, units
from tests.factories import add_person, count, make_province


async def test_migrations_reach_head_and_are_idempotent(db: Database) -> None:
    assert await current_revision(db) == head_revision()
    await upgrade(db)
    assert await current_revision(db) == head_revision()
    assert await count(db, ethnicities) == 54


async def test_migrations_match_the_schema_the_code_uses(db: Database) -> None:
    def diff(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return compare_metadata(context, metadata)

    async with db.read() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_times_are_stored_as_utc_and_come_back_aware(db: Database) -> None:
    hanoi = timezone(timedelta(hours=7))
    local = datetime(2026, 11, 22, 8, 30, tzinfo=hanoi)
    async with db.write() as conn:
        await conn.execute(audit_log.insert().values(at=local, action="t", details={}))
    async with db.read() as conn:
        stored = (await conn.execute(sa.select(audit_log.c.at))).scalar_one()
    assert stored.tzinfo is not None
    assert stored == local
    assert stored.astimezone(UTC).hour == 1


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(sa.exc.StatementError):
        async with db.write() as conn:
            await conn.execute(
                audit_log.insert().values(at=datetime(2026, 1, 1), action="t", details={})
            )


async def test_a_failed_write_changes_nothing(db: Database) -> None:
    province = await make_province(db)
    before = await count(db, people)
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(
                people.insert().values(
                    full_name="A B", name_search="a b", source="self", verified=False,
                    source_pool=False, unit_id=province.root_id,
                    created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
                )
            )  # fmt: skip
            raise RuntimeError("boom")
    assert await count(db, people) == before


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        await add_person(db, "Lò Văn Pọm", unit_id=999_999)


async def test_concurrent_read_then_write_transactions_do_not_fail(db: Database) -> None:
    """Deferred SQLite transactions that read then write die with 'database is locked'."""
    province = await make_province(db)

    async def read_then_write(i: int) -> None:
        async with db.write() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(people))).scalar()
            await asyncio.sleep(0)
            await conn.execute(
                people.insert().values(
                    full_name=f"Người {i} {total}", name_search=f"nguoi {i}", source="self",
                    verified=False, source_pool=False, unit_id=province.commune_id,
                    created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
                )
            )  # fmt: skip

    await asyncio.gather(*(read_then_write(i) for i in range(25)))
    assert await count(db, people) == 25


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_db: Database) -> None:
    async with sqlite_db.read() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    assert (mode, fks) == ("wal", 1)


async def test_a_schema_change_that_breaks_references_changes_nothing(db: Database) -> None:
    """Migrations run with SQLite's foreign keys off (batch mode rebuilds tables), and are
    checked before commit all the same; afterwards the connection enforces them again."""
    province = await make_province(db)
    person = await add_person(db, "Lò Văn Pọm", unit_id=province.commune_id)
    with pytest.raises((RuntimeError, sa.exc.IntegrityError)):
        async with db.schema_change() as conn:
            await conn.execute(sa.delete(units).where(units.c.id == province.commune_id))
    assert await count(db, people) == 1
    async with db.read() as conn:
        unit = (
            await conn.execute(sa.select(people.c.unit_id).where(people.c.id == person))
        ).scalar_one()
    assert unit == province.commune_id
    with pytest.raises(sa.exc.IntegrityError):
        await add_person(db, "Lò Văn Pọm", unit_id=999_999)
