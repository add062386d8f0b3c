"""An excused-absence request through the real app: a learner asks leave from the timetable
with a reason (bad reasons and a forged session refused), both lecturers of the class receive
it, one approves; the other's message is edited to say who decided and loses its buttons, the
learner is told, the mark is excused, and a late tap (or an outsider's) changes nothing."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bot.actions import DecideLeave, DialogueChoice, unpack
from bot.attendance import Mark, MarkSource
from bot.i18n import Texts
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.schema import leave_requests, outbox
from tests.e2e.conftest import Harness, forged_tap, no_dialogue_left, tap_answer
from tests.factories import add_class, add_person, add_role
from tools.emulator.users import BotMessage

LEARNER, LECTURER, CO_LECTURER, OUTSIDER = 5301, 5302, 5303, 5304
REASON = "Đi công tác huyện Mường Tè theo quyết định của UBND xã"


async def _all_sent(harness: Harness, prefix: str, total: int) -> None:
    """Waits for the sender to record every copy as sent (its Telegram message id kept)."""
    for _ in range(250):
        async with harness.db.read() as conn:
            sent = await conn.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.dedup_key.startswith(prefix), outbox.c.state == "sent"
                )
            )
            if sent.scalar_one() == total:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the requests were not all sent")


def _choice(message: BotMessage, index: int) -> DialogueChoice:
    data = message.buttons[index][0].callback_data
    assert data is not None
    tapped = unpack(data)
    assert isinstance(tapped, DialogueChoice)
    return tapped


async def test_a_leave_request_round_trip_with_two_deciders(harness: Harness) -> None:
    db, unit = harness.db, harness.province.commune_id
    learner = await add_person(db, "Lò Thị Mai", unit_id=unit, telegram_id=LEARNER)
    lecturer = await add_person(db, "Giàng A Páo", unit_id=unit, telegram_id=LECTURER)
    co_lecturer = await add_person(db, "Vừ Thị Dua", unit_id=unit, telegram_id=CO_LECTURER)
    await add_person(db, "Cầm Văn Khải", unit_id=unit, telegram_id=OUTSIDER)
    for person in (lecturer, co_lecturer):
        await add_role(db, person, "lecturer")
    class_id = await add_class(db, "NGHI1", days=10, lecturer_ids=(lecturer, co_lecturer))
    other_id = await add_class(db, "KHAC1", days=1)
    services = harness.app.bot_data.services
    await services.enrolment.enrol(await services.access.actor(LEARNER), class_id,
                                   clashes_seen=True)  # fmt: skip
    async with db.read() as conn:
        sessions = await ClassRepository(conn).sessions(class_id)
        other = (await ClassRepository(conn).sessions(other_id))[0]
    mai, pao, dua = harness.user(LEARNER), harness.user(LECTURER), harness.user(CO_LECTURER)

    # From the timetable: the sessions to choose from, as buttons.
    await mai.send("/schedule")
    await mai.expect("Lịch học 7 ngày tới")
    await mai.tap("Tất cả")
    timetable = await mai.expect("Tất cả buổi học sắp tới")
    assert "📝 Xin nghỉ" in timetable.labels
    await mai.tap("📝 Xin nghỉ")
    pick = await mai.expect("chọn buổi học muốn xin nghỉ")
    vi = Texts("vi")
    assert pick.labels[:8] == [
        vi("leave.option", at=s.starts_at, code="NGHI1") for s in sessions[:8]
    ]
    # A session of another class, by a forged button: refused, the question stays.
    forged = _choice(pick, 0)
    forged_data = DialogueChoice(forged.dialogue, forged.token, str(other.id)).pack()
    assert await forged_tap(mai, forged_data) == (
        "Đồng chí không học lớp của buổi này, nên không thể xin nghỉ."
    )
    await mai.tap(pick.labels[0], pick.message_id)
    await mai.expect("nhập lý do xin nghỉ")
    # A huge reason, an empty one, one of odd characters: each refused, asked again.
    await mai.send("x" * 4000)
    assert "đã nhập 4000 ký tự" in (await mai.expect("Lý do cần từ 3 đến 300 ký tự")).body
    await mai.send("   ")
    await mai.expect("Lý do cần từ 3 đến 300 ký tự")
    await mai.send("Ốm\u202e nặng")
    await mai.expect("Lý do cần viết thành lời")
    await mai.send(REASON)
    summary = await mai.expect("kiểm tra lại đơn xin nghỉ")
    assert REASON in summary.body and "NGHI1" in summary.body
    await mai.tap("📨 Gửi đơn")
    sent = await mai.expect("Đã gửi đơn xin nghỉ")
    assert "Giàng A Páo, Vừ Thị Dua" in sent.body
    await no_dialogue_left(db)

    # Both lecturers receive it, with the learner, the class, the session and the reason.
    asked = await pao.expect("Đơn xin nghỉ học")
    copy = await dua.expect("Đơn xin nghỉ học")
    for message in (asked, copy):
        assert "Lò Thị Mai (Xã Đồng Văn)" in message.body and REASON in message.body
        assert "nếu nghỉ buổi này, học viên còn được vắng 1 buổi nữa" in message.body  # 8 of 10
        assert message.labels == ["✅ Đồng ý", "❌ Không đồng ý"]
    # A lecturer who lost the message finds it among the requests waiting, from /attendance.
    await dua.send("/attendance")
    listing = await dua.expect("điểm danh")
    await dua.tap("📝 Đơn xin nghỉ chờ duyệt (1)", listing.message_id)
    waiting = await dua.expect("Đơn xin nghỉ chờ duyệt")
    assert REASON in waiting.body and waiting.labels == ["✅ 1. Lò Thị Mai", "❌ 1"]
    async with db.read() as conn:
        request_id = (await conn.execute(sa.select(leave_requests.c.id))).scalar_one()
    await _all_sent(harness, f"leave_request:{request_id}:", 2)

    # One approves: their own message shows it; the other's is edited, its buttons gone.
    assert await tap_answer(pao, "✅ Đồng ý") == "Đã ghi nhận quyết định."
    decided = await pao.expect("Giàng A Páo đã quyết định: đồng ý")
    assert decided.edited and decided.message_id == asked.message_id and decided.buttons == []
    closed = await dua.expect("Giàng A Páo đã quyết định: đồng ý")
    assert closed.edited and closed.message_id == copy.message_id and closed.buttons == []
    told = await mai.expect("đã được đồng chí Giàng A Páo đồng ý")
    assert "vắng có phép" in told.body
    async with db.read() as conn:
        mark = await AttendanceRepository(conn).mark_of(sessions[0].id, learner)
    assert mark is not None and mark.mark is Mark.EXCUSED and mark.source is MarkSource.LEAVE

    # A late tap of the other lecturer, and an outsider's forged one: nothing changes.
    late = await forged_tap(dua, DecideLeave(request_id, False).pack())
    assert late.startswith("Đơn này đã được đồng chí Giàng A Páo quyết định trước: đồng ý.")
    khai = harness.user(OUTSIDER)
    await khai.send("/help")
    await khai.next_message()
    assert "chỉ dành cho" in await forged_tap(khai, DecideLeave(request_id, False).pack())
    async with db.read() as conn:
        status = (await conn.execute(sa.select(leave_requests.c.status))).scalar_one()
        mark = await AttendanceRepository(conn).mark_of(sessions[0].id, learner)
    assert status == "approved" and mark is not None and mark.mark is Mark.EXCUSED
    await dua.no_message()

    # The session asked for is no longer offered; the nine others are, eight to a page.
    await mai.send("/leave")
    again = await mai.expect("trang 1/2")
    assert "Đơn đã gửi" in again.body and "NGHI1: được đồng ý" in again.body
    assert again.labels[:-3] == [
        vi("leave.option", at=s.starts_at, code="NGHI1") for s in sessions[1:9]
    ]
    assert again.labels[-3:] == ["Trang sau ▶", "⬅️ Quay lại", "✖️ Hủy"]
    await mai.tap("Trang sau ▶")
    last = await mai.expect("trang 2/2")
    assert last.edited and last.labels == [
        vi("leave.option", at=sessions[9].starts_at, code="NGHI1"),
        "◀ Trang trước", "⬅️ Quay lại", "✖️ Hủy",
    ]  # fmt: skip
    await mai.tap("✖️ Hủy")
    await mai.expect("chưa gửi đơn xin nghỉ nào")
    await no_dialogue_left(db)
