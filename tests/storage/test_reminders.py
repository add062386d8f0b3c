"""Reminders and change notices against a real database, with an injected clock (no sleeping):
lead times, the merge of a late reminder, restarts and downtime, moved sessions, quiet hours,
settings, and time zones."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.actions import MuteClass
from bot.app.transport import render_text
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.i18n import texts
from bot.reminders import Lead, QuietHours
from bot.services import Services
from bot.services.reminders import time_left
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.schema import held_messages, outbox, reminder_log
from tests.factories import add_class, add_person, add_role, make_province

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN = 42
#: Sessions of the class under test start at 08:00 local on this day (a Wednesday).
DAY = datetime(2027, 3, 10, 8, 0, tzinfo=TZ)


def local(day_offset: int, hh: int, mm: int = 0) -> datetime:
    return (DAY + timedelta(days=day_offset)).replace(hour=hh, minute=mm)


class World:
    """A province, a class with sessions on DAY and the day after, its learners."""

    def __init__(self, db: Database, clock: FrozenClock, services: Services) -> None:
        self.db, self.clock, self.services = db, clock, services
        self.learners: list[int] = []
        self.class_id = 0

    async def actor(self, telegram_id: int) -> Actor:
        return await self.services.access.actor(telegram_id)

    async def enrol(self, telegram_id: int) -> None:
        await self.services.enrolment.enrol(
            await self.actor(telegram_id), self.class_id, clashes_seen=True
        )

    async def run(self) -> None:
        await self.services.reminders.run_pass()

    def at(self, moment: datetime) -> None:
        self.clock._now = moment.astimezone(UTC)

    async def sent(self, kind: str = "reminder") -> list[tuple[int, str]]:
        """(chat, key) of every message queued of this kind, not cancelled."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(outbox.c.chat_id, outbox.c.dedup_key)
                .where(outbox.c.kind == kind, outbox.c.state != "cancelled")
                .order_by(outbox.c.id)
            )
            return [(r.chat_id, r.dedup_key) for r in rows]

    async def ledger(self) -> list[tuple[int, str, str]]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(
                    reminder_log.c.person_id, reminder_log.c.lead, reminder_log.c.state
                ).order_by(reminder_log.c.person_id, reminder_log.c.lead)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]


async def world(
    db: Database, *, learners: int = 3, start: datetime = DAY, tz: ZoneInfo = TZ
) -> World:
    clock = FrozenClock(start - timedelta(days=20))
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock, tz=tz)
    w = World(db, clock, services)
    province = await make_province(db)
    for i in range(learners):
        await add_person(db, f"Học viên {i}", unit_id=province.commune_id, telegram_id=7000 + i)
    w.class_id = await add_class(
        db,
        "NL01",
        starts=start,
        days=2,
        created=clock.now(),
        capacity=100,
        deadline=start - timedelta(hours=1),
    )
    for i in range(learners):
        await w.enrol(7000 + i)
    return w


def chats(sent: list[tuple[int, str]]) -> list[int]:
    return sorted(chat for chat, _ in sent)


async def test_the_evening_before_and_one_hour_before_each_once(db: Database) -> None:
    w = await world(db)
    w.at(local(-1, 18, 59))
    await w.run()
    assert await w.sent() == []
    w.at(local(-1, 19, 0))
    await w.run()
    await w.run()  # a second pass (another process, a restart) adds nothing
    evening = await w.sent()
    assert chats(evening) == [7000, 7001, 7002]
    assert all(key.endswith(":eve") for _, key in evening)
    w.at(local(0, 7, 0))
    await w.run()
    hour = (await w.sent())[3:]
    assert chats(hour) == [7000, 7001, 7002] and all(k.endswith(":1h") for _, k in hour)
    # The second session (the next day) has its own evening reminder, tonight.
    w.at(local(0, 19, 0))
    await w.run()
    assert len(await w.sent()) == 9


