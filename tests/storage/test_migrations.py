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


@pytest.fixture
async def release_2(database_kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database as the release before dialogues and the unit tree left it."""
    schema = None
    if database_kind == "sqlite":
        db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(_DSN)
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.close()
        db = Database.from_url(POSTGRES_URL, schema=schema)
    await upgrade(db, "0002")
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
