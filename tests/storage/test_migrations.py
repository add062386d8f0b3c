"""Migrations carry existing data forward: a database from the previous release keeps working."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import EditProfile, OpenPerson, unpack
from bot.domain import ProfileField, UnitScope
from storage.database import Database
from storage.migrate import downgrade, upgrade
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.units import UnitRepository
from storage.schema import outbox, units
from storage.types import utcnow
from tests.conftest import _DSN, POSTGRES_URL, close_database


async def _at(revision: str, kind: str, tmp_path: Path) -> tuple[Database, str | None]:
    """A database migrated up to an earlier release only."""
    schema = None
    if kind == "sqlite":
        db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(_DSN)
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.close()
        db = Database.from_url(POSTGRES_URL, schema=schema)
    await upgrade(db, revision)
    return db, schema


@pytest.fixture
async def release_2(database_kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database as the release before dialogues and the unit tree left it."""
    db, schema = await _at("0002", database_kind, tmp_path)
    yield db
    await close_database(db, schema)


@pytest.fixture
async def before_grades(database_kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database where grades still held ranks of public employees, and positions jobs."""
    db, schema = await _at("0005", database_kind, tmp_path)
    yield db
    await close_database(db, schema)


async def test_units_get_their_tree_and_queued_buttons_their_wire_codes(
    release_2: Database,
) -> None:
    db = release_2
    now = utcnow()
    async with db.write() as conn:
        province = (
            await conn.execute(
                units.insert()
                .values(code="P", name="Tỉnh", name_search="tinh", parent_id=None, kind="province")
                .returning(units.c.id)
            )
        ).scalar_one()
        commune = (
            await conn.execute(
                units.insert()
                .values(code="C", name="Xã", name_search="xa", parent_id=province, kind="commune")
                .returning(units.c.id)
            )
        ).scalar_one()
        buttons = [[{"key": "notice.open_profile", "data": "ad:p:17"}],
                   [{"key": "profile.edit_unit", "data": "pf:edit:unit_id"}]]  # fmt: skip
        for state in ("pending", "sent"):
            await conn.execute(
                outbox.insert().values(
                    dedup_key=f"k-{state}", chat_id=5, kind="verify_request", state=state,
                    payload={"key": "notice.verify_request", "buttons": buttons}, due_at=now,
                    attempts=0, created_at=now, updated_at=now,
                )
            )  # fmt: skip

    await upgrade(db)

    async with db.read() as conn:
        assert await UnitRepository(conn).ancestor_ids(commune) == [commune, province]
        scope = UnitScope((province,))
        assert await PeopleRepository(conn).count_reachable(scope) == 0
        payloads = dict((await conn.execute(sa.select(outbox.c.state, outbox.c.payload))).all())
    queued = [b["data"] for row in payloads["pending"]["buttons"] for b in row]
    assert [unpack(data) for data in queued] == [OpenPerson(17), EditProfile(ProfileField.UNIT)]
    # What was sent is history: left as it was.
    assert payloads["sent"]["buttons"] == buttons


async def _codes(conn: AsyncConnection, table: str, codes: tuple[str, ...]) -> dict[str, int]:
    rows = await conn.execute(sa.text(f"SELECT code, id FROM {table}"))
    found = {code: id_ for code, id_ in rows.all()}
    return {code: found[code] for code in codes}


_PEOPLE = (  # name, old position, old grade
    ("Lò Thị Giảng", "GV", "VC.II"),
    ("Lò Văn Xã", "CC_XA", "CX"),
    ("Lò Văn Phòng", "TP", "01.003"),
    ("Lò Văn Bí", "BT", "CX"),
    ("Lò Văn Chuyên", "CV", None),
    ("Lò Thị Dạy", "GV", "01.002"),
)


async def _insert_people(db: Database) -> list[int]:
    """People as release 5 stored them, with rows that refer to them (consents, roles)."""
    now = utcnow()
    async with db.write() as conn:
        title = await _codes(conn, "titles", ("GV", "CC_XA", "TP", "BT", "CV"))
        grade = await _codes(conn, "grades", ("VC.II", "CX", "01.003", "01.002"))
        ids = []
        for name, position, old_grade in _PEOPLE:
            values = {"n": name, "t": title[position], "g": grade.get(old_grade or ""),
                      "by": ids[0] if ids else None, "now": now}  # fmt: skip
            person = (
                await conn.execute(
                    sa.text(
                        "INSERT INTO people (full_name, name_search, title_id, grade_id, "
                        "source, verified, verified_by, source_pool, created_at, updated_at) "
                        "VALUES (:n, :n, :t, :g, 'roster', true, :by, false, :now, :now) "
                        "RETURNING id"
                    ),
                    values,
                )
            ).scalar_one()
            await conn.execute(
                sa.text(
                    "INSERT INTO consents (person_id, notice_version, given_at) "
                    "VALUES (:p, 'v1', :now)"
                ),
                {"p": person, "now": now},
            )
            ids.append(person)
        await conn.execute(
            sa.text("INSERT INTO roles (person_id, role, granted_at) VALUES (:p, 'admin', :now)"),
            {"p": ids[0], "now": now},
        )
    return ids


async def _filed(db: Database) -> list[tuple[object, ...]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT p.full_name, t.code AS title, g.code AS grade, p.employment, "
                "pt.code AS professional, p.professional_rank FROM people p "
                "LEFT JOIN titles t ON t.id = p.title_id "
                "LEFT JOIN grades g ON g.id = p.grade_id "
                "LEFT JOIN professional_titles pt ON pt.id = p.professional_title_id "
                "ORDER BY p.id"
            )
        )
        return [tuple(r) for r in rows.all()]


async def test_grades_and_positions_are_filed_where_they_belong(before_grades: Database) -> None:
    db = before_grades
    await _insert_people(db)

    await upgrade(db)

    assert await _filed(db) == [
        ("Lò Thị Giảng", None, None, "vien_chuc", "GIANG_VIEN", 2),
        ("Lò Văn Xã", None, None, "cong_chuc", None, None),
        ("Lò Văn Phòng", "TP", "01.003", "cong_chuc", None, None),
        ("Lò Văn Bí", "BT", None, "can_bo", None, None),
        ("Lò Văn Chuyên", None, "01.003", "cong_chuc", None, None),
        ("Lò Thị Dạy", None, "01.002", "cong_chuc", None, None),
    ]
    async with db.read() as conn:
        positions = set((await conn.execute(sa.text("SELECT code FROM titles"))).scalars())
        consents = (await conn.execute(sa.text("SELECT count(*) FROM consents"))).scalar_one()
    assert not positions & {"GV", "CC_XA", "CV", "NV"}
    assert consents == len(_PEOPLE)


async def test_grades_downgrade_puts_the_old_lists_and_ranks_back(
    before_grades: Database,
) -> None:
    db = before_grades
    await _insert_people(db)
    await upgrade(db)

    await downgrade(db, "0005")

    filed = await _filed_before_grades(db)
    assert filed[0] == ("Lò Thị Giảng", "GV", "VC.II")
    assert filed[2] == ("Lò Văn Phòng", "TP", "01.003")
    async with db.read() as conn:
        consents = (await conn.execute(sa.text("SELECT count(*) FROM consents"))).scalar_one()
    assert consents == len(_PEOPLE)

    await upgrade(db)  # and up again, to the same place
    assert (await _filed(db))[0] == ("Lò Thị Giảng", None, None, "vien_chuc", "GIANG_VIEN", 2)


async def _filed_before_grades(db: Database) -> list[tuple[object, ...]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT p.full_name, t.code, g.code FROM people p "
                "LEFT JOIN titles t ON t.id = p.title_id "
                "LEFT JOIN grades g ON g.id = p.grade_id ORDER BY p.id"
            )
        )
        return [tuple(r) for r in rows.all()]


async def test_batches_of_release_10_keep_their_reports_without_an_audience(
    database_kind: str, tmp_path: Path
) -> None:
    db, schema = await _at("0010", database_kind, tmp_path)
    try:
        async with db.write() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO delivery_batches (kind, title, created_by, created_at, total) "
                    "VALUES ('announcement', 'Họp', 5, :now, 0)"
                ),
                {"now": utcnow()},
            )

        await upgrade(db)

        async with db.read() as conn:
            report = await OutboxRepository(conn).report(1)
            assert await OutboxRepository(conn).watched() == []
        assert report is not None and (report.title, report.audience) == ("Họp", None)
        await downgrade(db, "0010")
        await upgrade(db)
    finally:
        await close_database(db, schema)
