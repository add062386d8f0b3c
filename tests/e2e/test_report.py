"""/report through the real protocol, on a generated year of training (tests/report_world.py):
an administrator picks a period and each breakdown by buttons and reads figures equal to
a plain-Python count of the same rows; a unit head sees only their units; a learner is
refused; typed dates that make no period are explained and nothing else happens."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import openpyxl
import pytest

from bot.clock import FrozenClock
from bot.i18n import texts
from bot.report import Period
from bot.training import PriorityGroup
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, running_bot
from tests.factories import add_person, add_role
from tests.report_world import NOW, TZ, World, build_world, expected
from tools.emulator.users import ScriptedUser

HEAD, LEARNER = 4101, 4102
VI = texts("vi", TZ)


def pct(part: int, whole: int) -> str:
    return VI.format("{value:percent}", value=part / whole)


@pytest.fixture
async def harness(database_kind: str, tmp_path: object) -> AsyncIterator[Harness]:
    async with running_bot(database_kind, tmp_path, clock=FrozenClock(NOW)) as running:
        yield running


@pytest.fixture
async def world(harness: Harness) -> World:
    return await build_world(harness.db)


async def test_an_administrator_reads_every_breakdown_with_the_right_figures(
    harness: Harness, world: World
) -> None:
    want = await expected(harness.db, Period.of_year(2026), None)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/report")
    await admin.expect("chọn kỳ báo cáo")
    await admin.tap("Năm 2026")
    summary = await admin.expect("BÁO CÁO TIẾN ĐỘ")
    managed, learners = want.managed_to_date["all"], want.learners_to_date["all"]
    assert f"Số lớp: {managed}/24 lớp, đạt {pct(managed, 24)} kế hoạch" in summary.text
    assert f"Số học viên: {learners}/216 lượt, đạt {pct(learners, 216)}" in summary.text
    assert f"{want.new['all']} lớp mở mới, {want.carried['all']} lớp chuyển tiếp" in summary.text
    assert f"Hoàn thành: {want.completed['all']}/{want.results['all']}" in summary.text
    assert f"nguy cơ không hoàn thành:</b> {len(want.at_risk)}" not in summary.text  # plain
    assert f"nguy cơ không hoàn thành: {len(want.at_risk)}." in summary.text

    await admin.tap("Theo loại lớp")
    kinds = await admin.expect("Theo loại lớp")
    update = want.managed_to_date["update"]
    assert f"Bồi dưỡng cập nhật kiến thức: lũy kế {update}/10 lớp" in kinds.text

    await admin.tap("Chuyên cần theo lớp")
    by_class = await admin.expect("Chuyên cần theo lớp")
    sessions, present, late, excused, absent = want.class_marks["SPAN"]
    rate = pct(present + late, present + late + excused + absent)
    assert f"SPAN — Lớp SPAN: {sessions} buổi, có mặt {rate}" in by_class.text
    lowest = min(
        (code for code, m in want.class_marks.items() if sum(m[1:])),
        key=lambda code: ((m := want.class_marks[code])[1] + m[2]) / sum(m[1:]),
    )
    await admin.tap(f"🔍 {lowest}")
    detail = await admin.expect(f"{lowest} — Lớp {lowest}")
    assert "Học viên:" in detail.text and "Từng buổi:" in detail.text
    await admin.tap("⬅️ Chuyên cần theo lớp")
    await admin.expect("Chuyên cần theo lớp")

    await admin.tap("Học viên có nguy cơ")
    risk = await admin.expect("nguy cơ không hoàn thành")
    assert risk.text.count("RUNNING:") == sum(1 for code, _ in want.at_risk if code == "RUNNING")

    await admin.tap("Theo đơn vị")
    units = await admin.expect("Bao phủ theo đơn vị")
    staff, trained = len(want.staff), len(want.trained)
    assert f"Đã bồi dưỡng {trained}/{staff} cán bộ, đạt {pct(trained, staff)}" in units.text
    assert "Xã Mèo Vạc" in units.text.split("chưa có cán bộ nào được bồi dưỡng")[1]

    await admin.tap("Đối tượng ưu tiên")
    groups = await admin.expect("Đối tượng ưu tiên")
    women_staff, women_trained = want.groups[PriorityGroup.WOMEN]
    assert f"Cán bộ nữ: {women_trained}/{women_staff}" in groups.text
    young_staff, young_trained = want.groups[PriorityGroup.YOUNG]
    assert f"Cán bộ trẻ (dưới 35 tuổi): {young_trained}/{young_staff}" in groups.text

    await admin.tap("Ngạch, chức vụ")
    grades = await admin.expect("Theo ngạch và chức vụ")
    assert "Chuyên viên chính" in grades.text and "Không thuộc ngạch công chức" in grades.text


async def test_typed_dates_make_a_period_and_bad_ones_are_explained(
    harness: Harness, world: World
) -> None:
    want = await expected(harness.db, Period.of_year(2026).dates(
        Period.of_year(2026).first.replace(month=3, day=25),
        Period.of_year(2026).first.replace(month=4, day=5)), None)  # fmt: skip
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/report")
    await admin.tap("Nhập khoảng ngày")
    await admin.expect("gõ khoảng ngày")
    for typed, answer in (
        ("31/12/2026 - 01/01/2026", "Ngày bắt đầu cần trước ngày kết thúc"),
        ("01/12/2025 - 31/01/2026", "trong cùng một năm"),
        ("30/02/2026 - 01/03/2026", "không có trên lịch"),
        ("🎉" * 300, "Chưa đọc được khoảng ngày"),
    ):
        await admin.send(typed)
        await admin.expect(answer)
    await admin.send("25/03/2026 - 05/04/2026")
    taken = await admin.expect("Đang lập báo cáo")
    # Back/Cancel go: the main keyboard is back (this administrator, with no profile, has none)
    assert taken.remove_keyboard or "📈 Báo cáo tiến độ" in str(taken.reply_keyboard)
    summary = await admin.expect("Từ 25/03/2026 đến 05/04/2026")
    carried = want.carried.get("all", 0)
    assert f"{want.new.get('all', 0)} lớp mở mới, {carried} lớp chuyển tiếp" in summary.text


async def test_a_unit_head_sees_only_their_units_and_a_learner_is_refused(
    harness: Harness, world: World
) -> None:
    head_id = await add_person(harness.db, "Trưởng phòng", unit_id=world.department_id,
                               telegram_id=HEAD)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", world.department_id)
    await add_person(harness.db, "Học viên", unit_id=world.department_id, telegram_id=LEARNER)
    want = await expected(harness.db, Period.of_year(2026),
                          {world.department_id, world.sub_unit_id})  # fmt: skip
    head = harness.user(HEAD)
    await head.send("/report")
    await head.expect("của đơn vị")
    await head.tap("Năm 2026")
    summary = await head.expect("CỦA ĐƠN VỊ")
    assert "Sở Nội vụ" in summary.text and "kế hoạch" not in summary.text.split("Trong kỳ")[0]
    learners = want.learners["all"]
    assert f"{learners} lượt học viên, trong đó {want.attending['all']}" in summary.text
    await head.tap("Theo đơn vị")
    units = await head.expect("Bao phủ theo đơn vị")
    assert f"Đã bồi dưỡng {len(want.trained)}/{len(want.staff)}" in units.text
    assert "Xã Mèo Vạc" not in units.text and "Xã Hồng Ngài" not in units.text

    learner = harness.user(LEARNER)
    await learner.send("/report")
    await learner.expect("chỉ dành cho cán bộ quản lý")


def _sheet(book: openpyxl.Workbook, title: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in book[title].iter_rows(values_only=True)]


async def test_the_workbook_and_the_charts_carry_the_same_figures(
    harness: Harness, world: World
) -> None:
    """The workbook read back with openpyxl equals the plain-Python count; each view's chart
    is a PNG a phone shows."""
    want = await expected(harness.db, Period.of_year(2026), None)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/report")
    await admin.tap("Năm 2026")
    await admin.expect("BÁO CÁO TIẾN ĐỘ")
    await admin.tap("Tải Excel")
    sent = await admin.expect("Báo cáo tiến độ — Năm 2026", timeout=30)
    assert sent.document is not None and sent.document.file_name == "bao-cao-tien-do-nam-2026.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(sent.document.content))
    assert book.sheetnames[:3] == ["Thông tin", "Theo loại lớp", "Theo tháng"]
    kinds = {row[0]: row for row in _sheet(book, "Theo loại lớp")[2:]}
    total = kinds["Tổng"]
    assert total[1:3] == (24, want.managed_to_date["all"])
    assert total[4:6] == (want.new["all"], want.carried["all"])
    assert total[9:13] == (want.learners["all"], want.attending["all"], want.results["all"],
                           want.completed["all"])  # fmt: skip
    classes = {row[0]: row for row in _sheet(book, "Chuyên cần theo lớp")[1:]}
    for code, (sessions, present, late, excused, absent) in want.class_marks.items():
        assert classes[code][3:8] == (sessions, present, late, excused, absent), code
    groups = {row[0]: row[1:3] for row in _sheet(book, "Đối tượng ưu tiên")[1:]}
    assert groups["Cán bộ nữ"] == want.groups[PriorityGroup.WOMEN]
    units = _sheet(book, "Theo đơn vị")
    assert units[-1][2:4] == (len(want.staff), len(want.trained))  # the totals row
    risk = _sheet(book, "Học viên có nguy cơ")[1:]
    assert len(risk) == len(want.at_risk)
    assert book["Theo đơn vị"].freeze_panes == "A2"

    await admin.tap("Biểu đồ")  # the summary's: classes opened month by month
    assert (await _photo(admin)).startswith(b"\x89PNG")
    await admin.tap("Đối tượng ưu tiên")
    await admin.expect("Đối tượng ưu tiên")
    await admin.tap("Biểu đồ")
    assert (await _photo(admin)).startswith(b"\x89PNG")


async def _photo(user: ScriptedUser) -> bytes:
    for _ in range(5):
        message = await user.next_message(timeout=30)
        if message.photo is not None:
            return message.photo
    raise AssertionError("no chart came")


async def test_a_period_typed_after_the_command_and_forged_buttons(
    harness: Harness, world: World
) -> None:
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/report 2025")
    await admin.expect("Kỳ báo cáo: Năm 2025")
    await admin.send("/report 01/01/2026 - 31/03/2026")
    await admin.expect("Từ 01/01/2026 đến 31/03/2026")
    for typed, answer in (
        ("/report 1999", "Kỳ báo cáo này không hợp lệ"),
        ("/report năm ngoái", "Chưa đọc được khoảng ngày"),
        ("/report " + "ꙮ" * 4000, "Chưa đọc được khoảng ngày"),
    ):
        await admin.send(typed)
        await admin.expect(answer)
    for data in ("rp.show:y1800", "rp.show:q2026.9", "rp.show:d20261231.20260101",
                 "rp.class:y2026:999999", "rp.xlsx:m2026.13"):  # fmt: skip
        answer = await forged_tap(admin, data)
        assert "không hợp lệ" in answer or "Không tìm thấy" in answer or "hết hạn" in answer, (
            data, answer)  # fmt: skip
