"""The training office in the chat: plans, programmes and classes made by dialogue, a class
managed from its card; refusals for everyone else, and bad input that changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from bot.actions import (
    ApprovePlan,
    CancelClass,
    ChangeCapacity,
    ClassRules,
    NewPlanDialogue,
    OpenEnrolment,
)
from bot.training import ALL_KINDS, EnrolmentStatus, Target
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.plans import PlanRepository
from storage.schema import class_audience, class_sessions, classes, enrolments, plans, programmes
from tests.e2e.conftest import (
    SUPERADMIN_ID,
    Harness,
    forged_tap,
    no_dialogue_left,
    tap_answer,
)
from tests.factories import add_class, add_person, add_role, count
from tools.emulator.users import ScriptedUser

YEAR = date.today().year + 1
#: Next year's plan is approved before the year begins: a day that has come.
APPROVED = date.today() - timedelta(days=3)


def first_monday_of_march(year: int) -> date:
    day = date(year, 3, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


async def office(harness: Harness) -> ScriptedUser:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    return harness.user(SUPERADMIN_ID)


async def make_plan(admin: ScriptedUser) -> None:
    await admin.send("/plan")
    await admin.tap("Tạo kế hoạch")
    await admin.expect("năm nào")
    await admin.send(str(YEAR))
    await admin.expect("Tên kế hoạch")
    await admin.send(f"Kế hoạch đào tạo, bồi dưỡng năm {YEAR}")
    await admin.expect("Chỉ tiêu (1/7)")
    await admin.send("24 / 2668")
    await admin.expect("Chỉ tiêu (2/7)")
    await admin.send("10 1000")
    for step in range(3, 8):
        await admin.expect(f"Chỉ tiêu ({step}/7)")
        await admin.tap("Bỏ qua loại lớp này")
    await admin.expect("đã được phê duyệt chưa")
    await admin.tap("Đã phê duyệt")
    await admin.send(APPROVED.strftime("%d/%m/%Y"))
    await admin.send("Ban Thường vụ Tỉnh ủy")
    summary = await admin.expect("kiểm tra lại kế hoạch")
    assert (
        "Tổng: 24 lớp / 2.668 học viên; Bồi dưỡng cập nhật kiến thức: 10 lớp / 1.000"
        in summary.text
    )
    await admin.tap("Phê duyệt")  # changed from the summary: the date, then the body again
    await admin.tap("Đã phê duyệt")
    await admin.send(APPROVED.strftime("%d/%m/%Y"))
    await admin.expect("Cơ quan phê duyệt")
    await admin.send("Ban Thường vụ Tỉnh ủy")
    await admin.expect("kiểm tra lại kế hoạch")
    await admin.tap("Lưu")
    await admin.expect(f"Đã lưu kế hoạch năm {YEAR}")
    listed = await admin.expect("Kế hoạch đào tạo, bồi dưỡng")
    assert f"Đã phê duyệt ngày {APPROVED:%d/%m/%Y} (Ban Thường vụ Tỉnh ủy)" in listed.text


async def make_programme(admin: ScriptedUser) -> None:
    await admin.send("/programmes")
    await admin.tap("Thêm chương trình")
    await admin.send("P.CV.OLD")  # taken: said at once, not after every answer
    await admin.expect("đã được dùng")
    await admin.send("bd.cvc")
    await admin.expect("Tên chương trình")
    await admin.send("Bồi dưỡng ngạch chuyên viên chính")
    await admin.tap("Bồi dưỡng theo ngạch")
    await admin.tap("3 năm")
    summary = await admin.expect("kiểm tra lại chương trình")
    assert "BD.CVC" in summary.text and "3 năm" in summary.text
    await admin.tap("Lưu")
    await admin.expect("Đã thêm chương trình BD.CVC")


async def test_an_administrator_makes_a_plan_a_programme_and_a_class_with_its_sessions(
    harness: Harness,
) -> None:
    admin = await office(harness)
    lecturer = await add_person(harness.db, "Hà Thị Giảng", unit_id=harness.province.root_id)
    await add_role(harness.db, lecturer, "lecturer")
    await add_class(harness.db, "CV.OLD", plan_year=YEAR - 1)
    await make_plan(admin)
    await make_programme(admin)

    await admin.send("➕ Mở lớp mới")  # the main keyboard's button
    await admin.tap("BD.CVC")
    await admin.tap(f"{YEAR} ·")
    await admin.expect("Mã lớp")
    await admin.send("lớp một")  # spaces and diacritics
    await admin.expect("Mã gồm 2–32 ký tự")
    await admin.send("CV.2027.01")
    await admin.expect("Tên lớp")
    await admin.tap("Bồi dưỡng ngạch chuyên viên chính")  # the programme's name, suggested
    await admin.tap("Kết hợp")
    await admin.expect("Địa điểm học")
    await admin.send("Hội trường A")
    await admin.expect("Đường liên kết")
    await admin.send("http://meet.example.org/x")
    await admin.expect("phải bắt đầu bằng")
    await admin.send("https://meet.google.com/abc-defg-hij")
    await admin.tap("Bỏ qua")  # no organiser
    await admin.tap("Hà Thị Giảng")
    await admin.tap("Xong")
    await admin.expect("Sĩ số tối đa")
    await admin.tap("Quay lại")
    await admin.expect("Giảng viên của lớp")  # Back: the lecturers again
    await admin.tap("Xong")
    await admin.send("abc")
    await admin.expect("Vui lòng nhập một số từ 1")
    await admin.send("2")

    await harness.restart()  # a deploy in the middle of the dialogue

    await admin.tap("Mở ngay khi lưu")
    await admin.send("31/2")
    await admin.expect("không có trên lịch")
    await admin.send("25/2")  # a day alone: the end of it
    saved = await admin.expect("Đã ghi")
    assert f"25/02/{YEAR} 23:59" in saved.text and "Thứ" in saved.text
    await admin.tap("Cán bộ nữ")
    await admin.send("dong van")
    await admin.tap("Xã Đồng Văn")
    await admin.send("chuyen vien chinh")  # a grade, found without diacritics
    await admin.tap("Ngạch: Chuyên viên chính")
    await admin.tap("Xong")
    await admin.tap("Mở đăng ký ngay")
    monday = first_monday_of_march(YEAR)
    await admin.send(f"{monday.day}/3")
    await admin.send(f"{monday.day + 11}/3")
    await admin.tap("Thứ 2–6")
    await admin.tap("Xong")
    await admin.send("11h-7h")
    await admin.expect("Giờ kết thúc phải sau giờ bắt đầu")
    await admin.send("7h30-11h, 13h30-16h30")
    await admin.send(f"{monday.day + 7}/3")
    summary = await admin.expect("kiểm tra lại lớp")
    assert "18 buổi, sáng và chiều thứ 2–6" in summary.text
    assert "Cán bộ nữ" in summary.text and "Xã Đồng Văn" in summary.text
    assert "Chuyên viên chính" in summary.text
    await admin.tap("Sĩ số")  # change one answer, then back to the summary
    await admin.send("40")
    summary = await admin.expect("kiểm tra lại lớp")
    assert "Sĩ số: 40" in summary.text
    await admin.tap("Loại lớp")  # the programme's kind, changed
    await admin.tap("Chuyên đề, tập huấn")
    summary = await admin.expect("kiểm tra lại lớp")
    assert "(Chuyên đề, tập huấn nghiệp vụ)" in summary.text
    assert "Duyệt đăng ký: Không cần duyệt" in summary.text
    await admin.tap("Duyệt đăng ký")  # asked from the summary only: the unit head approves
    await admin.expect("cần thủ trưởng đơn vị của học viên duyệt")
    await admin.tap("🔏 Cần thủ trưởng duyệt")
    summary = await admin.expect("kiểm tra lại lớp")
    assert "Duyệt đăng ký: 🔏 Cần thủ trưởng duyệt" in summary.text
    await admin.tap("Lưu")
    await admin.expect("Đã lưu lớp CV.2027.01 với 18 buổi học")
    card = await admin.expect("Còn trống: 40")
    async with harness.db.read() as conn:
        targets = (await conn.execute(sa.select(class_audience.c.target))).scalars().all()
    assert sorted(t.split(":")[0] for t in targets) == ["grade", "group", "unit"]
    assert "đang mở đăng ký" in card.text and "Hà Thị Giảng" in card.text
    assert "Lớp cần thủ trưởng đơn vị duyệt" in card.text
    await no_dialogue_left(harness.db)
    assert await count(harness.db, class_sessions) == 18 + 2  # and CV.OLD's two


async def test_back_and_cancel_keep_nothing(harness: Harness) -> None:
    admin = await office(harness)
    await admin.send("/plan")
    await admin.expect("Chưa có kế hoạch nào")
    await admin.tap("Tạo kế hoạch")
    await admin.send(str(YEAR))
    await admin.expect("Tên kế hoạch")
    await admin.tap("Quay lại")
    await admin.expect("năm nào")
    await admin.send("1990")
    await admin.expect("Vui lòng nhập năm từ")
    await admin.tap("Hủy")
    await admin.expect("Đã hủy")
    await no_dialogue_left(harness.db)
    assert await count(harness.db, plans) == 0


async def test_bad_input_in_the_class_dialogue_is_explained_and_changes_nothing(
    harness: Harness,
) -> None:
    admin = await office(harness)
    await add_class(harness.db, "CV.OLD", plan_year=YEAR, starts=None)
    await admin.send("/newclass")
    await admin.tap("P.CV.OLD")
    await admin.tap(f"{YEAR} ·")
    await admin.send("CV.OLD")
    await admin.expect("đã được dùng")
    await admin.send("CV.NEW")
    await admin.send("ǅ" * 300)  # far too long, odd letters
    await admin.expect("Tên cần từ 3 đến")
    await admin.send("Lớp 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 thử nghiệm")
    await admin.tap("Trực tuyến")
    await admin.send("https://meet.google.com/abc-defg-hij")
    await admin.tap("Bỏ qua")
    await admin.tap("Không chọn giảng viên")
    await admin.send("30")
    await admin.send("abc")
    await admin.expect("Chưa đọc được ngày")
    await admin.send("/cancel")
    await admin.expect("Đã hủy mở lớp")
    assert await count(harness.db, classes) == 1


async def test_learners_and_forged_buttons_are_refused(harness: Harness) -> None:
    class_id = await add_class(harness.db, "CV.X", plan_year=YEAR)
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id,
                     telegram_id=1601)  # fmt: skip
    cadre = harness.user(1601)
    for typed in ("/newclass", "/plan", "/programmes", "/classadmin CV.X"):
        await cadre.send(typed)
        await cadre.expect("chỉ dành cho cán bộ quản lý")
    for forged in (NewPlanDialogue(), ApprovePlan(1), ChangeCapacity(class_id),
                   OpenEnrolment(class_id), CancelClass(class_id, confirmed=True),
                   ClassRules(class_id)):  # fmt: skip
        assert "chỉ dành cho cán bộ quản lý" in await forged_tap(cadre, forged.pack())
    await no_dialogue_left(harness.db)
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(classes).where(classes.c.id == class_id))).one()
    assert (row.status, row.capacity) == ("open", 30)
    assert await count(harness.db, programmes) == 1


async def _enrol(harness: Harness, class_id: int, person_id: int, status: str) -> None:
    """A seat or a waitlist place, as EnrolmentService.enrol gives them."""
    async with harness.db.write() as conn:
        if status == "enrolled":
            assert await ClassRepository(conn).take_seat(class_id)
            await EnrolmentRepository(conn).put(class_id, person_id, EnrolmentStatus.ENROLLED)
        else:
            ticket = await ClassRepository(conn).next_ticket(class_id)
            await EnrolmentRepository(conn).put(
                class_id, person_id, EnrolmentStatus.WAITLISTED, ticket
            )


async def test_a_capacity_raised_promotes_the_waitlist_and_cancelling_tells_learners(
    harness: Harness,
) -> None:
    admin = await office(harness)
    class_id = await add_class(harness.db, "CV.FULL", capacity=1, plan_year=YEAR)
    seated = await add_person(harness.db, "Lò Thị Ngồi", unit_id=harness.province.commune_id,
                              telegram_id=1611)  # fmt: skip
    waiting = await add_person(harness.db, "Sùng Văn Chờ", unit_id=harness.province.commune_id,
                               telegram_id=1612)  # fmt: skip
    await _enrol(harness, class_id, seated, "enrolled")
    await _enrol(harness, class_id, waiting, "waitlisted")
    seated_user, waiting_user = harness.user(1611), harness.user(1612)  # their chats exist

    await admin.send("/classadmin cv.full")
    card = await admin.expect("CV.FULL")
    assert "Đã đăng ký: 1 · Danh sách chờ: 1 · Còn trống: 0" in card.text
    await admin.tap("Danh sách lớp")
    roster = await admin.expect("Danh sách lớp CV.FULL")
    assert "Lò Thị Ngồi" in roster.text and "Sùng Văn Chờ" in roster.text
    await admin.tap("Quay lại")
    await admin.tap("Đổi sĩ số")
    await admin.expect("Sĩ số mới")
    await admin.send("2")
    await admin.expect("Số người từ danh sách chờ được vào lớp: 1")
    await admin.expect("Còn trống: 0")
    await waiting_user.expect("CV.FULL")  # told of the seat

    await admin.tap("Hủy lớp")
    await admin.expect("sẽ được thông báo")
    await admin.tap("Xác nhận")
    await admin.expect("Lý do hủy lớp")
    await admin.send("Giảng viên bận công tác đột xuất")
    await admin.expect("Đã gửi thông báo cho 2 người")
    told = await seated_user.expect("CV.FULL")
    assert "Giảng viên bận công tác đột xuất" in told.text
    async with harness.db.read() as conn:
        statuses = set((await conn.execute(sa.select(enrolments.c.status))).scalars())
    assert statuses == {"cancelled"}


async def test_a_draft_plan_is_approved_its_targets_changed_and_its_classes_listed(
    harness: Harness,
) -> None:
    admin = await office(harness)
    await add_class(harness.db, "CV.D1", plan_year=YEAR, approved=False, status="planned")
    await admin.send("/plan")
    listed = await admin.expect("Dự thảo, chưa phê duyệt")
    assert "Đã có 1 lớp" in listed.text
    await admin.tap(f"Chỉ tiêu {YEAR}")
    await admin.send("5 / 200")
    await admin.expect("Chỉ tiêu (2/7)")
    await admin.tap("Quay lại")  # within the step: the overall target again
    await admin.expect("Chỉ tiêu (1/7)")
    await admin.send("5 / 200")
    for step in range(2, 8):
        await admin.expect(f"Chỉ tiêu ({step}/7)")
        await admin.tap("Bỏ qua loại lớp này")
    await admin.expect("Đã cập nhật chỉ tiêu")
    await admin.tap(f"Chỉ tiêu {YEAR}")
    await admin.expect("Hiện tại: 5 lớp / 200 học viên")
    await admin.tap("Giữ nguyên chỉ tiêu này")  # the overall target may be kept as it is
    await admin.expect("Giữ nguyên chỉ tiêu Tổng: 5 lớp / 200 học viên")
    await admin.expect("Chỉ tiêu (2/7)")
    await admin.tap("Hủy")
    await admin.expect("không có gì thay đổi")
    await admin.send("/plan")
    await admin.tap(f"Duyệt {YEAR}")
    await admin.send(APPROVED.strftime("%d/%m/%Y"))
    await admin.send("Ban Thường vụ Tỉnh ủy")
    await admin.expect("ghi nhận là đã phê duyệt")
    listed = await admin.expect("Tổng: 5 lớp / 200 học viên")
    assert f"Đã phê duyệt ngày {APPROVED:%d/%m/%Y}" in listed.text
    async with harness.db.read() as conn:
        audit = (await conn.execute(sa.text(
            "SELECT details FROM audit_log WHERE action = 'plan_targets_set'"
        ))).scalar_one()  # fmt: skip
    assert "before" in str(audit) and "200" in str(audit)

    await admin.tap(f"Lớp {YEAR}")
    await admin.tap("CV.D1")
    await admin.expect("Trạng thái: dự kiến")
    await admin.tap("Mở đăng ký")
    await admin.expect("Trạng thái: đang mở đăng ký")


async def test_sessions_are_added_moved_and_cancelled_and_repeat_training_allowed(
    harness: Harness,
) -> None:
    admin = await office(harness)
    await add_class(harness.db, "CV.S", plan_year=YEAR, days=1)
    await add_person(harness.db, "Vàng Thị Học", unit_id=harness.province.commune_id)
    await admin.send("/classadmin CV.S")
    await admin.tap("Thêm buổi học")
    monday = first_monday_of_march(YEAR)
    await admin.send(f"{monday.day}/3/{YEAR}")
    await admin.send(f"{monday.day + 4}/3/{YEAR}")
    await admin.tap("thứ 2")
    await admin.tap("thứ 4")
    await admin.tap("Xong")
    await admin.send("8h-11h")
    await admin.tap("Không có ngày nghỉ")
    confirm = await admin.expect("Thêm vào lớp")
    assert "2 buổi, sáng thứ 2, 4" in confirm.text
    await admin.tap("Lưu")
    await admin.expect("Đã thêm 2 buổi học")
    assert await count(harness.db, class_sessions) == 3

    await admin.tap("Các buổi học")
    await admin.tap(f"{monday:%d/%m/%Y}")
    await admin.tap("Dời buổi")
    await admin.send("abc")
    await admin.expect("Chưa đọc được ngày")
    await admin.send(f"{monday.day + 1}/3 13h30-16h30")
    moved = await admin.expect("Dời buổi học")
    assert "Thứ Hai" in moved.text and "Thứ Ba" in moved.text
    await admin.tap("Xác nhận")
    await admin.expect("Đã dời buổi học sang Thứ Ba")
    await admin.tap("Các buổi học")
    await admin.tap(f"{monday + timedelta(days=2):%d/%m/%Y}")
    await admin.tap("Hủy buổi")
    await admin.expect("Hủy buổi học")
    assert await tap_answer(admin, "Xác nhận") == "Đã hủy buổi học."
    async with harness.db.read() as conn:
        states = sorted((await conn.execute(sa.select(class_sessions.c.status))).scalars())
    assert states == ["cancelled", "scheduled", "scheduled"]

    await admin.send("/classadmin CV.S")
    await admin.tap("Cho phép học lại")
    await admin.send("vang thi hoc")
    await admin.tap("Vàng Thị Học")
    await admin.tap("Xác nhận")
    await admin.expect("được phép đăng ký lớp CV.S")
    async with harness.db.read() as conn:
        allowed = (await conn.execute(sa.text(
            "SELECT count(*) FROM audit_log WHERE action = 'duplicate_allowed'"
        ))).scalar_one()  # fmt: skip
    assert allowed == 1


async def test_a_long_roster_is_cut_with_a_count(harness: Harness) -> None:
    admin = await office(harness)
    class_id = await add_class(harness.db, "CV.BIG", capacity=60, plan_year=YEAR)
    for n in range(100):
        person = await add_person(
            harness.db, f"Nguyễn Thị Phương Thảo Số {n:03d}", unit_id=harness.province.commune_id
        )
        await _enrol(harness, class_id, person, "enrolled" if n < 60 else "waitlisted")
    await admin.send("/classadmin CV.BIG")
    await admin.tap("Danh sách lớp")
    roster = await admin.expect("Danh sách lớp CV.BIG")
    assert "Học viên: 60/60" in roster.text and "Danh sách chờ: 40" in roster.text
    assert "Trang 1/" in roster.text and len(roster.text) < 4096


async def test_the_plan_says_its_progress_as_the_office_reports_it(harness: Harness) -> None:
    admin = await office(harness)
    learner = await add_person(harness.db, "Lò Thị Dung", unit_id=harness.province.commune_id)
    opened = await add_class(harness.db, "TD.1", plan_year=YEAR)
    await add_class(harness.db, "TD.2", plan_year=YEAR, status="planned")
    async with harness.db.write() as conn:
        plan_id = await conn.scalar(sa.select(plans.c.id).where(plans.c.year == YEAR))
        await PlanRepository(conn).set_targets(plan_id, {ALL_KINDS: Target(4, 10)})
        await EnrolmentRepository(conn).put(opened, learner, EnrolmentStatus.ENROLLED)
    await admin.send("/plan")
    shown = await admin.expect(f"Năm {YEAR}")
    assert "Đã có 2 lớp trong kế hoạch" in shown.text
    assert (
        "Đã mở 1/4 lớp, đạt 25,0% kế hoạch (gồm 0 lớp chuyển tiếp); 1/10 học viên, đạt 10,0%"
        in shown.text
    )


async def test_a_class_gets_its_own_attendance_rules_and_bad_numbers_change_nothing(
    harness: Harness,
) -> None:
    admin = await office(harness)
    class_id = await add_class(harness.db, "CV.RULES", plan_year=YEAR)
    await admin.send("/classadmin cv.rules")
    card = await admin.expect("CV.RULES")
    assert "sau 15 phút" in card.text and "ít nhất 80%" in card.text
    await admin.tap("Quy định điểm danh")
    await admin.expect("tính là đi muộn")
    await admin.send("300")
    await admin.expect("một số từ 0 đến 240")
    await admin.send("10")
    await admin.expect("bao nhiêu phần trăm")
    await admin.send("٩٠٪")  # digits and a percent sign of another script
    await admin.expect("một số từ 1 đến 100")
    await admin.send("90%")
    await admin.expect("hoàn thành khi dự ít nhất 90%")
    card = await admin.expect("CV.RULES")
    assert "sau 10 phút" in card.text
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(classes).where(classes.c.id == class_id))).one()
    assert (row.late_after, row.completion_pct) == (10, 90)
