"""Approval of enrolments through the real app: a cadre enrols in a class that needs the unit
head's approval and is told until when the seat is held; both heads of the unit are asked,
one approves and the other's request is edited to say who decided and when; a rejection asks
a reason and the learner is told it; nobody deciding in time gives the seat to the waitlist;
a forged tap by someone who is not a decider, or on an unknown enrolment, changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.actions import ApproveEnrolment, RejectEnrolment, SetApprovalRequired
from bot.app.approval_runtime import wake_approvals
from bot.clock import FrozenClock
from storage.database import Database
from storage.schema import audit_log, classes, enrolments, outbox
from tests.e2e.conftest import (
    SUPERADMIN_ID,
    Harness,
    forged_tap,
    no_dialogue_left,
    running_bot,
    tap_answer,
)
from tests.factories import add_class, add_person, add_role

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: 09:00 on a day of next year, in Vietnam.
NOW = datetime(date.today().year + 1, 3, 9, 9, 0, tzinfo=TZ)
LEARNER, HEAD, CO_HEAD, OUTSIDER, WAITING = 6101, 6102, 6103, 6104, 6105
REASON = "Đơn vị đang thiếu người trực, đề nghị đăng ký khóa sau"


@pytest.fixture
async def h(database_kind: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(database_kind, tmp_path, clock=FrozenClock(NOW)) as running:
        yield running


async def people(h: Harness) -> dict[str, int]:
    """A learner of the commune, its two heads, a cadre of another unit."""
    commune = h.province.commune_id
    found = {
        "learner": await add_person(h.db, "Lò Thị Mai", unit_id=commune, telegram_id=LEARNER),
        "head": await add_person(h.db, "Giàng A Páo", unit_id=commune, telegram_id=HEAD),
        "co_head": await add_person(h.db, "Vừ Thị Dua", unit_id=commune, telegram_id=CO_HEAD),
        "outsider": await add_person(
            h.db, "Cầm Văn Khải", unit_id=h.province.department_id, telegram_id=OUTSIDER
        ),
    }
    for head in ("head", "co_head"):
        await add_role(h.db, found[head], "unit_head", commune)
    return found


async def approval_class(h: Harness, capacity: int = 30) -> int:
    return await add_class(
        h.db, "DUYET1", name="Bồi dưỡng chuyển đổi số", capacity=capacity,
        starts=NOW + timedelta(days=10), requires_approval=True,
    )  # fmt: skip


async def status_of(h: Harness, class_id: int, person_id: int) -> str:
    async with h.db.read() as conn:
        found = await conn.execute(
            sa.select(enrolments.c.status).where(
                enrolments.c.class_id == class_id, enrolments.c.person_id == person_id
            )
        )
        return str(found.scalar_one())


async def enrolment_id(h: Harness, class_id: int, person_id: int) -> int:
    async with h.db.read() as conn:
        found = await conn.execute(
            sa.select(enrolments.c.id).where(
                enrolments.c.class_id == class_id, enrolments.c.person_id == person_id
            )
        )
        return int(found.scalar_one())


async def all_sent(db: Database, prefix: str, total: int) -> None:
    """Waits for the sender to record every request as sent (its message id kept)."""
    for _ in range(250):
        async with db.read() as conn:
            sent = await conn.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.dedup_key.startswith(prefix), outbox.c.state == "sent"
                )
            )
            if sent.scalar_one() == total:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the requests were not all sent")


async def enrol_by_service(h: Harness, telegram_id: int, class_id: int) -> None:
    services = h.app.bot_data.services
    await services.enrolment.enrol(await services.access.actor(telegram_id), class_id,
                                   clashes_seen=True)  # fmt: skip


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_one_of_two_heads_approves_and_the_others_request_is_updated(
    h: Harness,
) -> None:
    found = await people(h)
    class_id = await approval_class(h)
    mai, pao, dua = h.user(LEARNER), h.user(HEAD), h.user(CO_HEAD)

    # The card says so; enrolling takes the seat and says until when it is held.
    await mai.send("/classes")
    await mai.tap("1. Bồi dưỡng chuyển đổi số")
    card = await mai.expect("Mã lớp: DUYET1")
    assert "Lớp cần thủ trưởng đơn vị duyệt" in card.body
    await mai.tap("✅ Đăng ký lớp này")
    confirm = await mai.expect("xác nhận đăng ký lớp")
    assert "cần thủ trưởng đơn vị duyệt" in confirm.body
    await mai.tap("✅ Xác nhận đăng ký")
    done = await mai.expect("thủ trưởng đơn vị duyệt")
    assert "đến 09:00 12/03" in done.body
    assert await status_of(h, class_id, found["learner"]) == "pending"
    async with h.db.read() as conn:
        held = await conn.scalar(sa.select(classes.c.enrolled_count))
    assert held == 1

    # Both heads of the commune are asked, with the learner, the class and the time limit.
    asked = await pao.expect("Đề nghị duyệt đăng ký học")
    copy = await dua.expect("Đề nghị duyệt đăng ký học")
    for message in (asked, copy):
        assert "Lò Thị Mai (Xã Đồng Văn)" in message.body
        assert "Cán bộ nữ" in message.body and "DUYET1" in message.body
        assert "Chỗ được giữ đến 09:00 12/03" in message.body
        assert message.labels == ["✅ Duyệt", "❌ Không duyệt"]
    the_id = await enrolment_id(h, class_id, found["learner"])
    await all_sent(h.db, f"approval_request:{the_id}:", 2)

    # One approves: both requests are edited to say who decided and when, buttons gone.
    assert (
        await tap_answer(pao, "✅ Duyệt", asked.message_id) == "Đã duyệt. Học viên sẽ được báo tin."
    )
    decided = await pao.expect("Đã được đồng chí Giàng A Páo duyệt lúc 09:00 09/03")
    assert decided.edited and decided.message_id == asked.message_id and decided.buttons == []
    assert "Lò Thị Mai (Xã Đồng Văn)" in decided.body  # who and which class stay; the ask goes
    assert "Chỗ được giữ đến" not in decided.body and "vui lòng xem xét" not in decided.body
    closed = await dua.expect("Đã được đồng chí Giàng A Páo duyệt lúc 09:00 09/03")
    assert closed.edited and closed.message_id == copy.message_id and closed.buttons == []
    told = await mai.expect("đã được đồng chí Giàng A Páo duyệt")
    assert told.labels == ["📘 Xem lớp"]
    assert await status_of(h, class_id, found["learner"]) == "enrolled"

    # The other head's late tap changes nothing and says who decided.
    late = await forged_tap(dua, ApproveEnrolment(the_id).pack())
    assert late == "Đăng ký này đã được đồng chí Giàng A Páo duyệt trước. Không có gì thay đổi."
    await dua.send("/approvals")
    await dua.expect("Không có đăng ký học nào chờ đồng chí duyệt.")


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_a_rejection_with_a_reason_is_told_to_the_learner(h: Harness) -> None:
    found = await people(h)
    class_id = await approval_class(h)
    mai, pao, dua = h.user(LEARNER), h.user(HEAD), h.user(CO_HEAD)
    await enrol_by_service(h, LEARNER, class_id)
    asked = await pao.expect("Đề nghị duyệt đăng ký học")
    await dua.expect("Đề nghị duyệt đăng ký học")
    the_id = await enrolment_id(h, class_id, found["learner"])
    await all_sent(h.db, f"approval_request:{the_id}:", 2)

    # From the list: the reason is asked; bad reasons are refused and asked again.
    await pao.send("/approvals")
    listing = await pao.expect("Đăng ký học chờ đồng chí duyệt")
    assert "Lò Thị Mai (Xã Đồng Văn), lớp Bồi dưỡng chuyển đổi số (DUYET1)" in listing.body
    assert listing.labels == ["✅ Duyệt 1", "❌ Không duyệt 1"]
    await pao.tap("❌ Không duyệt 1", listing.message_id)
    await pao.expect("nhập lý do ngắn gọn")
    await pao.send("x" * 5000)
    too_long = await pao.expect("Lý do cần từ 3 đến 300 ký tự")
    assert "Bỏ qua" in too_long.labels  # skipping stays possible
    await pao.send("\u202e\u202e")
    assert "Bỏ qua" in (await pao.expect("Lý do cần")).labels
    assert await status_of(h, class_id, found["learner"]) == "pending"
    await pao.send(REASON)
    rejected = await pao.expect("Đã ghi nhận: không duyệt đăng ký của đồng chí Lò Thị Mai")
    assert "Không có đăng ký học nào chờ đồng chí duyệt." in rejected.body  # the list again
    await no_dialogue_left(h.db)

    told = await mai.expect("không được đồng chí Giàng A Páo duyệt")
    assert f"Lý do: {REASON}. Chỗ trong lớp đã được trả lại." in told.body
    closed = await pao.expect("Đồng chí Giàng A Páo không duyệt lúc 09:00 09/03")
    assert closed.message_id == asked.message_id and REASON in closed.body
    await dua.expect("Đồng chí Giàng A Páo không duyệt")
    assert await status_of(h, class_id, found["learner"]) == "rejected"
    async with h.db.read() as conn:
        row = (await conn.execute(sa.select(enrolments.c.reason, classes.c.enrolled_count)
                                  .select_from(enrolments.join(classes)))).one()  # fmt: skip
    assert row.reason == REASON and row.enrolled_count == 0

    # The learner may enrol again: a new round of requests, "Bỏ qua" gives no reason.
    await enrol_by_service(h, LEARNER, class_id)
    again = await dua.expect("Đề nghị duyệt đăng ký học")
    await dua.tap("❌ Không duyệt", again.message_id)
    await dua.expect("nhập lý do ngắn gọn")
    await dua.tap("Bỏ qua")
    await dua.expect("Đã ghi nhận: không duyệt")
    told = await mai.expect("không được đồng chí Vừ Thị Dua duyệt")
    assert "Lý do" not in told.body


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_nobody_deciding_in_time_gives_the_seat_to_the_waitlist(h: Harness) -> None:
    found = await people(h)
    waiting = await add_person(h.db, "Hà Văn Chờ", unit_id=h.province.commune_id,
                               telegram_id=WAITING)  # fmt: skip
    class_id = await approval_class(h, capacity=1)
    pao, dua, mai, cho = h.user(HEAD), h.user(CO_HEAD), h.user(LEARNER), h.user(WAITING)
    await enrol_by_service(h, LEARNER, class_id)
    await enrol_by_service(h, WAITING, class_id)
    assert await status_of(h, class_id, waiting) == "waitlisted"
    asked = await pao.expect("Lò Thị Mai")
    await dua.expect("Lò Thị Mai")
    the_id = await enrolment_id(h, class_id, found["learner"])
    await all_sent(h.db, f"approval_request:{the_id}:", 2)

    assert isinstance(h.clock, FrozenClock)
    h.clock.advance(timedelta(days=3))
    wake_approvals(h.app)
    expired = await pao.expect("Hết hạn, chỗ đã trả lại")
    assert expired.edited and expired.message_id == asked.message_id and expired.buttons == []
    await mai.expect("chưa được thủ trưởng duyệt trong thời hạn")
    promoted = await cho.expect("Đã có chỗ cho đồng chí")
    assert "đến 09:00 15/03" in promoted.body  # held three days from now, awaiting approval
    assert await status_of(h, class_id, found["learner"]) == "expired"
    assert await status_of(h, class_id, waiting) == "pending"
    request = await pao.expect("Hà Văn Chờ")
    assert request.labels == ["✅ Duyệt", "❌ Không duyệt"]
    # Another pass (or a restart) changes nothing more.
    wake_approvals(h.app)
    await mai.no_message()
    async with h.db.read() as conn:
        assert await conn.scalar(sa.select(classes.c.enrolled_count)) == 1


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_forged_taps_by_outsiders_or_on_unknown_enrolments_change_nothing(
    h: Harness,
) -> None:
    found = await people(h)
    class_id = await approval_class(h)
    khai, mai, pao = h.user(OUTSIDER), h.user(LEARNER), h.user(HEAD)
    await enrol_by_service(h, LEARNER, class_id)
    the_id = await enrolment_id(h, class_id, found["learner"])
    await khai.send("/help")
    await khai.next_message()
    for data in (ApproveEnrolment(the_id).pack(), RejectEnrolment(the_id).pack()):
        assert "chỉ dành cho" in await forged_tap(khai, data)
    # The learner may not approve their own enrolment either.
    await mai.send("/help")
    await mai.next_message()
    assert "chỉ dành cho" in await forged_tap(mai, ApproveEnrolment(the_id).pack())
    assert "chỉ dành cho" in await forged_tap(mai, "ap.list")
    await pao.expect("Đề nghị duyệt đăng ký học")
    unknown = await forged_tap(pao, ApproveEnrolment(987_654).pack())
    assert unknown == "Không tìm thấy đăng ký học này."
    assert await status_of(h, class_id, found["learner"]) == "pending"
    async with h.db.read() as conn:
        assert await conn.scalar(sa.select(classes.c.enrolled_count)) == 1


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_an_administrator_turns_approval_on_and_a_withdrawal_updates_the_requests(
    h: Harness,
) -> None:
    found = await people(h)
    await add_person(h.db, "Đinh Văn Quản", unit_id=h.province.root_id, telegram_id=SUPERADMIN_ID)
    class_id = await add_class(h.db, "BAT1", starts=NOW + timedelta(days=10))
    admin, mai, pao, dua = h.user(SUPERADMIN_ID), h.user(LEARNER), h.user(HEAD), h.user(CO_HEAD)
    # A learner's forged tap on the switch is refused and changes nothing.
    await mai.send("/help")
    await mai.next_message()
    assert "chỉ dành cho" in await forged_tap(mai, SetApprovalRequired(class_id, True).pack())

    await admin.send("/classadmin BAT1")
    off = await admin.expect("Đăng ký vào lớp không cần thủ trưởng duyệt")  # the state
    assert "🔏 Yêu cầu thủ trưởng duyệt" in off.labels  # the action
    answer = await tap_answer(admin, "🔏 Yêu cầu thủ trưởng duyệt")
    assert answer == "Từ nay, đăng ký vào lớp cần thủ trưởng đơn vị duyệt."
    card = await admin.expect("Lớp cần thủ trưởng đơn vị duyệt")
    assert "🔓 Bỏ yêu cầu thủ trưởng duyệt" in card.labels
    async with h.db.read() as conn:
        required = await conn.scalar(
            sa.select(classes.c.requires_approval).where(classes.c.id == class_id)
        )
        audited = await conn.scalar(
            sa.select(sa.func.count()).where(audit_log.c.action == "approval_required")
        )
    assert required is True and audited == 1
    # A second tap on the old card's button changes nothing more.
    again = await forged_tap(admin, SetApprovalRequired(class_id, True).pack())
    assert again == "Từ nay, đăng ký vào lớp cần thủ trưởng đơn vị duyệt."

    # The learner enrols, then withdraws from the card: the heads' requests say so.
    await enrol_by_service(h, LEARNER, class_id)
    asked = await pao.expect("Đề nghị duyệt đăng ký học")
    await dua.expect("Đề nghị duyệt đăng ký học")
    the_id = await enrolment_id(h, class_id, found["learner"])
    await all_sent(h.db, f"approval_request:{the_id}:", 2)
    await mai.send("/schedule")
    await mai.expect("Lịch học 7 ngày tới")
    await mai.tap("Tất cả")
    timetable = await mai.expect("Tất cả buổi học sắp tới")
    assert "BAT1) ⏳ Chờ thủ trưởng duyệt (đến 09:00 12/03)" in timetable.body
    await mai.send("/classes")
    await mai.tap("1. Lớp bồi dưỡng BAT1")
    card = await mai.expect("Chờ thủ trưởng duyệt (đến 09:00 12/03)")
    await mai.tap("Rút tên khỏi lớp", card.message_id)
    await mai.tap("Có, rút tên")
    await mai.expect("Đã rút tên đồng chí khỏi lớp")
    withdrawn = await pao.expect("Học viên đã rút đăng ký, chỗ đã trả lại.")
    assert withdrawn.message_id == asked.message_id and withdrawn.buttons == []
    assert await status_of(h, class_id, found["learner"]) == "withdrawn"


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_seats_raised_and_approval_switched_off_say_what_awaits_and_approve_it(
    h: Harness,
) -> None:
    found = await people(h)
    waiting = await add_person(h.db, "Hà Văn Chờ", unit_id=h.province.commune_id,
                               telegram_id=WAITING)  # fmt: skip
    await add_person(h.db, "Đinh Văn Quản", unit_id=h.province.root_id, telegram_id=SUPERADMIN_ID)
    class_id = await approval_class(h, capacity=1)
    admin, mai, cho = h.user(SUPERADMIN_ID), h.user(LEARNER), h.user(WAITING)
    pao, dua = h.user(HEAD), h.user(CO_HEAD)
    await enrol_by_service(h, LEARNER, class_id)
    await enrol_by_service(h, WAITING, class_id)
    await pao.expect("Lò Thị Mai")
    await dua.expect("Lò Thị Mai")

    # The card counts the seat held for approval among the enrolled.
    await admin.send("/classadmin DUYET1")
    card = await admin.expect("Đã đăng ký: 1 (trong đó 1 chờ duyệt) · Danh sách chờ: 1")
    # More seats: the one promoted is said to await approval, not to be in the class.
    await admin.tap("👥 Đổi sĩ số", card.message_id)
    await admin.expect("Sĩ số mới của lớp DUYET1")
    await admin.send("2")
    saved = await admin.expect("Sĩ số mới: 2")
    assert "Số người từ danh sách chờ được vào lớp: 1. Lớp cần thủ trưởng đơn vị duyệt: 1 " \
        "người trong số đó được giữ chỗ, đang chờ duyệt" in saved.body  # fmt: skip
    await cho.expect("Đã có chỗ cho đồng chí")
    await admin.expect("Đã đăng ký: 2 (trong đó 2 chờ duyệt) · Danh sách chờ: 0")
    await pao.expect("Hà Văn Chờ")
    for person in (found["learner"], waiting):
        the_id = await enrolment_id(h, class_id, person)
        await all_sent(h.db, f"approval_request:{the_id}:", 2)

    # Switched off: what waited is approved by the administrator, and everyone hears it.
    answer = await tap_answer(admin, "🔓 Bỏ yêu cầu thủ trưởng duyệt")
    assert answer == (
        "Từ nay, đăng ký vào lớp không cần thủ trưởng duyệt. 2 đăng ký đang chờ đã được duyệt; "
        "học viên được báo tin."
    )
    card = await admin.expect("Đăng ký vào lớp không cần thủ trưởng duyệt")
    assert "Đã đăng ký: 2 · Danh sách chờ: 0" in card.body
    await mai.expect("đã được đồng chí Đinh Văn Quản duyệt")
    await cho.expect("đã được đồng chí Đinh Văn Quản duyệt")
    for _ in range(2):
        closed = await pao.expect("Đã được đồng chí Đinh Văn Quản duyệt")
        assert closed.edited and closed.buttons == []
    assert await status_of(h, class_id, found["learner"]) == "enrolled"
    assert await status_of(h, class_id, waiting) == "enrolled"
    # A second tap on the old button changes nothing more.
    again = await forged_tap(admin, SetApprovalRequired(class_id, False).pack())
    assert again == "Từ nay, đăng ký vào lớp không cần thủ trưởng duyệt."
    async with h.db.read() as conn:
        actions = (await conn.execute(sa.select(audit_log.c.action))).scalars().all()
    assert actions.count("approval_dropped") == 1 and actions.count("enrolment_approved") == 2


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_a_seat_awaiting_approval_is_a_clash_the_learner_and_the_heads_are_told_of(
    h: Harness,
) -> None:
    await people(h)
    first = await add_class(h.db, "SANG1", name="Lớp sáng một", starts=NOW + timedelta(days=10),
                            requires_approval=True)  # fmt: skip
    await approval_class(h)  # the same mornings
    mai, pao = h.user(LEARNER), h.user(HEAD)
    await enrol_by_service(h, LEARNER, first)
    await pao.expect("Lớp sáng một")

    await mai.send("/classes")
    await mai.tap("Bồi dưỡng chuyển đổi số")
    await mai.tap("✅ Đăng ký lớp này")
    confirm = await mai.expect("xác nhận đăng ký lớp")
    assert "Lịch lớp này trùng với lớp đồng chí đã đăng ký" in confirm.body
    assert "lớp «Lớp sáng một»" in confirm.body
    await mai.tap("⚠️ Vẫn đăng ký dù trùng lịch")
    await mai.expect("thủ trưởng đơn vị duyệt")
    asked = await pao.expect("Bồi dưỡng chuyển đổi số (DUYET1)")
    assert "⚠️ Trùng giờ học với lớp khác mà học viên đang có chỗ (đã vào lớp hoặc đang chờ " \
        "duyệt): Lớp sáng một." in asked.body  # fmt: skip