async def test_a_late_enrolment_is_not_reminded_late_but_merged_into_the_hour(
    db: Database,
) -> None:
    w = await world(db, learners=1)
    province_commune = (await w.actor(7000)).person
    assert province_commune is not None and province_commune.unit is not None
    await add_person(db, "Người đến muộn", unit_id=province_commune.unit.id, telegram_id=7100)
    w.at(local(-1, 20, 0))
    await w.enrol(7100)
    await w.run()
    assert chats(await w.sent()) == [7000]  # the evening reminder of the one enrolled before
    assert (await w.ledger())[-1][1:] == ("eve", "merged")
    w.at(local(0, 7, 0))
    await w.run()
    assert chats((await w.sent())[1:]) == [7000, 7100]


async def test_downtime_across_a_due_time_sends_the_latest_if_useful_and_skips_once_started(
    db: Database,
) -> None:
    w = await world(db, learners=2)
    w.at(local(0, 7, 30))  # down from before 19:00 yesterday until 07:30: one message each
    await w.run()
    sent = await w.sent()
    assert chats(sent) == [7000, 7001] and all(k.endswith(":1h") for _, k in sent)
    assert sorted(state for _, lead, state in await w.ledger() if lead == "eve") == [
        "merged",
        "merged",
    ]
    w.at(local(1, 8, 5))  # down across everything of the second session: nothing is sent late
    await w.run()
    assert len(await w.sent()) == 2
    assert [s for _, _, s in await w.ledger()].count("skipped") == 4


async def test_the_time_left_today_is_told_in_hours_and_minutes(db: Database) -> None:
    w = await world(db, learners=1)
    me = await w.actor(7000)
    await w.services.reminders.choose_lead(me, Lead.HOURS_3, True)
    await w.services.reminders.set_quiet(me, clock_time(0, 0), clock_time(0, 0))  # never quiet
    w.at(local(0, 5, 15))  # down across 05:00: the three-hour reminder goes out 15 minutes late
    await w.run()
    async with db.read() as conn:
        [payload] = (await conn.execute(sa.select(outbox.c.payload))).scalars().all()
    assert "<b>Nhắc lịch học hôm nay, còn 2 giờ 45 phút</b>" in render_text(payload, texts("vi"))
    assert "<b>Class reminder: today, in 2 hours 45 minutes</b>" in render_text(
        payload, texts("en")
    )
    said = {
        minutes: (render_text(time_left(minutes), texts("vi")),
                  render_text(time_left(minutes), texts("en")))
        for minutes in (45, 60, 61, 120, 180)
    }  # fmt: skip
    assert said == {
        45: ("hôm nay, còn 45 phút", "today, in 45 minutes"),
        60: ("hôm nay, còn 60 phút", "today, in 60 minutes"),
        61: ("hôm nay, còn 1 giờ 1 phút", "today, in 1 hour 1 minute"),
        120: ("hôm nay, còn 2 giờ", "today, in 2 hours"),
        180: ("hôm nay, còn 3 giờ", "today, in 3 hours"),
    }


async def test_passes_racing_each_other_queue_each_reminder_once(db: Database) -> None:
    w = await world(db, learners=40)
    w.at(local(-1, 19, 0))
    other = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=w.clock, tz=TZ)
    await asyncio.gather(w.run(), other.reminders.run_pass(), w.run())
    sent = await w.sent()
    assert len(sent) == 40 and len({k for _, k in sent}) == 40


async def test_a_moved_session_cancels_stale_reminders_and_tells_people_once(
    db: Database,
) -> None:
    w = await world(db, learners=2)
    w.at(local(-1, 19, 0))
    await w.run()
    async with db.read() as conn:
        first = (
            (
                await conn.execute(
                    sa.text("SELECT id FROM class_sessions WHERE class_id = :c ORDER BY starts_at"),
                    {"c": w.class_id},
                )
            )
            .scalars()
            .first()
        )
    admin = Actor(ADMIN, is_superadmin=True)
    # At 19:00 the reminders are queued but not sent; the session moves to 13:30.
    await w.services.planning.move_session(admin, first, local(0, 13, 30), local(0, 16, 30))
    async with db.read() as conn:
        states = (
            (await conn.execute(sa.select(outbox.c.state).where(outbox.c.kind == "reminder")))
            .scalars()
            .all()
        )
    assert states == ["cancelled", "cancelled"]
    await w.run()  # the change has not settled yet
    assert await w.sent("class_changed") == []
    w.at(local(-1, 19, 2))
    await w.run()
    await w.run()
    assert chats(await w.sent("class_changed")) == [7000, 7001]
    # Fresh reminders for the new time: its evening reminder (due 19:00) had already passed
    # when the session moved, so the one-hour reminder at 12:30 is the one sent.
    w.at(local(0, 12, 30))
    await w.run()
    fresh = await w.sent()
    assert chats(fresh) == [7000, 7001] and all(k.endswith(":1h") for _, k in fresh)


