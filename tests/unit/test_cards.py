"""How a profile reads: a civil servant's grade, a public employee's title and rank."""

from __future__ import annotations

from dataclasses import replace

from bot.domain import CodeItem, Employment, Person, PersonSource
from bot.i18n import Texts
from bot.validation import shorten
from handlers.ui import rank_line

BASE = Person(id=1, full_name="Lò Thị Mai", source=PersonSource.ROSTER, verified=True,
              source_pool=False)  # fmt: skip


def test_a_civil_servant_reads_with_a_grade() -> None:
    person = replace(
        BASE, employment=Employment.CONG_CHUC, grade=CodeItem(3, "01.003", "Chuyên viên")
    )
    assert rank_line(Texts("vi"), person) == "Công chức · Ngạch: Chuyên viên"


def test_a_public_employee_reads_with_a_professional_title_and_rank() -> None:
    person = replace(
        BASE,
        employment=Employment.VIEN_CHUC,
        professional_title=CodeItem(3, "GIANG_VIEN", "Giảng viên"),
        professional_rank=2,
    )
    assert rank_line(Texts("vi"), person) == (
        "Viên chức · Chức danh nghề nghiệp: Giảng viên, hạng II"
    )
    assert rank_line(Texts("en"), person) == (
        "Public employee · Professional title: Giảng viên, rank II"
    )


def test_nothing_known_reads_as_a_dash() -> None:
    assert rank_line(Texts("vi"), BASE) == "Ngạch: —"


def test_long_labels_are_shortened_between_words() -> None:
    assert shorten("Sở Dân tộc và Tôn giáo", 17) == "Sở Dân tộc và…"
    assert shorten("Sở Nội vụ", 17) == "Sở Nội vụ"
    assert shorten("Văn phòng Ủy ban nhân dân — Sở Văn hóa", 30) == "Văn phòng Ủy ban nhân dân…"
    assert shorten("Dàiquáđikhôngcókhoảngtrắng", 10) == "Dàiquáđik…"
