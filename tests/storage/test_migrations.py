"""Migrations carry existing data forward: a database from the previous release keeps working."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from bot.actions import EditProfile, OpenPerson, unpack
from bot.domain import ProfileField, UnitScope
from storage.database import Database
from storage.migrate import upgrade
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


async def test_grades_and_positions_are_filed_where_they_belong(before_grades: Database) -> None:
    db = before_grades
    now = utcnow()
    async with db.write() as conn:
        ids = {}
        for code in ("GV", "CC_XA", "TP"):
            ids[code] = (
                await conn.execute(sa.text("SELECT id FROM titles WHERE code = :c"), {"c": code})
            ).scalar_one()
        for code in ("VC.II", "CX", "01.003"):
            ids[code] = (
                await conn.execute(sa.text("SELECT id FROM grades WHERE code = :c"), {"c": code})
            ).scalar_one()
        for name, title, grade in (("Lò Thị Giảng", "GV", "VC.II"), ("Lò Văn Xã", "CC_XA", "CX"),
                                   ("Lò Văn Phòng", "TP", "01.003")):  # fmt: skip
            await conn.execute(
                sa.text(
                    "INSERT INTO people (full_name, name_search, title_id, grade_id, source, "
                    "verified, source_pool, created_at, updated_at) VALUES (:n, :n, :t, :g, "
                    "'roster', true, false, :now, :now)"
                ),
                {"n": name, "t": ids[title], "g": ids[grade], "now": now},
            )

    await upgrade(db)

    async with db.read() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT p.full_name, t.code AS title, g.code AS grade, p.employment, "
                    "pt.code AS professional, p.professional_rank FROM people p "
                    "LEFT JOIN titles t ON t.id = p.title_id "
                    "LEFT JOIN grades g ON g.id = p.grade_id "
                    "LEFT JOIN professional_titles pt ON pt.id = p.professional_title_id "
                    "ORDER BY p.id"
                )
            )
        ).all()
        positions = set((await conn.execute(sa.text("SELECT code FROM titles"))).scalars())
    assert [tuple(r) for r in rows] == [
        ("Lò Thị Giảng", None, None, "vien_chuc", "GIANG_VIEN", 2),
        ("Lò Văn Xã", None, None, "cong_chuc", None, None),
        ("Lò Văn Phòng", "TP", "01.003", "cong_chuc", None, None),
    ]
    assert not positions & {"GV", "CC_XA", "CV", "NV"}