async def test_quiet_hours_hold_then_release_and_a_change_today_is_not_held(
    db: Database,
) -> None:
    w = await world(db, learners=1, start=DAY.replace(hour=6, minute=30))
    me = await w.actor(7000)
    await w.services.reminders.choose_lead(me, Lead.EVENING, False)  # only the hour before
    w.at(local(0, 5, 30))
    await w.run()
    assert await w.sent() == []  # quiet until 06:00
    report = await w.services.reminders.run_pass()
    assert report.next_at == local(0, 6, 0).astimezone(UTC)
    w.at(local(0, 6, 0))
    await w.run()
    assert chats(await w.sent()) == [7000]

    admin = Actor(ADMIN, is_superadmin=True)
    async with db.read() as conn:
        second = (
            (
                await conn.execute(
                    sa.text("SELECT id FROM class_sessions WHERE class_id = :c ORDER BY starts_at"),
                    {"c": w.class_id},
                )
            )
            .scalars()
            .all()[1]
        )
    # 23:00: tomorrow's session moves; the notice waits for the morning.
    w.at(local(0, 23, 0))
    await w.services.planning.move_session(admin, second, local(1, 9, 0), local(1, 11, 0))
    w.at(local(0, 23, 5))
    await w.run()
    assert await w.sent("class_changed") == []
    async with db.read() as conn:  # held, and counted as pending in the delivery report
        batch = (await conn.execute(sa.select(held_messages.c.batch_id))).scalar_one()
        report = await OutboxRepository(conn).report(batch)
    assert report is not None and (report.total, report.pending) == (1, 1)
    # 05:00, quiet still: the session moves again, and it is today now: told at once.
    w.at(local(1, 5, 0))
    await w.services.planning.move_session(admin, second, local(1, 10, 0), local(1, 12, 0))
    w.at(local(1, 5, 2))
    await w.run()
    assert chats(await w.sent("class_changed")) == [7000]
    w.at(local(1, 6, 0))
    await w.run()
    assert chats(await w.sent("class_changed")) == [7000, 7000]


async def test_held_notices_follow_quiet_hours_changed_or_turned_off(db: Database) -> None:
    w = await world(db, learners=1)
    me = await w.actor(7000)
    admin = Actor(ADMIN, is_superadmin=True)
    async with db.read() as conn:
        second = (
            await conn.execute(
                sa.text("SELECT id FROM class_sessions WHERE class_id = :c ORDER BY starts_at"),
                {"c": w.class_id},
            )
        ).scalars().all()[1]  # fmt: skip
    w.at(local(-1, 23, 0))  # the day after tomorrow's session moves at night: held till 06:00
    await w.services.planning.move_session(admin, second, local(1, 9, 0), local(1, 11, 0))
    w.at(local(-1, 23, 5))
    await w.run()
    assert await w.sent("class_changed") == []
    await w.services.reminders.set_quiet(me, clock_time(22, 0), clock_time(7, 0))
    w.at(local(0, 6, 0))  # the old hours' end is no longer the end
    await w.run()
    assert await w.sent("class_changed") == []
    await w.services.reminders.set_quiet(me, clock_time(0, 0), clock_time(0, 0))  # none: sent now
    await w.run()
    assert chats(await w.sent("class_changed")) == [7000]
    off = QuietHours(clock_time(0), clock_time(0))
    assert (await w.services.reminders.settings(me)).quiet == off


