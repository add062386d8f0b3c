"""Attendance marks against a real database: the first check-in wins, a roll call replaces
marks, closing a session marks the unmarked absent, standings, and warnings sent once."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import sqlalchemy as sa

from bot.attendance import Mark, MarkSource
from bot.clock import FrozenClock
from bot.i18n import Texts
from bot.reminders import QuietHours, ReminderPrefs
from bot.services import Services
from bot.services.attendance import warn_if_due
from bot.services.quiet import Quiet
from handlers.personal_data import machine_json, workbook
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.schema import held_messages, outbox
from storage.types import utcnow
from tests.factories import NEVER_QUIET, add_class, add_person, add_role, make_province

ADMIN = 42


async def _class_with_learners(db: Database, learners: int = 3) -> tuple[int, list[int], int]:
    clock = FrozenClock(utcnow())
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock)
    province = await make_province(db)
    head = await add_person(db, "Thủ trưởng", unit_id=province.commune_id, telegram_id=6000)
    await add_role(db, head, "unit_head", province.commune_id)
    class_id = await add_class(db, "DD01", days=5, created=clock.now())
    people = []
    for i in range(learners):
        people.append(
            await add_person(db, f"Học viên {i}", unit_id=province.commune_id, telegram_id=7000 + i)
        )
        actor = await services.access.actor(7000 + i)
        await services.enrolment.enrol(actor, class_id, clashes_seen=True)
    return class_id, people, head


async def test_first_check_in_wins_and_a_roll_call_replaces(db: Database) -> None:
    class_id, (a, b, c), _ = await _class_with_learners(db)
    now = utcnow()
    async with db.write() as conn:
        session = (await ClassRepository(conn).sessions(class_id))[0]
        repo = AttendanceRepository(conn)
        assert await repo.check_in(session.id, class_id, a, Mark.PRESENT, MarkSource.CODE, now)
        assert not await repo.check_in(
            session.id, class_id, a, Mark.LATE, MarkSource.LINK, now + timedelta(minutes=20)
        )
        await repo.put(session.id, class_id, {b: Mark.LATE, a: Mark.PRESENT},
                       source=MarkSource.ROLL, by=None, at=now)  # fmt: skip
        marks = await repo.marks(session.id)
    assert marks[a].mark is Mark.PRESENT and marks[a].checked_in_at is not None
    assert marks[b].mark is Mark.LATE and marks[b].source is MarkSource.ROLL
    assert c not in marks
    async with db.write() as conn:
        repo = AttendanceRepository(conn)
        roll = await repo.roll(session.id, class_id, session.ends_at)
        assert [e.person_id for e in roll] == [a, b, c]
        assert [e.mark for e in roll] == [Mark.PRESENT, Mark.LATE, None]
        assert await repo.absent_unmarked(session.id, class_id, session.ends_at, now) == [c]
        assert await repo.absent_unmarked(session.id, class_id, session.ends_at, now) == []
        standings = await repo.standings(class_id, 80, [a, c])
    assert standings[a].attended == 1 and standings[c].absent == 1
    assert standings[a].total == 5 and standings[a].required == 4


#: Quiet hours off: the test must not depend on the hour it runs at.
ALWAYS = Quiet(defaults=ReminderPrefs(quiet=NEVER_QUIET))


async def test_a_warning_goes_to_the_learner_and_their_head_once(db: Database) -> None:
    class_id, (a, _, _), head = await _class_with_learners(db)
    now = utcnow()
    async with db.write() as conn:
        classes = ClassRepository(conn)
        training_class = await classes.get(class_id)
        sessions = await classes.sessions(class_id)
        repo = AttendanceRepository(conn)
        await repo.put(sessions[0].id, class_id, {a: Mark.ABSENT},
                       source=MarkSource.ROLL, by=None, at=now)  # fmt: skip
        # 5 sessions, 4 needed: one absence leaves exactly 4 reachable: one more and it fails.
        assert (
            await warn_if_due(
                conn, training_class, [a], now, Quiet(defaults=ReminderPrefs(quiet=NEVER_QUIET))
            )
            == 1
        )
        assert (
            await warn_if_due(
                conn, training_class, [a], now, Quiet(defaults=ReminderPrefs(quiet=NEVER_QUIET))
            )
            == 0
        )
        await repo.put(sessions[1].id, class_id, {a: Mark.EXCUSED},
                       source=MarkSource.LEAVE, by=None, at=now)  # fmt: skip
        assert (
            await warn_if_due(
                conn, training_class, [a], now, Quiet(defaults=ReminderPrefs(quiet=NEVER_QUIET))
            )
            == 1
        )
        assert (
            await warn_if_due(
                conn, training_class, [a], now, Quiet(defaults=ReminderPrefs(quiet=NEVER_QUIET))
            )
            == 0
        )
        rows = await conn.execute(
            sa.select(outbox.c.chat_id, outbox.c.dedup_key, outbox.c.payload)
            .where(outbox.c.kind == "attendance_warning")
            .order_by(outbox.c.id)
        )
        sent = [(r.chat_id, r.dedup_key.split(":")[3], r.payload) for r in rows]
    assert [(chat, level) for chat, level, _ in sent] == [
        (7000, "one_left"), (6000, "one_left"), (7000, "cannot"), (6000, "cannot"),
    ]  # fmt: skip
    assert len(sent[2][2]["params"]["sessions"]) == 2
    assert head


async def test_mydata_holds_the_persons_marks_in_words(db: Database) -> None:
    class_id, (a,), _ = await _class_with_learners(db, learners=1)
    now = utcnow()
    async with db.write() as conn:
        sessions = await ClassRepository(conn).sessions(class_id)
        repo = AttendanceRepository(conn)
        await repo.check_in(sessions[0].id, class_id, a, Mark.LATE, MarkSource.CODE, now)
        await repo.put(sessions[1].id, class_id, {a: Mark.EXCUSED}, source=MarkSource.LEAVE,
                       by=None, at=now)  # fmt: skip
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}))
    data = await services.people.export(7000)
    assert [(e.mark, e.source) for e in data.attendance] == [
        (Mark.LATE, MarkSource.CODE), (Mark.EXCUSED, MarkSource.LEAVE),
    ]  # fmt: skip
    book = openpyxl.load_workbook(
        io.BytesIO(workbook(Texts("vi"), data, ZoneInfo("Asia/Ho_Chi_Minh")))
    )
    rows = list(book["Điểm danh"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[3]) for r in rows] == [
        ("đi muộn", "mã điểm danh"), ("vắng có phép", "đơn xin nghỉ được duyệt"),
    ]  # fmt: skip
    assert json.loads(machine_json(data))["attendance"][0]["mark"] == "late"


async def test_a_warning_decided_at_night_waits_for_the_morning(db: Database) -> None:
    class_id, (a, _, _), _ = await _class_with_learners(db)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    night = datetime(2027, 3, 10, 23, 30, tzinfo=tz)
    async with db.write() as conn:
        classes = ClassRepository(conn)
        session = (await classes.sessions(class_id))[0]
        await AttendanceRepository(conn).put(
            session.id, class_id, {a: Mark.ABSENT}, source=MarkSource.CLOSE, by=None, at=night
        )
        quiet = Quiet(tz, ReminderPrefs(quiet=QuietHours()))
        assert await warn_if_due(conn, await classes.get(class_id), [a], night, quiet) == 1
        queued = (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar()
        held = (await conn.execute(sa.select(held_messages.c.release_at))).scalars().all()
    assert queued == 0 and len(held) == 2  # the learner's and the head's, till 06:00
    assert {at.astimezone(tz).hour for at in held} == {6}
