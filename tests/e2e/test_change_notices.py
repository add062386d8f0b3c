"""Change notices through the real app: an administrator moves a session and switches another
online in the chat, and each person of the class is told once, in one message, once the
changes have settled; a cancelled session, a seat from the waitlist, a class cancelled at
night (held until morning); and a restart in the middle of the fan-out. The clock is frozen
at a chosen local hour of today and moved by the test; passes are run by the test."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.actions import ChangeSessionPlace
from bot.clock import FrozenClock
from bot.services.reminders import CHANGE_SETTLE, PassReport
from bot.training import EnrolmentStatus
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import class_lecturers, class_sessions, held_messages, outbox
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, no_dialogue_left, running_bot
from tests.factories import add_class, add_person, count
from tools.emulator.users import BotMessage, ScriptedUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LINK = "https://meet.google.com/abc-defg-hij"
LEARNERS = (5101, 5102, 5103)
WAITING = 5104
LECTURER = 5105


def today_at(hour: int, minute: int = 0) -> datetime:
    """A local hour of today: the frozen clock stays near the real now, at a known hour."""
    return datetime.combine(datetime.now(TZ).date(), time(hour, minute), TZ)


@asynccontextmanager
async def bot_at(
    database_kind: str, tmp_path: Path, start: datetime, **overrides: Any
) -> AsyncIterator[tuple[Harness, FrozenClock]]:
    clock = FrozenClock(start)
    async with running_bot(database_kind, tmp_path, clock=clock, **overrides) as harness:
        yield harness, clock


async def run_pass(harness: Harness) -> PassReport:
    """A reminder pass now, taking its turn with the JobQueue's (one pass at a time)."""
    async with harness.app.bot_data.extra["reminder_lock"]:
        report: PassReport = await harness.app.bot_data.services.reminders.run_pass()
        return report


async def office(harness: Harness) -> ScriptedUser:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    return harness.user(SUPERADMIN_ID)


async def people_of(
    harness: Harness, class_id: int, learners: Sequence[int], waiting: Sequence[int] = ()
) -> None:
    """Linked cadres with seats (then waiting), their chats open before anything is queued."""
    for telegram_id in (*learners, *waiting):
        person = await add_person(harness.db, f"Học viên {telegram_id}", telegram_id=telegram_id,
                                  unit_id=harness.province.commune_id)  # fmt: skip
        async with harness.db.write() as conn:
            if telegram_id in learners:
                assert await ClassRepository(conn).take_seat(class_id)
                await EnrolmentRepository(conn).put(class_id, person, EnrolmentStatus.ENROLLED)
            else:
                ticket = await ClassRepository(conn).next_ticket(class_id)
                await EnrolmentRepository(conn).put(
                    class_id, person, EnrolmentStatus.WAITLISTED, ticket
                )
        harness.user(telegram_id)


async def a_class(
    harness: Harness, code: str, first: datetime, *, capacity: int = 30, name: str | None = None
) -> int:
    """A class in Hội trường A with a 08:00–11:00 session on each of three days from `first`."""
    return await add_class(harness.db, code, starts=first, days=3, plan_year=first.year,
                           capacity=capacity, name=name)  # fmt: skip


async def pick(admin: ScriptedUser, code: str, day: datetime) -> BotMessage:
    """The card of the session on `day`, from the class's card."""
    await admin.send(f"/classadmin {code}")
    card = await admin.expect("Còn trống")
    await admin.tap("Các buổi học", card.message_id)
    await admin.tap(f"{day:%d/%m/%Y}")
    return await admin.expect("Buổi học:")


def delivered(harness: Harness, chats: Sequence[int]) -> Counter[int]:
    """How many messages reached each of these chats."""
    return Counter(d.chat_id for d in harness.emulator.delivered() if d.chat_id in chats)


