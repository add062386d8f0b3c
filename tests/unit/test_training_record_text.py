"""A training record in the chat fits one message however long it is, and is valid Telegram
HTML; its files are named without diacritics or spaces; a long record still makes a PDF."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pypdf

from bot.attendance import Mark, Outcome
from bot.domain import Person, PersonSource, UnitRef
from bot.i18n import texts
from bot.record_pdf import record_pdf
from bot.services.training_record import ClassAttendance
from bot.training import ClassKind, ClassStatus, EnrolmentStatus
from bot.training_record import (
    ClassRecord,
    ImportedCompletion,
    RecordFormat,
    SessionMark,
    TrainingRecord,
    by_year,
    file_name,
)
from handlers.training_record import attendance_text, record_text
from tools.emulator.entities import parse_html

NOW = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
LAN = Person(1, "Nguyễn Thị <Lan> & Đào", PersonSource.ROSTER, verified=True, source_pool=False,
             unit=UnitRef(3, "XA", "Xã Đồng Văn"))  # fmt: skip


def _class(number: int, sessions: int, start: datetime) -> ClassRecord:
    marks = [Mark.PRESENT, Mark.LATE, Mark.EXCUSED, Mark.ABSENT, None]
    return ClassRecord(
        class_id=number, code=f"L{number:04d}", name="Bồi dưỡng kiến thức " + "rất dài " * 12,
        kind=ClassKind.UPDATE, programme="Chương trình", plan_year=start.year,
        status=ClassStatus.FINISHED, enrolment=EnrolmentStatus.ENROLLED, completion_pct=80,
        starts_at=start, ends_at=start + timedelta(days=sessions),
        sessions=tuple(
            SessionMark(start + timedelta(days=d), start + timedelta(days=d, hours=4),
                        marks[d % len(marks)], held=True, topic="Chuyên đề")
            for d in range(sessions)
        ),
        outcome=Outcome.GOOD if number % 2 else None,
    )  # fmt: skip


def _long_record() -> TrainingRecord:
    classes = [
        _class(n, 30, datetime(2020 + n % 7, 3, 1, 1, tzinfo=UTC) + timedelta(days=n))
        for n in range(120)
    ]
    imported = [
        ImportedCompletion(f"Lớp cũ {n}", "Trung cấp", date(2018, 1, 1 + n)) for n in range(9)
    ]
    return TrainingRecord(LAN, NOW, by_year(classes, imported, UTC))


def test_a_long_record_fits_one_message_and_says_what_is_left_out() -> None:
    vi = texts("vi")
    text = record_text(vi, _long_record())
    parse_html(text)
    assert len(text) <= 4096
    assert "Nguyễn Thị &lt;Lan&gt; &amp; Đào" in text
    assert "<b>Năm 2026</b>" in text and "lớp khác" in text and "Các năm 2018–2025" in text


def test_a_short_record_is_shown_whole_and_an_empty_one_says_so() -> None:
    vi = texts("vi")
    short = TrainingRecord(LAN, NOW, by_year([_class(1, 3, NOW - timedelta(days=10))], [], UTC))
    text = record_text(vi, short)
    assert "lớp khác" not in text and "tham dự 2/3 buổi, 8 giờ" in text
    assert "Chưa có lớp học nào" in record_text(vi, TrainingRecord(LAN, NOW))


def test_a_long_class_shows_its_latest_sessions() -> None:
    record = _class(7, 400, NOW - timedelta(days=500))
    text = attendance_text(texts("vi"), ClassAttendance(LAN, record, record.standing))
    parse_html(text)
    assert len(text) <= 4096
    assert "buổi trước đó" in text and "Đã tham dự 160/400 buổi, cần ít nhất 320 buổi." in text


def test_files_are_named_without_diacritics_or_spaces() -> None:
    name = file_name("qua-trinh-hoc-tap", "Nguyễn Thị Đào", 2026, RecordFormat.PDF)
    assert name == "qua-trinh-hoc-tap-nguyen-thi-dao-2026.pdf"
    odd = file_name("training-record", "Lò <Văn> / Ẩn\u200b", 2025, RecordFormat.XLSX)
    assert odd == "training-record-lo-van-an-2025.xlsx"


def test_a_long_record_makes_a_pdf_of_several_numbered_pages() -> None:
    content = record_pdf(texts("vi"), _long_record(), "Trường Chính trị tỉnh")
    reader = pypdf.PdfReader(io.BytesIO(content))
    pages = len(reader.pages)
    assert pages > 3
    assert f"Trang {pages}/{pages}" in reader.pages[-1].extract_text()
