"""The training office's reminders against a real database, with an injected clock: each kind
on its day, once a day, to every administrator and nobody else, never at night, held for an
administrator's quiet hours; the periodic reports on their dates; closing a class."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.actions import ClassAdminCard, ShowPlans
from bot.app.transport import render_text
from bot.clock import FrozenClock
from bot.errors import Conflict, NotFound, PermissionDenied
from bot.i18n import Texts
from bot.office_reminders import parse_calendar
from bot.services import Services
from bot.services.reminders import PassReport
from bot.training import ClassFormat, ClassStatus, SessionStatus
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.schema import audit_log, class_sessions, delivery_batches, held_messages, outbox
from tests.factories import NEVER_QUIET, add_class, add_person, add_role, count, make_province
from tools.emulator.entities import parse_html

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: A Monday, 08:00 in Vietnam (01:00 UTC): the office's reminders may go out from now.
DAY = datetime(2027, 3, 8, 8, 0, tzinfo=TZ)
ADMIN, SUPER, LEARNER, HEAD = 501, 502, 503, 504


def at(days: int, hh: int = 8, mm: int = 0) -> datetime:
    return (DAY + timedelta(days=days)).replace(hour=hh, minute=mm)


class Office:
    """A province with two linked administrators (one granted, one from ADMIN_IDS), an
    administrator not on Telegram, a learner and a unit head."""

    def __init__(self, db: Database, services: Services, clock: FrozenClock) -> None:
        self.db, self.services, self.clock = db, services, clock
        self.commune = 0
        self.admin_id = 0

    def at(self, moment: datetime) -> None:
        self.clock._now = moment.astimezone(UTC)

    async def run(self, moment: datetime | None = None) -> PassReport:
        if moment is not None:
            self.at(moment)
        return await self.services.reminders.run_pass()

    async def messages(self, kind: str) -> list[Any]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(outbox.c.chat_id, outbox.c.dedup_key, outbox.c.payload)
                .where(outbox.c.kind == kind)
                .order_by(outbox.c.id)
            )
            return list(rows)

    async def add_class(self, code: str, **kwargs: Any) -> int:
        kwargs.setdefault("created", DAY - timedelta(days=30))
        kwargs.setdefault("starts", DAY + timedelta(days=20))
        kwargs.setdefault("days", 1)
        kwargs.setdefault("lecturer_ids", (self.admin_id,))
        return await add_class(self.db, code, **kwargs)


def text(payload: dict[str, Any]) -> str:
    """The message as the administrator reads it (markup taken off)."""
    return parse_html(render_text(payload, Texts("vi", TZ)))[0]


async def office(db: Database, calendar: str = "") -> Office:
    clock = FrozenClock(DAY - timedelta(days=1))
    services = Services.build(
        db, superadmin_ids=frozenset({SUPER}), clock=clock, tz=TZ, quiet=NEVER_QUIET,
        reports=parse_calendar(calendar),
    )  # fmt: skip
    o = Office(db, services, clock)
    province = await make_province(db)
    o.commune = province.commune_id
    o.admin_id = await add_person(db, "Đinh Văn Quản", unit_id=province.root_id,
                                  telegram_id=ADMIN)  # fmt: skip
    await add_role(db, o.admin_id, "admin")
    await add_person(db, "Lò Thị Siêu", unit_id=province.root_id, telegram_id=SUPER)
    offline = await add_person(db, "Hà Văn Vắng", unit_id=province.root_id)
    await add_role(db, offline, "admin")
    await add_person(db, "Mùa A Học", unit_id=province.commune_id, telegram_id=LEARNER)
    head = await add_person(db, "Sùng Thị Trưởng", unit_id=province.commune_id, telegram_id=HEAD)
    await add_role(db, head, "unit_head", province.commune_id)
    return o


async def test_enrolment_closing_with_seats_left_is_told_once_a_day_from_eight(
    db: Database,
) -> None:
    o = await office(db)
    near = await o.add_class("HAN1", capacity=10, deadline=at(3, 17))
    await o.add_class("XA4", capacity=10, deadline=at(4, 9))  # four days ahead: tomorrow
    full = await o.add_class("DAY1", capacity=1, deadline=at(1, 17))
    async with db.write() as conn:
        assert await ClassRepository(conn).take_seat(full)
    await o.add_class("DUKIEN", status="planned", deadline=at(1, 17))  # not open
    await o.add_class("QUA", deadline=at(0, 7))  # closed an hour ago

    assert (await o.run(at(0, 7, 59))).office == 0  # before the office's hours
    report = await o.run(at(0, 8, 0))
    sent = await o.messages("office_deadline")
    assert report.office == 2 and sorted(r.chat_id for r in sent) == [ADMIN, SUPER]
    assert {r.dedup_key.rsplit(":", 1)[0] for r in sent} == {"office_deadline:2027-03-08"}
    body = text(sent[0].payload)
    assert "HAN1" in body and "0/10" in body and "17:00 11/03/2027" in body
    assert not any(code in body for code in ("XA4", "DAY1", "DUKIEN", "QUA"))
    assert sent[0].payload["buttons"] == [
        [{"text": "HAN1", "data": ClassAdminCard(near, fresh=True).pack()}]
    ]
    async with db.read() as conn:
        batch = (await conn.execute(sa.select(delivery_batches))).one()
    assert (batch.kind, batch.title, batch.total) == ("office_deadline", "HAN1", 2)

    for moment in (at(0, 8, 0), at(0, 15), at(0, 21), at(1, 0, 30), at(1, 7, 59)):
        assert (await o.run(moment)).office == 0  # once a day; never at night
    await o.run(at(1, 8, 0))
    tomorrow = (await o.messages("office_deadline"))[2:]
    assert len(tomorrow) == 2
    assert "HAN1" in text(tomorrow[0].payload) and "XA4" in text(tomorrow[0].payload)


async def test_sessions_of_the_week_without_a_lecturer_or_a_place(db: Database) -> None:
    o = await office(db)
    no_lecturer = await o.add_class("GV1", starts=at(2, 7, 30), lecturer_ids=())
    no_room = await o.add_class("PH1", starts=at(3, 7, 30), days=2, location=None)
    await o.add_class("TT1", starts=at(1, 14), fmt=ClassFormat.ONLINE, location=None,
                      link="https://meet.example/tt1")  # fmt: skip
    await o.add_class("TT2", starts=at(1, 14), fmt=ClassFormat.ONLINE, location=None)
    await o.add_class("KH1", starts=at(1, 14), fmt=ClassFormat.BLENDED, location="P.2",
                      link=None, lecturer_ids=())  # fmt: skip
    await o.add_class("XA8", starts=at(8, 7, 30), lecturer_ids=())  # beyond the week
    await o.add_class("HUY", starts=at(2, 7, 30), lecturer_ids=(), status="cancelled")
    async with db.write() as conn:  # PH1's second session has a room of its own
        last = await conn.execute(
            sa.select(class_sessions.c.id)
            .where(class_sessions.c.class_id == no_room)
            .order_by(class_sessions.c.starts_at.desc())
        )
        second = last.scalars().first()
        await ClassRepository(conn).update_session(second, at=DAY, room="Phòng 201")
    taught = await o.add_class("GV3", starts=at(2, 13, 30), lecturer_ids=())
    async with db.write() as conn:  # GV3's session has a lecturer of its own
        (own,) = await ClassRepository(conn).sessions(taught)
        await ClassRepository(conn).update_session(own.id, at=DAY, lecturer_id=o.admin_id)

    await o.run(at(0, 9))
    sent = await o.messages("office_sessions")
    assert len(sent) == 2
    lines = text(sent[0].payload).splitlines()
    listed = [line for line in lines if line.startswith("•")]
    assert listed == [
        "• KH1 · 14:00 Thứ Ba, 09/03/2027: chưa có giảng viên và đường dẫn học trực tuyến",
        "• TT2 · 14:00 Thứ Ba, 09/03/2027: chưa có đường dẫn học trực tuyến",
        "• GV1 · 07:30 Thứ Tư, 10/03/2027: chưa có giảng viên",
        "• PH1 · 07:30 Thứ Năm, 11/03/2027: chưa có phòng học",
    ]
    codes = [b["text"] for row in sent[0].payload["buttons"] for b in row]
    assert codes == ["KH1", "TT2", "GV1", "PH1"]
    assert ClassAdminCard(no_lecturer, fresh=True).pack() in str(sent[0].payload["buttons"])

    await o.run(at(1, 8))  # the next day: TT2 and KH1 are today, still lacking
    assert "TT2" in text((await o.messages("office_sessions"))[-1].payload)
    await o.run(at(1, 15))  # they have begun: not in tomorrow's list
    await o.run(at(2, 8))
    assert "TT2" not in text((await o.messages("office_sessions"))[-1].payload)


async def test_a_long_list_names_ten_and_says_how_many_more(db: Database) -> None:
    o = await office(db)
    for i in range(12):
        await o.add_class(f"L{i:02d}", capacity=5, deadline=at(2, 10, i))
    await o.run(at(0, 8))
    (first, _) = await o.messages("office_deadline")
    body = text(first.payload)
    assert body.count("\n• ") == 10 and "L09" in body and "L10" not in body
    assert body.endswith("… và 2 lớp khác.\nĐề nghị đồng chí đôn đốc các đơn vị cử cán bộ, "
                         "hoặc xem xét điều chỉnh sĩ số, hạn đăng ký.")  # fmt: skip
    assert [len(row) for row in first.payload["buttons"]] == [3, 3, 3, 1]


async def test_an_ended_class_is_told_until_it_is_closed(db: Database) -> None:
    o = await office(db)
    ended = await o.add_class("XONG", starts=at(-3, 7, 30), days=2)
    running = await o.add_class("CHUA", starts=at(-1, 7, 30), days=3)
    await o.add_class("DONG", starts=at(-3, 7, 30), status="finished")
    cancelled = await o.add_class("HUY2", starts=at(-3, 7, 30), status="cancelled")

    await o.run(at(0, 8))
    (first, _) = await o.messages("office_unclosed")
    body = text(first.payload)
    assert "XONG" in body and "buổi cuối kết thúc lúc 10:30 06/03/2027" in body
    assert not any(code in body for code in ("CHUA", "DONG", "HUY2"))

    admin = await o.services.access.actor(ADMIN)
    planning = o.services.planning
    with pytest.raises(PermissionDenied):
        await planning.close_class(await o.services.access.actor(LEARNER), ended)
    with pytest.raises(PermissionDenied):
        await planning.close_class(await o.services.access.actor(HEAD), ended)
    with pytest.raises(Conflict, match="not_ended"):
        await planning.close_class(admin, running)
    with pytest.raises(Conflict, match="already_cancelled"):
        await planning.close_class(admin, cancelled)
    with pytest.raises(NotFound):
        await planning.close_class(admin, 999_999)
    closed = await planning.close_class(admin, ended)
    assert closed.status is ClassStatus.FINISHED
    with pytest.raises(Conflict, match="already_finished"):
        await planning.close_class(await o.services.access.actor(SUPER), ended)
    async with db.read() as conn:
        audited = (
            await conn.execute(sa.select(audit_log).where(audit_log.c.action == "class_closed"))
        ).one()
    assert audited.actor_telegram_id == ADMIN and audited.details["class_id"] == ended

    await o.run(at(1, 8))
    assert len(await o.messages("office_unclosed")) == 2  # nothing left to close tomorrow
    await o.run(at(2, 8))  # CHUA's last session has ended since
    assert "CHUA" in text((await o.messages("office_unclosed"))[-1].payload)


async def test_a_class_may_be_closed_only_once_its_last_session_has_ended(db: Database) -> None:
    o = await office(db)
    class_id = await o.add_class("BIEN", starts=at(0, 7, 30))  # 07:30–10:30 today
    admin = await o.services.access.actor(ADMIN)
    o.at(at(0, 10, 29))
    with pytest.raises(Conflict, match="not_ended"):
        await o.services.planning.close_class(admin, class_id)
    async with db.read() as conn:  # nothing changed
        assert (await ClassRepository(conn).get(class_id)).status is ClassStatus.OPEN
    o.at(at(0, 10, 30))
    assert (await o.services.planning.close_class(admin, class_id)).status.value == "finished"


async def test_a_class_without_sessions_cannot_be_closed(db: Database) -> None:
    o = await office(db)
    class_id = await o.add_class("TRONG", days=0)
    with pytest.raises(Conflict, match="not_ended"):
        await o.services.planning.close_class(await o.services.access.actor(ADMIN), class_id)


async def test_periodic_reports_on_their_dates_across_the_new_year(db: Database) -> None:
    o = await office(db, "01/02-22/02 annual; 20/12-10/01 Báo cáo quý IV")

    await o.run(datetime(2027, 1, 3, 8, 0, tzinfo=TZ))
    (quarter, _) = await o.messages("office_report")
    assert "Đã đến kỳ Báo cáo quý IV; hạn gửi: trước ngày 10/01/2027." in text(quarter.payload)

    await o.run(datetime(2027, 2, 1, 8, 0, tzinfo=TZ))
    annual = (await o.messages("office_report"))[2:]
    assert sorted(r.chat_id for r in annual) == [ADMIN, SUPER]
    body = text(annual[0].payload)
    assert "báo cáo kết quả đào tạo, bồi dưỡng hằng năm" in body
    assert "trước ngày 22/02/2027" in body
    assert annual[0].payload["buttons"] == [
        [{"key": "office.plans_button", "data": ShowPlans(fresh=True).pack()}]
    ]
    await o.run(datetime(2027, 2, 2, 8, 0, tzinfo=TZ))
    assert len(await o.messages("office_report")) == 4
    # The bot was down on the 15th: the reminder goes out the day after, once.
    await o.run(datetime(2027, 2, 16, 9, 0, tzinfo=TZ))
    await o.run(datetime(2027, 2, 17, 9, 0, tzinfo=TZ))
    assert len(await o.messages("office_report")) == 6
    await o.run(datetime(2027, 2, 21, 8, 0, tzinfo=TZ))
    await o.run(datetime(2027, 2, 22, 8, 0, tzinfo=TZ))
    await o.run(datetime(2027, 2, 23, 8, 0, tzinfo=TZ))
    # office_report:<the report's tag>:<the reminder's day>:<person>
    days = [r.dedup_key.split(":")[2] for r in await o.messages("office_report")]
    assert days == ["2027-01-03"] * 2 + ["2027-02-01"] * 2 + ["2027-02-15"] * 2 + ["2027-02-21"] * 2


async def test_an_administrators_quiet_hours_hold_the_reminder_until_they_end(
    db: Database,
) -> None:
    o = await office(db)
    await o.add_class("HAN1", deadline=at(1, 17))
    admin = await o.services.access.actor(ADMIN)
    await o.services.reminders.set_quiet(admin, time(7, 0), time(9, 0))

    assert (await o.run(at(0, 8))).office == 2
    assert [r.chat_id for r in await o.messages("office_deadline")] == [SUPER]
    async with db.read() as conn:
        held = (await conn.execute(sa.select(held_messages))).one()
    assert held.kind == "office_deadline" and held.release_at == at(0, 9).astimezone(UTC)
    assert (await o.run(at(0, 8, 30))).office == 0  # held is made, not made twice
    released = await o.run(at(0, 9))
    assert released.released == 1 and released.office == 0
    assert sorted(r.chat_id for r in await o.messages("office_deadline")) == [ADMIN, SUPER]


async def test_without_administrators_on_telegram_nothing_is_made(db: Database) -> None:
    clock = FrozenClock(DAY)
    services = Services.build(db, superadmin_ids=frozenset(), clock=clock, tz=TZ)
    province = await make_province(db)
    offline = await add_person(db, "Hà Văn Vắng", unit_id=province.root_id)
    await add_role(db, offline, "admin")
    await add_class(db, "HAN1", deadline=DAY + timedelta(days=1), starts=DAY + timedelta(days=9))
    assert (await services.reminders.run_pass()).office == 0
    assert await count(db, delivery_batches) == 0


async def test_cancelled_sessions_need_nothing(db: Database) -> None:
    o = await office(db)
    class_id = await o.add_class("GV2", starts=at(2, 7, 30), lecturer_ids=())
    async with db.write() as conn:
        await conn.execute(
            class_sessions.update()
            .where(class_sessions.c.class_id == class_id)
            .values(status=SessionStatus.CANCELLED.value)
        )
    await o.run(at(0, 8))
    assert await count(db, outbox) == 0
