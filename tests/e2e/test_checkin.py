"""Self check-in through the emulator: the lecturer opens it and gets the projector photo, which
turns every minute; learners type the code, scan the link, or tap an online session's button;
every refusal is answered and records nothing."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app.checkin_runtime import wake_checkin
from bot.clock import FrozenClock
from bot.training import ClassFormat
from storage.repositories.classes import ClassRepository
from storage.schema import attendance
from tests.e2e.conftest import Harness, running_bot, tap_answer
from tests.factories import add_class, add_person, add_role, count
from tools.emulator.users import BotMessage, ScriptedUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LECTURER, OTHER_LECTURER = 500, 501
EARLY, SLOW, OTHER_HALL, OUTSIDER, SCANNER, LATECOMER = 701, 702, 703, 704, 705, 706
PNG = b"\x89PNG\r\n\x1a\n"
CODE = re.compile(r"Mã điểm danh: (\d{3}) (\d{3})")


def _clock() -> FrozenClock:
    """Ten past ten, local, today: out of the quiet hours, on a minute's tenth second."""
    return FrozenClock(datetime.combine(datetime.now(TZ).date(), time(10, 0, 10), TZ))


async def _person(h: Harness, telegram_id: int) -> int:
    return await add_person(h.db, f"Cán bộ {telegram_id}", unit_id=h.province.commune_id,
                            telegram_id=telegram_id)  # fmt: skip


async def _enrol(h: Harness, telegram_id: int, class_id: int) -> None:
    services = h.app.bot_data.services
    actor = await services.access.actor(telegram_id)
    await services.enrolment.enrol(actor, class_id, clashes_seen=True)


async def _first_session(h: Harness, class_id: int) -> int:
    async with h.db.read() as conn:
        return (await ClassRepository(conn).sessions(class_id))[0].id


def _code(projector: BotMessage) -> str:
    found = CODE.search(projector.body)
    assert found, projector.body
    return found.group(1) + found.group(2)


async def _turn(h: Harness, clock: FrozenClock, lecturer: ScriptedUser, shown: BotMessage,
                minutes: int = 1) -> BotMessage:  # fmt: skip
    """The minute turns: the projector photo is edited in place to the new code."""
    clock.advance(timedelta(minutes=minutes))
    wake_checkin(h.app)
    turned = await lecturer.expect("Mã điểm danh")
    assert turned.edited and turned.message_id == shown.message_id
    assert turned.photo is not None and turned.photo.startswith(PNG)
    assert _code(turned) != _code(shown)
    return turned


