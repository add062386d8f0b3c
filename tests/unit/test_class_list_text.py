"""A class's list as text and as a workbook, without a database: the order of its sections,
pages that each fit in one message whatever the names, values that cannot inject markup, and
a workbook that holds odd text as written."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl

from bot.class_list_text import pages
from bot.class_list_xlsx import position_and_grade, workbook
from bot.class_lists import ClassList, ClassListEntry, ListSection, name_key, ordered
from bot.domain import Gender
from bot.i18n import DEFAULT_TIMEZONE, Texts
from bot.training import (
    ClassFormat,
    ClassKind,
    ClassStatus,
    EnrolmentStatus,
    PriorityGroup,
    Programme,
    TrainingClass,
)
from bot.validation import telegram_length
from tools.emulator.entities import parse_html

AT = datetime(2026, 3, 5, 1, 30, tzinfo=UTC)
CLASS = TrainingClass(
    id=1, code="CV.2026.01", name="Bồi dưỡng ngạch chuyên viên",
    programme=Programme(1, "CV", "Chuyên viên", ClassKind.GRADE, None), plan_id=1,
    plan_year=2026, plan_approved=True, kind=ClassKind.GRADE, format=ClassFormat.ON_SITE,
    capacity=500, enrolled=0, waiting=0, status=ClassStatus.OPEN, location="Hội trường A",
    starts_at=AT, ends_at=AT + timedelta(days=4),
)  # fmt: skip


def entry(
    name: str, status: EnrolmentStatus = EnrolmentStatus.ENROLLED, **kw: object
) -> ClassListEntry:
    return ClassListEntry(0, name, status, AT, AT, **kw)  # type: ignore[arg-type]


def class_list(entries: list[ClassListEntry], *, phones: bool = True) -> ClassList:
    return ClassList(CLASS, ordered(entries), whole=True, phones=phones, year=2026,
                     generated_at=AT, generated_by="Trần Văn Quản")  # fmt: skip


def test_sections_come_in_order_each_sorted_as_lists_are_read() -> None:
    found = ordered([
        entry("Sùng A Phủ", EnrolmentStatus.DECLINED),
        entry("Lò Văn Cường", EnrolmentStatus.WAITLISTED, position=2),
        entry("Trần Văn Bình"),
        entry("Hoàng Văn Dũng", EnrolmentStatus.WAITLISTED, position=1),
        entry("Vàng Thị Em", EnrolmentStatus.PENDING, expires_at=AT + timedelta(days=2)),
        entry("Lý Thị Mai", EnrolmentStatus.PENDING, expires_at=AT + timedelta(days=1)),
        entry("Giàng A Tủa", EnrolmentStatus.REJECTED),
        entry("Nguyễn Thị An"),
    ])  # fmt: skip
    assert [e.name for e in found] == [
        "Nguyễn Thị An", "Trần Văn Bình", "Lý Thị Mai", "Vàng Thị Em", "Hoàng Văn Dũng",
        "Lò Văn Cường", "Sùng A Phủ", "Giàng A Tủa",
    ]  # fmt: skip
    assert [e.section for e in found][-1] is ListSection.OTHER
    assert name_key("Nguyễn Thị Ánh") < name_key("Lê Văn Bảo")


def test_priority_groups_follow_the_configured_age() -> None:
    person = entry("Hà Thị Lan", gender=Gender.FEMALE, birth_year=1990, ethnicity_code="01")
    shown = class_list([person])
    assert shown.groups(person) == {PriorityGroup.WOMEN}  # 36 in 2026
    older_limit = ClassList(CLASS, [person], True, True, 2026, AT, None, young_under=40)
    assert older_limit.groups(person) == {PriorityGroup.YOUNG, PriorityGroup.WOMEN}


def test_long_lists_are_paged_within_telegram_limits_and_escape_what_people_typed() -> None:
    odd = "Nguyễn <b>Thị</b> & 𝕏 ‮ فلان 王 " * 4
    people = [
        entry(f"{odd}{n:03d}", unit="Xã " + "Đồng Văn " * 20, unit_parent="Huyện " * 30,
              reason="<i>" * 60 if n % 2 else None, gender=Gender.FEMALE, birth_year=2000)
        for n in range(400)
    ]  # fmt: skip
    texts = Texts("vi")
    shown = pages(texts, class_list(people))
    assert len(shown) > 5
    for number, page in enumerate(shown, 1):
        plain, _ = parse_html(page)  # raises on markup Telegram would refuse
        assert telegram_length(plain) <= 4096
        assert f"Trang {number}/{len(shown)}" in plain
        assert plain.startswith("📋 Danh sách lớp CV.2026.01")
    lines = [ln for page in shown for ln in parse_html(page)[0].splitlines() if " — Xã" in ln]
    assert len(lines) == 400 and lines[0].startswith("1. Nguyễn <b>Thị</b> &")
    assert all(" · 🌱👩" in ln for ln in lines)  # young women, ethnicity not given
    assert "Học viên (tiếp)" in shown[1]


def test_an_empty_list_says_so_in_one_page() -> None:
    (only,) = pages(Texts("en"), class_list([]))
    assert "Nobody on the list yet." in only and "Page" not in only


def test_the_workbook_keeps_odd_text_as_written_and_leaves_phones_out_when_asked() -> None:
    texts = Texts("vi")
    people = [
        entry('=HYPERLINK("x")', phone="+84912000111", title="Bí thư", grade="Chuyên viên"),
        entry("Sùng\x07 A Phủ", EnrolmentStatus.DECLINED, reason="Bận\x00 việc"),
    ]
    with_phones = openpyxl.load_workbook(
        io.BytesIO(workbook(texts, class_list(people), DEFAULT_TIMEZONE))
    )
    enrolled = list(with_phones["Học viên"].iter_rows(values_only=True))
    # The phone as stored (E.164) is written as the chat shows it.
    assert enrolled[1][1] == '=HYPERLINK("x")' and enrolled[1][11] == "0912 000 111"
    assert enrolled[1][3] == "Bí thư · Chuyên viên"
    declined = list(with_phones["Từ chối tham gia"].iter_rows(values_only=True))
    assert declined[1][1] == "Sùng A Phủ" and declined[1][14] == "Lý do: Bận việc"
    without = openpyxl.load_workbook(
        io.BytesIO(workbook(texts, class_list(people, phones=False), DEFAULT_TIMEZONE))
    )
    assert "Điện thoại" not in next(without["Học viên"].iter_rows(values_only=True))


def test_position_and_grade_name_a_public_employee_by_title_and_rank() -> None:
    texts = Texts("vi")
    teacher = entry("Hà Văn Giáo", title="Tổ trưởng", professional_title="Giáo viên",
                    professional_rank=3)  # fmt: skip
    assert position_and_grade(texts, teacher) == "Tổ trưởng · Giáo viên, hạng III"
    assert position_and_grade(texts, entry("Ai Đó")) is None