async def queued(harness: Harness) -> Counter[str]:
    """The change notices queued, by state."""
    async with harness.db.read() as conn:
        rows = await conn.execute(sa.select(outbox.c.state).where(outbox.c.kind == "class_changed"))
        return Counter(rows.scalars())


def _day(at: datetime) -> str:
    """A day as the catalogs write it in Vietnamese: "Thứ Năm, 05/03/2026"."""
    names = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
    return f"{names[at.weekday()]}, {at:%d/%m/%Y}"


async def test_a_move_and_a_switch_online_are_told_once_together_with_the_link(
    database_kind: str, tmp_path: Path
) -> None:
    async with bot_at(database_kind, tmp_path, today_at(10)) as (harness, clock):
        first = today_at(8) + timedelta(days=3)
        class_id = await a_class(harness, "CDS.01", first, capacity=3, name="Chuyển đổi số")
        await people_of(harness, class_id, LEARNERS, [WAITING])
        lecturer = await add_person(harness.db, "Hà Thị Giảng", telegram_id=LECTURER,
                                    unit_id=harness.province.root_id)  # fmt: skip
        async with harness.db.write() as conn:
            await conn.execute(class_lecturers.insert().values(class_id=class_id,
                                                               person_id=lecturer))  # fmt: skip
        harness.user(LECTURER)
        admin = await office(harness)

        await pick(admin, "CDS.01", first)
        await admin.tap("Dời buổi")
        moved_to = first + timedelta(days=3)
        await admin.send(f"{moved_to:%d/%m/%Y} 13h30-16h30")
        await admin.expect("Dời buổi học")
        await admin.tap("Xác nhận")
        await admin.expect("Đã dời buổi học")
        await admin.expect("Còn trống")  # the class's card again

        clock.advance(timedelta(seconds=40))  # the second change, within the minute
        second = first + timedelta(days=1)
        card = await pick(admin, "CDS.01", second)
        assert "Địa điểm: Hội trường A (địa điểm của lớp)" in card.body
        await admin.tap("Đổi địa điểm / trực tuyến")
        asked = await admin.expect("Địa điểm mới của buổi học")
        assert "Dùng địa điểm của lớp" not in asked.labels  # it has no place of its own
        for bad, said in (
            ("http://meet.example.org/x", "phải bắt đầu bằng"),
            ("www.zoom.us/j/123", "phải bắt đầu bằng"),
            ("🎉🎉🎉", "cần có chữ hoặc số"),
            ("A" * 5000, "vừa nhập 5.000"),
            (f"{LINK} https://zoom.us/j/1", "chỉ có một đường liên kết"),
        ):
            await admin.send(bad)
            await admin.expect(said)
        await admin.send(LINK)
        summary = await admin.expect("Đổi thành")
        assert "Hiện nay: Hội trường A (địa điểm của lớp)" in summary.body
        assert f"học trực tuyến tại {LINK}" in summary.body

        await harness.restart()  # a deploy in the middle of the dialogue

        await admin.tap("Xác nhận")
        await admin.expect("Đã đổi địa điểm buổi học")
        await admin.tap("Xem buổi học này")
        card = await admin.expect("Buổi học:")
        assert f"Địa điểm: học trực tuyến tại {LINK}" in card.body
        async with harness.db.read() as conn:
            places = (await conn.execute(sa.select(class_sessions.c.room, class_sessions.c.link)
                                         .order_by(class_sessions.c.id))).all()  # fmt: skip
        assert [tuple(p) for p in places] == [(None, None), (None, LINK), (None, None)]

        # Not settled yet: 90 s after the last change, not after the first.
        clock.advance(CHANGE_SETTLE - timedelta(seconds=30))
        await run_pass(harness)
        everyone = (*LEARNERS, WAITING, LECTURER)
        for telegram_id in everyone:
            await harness.user(telegram_id).no_message(within=0.2)
        assert await queued(harness) == {}

        clock.advance(timedelta(seconds=30))
        await run_pass(harness)
        notices: dict[int, BotMessage] = {}
        for telegram_id in everyone:
            notices[telegram_id] = await harness.user(telegram_id).expect("thay đổi lịch học")
        for telegram_id, notice in notices.items():
            text = notice.body
            assert "Chuyển đổi số (CDS.01)" in text
            assert f"Dời buổi học 08:00, {_day(first)}" in text
            assert f"sang 13:30–16:30, {_day(moved_to)}" in text
            assert f"Buổi học 08:00, {_day(second)} chuyển sang học trực tuyến" in text
            assert "Trước đây: Hội trường A" in text
            shows_link = telegram_id != WAITING
            assert (LINK in text) is shows_link
        await run_pass(harness)  # nothing more to tell
        for telegram_id in everyone:
            await harness.user(telegram_id).no_message(within=0.2)
        assert delivered(harness, everyone) == Counter(everyone)

        learner = harness.user(LEARNERS[0])
        await learner.tap("Lịch học của lớp", notices[LEARNERS[0]].message_id)
        timetable = await learner.expect("Lịch học lớp Chuyển đổi số")
        assert timetable.message_id != notices[LEARNERS[0]].message_id and not timetable.edited
        assert "đã dời, lịch cũ" in timetable.body and f"💻 {LINK}" in timetable.body
        await learner.send("/schedule")
        await learner.tap("Tất cả")
        mine = await learner.expect("Tất cả buổi học sắp tới")
        assert f"💻 {LINK}" in mine.body and "đã dời, lịch cũ" in mine.body
        assert "13:30–16:30" in mine.body