async def test_a_hall_checks_in_by_code_and_link_and_each_refusal_is_answered(
    database_kind: str, tmp_path: Path
) -> None:
    clock = _clock()
    async with running_bot(database_kind, tmp_path, clock=clock) as h:
        people = {t: await _person(h, t) for t in
                  (LECTURER, OTHER_LECTURER, EARLY, SLOW, OTHER_HALL, OUTSIDER, SCANNER,
                   LATECOMER)}  # fmt: skip
        await add_role(h.db, people[LECTURER], "lecturer")
        await add_role(h.db, people[OTHER_LECTURER], "lecturer")
        starts = clock.now() + timedelta(minutes=10)
        hall_a = await add_class(h.db, "A01", name="Kỹ năng số", starts=starts, days=1,
                                 lecturer_ids=(people[LECTURER],))  # fmt: skip
        hall_b = await add_class(h.db, "B01", starts=starts, days=1, location="Hội trường B",
                                 lecturer_ids=(people[OTHER_LECTURER],))  # fmt: skip
        for learner in (EARLY, SLOW, SCANNER, LATECOMER):
            await _enrol(h, learner, hall_a)
        await _enrol(h, OTHER_HALL, hall_b)
        session_a = await _first_session(h, hall_a)
        services = h.app.bot_data.services
        await services.checkin.open(await services.access.actor(OTHER_LECTURER),
                                    await _first_session(h, hall_b))  # fmt: skip

        # The lecturer's list, the session's card, and the projector photo.
        lecturer = h.user(LECTURER)
        await lecturer.send("/attendance")
        await lecturer.tap("A01")
        card = await lecturer.expect("Điểm danh buổi học")
        assert "Kỹ năng số" in card.body and "0/4 học viên" in card.body
        assert "📋 Điểm danh theo danh sách" in card.labels
        await lecturer.tap("Mở điểm danh (mã QR)")
        projector = await lecturer.expect("Mã điểm danh")
        assert projector.photo is not None and projector.photo.startswith(PNG)
        assert "/checkin" in projector.body and "đổi mỗi phút" in projector.body
        first = _code(projector)

        early = h.user(EARLY)
        await early.send(f"{first[:3]} {first[3:]}")
        assert "có mặt" in (await early.expect("Đã điểm danh")).body

        # The minute turns: the previous minute's code still counts.
        projector = await _turn(h, clock, lecturer, projector)
        slow = h.user(SLOW)
        await slow.send(f"/checkin {first}")
        assert "có mặt" in (await slow.expect("Đã điểm danh")).body

        # Refusals, each with its reason; nothing is recorded.
        await slow.send("/checkin")
        await slow.expect("mã điểm danh")
        await slow.send(_code(projector))
        await slow.expect("Đồng chí đã điểm danh buổi này lúc")
        outsider = h.user(OUTSIDER)
        await outsider.send(_code(projector))
        await outsider.expect("không có tên trong danh sách lớp Kỹ năng số")
        other_hall = h.user(OTHER_HALL)
        await other_hall.send(_code(projector))
        await other_hall.expect("không phải lớp của đồng chí")
        wrong = f"{(int(_code(projector)) + 1) % 1_000_000:06d}"
        latecomer = h.user(LATECOMER)
        await latecomer.send("/checkin")
        await latecomer.expect("mã điểm danh")
        await latecomer.send(wrong)
        await latecomer.expect("không đúng")
        projector = await _turn(h, clock, lecturer, projector, minutes=3)
        await latecomer.send(first)  # four minutes old
        await latecomer.expect("đã hết hạn")
        assert await count(h.db, attendance) == 2

        # The QR code's deep link; the session began twenty-four minutes ago: late.
        projector = await _turn(h, clock, lecturer, projector, minutes=25)
        stale = _code(projector)
        projector = await _turn(h, clock, lecturer, projector, minutes=5)
        scanner = h.user(SCANNER)
        await scanner.send(f"/start ci-{session_a}_{_code(projector)}")
        assert "đi muộn" in (await scanner.expect("Đã điểm danh")).body
        await scanner.send(f"/start ci-{session_a}_{stale}")
        await scanner.expect("hết hạn")

        # The lecturer stops check-in: the projector says so, and a code is refused.
        await lecturer.send("/attendance")
        await lecturer.tap("A01")
        card = await lecturer.expect("Điểm danh buổi học")
        assert "3/4 học viên: có mặt 2, đi muộn 1" in card.body
        await lecturer.tap("Dừng điểm danh")
        ended = await lecturer.expect("Mã điểm danh đã hết hiệu lực")
        assert ended.edited and ended.message_id == projector.message_id
        await latecomer.send(_code(projector))
        await latecomer.expect("đã dừng điểm danh")
        assert await count(h.db, attendance) == 3


async def test_an_online_sessions_reminder_checks_in_and_a_newcomer_is_told_to_register(
    database_kind: str, tmp_path: Path
) -> None:
    clock = _clock()
    async with running_bot(database_kind, tmp_path, clock=clock) as h:
        learner_id = await _person(h, EARLY)
        lecturer_id = await _person(h, LECTURER)
        await add_role(h.db, lecturer_id, "lecturer")
        online = await add_class(
            h.db, "TT01", starts=clock.now() + timedelta(minutes=65), days=1,
            fmt=ClassFormat.ONLINE, location=None, link="https://meet.example.vn/tt01",
            lecturer_ids=(lecturer_id,), created=clock.now() - timedelta(days=3),
        )  # fmt: skip
        await _enrol(h, EARLY, online)
        assert learner_id
        clock.advance(timedelta(minutes=10))
        await h.app.bot_data.services.reminders.run_pass()
        learner = h.user(EARLY)
        reminder = await learner.expect("Nhắc lịch học")
        assert "✅ Điểm danh" in reminder.labels
        lecturer_reminder = await h.user(LECTURER).expect("Nhắc lịch")
        assert "✅ Điểm danh" not in lecturer_reminder.labels

        refused = await tap_answer(learner, "Điểm danh", reminder.message_id)
        assert "Chưa đến giờ điểm danh" in refused
        clock.advance(timedelta(minutes=30))  # 25 minutes before the start
        await learner.tap("Điểm danh", reminder.message_id)
        assert "có mặt" in (await learner.expect("Đã điểm danh")).body
        refused = await tap_answer(learner, "Điểm danh", reminder.message_id)
        assert "đã điểm danh buổi này" in refused
        assert await count(h.db, attendance) == 1

        # Someone not registered scans a projector's QR code: told to register first.
        newcomer = h.user(4242)
        await newcomer.send(f"/start ci-{await _first_session(h, online)}_123456")
        await newcomer.expect("cần đăng ký tài khoản trước")
        await newcomer.expect("dữ liệu cá nhân")
