"""bench.report's generator at a toy size: the counts asked for, and a database the bot's own
rules and constraints agree with, on SQLite and PostgreSQL; the command's one JSON line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.report import main
from bench.report_data import NOW, Generated, generate
from bot.attendance import CHECKIN_EARLY
from bot.clock import FrozenClock
from bot.services import Services
from storage.database import Database
from storage.schema import (
    attendance,
    class_sessions,
    classes,
    completions,
    enrolments,
    people,
    results,
    roles,
    session_attendance,
    unit_closure,
    units,
)
from tests.conftest import close_database, open_database

TINY = {"people": 1_000, "classes": 50, "sessions": 600, "attendance": 20_000}
SCHEDULED = class_sessions.c.status == "scheduled"
CLOSED = session_attendance.c.closed_at.is_not(None)


async def count(conn: AsyncConnection, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0)


async def tiny(db: Database, seed: int = 1, **changes: int) -> Generated:
    """The generator at the toy size, some sizes changed."""
    sizes = {**TINY, **changes}
    return await generate(
        db,
        people=sizes["people"],
        classes=sizes["classes"],
        sessions=sizes["sessions"],
        attendance=sizes["attendance"],
        seed=seed,
    )


def of_class(status: str) -> sa.ScalarSelect[int]:
    """The number of the class's enrolments with this status."""
    return (
        sa.select(sa.func.count())
        .where(enrolments.c.class_id == classes.c.id, enrolments.c.status == status)
        .scalar_subquery()
    )


async def test_generates_the_sizes_asked_for_within_every_rule(db: Database) -> None:
    async with db.read() as conn:
        keys_before = await foreign_keys(conn)
    generated = await tiny(db, seed=3)
    assert generated.rows["attendance"] == 20_000 and generated.year == NOW.year
    async with db.read() as conn:
        assert await count(conn, people) == 1_000
        assert await count(conn, classes) == 50
        assert await count(conn, class_sessions) == 600
        assert await count(conn, attendance) == 20_000
        assert await count(conn, classes, classes.c.enrolled_count != of_class("enrolled")) == 0
        assert await count(conn, classes, classes.c.waitlist_seq != of_class("waitlisted")) == 0
        await check_spans_and_states(conn)
        await check_marks(conn)
        await check_results(conn)
        await check_people_and_staff(conn, generated)
        await check_foreign_keys(conn, keys_before)
        learner = int(await conn.scalar(sa.select(sa.func.min(results.c.person_id))) or 0)
    await check_the_bot_reads_it(db, generated, learner)
    with pytest.raises(ValueError, match="already has"):
        await tiny(db)
    async with db.read() as conn:
        assert await count(conn, people) == 1_000


FOREIGN_KEYS = sa.text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated"
    " FROM pg_constraint WHERE contype = 'f'"
    " AND connamespace = current_schema()::regnamespace ORDER BY 1, 2"
)


async def foreign_keys(conn: AsyncConnection) -> list[Any]:
    if conn.dialect.name == "sqlite":
        return []
    return list((await conn.execute(FOREIGN_KEYS)).all())


