"""Roll calls through the real app: a lecturer marks everyone present, then the exceptions
across pages (a restart in the middle loses nothing), saves, and later corrects a mark with a
reason (audited); a learner's forged roll-call tap is refused. Sessions close, by the periodic
pass two hours after their end or by the lecturer's button: the unmarked become absent, and a
learner who can no longer complete is warned once (their unit head too), pass after pass.
The clock is frozen at a local hour of today and moved by the test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.actions import RollCall, SessionAttendance
from bot.app.reminders_runtime import wake_reminders
from bot.attendance import Mark, MarkSource
from bot.clock import FrozenClock
from bot.training import EnrolmentStatus
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import attendance, audit_log, dialogues, people
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, running_bot
from tests.factories import add_class, add_person, add_role, count
from tools.emulator.users import BotMessage, ScriptedUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LECTURER = 5401
HEAD = 5402
LEARNER = 5500  # the first learner's Telegram id; the others follow


def today_at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime.now(TZ).date(), time(hour, minute), TZ)


@dataclass(frozen=True)
class Course:
    class_id: int
    sessions: list[int]
    learners: list[int]


async def a_class(harness: Harness, clock: FrozenClock, learners: int, *, days: int) -> Course:
    """A class with a lecturer, a morning session a day from today 08:00, and `learners`
    enrolled a month ago ("Học viên 01"…, linked to Telegram), the first checked in today."""
    lecturer = await add_person(harness.db, "Hà Thị Giảng", telegram_id=LECTURER,
                                unit_id=harness.province.root_id)  # fmt: skip
    await add_role(harness.db, lecturer, "lecturer")
    class_id = await add_class(harness.db, "DD.01", starts=today_at(8), days=days,
                               created=clock.now() - timedelta(days=40), lecturer_ids=(lecturer,),
                               name="Bồi dưỡng kỹ năng số")  # fmt: skip
    head = await add_person(harness.db, "Lò Văn Trưởng", telegram_id=HEAD,
                            unit_id=harness.province.commune_id)  # fmt: skip
    await add_role(harness.db, head, "unit_head", harness.province.commune_id)
    commune = harness.province.commune_id
    ids = [
        await add_person(harness.db, f"Học viên {i + 1:02d}", telegram_id=LEARNER + i,
                         unit_id=commune)
        for i in range(learners)
    ]  # fmt: skip
    async with harness.db.write() as conn:
        for person_id in ids:
            await EnrolmentRepository(conn).put(class_id, person_id, EnrolmentStatus.ENROLLED,
                                                at=clock.now() - timedelta(days=30))  # fmt: skip
        sessions = [s.id for s in await ClassRepository(conn).sessions(class_id)]
        # The first learner checked in with the code on the projector at 08:05.
        await AttendanceRepository(conn).check_in(sessions[0], class_id, ids[0], Mark.PRESENT,
                                                  MarkSource.CODE, today_at(8, 5))  # fmt: skip
    for telegram_id in (LECTURER, HEAD, *(LEARNER + i for i in range(learners))):
        harness.user(telegram_id)
    return Course(class_id, sessions, ids)


async def marks(harness: Harness, session_id: int) -> dict[str, tuple[Mark, MarkSource]]:
    """Each learner's mark by the last two digits of their name."""
    async with harness.db.read() as conn:
        rows = await conn.execute(
            sa.select(people.c.full_name, attendance.c.mark, attendance.c.source)
            .select_from(attendance.join(people, people.c.id == attendance.c.person_id))
            .where(attendance.c.session_id == session_id)
        )
        return {r.full_name[-2:]: (Mark(r.mark), MarkSource(r.source)) for r in rows}


async def open_roll(user: ScriptedUser, session_id: int) -> BotMessage:
    """The button of a session's attendance card, tapped (the card is another feature's)."""
    await user.send("/start")
    await user.next_message()
    await user.tap_data(RollCall(session_id).pack(), user.inbox[-1].message_id)
    return await user.expect("Điểm danh")


async def edited(user: ScriptedUser, card: BotMessage, text: str) -> BotMessage:
    """The card edited in place to read `text`."""
    again = await user.expect(text)
    assert again.edited and again.message_id == card.message_id, again
    return again


async def tap_on(user: ScriptedUser, card: BotMessage, label: str, then: str) -> BotMessage:
    await user.tap(label, card.message_id)
    return await edited(user, card, then)


async def audit(harness: Harness, action: str) -> list[sa.Row[tuple[object, ...]]]:
    async with harness.db.read() as conn:
        rows = await conn.execute(
            sa.select(audit_log.c.actor_telegram_id, audit_log.c.details)
            .where(audit_log.c.action == action)
            .order_by(audit_log.c.id)
        )
        return list(rows)