async def test_settings_per_class_and_altogether(db: Database) -> None:
    w = await world(db, learners=3)
    one, two = await w.actor(7001), await w.actor(7002)
    await w.services.reminders.mute_class(one, w.class_id, True)
    await w.services.reminders.set_enabled(two, False)
    w.at(local(-1, 19, 0))
    await w.run()
    assert chats(await w.sent()) == [7000]
    # Turning reminders off also cancels those already queued.
    await w.services.reminders.set_enabled(await w.actor(7000), False)
    assert await w.sent() == []
    prefs = await w.services.reminders.settings(one)
    assert prefs.muted_classes == frozenset({w.class_id}) and prefs.enabled


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Ho_Chi_Minh"])
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The server's own zone (TZ) must change nothing: every time is computed in TIMEZONE."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


async def test_times_are_local_around_midnight_and_the_year_boundary(
    db: Database, server_zone: str
) -> None:
    new_year = datetime(2028, 1, 1, 0, 30, tzinfo=TZ)  # 17:30 UTC on 31 December
    w = await world(db, learners=1, start=new_year)
    w.at(datetime(2027, 12, 31, 18, 59, tzinfo=TZ))
    await w.run()
    assert await w.sent() == []
    w.at(datetime(2027, 12, 31, 19, 0, tzinfo=TZ))  # 12:00 UTC: the evening before, locally
    await w.run()
    assert chats(await w.sent()) == [7000]
    # The one-hour reminder would be at 23:30, in quiet hours; held, then skipped at 00:30.
    w.at(datetime(2027, 12, 31, 23, 30, tzinfo=TZ))
    await w.run()
    w.at(new_year)
    await w.run()
    assert len(await w.sent()) == 1
    assert ("1h", "skipped") in [(lead, state) for _, lead, state in await w.ledger()]


async def test_lecturers_are_reminded_of_what_they_teach(db: Database) -> None:
    w = await world(db, learners=1)
    unit = (await w.actor(7000)).person
    assert unit is not None and unit.unit is not None
    lecturer = await add_person(db, "Giảng viên", unit_id=unit.unit.id, telegram_id=7500)
    await add_role(db, lecturer, "lecturer")
    async with db.write() as conn:
        await conn.execute(
            sa.text("INSERT INTO class_lecturers (class_id, person_id) VALUES (:c, :p)"),
            {"c": w.class_id, "p": lecturer},
        )
    w.at(local(-1, 19, 0))
    await w.run()
    async with db.read() as conn:
        keys = dict((await conn.execute(sa.select(outbox.c.chat_id, outbox.c.payload))).all())
    assert keys[7500]["key"] == "reminder.teaching"
    assert keys[7000]["key"] == "reminder.learning"
    # Each role's message is built once and told to all in it: only learners may mute.
    mute = [{"key": "reminder.mute_class", "data": MuteClass(w.class_id).pack()}]
    assert mute not in keys[7500]["buttons"] and mute in keys[7000]["buttons"]


async def test_a_lead_ticked_after_its_time_is_not_sent_at_once(db: Database) -> None:
    w = await world(db, learners=1)
    me = await w.actor(7000)
    w.at(local(-1, 19, 0))
    await w.run()
    assert len(await w.sent()) == 1  # the evening before
    w.at(local(0, 5, 30))  # 3 hours before was 05:00: ticked at 05:30, it is not sent late
    await w.services.reminders.choose_lead(me, Lead.HOURS_3, True)
    await w.run()
    assert len(await w.sent()) == 1
    w.at(local(0, 6, 10))
    await w.services.reminders.set_enabled(me, False)  # the queued reminder is cancelled...
    await w.services.reminders.set_enabled(me, True)  # ...and back on, nothing is replayed
    await w.run()
    async with db.read() as conn:
        kept = (await conn.execute(sa.select(outbox.c.dedup_key))).scalars().all()
    assert [key[-3:] for key in kept] == ["eve"]
    w.at(local(0, 7, 0))
    await w.run()
    assert [key[-3:] for _, key in await w.sent()] == [":1h"]