async def test_back_to_the_class_place_back_and_cancel(database_kind: str, tmp_path: Path) -> None:
    async with bot_at(database_kind, tmp_path, today_at(10)) as (harness, clock):
        first = today_at(8) + timedelta(days=3)
        class_id = await a_class(harness, "CDS.02", first)
        await people_of(harness, class_id, LEARNERS[:1])
        admin = await office(harness)
        async with harness.db.write() as conn:
            session_id = (await ClassRepository(conn).sessions(class_id))[0].id
            await conn.execute(class_sessions.update().where(class_sessions.c.id == session_id)
                               .values(room="Hội trường B"))  # fmt: skip

        await pick(admin, "CDS.02", first)
        await admin.tap("Đổi địa điểm / trực tuyến")
        await admin.expect("Hiện nay: Hội trường B")
        await admin.send("Hội trường B")
        await admin.expect("đang ở đúng địa điểm này")
        await admin.send(f"Hội trường C, {LINK}")
        summary = await admin.expect("Đổi thành")
        assert f"Hội trường C, kết hợp trực tuyến tại {LINK}" in summary.body
        await admin.tap("Quay lại")
        await admin.tap("Dùng địa điểm của lớp")
        summary = await admin.expect("Đổi thành")
        assert "Đổi thành: Hội trường A (địa điểm của lớp)" in summary.body
        await admin.tap("Hủy")
        await admin.expect("không có gì thay đổi")
        async with harness.db.read() as conn:
            room = await conn.scalar(
                sa.select(class_sessions.c.room).where(class_sessions.c.id == session_id)
            )
        assert room == "Hội trường B"

        learner = harness.user(LEARNERS[0])
        await learner.send("/schedule")
        await learner.expect("Lịch học")
        refused = await forged_tap(learner, ChangeSessionPlace(session_id).pack())
        assert "chỉ dành cho cán bộ quản lý" in refused
        assert await forged_tap(admin, ChangeSessionPlace(10**9).pack()) == (
            "Không tìm thấy buổi học này."
        )
        await no_dialogue_left(harness.db)

        await pick(admin, "CDS.02", first)
        await admin.tap("Đổi địa điểm / trực tuyến")
        await admin.tap("Dùng địa điểm của lớp")
        await admin.tap("Xác nhận")
        await admin.expect("Đã đổi địa điểm buổi học")
        clock.advance(CHANGE_SETTLE)
        await run_pass(harness)
        told = await learner.expect("thay đổi lịch học")
        assert "Đổi địa điểm buổi học 08:00" in told.body
        assert "Trước đây: Hội trường B" in told.body and "Nay: Hội trường A" in told.body