async def test_a_roll_call_all_present_then_the_exceptions_and_a_correction(
    database_kind: str, tmp_path: Path
) -> None:
    clock = FrozenClock(today_at(8, 10))
    async with running_bot(database_kind, tmp_path, clock=clock) as harness:
        course = await a_class(harness, clock, 12, days=3)
        first = course.sessions[0]
        lecturer = harness.user(LECTURER)
        card = await open_roll(lecturer, first)
        assert "Bồi dưỡng kỹ năng số (DD.01)" in card.body and "Trang 1/2" in card.body
        assert "✅ Có mặt: 1" in card.body and "⬜ Chưa điểm danh: 11" in card.body
        assert card.labels[:2] == ["✅ Học viên 01", "⬜ Học viên 02"]
        assert card.labels[10:] == ["✅ Tất cả có mặt", "▶️", "💾 Lưu", "🔒 Kết thúc buổi",
                                    "✖️ Hủy"]  # fmt: skip

        card = await tap_on(lecturer, card, "✅ Tất cả có mặt", "✅ Có mặt: 12")
        # Learner 02 checks in late meanwhile: that wins over "all present", not overridden.
        async with harness.db.write() as conn:
            await AttendanceRepository(conn).check_in(
                first, course.class_id, course.learners[1], Mark.LATE, MarkSource.LINK,
                today_at(8, 20),
            )  # fmt: skip
        card = await tap_on(lecturer, card, "Học viên 03", "⏰ Đi muộn: 2")
        assert "✏️ Có 10 thay đổi chưa lưu" in card.body
        assert card.labels[1:3] == ["⏰ Học viên 02", "⏰ Học viên 03"]
        await harness.restart()  # the draft is in the database
        # Back from elsewhere (/attendance, or the roll-call button again): the same card,
        # its unsaved taps kept.
        await lecturer.send("/attendance")
        back = await lecturer.expect("✏️ Có 10 thay đổi chưa lưu")
        await lecturer.tap_data(SessionAttendance(first).pack(), back.message_id)
        attendance_card = await lecturer.expect("Điểm danh buổi học")
        await lecturer.tap("📋 Điểm danh theo danh sách", attendance_card.message_id)
        card = await lecturer.expect("✏️ Có 10 thay đổi chưa lưu")
        card = await tap_on(lecturer, card, "▶️", "Trang 2/2")
        assert card.labels[:2] == ["✅ Học viên 11", "✅ Học viên 12"]
        card = await tap_on(lecturer, card, "Học viên 12", "⏰ Đi muộn: 3")
        card = await tap_on(lecturer, card, "Học viên 12", "📝 Vắng có phép: 1")
        for then in ("⏰ Đi muộn: 3", "📝 Vắng có phép: 2", "❌ Vắng không phép: 1"):
            card = await tap_on(lecturer, card, "Học viên 11", then)
        await lecturer.tap("💾 Lưu", card.message_id)
        saved = await edited(lecturer, card, "Đã lưu điểm danh")
        assert "10 học viên được điểm danh, 0 điểm danh được sửa" in saved.body
        assert "✅ Có mặt: 8" in saved.body and "⏰ Đi muộn: 2" in saved.body
        assert "❌ Vắng không phép: 1" in saved.body
        stored = await marks(harness, first)
        assert stored["01"] == (Mark.PRESENT, MarkSource.CODE)
        assert stored["02"] == (Mark.LATE, MarkSource.LINK)
        assert stored["03"] == (Mark.LATE, MarkSource.ROLL)
        assert stored["11"] == (Mark.ABSENT, MarkSource.ROLL)
        assert stored["12"] == (Mark.EXCUSED, MarkSource.ROLL)
        [entry] = await audit(harness, "roll_call_saved")
        assert entry.actor_telegram_id == LECTURER and entry.details["marked"] == 10

        # A learner's forged roll-call button: refused, nothing opened, nothing changed.
        learner = harness.user(LEARNER + 1)
        await learner.send("/start")
        await learner.next_message()
        assert "chỉ dành cho" in await forged_tap(learner, RollCall(first).pack())
        assert await marks(harness, first) == stored and await count(harness.db, dialogues) == 0

        # An hour later the lecturer corrects one mark: the reason is asked first.
        clock.advance(timedelta(hours=1))
        card = await tap_on(lecturer, saved, "Mở lại danh sách", "💾 Đã lưu lúc")
        assert "Trang 2/2" in card.body  # where the lecturer left it
        card = await tap_on(lecturer, card, "◀️", "Trang 1/2")
        card = await tap_on(lecturer, card, "Học viên 01", "⏰ Đi muộn: 3")
        await lecturer.tap("💾 Lưu", card.message_id)
        await lecturer.expect("lý do sửa")
        await lecturer.send("ok")
        await lecturer.expect("từ 3 đến 300 ký tự")
        await lecturer.send("Đến muộn 25 phút, đã xác minh")
        done = await lecturer.expect("Đã lưu điểm danh")
        assert "0 học viên được điểm danh, 1 điểm danh được sửa" in done.body
        assert (await marks(harness, first))["01"] == (Mark.LATE, MarkSource.CORRECTION)
        [corrected] = await audit(harness, "attendance_corrected")
        assert corrected.actor_telegram_id == LECTURER
        assert (corrected.details["before"], corrected.details["after"]) == ("present", "late")
        assert corrected.details["reason"] == "Đến muộn 25 phút, đã xác minh"

        # The office reaches the same roll call from the session's card.
        await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                         telegram_id=SUPERADMIN_ID)  # fmt: skip
        admin = harness.user(SUPERADMIN_ID)
        await admin.send("/classadmin DD.01")
        await admin.tap("Các buổi học", (await admin.expect("Còn trống")).message_id)
        await admin.tap(f"{today_at(8):%d/%m/%Y}")
        session_card = await admin.expect("Buổi học:")
        await admin.tap("🧾 Điểm danh", session_card.message_id)
        attendance_card = await admin.expect("Điểm danh buổi học")
        await admin.tap("📋 Điểm danh theo danh sách", attendance_card.message_id)
        card = await edited(admin, attendance_card, "⏰ Đi muộn: 3")
        assert "💾 Đã lưu lúc" in card.body


