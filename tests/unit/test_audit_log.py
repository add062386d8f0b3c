"""The audit log's pure rules: periods typed and picked in local days, what buttons carry (and
refuse when forged), a page that fits one message whatever the names, entries in words, and
a workbook that keeps a name typed as a formula as text."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.actions import ExportAuditLog, ShowAuditLog, unpack
from bot.audit_log import AuditLine, AuditQuery, Period, PeriodPreset, parse_period, preset
from bot.audit_words import DetailNames, details_text, who
from bot.audit_xlsx import AuditWorkbook
from bot.domain import AuditAction, Person, PersonSource
from bot.errors import InvalidInput
from bot.i18n import Texts
from bot.services.audit_log import PAGE_SIZE, AuditPage
from bot.validation import telegram_length
from handlers.audit_log import clip, view_text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 11, 15)
VI = Texts("vi", TZ)


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("01/10/2026-31/10/2026", date(2026, 10, 1), date(2026, 10, 31)),
        (" 1/10/2026 – 31/10/2026 ", date(2026, 10, 1), date(2026, 10, 31)),
        ("1.10 đến 31.10", date(2026, 10, 1), date(2026, 10, 31)),
        ("1/10/26-5/10/26", date(2026, 10, 1), date(2026, 10, 5)),
        ("05/11/2026", date(2026, 11, 5), date(2026, 11, 5)),
        ("２９/２/２０２８-１/３/２０２８", date(2028, 2, 29), date(2028, 3, 1)),  # full width
    ],
)
def test_periods_are_typed_the_vietnamese_way(typed: str, first: date, last: date) -> None:
    assert parse_period(typed, TODAY) == Period(first, last)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("31/10/2026-01/10/2026", "audit_log.period_reversed"),
        ("31/02/2026", "error.date_invalid"),
        ("01/10/2026-31/02/2026", "error.date_invalid"),
        ("29/2/2026", "error.date_invalid"),
        ("hôm qua", "audit_log.period_format"),
        ("01/10/2026-", "audit_log.period_format"),
        ("1/1/1999-1/1/2026", "audit_log.period_years"),
        ("1/1/2026-1/1/9999", "audit_log.period_years"),
        ("🎉" * 5000, "audit_log.period_format"),
        ("", "audit_log.period_format"),
    ],
)
def test_a_period_that_cannot_be_read_says_why(typed: str, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(typed, TODAY)
    assert refused.value.key == key
    assert all(len(str(value)) <= 40 for value in refused.value.params.values())


def test_the_periods_offered_count_from_today() -> None:
    january = date(2027, 1, 3)
    assert preset(PeriodPreset.TODAY, TODAY) == Period(TODAY, TODAY)
    assert preset(PeriodPreset.WEEK, TODAY) == Period(date(2026, 11, 9), TODAY)
    assert preset(PeriodPreset.MONTH, TODAY) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert preset(PeriodPreset.LAST_MONTH, january) == Period(date(2026, 12, 1),
                                                              date(2026, 12, 31))  # fmt: skip
    assert preset(PeriodPreset.MONTH, date(2028, 2, 10)).last == date(2028, 2, 29)
    assert preset(PeriodPreset.YEAR, TODAY) == Period(date(2026, 1, 1), date(2026, 12, 31))


def test_a_period_holds_whole_local_days_and_names_its_file() -> None:
    october = Period(date(2026, 10, 1), date(2026, 10, 31))
    since, until = october.bounds(TZ)
    assert since == datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert until == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 31/10 23:59:59 local is in
    assert october.file_stem() == "2026-10"
    assert Period(date(2026, 1, 1), date(2026, 12, 31)).file_stem() == "2026"
    assert Period(date(2026, 11, 5), date(2026, 11, 5)).file_stem() == "2026-11-05"
    assert Period(date(2026, 10, 2), date(2026, 10, 31)).file_stem() == "2026-10-02_2026-10-31"


def test_buttons_carry_the_whole_view_and_forged_ones_are_refused() -> None:
    query = AuditQuery(Period(date(2026, 10, 1), date(2026, 10, 31)), 12_345_678,
                       AuditAction.ATTENDANCE_CORRECTED)  # fmt: skip
    longest = max((a.value for a in AuditAction), key=len)
    tapped = ShowAuditLog(*query.period.key(), 99_999_999, longest, 9_999)
    assert len(tapped.pack()) <= 64
    assert len(ExportAuditLog(*query.period.key(), 99_999_999, longest).pack()) <= 64
    assert unpack(tapped.pack()) == tapped
    assert AuditQuery.from_key(20261001, 20261031, 12_345_678, "attendance_corrected") == query
    assert AuditQuery.from_key(20261001, 20261031) == AuditQuery(query.period)
    for forged, key in (
        ((20260231, 20260301), "audit_log.period_invalid"),
        ((0, -5), "audit_log.period_invalid"),
        ((20261031, 20261001), "audit_log.period_reversed"),
        ((20261001, 20261031, 0, "nonsense"), "audit_log.action_unknown"),
    ):
        with pytest.raises(InvalidInput) as refused:
            AuditQuery.from_key(*forged)  # type: ignore[arg-type]
        assert refused.value.key == key


def _visible(text: str) -> str:
    """What a person reads of a Telegram HTML text."""
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def test_a_page_fits_one_message_whatever_the_names() -> None:
    """Twelve entries of the longest names, emoji included (two units each), and the widest
    details still make one message."""
    name = "Nguyễn Thị 𠀀𠀀𠀀 " * 12
    lines = [
        AuditLine(n, datetime(2026, 11, 2, 1, n, tzinfo=UTC), "profile_merged",
                  {"merged_name": "👩‍🌾" * 80, "reason": "not_in_unit", "unit_id": 1},
                  7001, name, 5, name)
        for n in range(PAGE_SIZE)
    ]  # fmt: skip
    person = Person(id=5, full_name=name[:150], source=PersonSource.ROSTER, verified=True,
                    source_pool=False, birth_year=1988)  # fmt: skip
    query = AuditQuery(Period(date(2026, 11, 1), date(2026, 11, 30)), 5, AuditAction.PROFILE_MERGED)
    found = AuditPage(query, person, lines, DetailNames(units={1: "Ủy ban " * 40}), 10**6, 41)
    for texts in (VI, Texts("en", TZ)):
        text = view_text(texts, found)
        assert telegram_length(_visible(text)) <= 4096
        assert "Trang 42/83.334" in text or "Page 42/83,334" in text
    assert telegram_length(clip("👩‍🌾" * 60, 50)) <= 50


def test_entries_are_put_in_words() -> None:
    exported = {"since": "2026-10-01", "until": "2026-10-31", "kind": "enrolled", "entries": 12}
    assert details_text(VI, exported, DetailNames()) == (
        "Từ ngày: 01/10/2026; Đến ngày: 31/10/2026; Thao tác: Đăng ký lớp; Số mục: 12"
    )
    imported = {"import_kind": "classes", "file": "lop-hoc.xlsx", "counts": {"classes": {}}}
    assert details_text(VI, imported, DetailNames()) == "Loại dữ liệu: 🏫 Lớp học"
    earlier = {"kind": "roster", "file": "danh-sach.xlsx"}  # as imports were audited at first
    assert details_text(VI, earlier, DetailNames()) == "Loại dữ liệu: 👥 Danh sách cán bộ"
    enrolled = {"class_id": 7}
    assert details_text(VI, enrolled, DetailNames(classes={7: "QPAN"})) == "Lớp: QPAN"
    assert details_text(VI, enrolled, DetailNames()) == ""  # one's own history names no class
    system = AuditLine(1, datetime(2026, 11, 2, tzinfo=UTC), "demo_seed")
    assert who(VI, system) == "Hệ thống"
    unlinked = AuditLine(2, datetime(2026, 11, 2, tzinfo=UTC), "enrolled", actor_telegram_id=77)
    assert who(VI, unlinked) == "Tài khoản Telegram 77"


def test_the_workbook_keeps_a_name_typed_as_a_formula_as_text() -> None:
    book = AuditWorkbook(VI, TZ)
    formula = '=HYPERLINK("http://x","y")'
    book.add([AuditLine(1, datetime(2026, 11, 2, 1, 30, tzinfo=UTC), "profile_edited",
                        {"field": "unit"}, 7001, formula, 5, "Lò Thị Mai")],
             DetailNames())  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(book.close())).worksheets[0]
    assert sheet.title == "Nhật ký thay đổi"
    local = datetime(2026, 11, 2, 8, 30)
    row = [local, formula, "Sửa hồ sơ", "Lò Thị Mai", "Thông tin: Đơn vị"]
    assert [c.value for c in sheet[2]] == row
    assert sheet["B2"].data_type == "s"
    # As Excel shows them: the file holds each width with the cell's padding (5/7 of a digit).
    widths = [round(sheet.column_dimensions[c].width - 5 / 7, 1) for c in "ABCDE"]
    assert widths == [17, 28, 30, 28, 60]
    assert all(cell.font.b for cell in sheet[1])
