"""/report through the real protocol, on a generated year of training (tests/report_world.py):
an administrator picks a period and each breakdown by buttons and reads figures equal to
a plain-Python count of the same rows; a unit head sees only their units; a learner is
refused; typed dates that make no period are explained and nothing else happens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FrozenClock
from bot.i18n import texts
from bot.report import Period
from bot.training import PriorityGroup
from tests.e2e.conftest import SUPERADMIN_ID, Harness, running_bot
from tests.factories import add_person, add_role
from tests.report_world import NOW, TZ, World, build_world, expected

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
    assert "Chuyên viên chính" in grades.text and "Chưa ghi nhận" in grades.text


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