def warnings(user: ScriptedUser) -> list[BotMessage]:
    return [m for m in user.inbox if not m.edited and "Không đủ điều kiện" in m.body]


async def test_sessions_close_and_the_unmarked_are_absent_and_warned_once(
    database_kind: str, tmp_path: Path
) -> None:
    clock = FrozenClock(today_at(8, 10))
    async with running_bot(database_kind, tmp_path, clock=clock) as harness:
        first, second, _ = (await a_class(harness, clock, 2, days=3)).sessions  # all 3 needed
        a, b, head = harness.user(LEARNER), harness.user(LEARNER + 1), harness.user(HEAD)

        # The session ended at 11:00; at 13:01 the pass closes it: learner 02 was not there.
        clock.advance(timedelta(hours=4, minutes=51))
        wake_reminders(harness.app)
        warned = await b.expect("Không đủ điều kiện hoàn thành lớp")
        assert "Bồi dưỡng kỹ năng số" in warned.body
        told = await head.expect("Không đủ điều kiện hoàn thành lớp")
        assert "Học viên 02" in told.body
        assert await marks(harness, first) == {"01": (Mark.PRESENT, MarkSource.CODE),
                                               "02": (Mark.ABSENT, MarkSource.CLOSE)}  # fmt: skip
        services = harness.app.bot_data.services
        async with harness.app.bot_data.extra["reminder_lock"]:
            assert await services.roll_call.close_due() == 0

        # The next morning the lecturer ends the second session early: nobody marked.
        clock.advance(timedelta(hours=19, minutes=39))  # 08:40
        lecturer = harness.user(LECTURER)
        card = await open_roll(lecturer, second)
        await lecturer.tap("🔒 Kết thúc buổi", card.message_id)
        confirm = await edited(lecturer, card, "2 học viên chưa điểm danh sẽ được ghi")
        await lecturer.tap("🔒 Kết thúc buổi", confirm.message_id)
        closed = await edited(lecturer, confirm, "Đã kết thúc điểm danh buổi học")
        assert "2 học viên chưa điểm danh được ghi vắng không phép" in closed.body
        await a.expect("Không đủ điều kiện hoàn thành lớp")  # learner 01 now, once
        await head.expect("Học viên 01")
        clock.advance(timedelta(hours=5))
        wake_reminders(harness.app)
        async with harness.app.bot_data.extra["reminder_lock"]:
            assert await services.roll_call.close_due() == 0
        for user in (a, b, head):
            await user.no_message(0.5)
        assert (len(warnings(a)), len(warnings(b)), len(warnings(head))) == (1, 1, 2)
        assert {m for m, _ in (await marks(harness, second)).values()} == {Mark.ABSENT}

        # Later, the lecturer finds both sessions among the past ones, to correct a mark.
        await lecturer.send("/attendance")
        today = await lecturer.expect("Điểm danh")
        await lecturer.tap("🗂 Các buổi đã qua", today.message_id)
        past = await edited(lecturer, today, "30 ngày qua")
        assert sum("DD.01 · 🔒 đã khóa sổ" in label for label in past.labels) == 2
        await lecturer.tap("📅 Các buổi hôm nay", past.message_id)
        await edited(lecturer, past, "hôm nay")