async def test_a_cancelled_session_is_told(database_kind: str, tmp_path: Path) -> None:
    async with bot_at(database_kind, tmp_path, today_at(10)) as (harness, clock):
        first = today_at(8) + timedelta(days=2)
        class_id = await a_class(harness, "CDS.03", first, name="Kỹ năng số")
        await people_of(harness, class_id, LEARNERS[:2])
        admin = await office(harness)
        await pick(admin, "CDS.03", first)
        await admin.tap("Hủy buổi")
        await admin.tap("Xác nhận")
        await admin.expect("Chọn buổi học")
        async with harness.db.read() as conn:
            cancelled = (await ClassRepository(conn).sessions(class_id))[0]
        assert cancelled.cancelled  # a card left open cannot give it a place
        refused = await forged_tap(admin, ChangeSessionPlace(cancelled.id).pack())
        assert refused == "Buổi học này đã bị hủy."
        clock.advance(CHANGE_SETTLE)
        await run_pass(harness)
        for telegram_id in LEARNERS[:2]:
            told = await harness.user(telegram_id).expect("Lớp Kỹ năng số (CDS.03)")
            assert f"Hủy buổi học 08:00, {_day(first)}" in told.body
            assert "<b>" in (told.html or "")


async def test_a_seat_from_the_waitlist_is_told_at_once(database_kind: str, tmp_path: Path) -> None:
    async with bot_at(database_kind, tmp_path, today_at(10)) as (harness, _clock):
        class_id = await a_class(harness, "CDS.04", today_at(8) + timedelta(days=5), capacity=1,
                                 name="Lớp một chỗ")  # fmt: skip
        await people_of(harness, class_id, LEARNERS[:1], [WAITING])
        admin = await office(harness)
        await admin.send("/classadmin CDS.04")
        await admin.tap("Đổi sĩ số")
        await admin.send("2")
        await admin.expect("Số người từ danh sách chờ được vào lớp: 1")
        waiting = harness.user(WAITING)
        told = await waiting.expect("Đã có chỗ cho đồng chí")
        assert "Lớp một chỗ" in told.body and "CDS.04" in told.body
        await waiting.tap("Xem lớp")
        await waiting.expect("Đồng chí đã đăng ký lớp này")


async def test_a_class_cancelled_at_night_is_told_at_six(
    database_kind: str, tmp_path: Path
) -> None:
    async with bot_at(database_kind, tmp_path, today_at(22, 30), quiet_hours="21:30-06:00") as (
        harness,
        clock,
    ):
        first = today_at(8) + timedelta(days=7)
        class_id = await a_class(harness, "CDS.05", first, name="Lớp tuần sau")
        await people_of(harness, class_id, LEARNERS[:1])
        learner = harness.user(LEARNERS[0])
        admin = await office(harness)
        await admin.send("/classadmin CDS.05")
        await admin.tap("Hủy lớp")
        await admin.tap("Xác nhận")
        await admin.send("Trùng lịch họp của Tỉnh ủy")
        await admin.expect("Đã gửi thông báo cho 1 người")
        await learner.no_message(within=0.3)
        assert await count(harness.db, held_messages) == 1

        clock.advance(today_at(5, 59) + timedelta(days=1) - clock.now())
        await run_pass(harness)
        await learner.no_message(within=0.3)
        clock.advance(timedelta(minutes=1))  # 06:00
        await run_pass(harness)
        told = await learner.expect("đã bị hủy")
        assert "Lớp tuần sau" in told.body and "Trùng lịch họp của Tỉnh ủy" in told.body
        assert await count(harness.db, held_messages) == 0