async def check_foreign_keys(conn: AsyncConnection, before: list[Any]) -> None:
    """Every reference holds; PostgreSQL's foreign keys, dropped for the load, are back (and
    so checked), and its sequences are past the ids given."""
    if conn.dialect.name == "sqlite":
        assert (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all() == []
        return
    after = await foreign_keys(conn)
    assert after == before and len(after) > 30 and all(row[3] for row in after)
    assert await conn.scalar(sa.text("SELECT nextval('people_id_seq')")) == 1_001


async def check_the_bot_reads_it(db: Database, generated: Generated, learner: int) -> None:
    """The office's services, as of NOW, see the plan's progress and a learner's record."""
    services = Services.build(db, superadmin_ids=frozenset(), clock=FrozenClock(generated.now))
    admin = await services.access.actor(generated.admin_telegram_id)
    plans = await services.planning.plans(admin)
    assert [plan.year for plan in plans] == [generated.year, generated.year - 1]
    progress = (await services.planning.progress(admin, plans))[generated.plan_id]
    assert progress.opened > 0 and progress.learners > 0
    record = await services.records.record(admin, learner)
    assert record.totals.held > 0 and record.totals.attended > 0


async def check_spans_and_states(conn: AsyncConnection) -> None:
    """A class spans its scheduled sessions, and its status agrees with the dates."""
    mine = class_sessions.c.class_id == classes.c.id
    first = sa.select(sa.func.min(class_sessions.c.starts_at)).where(mine, SCHEDULED)
    last = sa.select(sa.func.max(class_sessions.c.ends_at)).where(mine, SCHEDULED)
    off = sa.or_(
        classes.c.starts_at != first.scalar_subquery(), classes.c.ends_at != last.scalar_subquery()
    )
    assert await count(conn, classes, off) == 0
    rows = await conn.execute(sa.select(classes.c.status, classes.c.starts_at, classes.c.ends_at))
    seen = set()
    for status, starts_at, ends_at in rows:
        seen.add(status)
        if status == "finished":
            assert ends_at <= NOW
        elif status in ("open", "planned"):
            assert starts_at > NOW
        elif status == "running":
            assert starts_at <= NOW
    assert seen >= {"finished", "running", "cancelled"}


async def check_marks(conn: AsyncConnection) -> None:
    """Marks only for enrolled learners, at sessions held (or whose check-in had opened) of
    their class; every closed session has one for each learner; shares as in a province."""
    valid = sa.exists().where(
        enrolments.c.class_id == attendance.c.class_id,
        enrolments.c.person_id == attendance.c.person_id,
        enrolments.c.status == "enrolled",
        class_sessions.c.id == attendance.c.session_id,
        class_sessions.c.class_id == attendance.c.class_id,
        SCHEDULED,
        class_sessions.c.starts_at <= NOW + CHECKIN_EARLY,
        classes.c.id == attendance.c.class_id,
        classes.c.status.in_(["running", "finished"]),
    )
    assert await count(conn, attendance, ~valid) == 0
    marks = (
        sa.select(sa.func.count())
        .where(attendance.c.session_id == session_attendance.c.session_id)
        .scalar_subquery()
    )
    seats = (
        sa.select(classes.c.enrolled_count)
        .join(class_sessions, class_sessions.c.class_id == classes.c.id)
        .where(class_sessions.c.id == session_attendance.c.session_id)
        .scalar_subquery()
    )
    assert await count(conn, session_attendance, CLOSED) > 0
    assert await count(conn, session_attendance, CLOSED, marks != seats) == 0
    assert await count(conn, session_attendance, session_attendance.c.closed_at > NOW) == 0
    by_mark = sa.select(attendance.c.mark, sa.func.count()).group_by(attendance.c.mark)
    shares = {mark: n / 20_000 for mark, n in (await conn.execute(by_mark)).all()}
    assert shares.keys() == {"present", "late", "excused", "absent"}
    assert 0.78 < shares["present"] < 0.92 and 0.02 < shares["late"] < 0.08


async def check_results(conn: AsyncConnection) -> None:
    """Results only for finished classes; a completion for each one passed."""
    unfinished = sa.select(classes.c.id).where(classes.c.status != "finished")
    assert await count(conn, results, results.c.class_id.in_(unfinished)) == 0
    passed = await count(conn, results, results.c.outcome != "not_completed")
    assert passed == await count(conn, completions) > 0


async def check_people_and_staff(conn: AsyncConnection, generated: Generated) -> None:
    women = await count(conn, people, people.c.gender == "female")
    assert 0.38 < women / 1_000 < 0.52
    born = sa.select(sa.func.min(people.c.birth_year), sa.func.max(people.c.birth_year))
    oldest, youngest = (await conn.execute(born)).one()
    assert oldest >= 1965 and youngest <= 2003
    assert await conn.scalar(sa.select(sa.func.max(unit_closure.c.depth))) == 2
    assert await count(conn, units) > 150
    below = (unit_closure.c.ancestor_id == generated.unit_id, unit_closure.c.depth > 0)
    assert await count(conn, unit_closure, *below) > 5
    grants = sa.select(people.c.telegram_id, roles.c.role, roles.c.unit_id).join(
        people, people.c.id == roles.c.person_id
    )
    held = {(t, r, u) for t, r, u in await conn.execute(grants) if t is not None}
    assert (generated.unit_head_telegram_id, "unit_head", generated.unit_id) in held
    assert (generated.admin_telegram_id, "admin", None) in held


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"people": 50}, "too few"),
        ({"sessions": 60}, "two sessions"),
        ({"attendance": 100}, "too few"),
        ({"attendance": 10_000_000}, "more than these classes can hold"),
    ],
)
async def test_sizes_that_cannot_fit_are_refused_and_nothing_is_written(
    sqlite_db: Database, changes: dict[str, int], why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        await tiny(sqlite_db, **changes)
    async with sqlite_db.read() as conn:
        assert await count(conn, people) == await count(conn, units) == 0


async def marks_digest(tmp_path: Path) -> str:
    db, _ = await open_database("sqlite", tmp_path)
    try:
        await tiny(db, seed=7)
        query = sa.select(attendance).order_by(attendance.c.session_id, attendance.c.person_id)
        async with db.read() as conn:
            rows = (await conn.execute(query)).all()
        return hashlib.sha256(repr(rows).encode()).hexdigest()
    finally:
        await close_database(db, None)


async def test_the_same_seed_gives_the_same_marks(tmp_path: Path) -> None:
    assert await marks_digest(tmp_path / "a") == await marks_digest(tmp_path / "b")


def test_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scale", "0.01", "--timeout", "60"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    sizes = (result["people"], result["classes"], result["sessions"], result["rows"])
    assert sizes == (1_000, 50, 600, 20_000)
    assert result["generate_s"] > 0 and result["rss_mb"] > 0 and result["db_mb"] > 0
    assert result["database"] == "sqlite" and result["api_url"] is None


def test_a_scale_too_small_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scale", "0.0001"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "too few" in captured.err.splitlines()[-1]


@pytest.mark.parametrize("scale", ["0", "-1", "nan", "abc"])
def test_a_scale_that_is_no_share_is_an_argument_error(scale: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--scale", scale])
    assert exit_.value.code == 2
