"""The main journeys of a cadre, each written once and run on Telegram and on Zalo: sign-up,
enrolment, the timetable, a reminder, and check-in by a typed code (issue 14, "Tests")."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from storage.repositories.classes import ClassRepository
from storage.schema import attendance, enrolments, people
from tests.factories import add_class, add_person, add_role, count
from tests.journeys.conftest import Cadre, World, declare_the_rest

#: The code as the projector shows it: "Mã điểm danh: 123 456".
CODE = re.compile(r"Mã điểm danh: (\d{3}) (\d{3})")
LECTURER = 3950


async def enrol(world: World, cadre: Cadre, class_id: int) -> None:
    """Enrolled through the service: the journey under test comes after."""
    actor = await world.actor(cadre.account_id)
    await world.services.enrolment.enrol(actor, class_id, clashes_seen=True)


async def test_a_newcomer_signs_up_by_declaring_a_profile(world: World) -> None:
    cadre = await world.cadre(1)
    await cadre.send("/start")
    await cadre.expect("dữ liệu cá nhân")
    await cadre.choose("Tôi đồng ý")
    # Telegram asks to share the contact, Zalo to type the number: declaring is on both.
    await cadre.expect("Tự khai báo")
    await cadre.choose("Tự khai báo")
    await cadre.expect("họ và tên")
    await cadre.send("Giàng Thị Dợ")
    review = await declare_the_rest(cadre)
    assert "Giàng Thị Dợ" in review and "Sở Nội vụ" in review and "1990" in review
    await cadre.choose("Xác nhận")
    await cadre.expect("hồ sơ tự khai báo")

    async with world.harness.db.read() as conn:
        row = (
            await conn.execute(sa.select(people).where(people.c.telegram_id == cadre.account_id))
        ).one()
    assert row.full_name == "Giàng Thị Dợ" and row.unit_id == world.harness.province.department_id
    assert row.birth_year == 1990 and not row.verified and row.consent_at is not None


async def test_a_cadre_browses_the_classes_and_enrols(world: World) -> None:
    cadre = await world.registered(2)
    db = world.harness.db
    await add_class(db, "TH.01", name="Tin học văn phòng")
    class_id = await add_class(db, "CDS.01", name="Chuyển đổi số trong cơ quan nhà nước")

    await cadre.send("/classes")
    listed = await cadre.expect("Lớp học đồng chí có thể đăng ký")
    assert "Chuyển đổi số" in listed and "Tin học văn phòng" in listed
    await cadre.choose("Chuyển đổi số")
    card = await cadre.expect("Mã lớp: CDS.01")
    assert "Hội trường A" in card
    await cadre.choose("Đăng ký lớp này")
    await cadre.expect("xác nhận đăng ký lớp")
    await cadre.choose("Xác nhận đăng ký")
    assert "CDS.01" in await cadre.expect("Đồng chí đã đăng ký lớp")

    async with db.read() as conn:
        status = await conn.scalar(
            sa.select(enrolments.c.status)
            .join(people, people.c.id == enrolments.c.person_id)
            .where(enrolments.c.class_id == class_id, people.c.telegram_id == cadre.account_id)
        )
    assert status == "enrolled"


async def test_my_timetable_shows_the_sessions_of_the_class_enrolled_in(world: World) -> None:
    cadre = await world.registered(3)
    starts = world.clock.now() + timedelta(days=2)
    class_id = await add_class(world.harness.db, "KN.01", name="Kỹ năng số", starts=starts)
    await add_class(world.harness.db, "KHAC.01", name="Lớp không đăng ký", starts=starts)

    await cadre.send("/schedule")
    assert "KN.01" not in await cadre.expect("Lịch học 7 ngày tới")
    await enrol(world, cadre, class_id)
    await cadre.send("/schedule")
    week = await cadre.expect("Lịch học 7 ngày tới")
    assert "Kỹ năng số" in week and "Hội trường A" in week
    assert "Lớp không đăng ký" not in week


async def test_a_session_reminder_reaches_the_cadre_on_their_channel(world: World) -> None:
    cadre = await world.registered(4)
    now = world.clock.now()
    class_id = await add_class(
        world.harness.db, "NL.01", name="Kỹ năng số", starts=now + timedelta(minutes=65), days=1,
        created=now - timedelta(days=3),
    )  # fmt: skip
    await enrol(world, cadre, class_id)
    # Zalo lets a bot write first only to someone who has written to it: they have.
    await cadre.send("/schedule")
    assert "Kỹ năng số" in await cadre.expect("Lịch học 7 ngày tới")
    world.clock.advance(timedelta(minutes=10))  # the hour before the session has come
    await world.services.reminders.run_pass()
    reminder = await cadre.expect("Nhắc lịch học hôm nay", timeout=10)
    assert "Kỹ năng số" in reminder and "Tắt nhắc lịch lớp này" in reminder


async def test_a_cadre_checks_in_by_typing_the_code_the_lecturer_shows(world: World) -> None:
    db = world.harness.db
    cadre = await world.registered(5)
    teacher = await add_person(db, "Vũ Văn Giảng", unit_id=world.harness.province.root_id,
                               telegram_id=LECTURER)  # fmt: skip
    await add_role(db, teacher, "lecturer")
    class_id = await add_class(db, "A01", name="Kỹ năng số", days=1, lecturer_ids=(teacher,),
                               starts=world.clock.now() + timedelta(minutes=10))  # fmt: skip
    await enrol(world, cadre, class_id)

    # The lecturer, on Telegram, opens check-in and shows the code on the projector.
    lecturer = world.harness.user(LECTURER)
    await lecturer.send("/attendance")
    await lecturer.tap("A01")
    await lecturer.tap("Mở điểm danh (mã QR)")
    projector = await lecturer.expect("Mã điểm danh")
    shown = CODE.search(projector.body)
    assert shown, projector.body

    await cadre.send(f"{shown.group(1)} {shown.group(2)}")
    assert "có mặt" in await cadre.expect("Đã điểm danh")
    async with db.read() as conn:
        session_id = (await ClassRepository(conn).sessions(class_id))[0].id
        marked = await conn.scalar(sa.select(attendance.c.mark).where(
            attendance.c.session_id == session_id
        ))  # fmt: skip
    assert marked is not None and await count(db, attendance) == 1