async def test_a_restart_during_the_fan_out_loses_and_doubles_nothing(
    database_kind: str, tmp_path: Path
) -> None:
    many = tuple(range(5200, 5230))
    # Ten a second: the thirty notices take three seconds, long enough to restart midway.
    async with bot_at(database_kind, tmp_path, today_at(10), send_rate_per_s=10) as (
        harness,
        clock,
    ):
        first = today_at(8) + timedelta(days=3)
        class_id = await a_class(harness, "CDS.06", first, capacity=40)
        await people_of(harness, class_id, many)
        await add_person(harness.db, "Quản trị", unit_id=harness.province.root_id,
                         telegram_id=SUPERADMIN_ID)  # fmt: skip
        services = harness.app.bot_data.services
        actor = await services.access.actor(SUPERADMIN_ID)
        session_id = (await services.planning.sessions(actor, class_id))[0].id
        await services.planning.change_place(actor, session_id, None, LINK)
        clock.advance(CHANGE_SETTLE)
        await run_pass(harness)
        for _ in range(500):  # until a few are out, at most ten seconds
            if sum(delivered(harness, many).values()) >= 5:
                break
            await asyncio.sleep(0.02)
        await harness.restart()
        assert sum(delivered(harness, many).values()) < len(many)
        for telegram_id in many:
            told = await harness.user(telegram_id).expect("chuyển sang học trực tuyến", 15)
            assert LINK in told.body
        for _ in range(500):  # the last one recorded as sent, at most ten seconds
            if await queued(harness) == {"sent": len(many)}:
                break
            await asyncio.sleep(0.02)
        assert await queued(harness) == {"sent": len(many)}  # nothing more to come
        assert delivered(harness, many) == Counter(many)


async def test_reminders_render_with_the_link_for_the_people_of_the_class_only(
    database_kind: str, tmp_path: Path
) -> None:
    # Tomorrow: the evening-before reminder falls due after everything here was made.
    async with bot_at(database_kind, tmp_path, today_at(10) + timedelta(days=1)) as (
        harness,
        clock,
    ):
        first = today_at(8) + timedelta(days=2)
        class_id = await a_class(harness, "CDS.07", first, capacity=1, name="Dữ liệu & <AI>")
        await people_of(harness, class_id, LEARNERS[:1], [WAITING])
        lecturer = await add_person(harness.db, "Hà Thị Giảng", telegram_id=LECTURER,
                                    unit_id=harness.province.root_id)  # fmt: skip
        async with harness.db.write() as conn:
            await conn.execute(class_lecturers.insert().values(class_id=class_id,
                                                               person_id=lecturer))  # fmt: skip
            session_id = (await ClassRepository(conn).sessions(class_id))[0].id
            await conn.execute(class_sessions.update().where(class_sessions.c.id == session_id)
                               .values(link=LINK, topic="Bảo mật <dữ liệu> & an toàn"))  # fmt: skip
        harness.user(LECTURER)

        clock.advance(today_at(19) + timedelta(days=1) - clock.now())
        await run_pass(harness)
        learner = harness.user(LEARNERS[0])
        reminded = await learner.expect("Nhắc lịch học ngày mai")
        assert "Dữ liệu & <AI> (CDS.07) · buổi 1" in reminded.body
        assert "📝 Bảo mật <dữ liệu> & an toàn" in reminded.body
        assert f"💻 Học trực tuyến: {LINK}" in reminded.body
        assert "Hội trường A" not in reminded.body  # switched online: no hall to go to
        teaching = await harness.user(LECTURER).expect("Nhắc lịch giảng ngày mai")
        assert LINK in teaching.body and "Tắt nhắc lịch" not in teaching.labels
        await harness.user(WAITING).no_message(within=0.3)
        await learner.tap("Lịch học của lớp", reminded.message_id)
        timetable = await learner.expect("Lịch học lớp")
        assert timetable.message_id != reminded.message_id and f"💻 {LINK}" in timetable.body
