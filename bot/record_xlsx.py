"""A training record as a workbook: the classes year by year with their figures and totals,
and every session with its mark; headers frozen, dates and times local, as offices use them."""

from __future__ import annotations

import io
from datetime import date, datetime, tzinfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import Texts
from bot.record_labels import grade, plain, position, result, session_state
from bot.training_record import TrainingRecord

DATE = "dd/mm/yyyy"
TIME = "hh:mm"
HOURS = "0.0"
BOLD = Font(bold=True)
#: The classes sheet: each column's header and width.
CLASSES = (
    ("record.col_year", 7), ("record.col_code", 12), ("record.col_name", 40),
    ("record.col_kind", 26), ("record.col_programme", 32), ("record.col_from", 12),
    ("record.col_to", 12), ("record.col_held", 11), ("record.col_attended", 11),
    ("record.col_late", 9), ("record.col_excused", 11), ("record.col_unexcused", 11),
    ("record.col_hours", 9), ("record.col_result", 28),
)  # fmt: skip
SESSIONS = (
    ("record.col_year", 7), ("record.col_code", 12), ("record.col_name", 40),
    ("record.col_session", 8), ("record.col_day", 12), ("record.col_start", 9),
    ("record.col_end", 9), ("record.col_topic", 36), ("record.col_mark", 18),
    ("record.col_hours", 9),
)  # fmt: skip


def record_xlsx(texts: Texts, record: TrainingRecord, issuer: str, tz: tzinfo) -> bytes:
    book = Workbook()
    classes = book.active
    assert classes is not None
    _classes(classes, texts, record, issuer, tz)
    _sessions(book.create_sheet(), texts, record, tz)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _local_day(moment: datetime | None, tz: tzinfo) -> date | None:
    return moment.astimezone(tz).date() if moment else None


def _header(sheet: Worksheet, texts: Texts, columns: tuple[tuple[str, int], ...], row: int) -> None:
    """Bold, wrapped headers in `row`, frozen with everything above; each column's width."""
    for number, (key, width) in enumerate(columns, start=1):
        cell = sheet.cell(row, number, plain(texts, key))
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = f"A{row + 1}"


def _classes(
    sheet: Worksheet, texts: Texts, record: TrainingRecord, issuer: str, tz: tzinfo
) -> None:
    sheet.title = plain(texts, "record.sheet_classes")
    person = record.person
    about = [
        issuer,
        plain(texts, "record.title"),
        plain(texts, "record.name", name=person.full_name),
        plain(texts, "record.unit", unit=person.unit.label if person.unit else "—"),
        plain(texts, "record.position", title=position(person) or "—"),
        plain(texts, "record.grade", grade=grade(texts, person) or "—"),
        plain(texts, "record.generated", at=record.generated_at),
    ]
    for row, line in enumerate(about, start=1):
        sheet.cell(row, 1, line).font = BOLD if row == 2 else Font()
    header = len(about) + 2
    _header(sheet, texts, CLASSES, header)
    for year in record.years:
        for entry in year.classes:
            kind = plain(texts, f"training.kind_{entry.kind.value}")
            sheet.append([
                year.year, entry.code, entry.name, kind, entry.programme,
                _local_day(entry.starts_at, tz), _local_day(entry.ends_at, tz),
                entry.held, entry.attended, entry.late, entry.excused, entry.unexcused,
                round(entry.hours, 1), result(texts, entry, record.generated_at),
            ])  # fmt: skip
        for done in year.imported:
            sheet.append([
                year.year, None, done.class_name, None, done.programme, None, done.completed_on,
                None, None, None, None, None, None, plain(texts, "record.imported"),
            ])  # fmt: skip
    sheet.append([])
    totals = [*record.years, record.totals] if len(record.years) > 1 else list(record.years)
    for year in totals:
        label = plain(texts, "record.year", year=year.year) if year.year else None
        sheet.append([
            label or plain(texts, "record.all_years"), None, plain(texts, "record.totals_short",
            classes=year.class_count, completed=year.completed), None, None, None, None,
            year.held, year.attended, None, None, None, round(year.hours, 1),
        ])  # fmt: skip
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD
    _formats(sheet, header, dates=(6, 7), hours=13)


def _sessions(sheet: Worksheet, texts: Texts, record: TrainingRecord, tz: tzinfo) -> None:
    sheet.title = plain(texts, "record.sheet_sessions")
    _header(sheet, texts, SESSIONS, 1)
    for year in record.years:
        for entry in year.classes:
            for number, session in enumerate(entry.sessions, start=1):
                start, end = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
                sheet.append([
                    year.year, entry.code, entry.name, number, start.date(),
                    start.time().replace(tzinfo=None), end.time().replace(tzinfo=None),
                    session.topic, session_state(texts, session),
                    round(session.hours, 1) if session.attended else 0,
                ])  # fmt: skip
    _formats(sheet, 1, dates=(5,), hours=10, times=(6, 7))


def _formats(
    sheet: Worksheet,
    header: int,
    *,
    dates: tuple[int, ...],
    hours: int,
    times: tuple[int, ...] = (),
) -> None:
    for row in sheet.iter_rows(min_row=header + 1):
        for cell in row:
            column = int(cell.column or 0)
            if column in dates:
                cell.number_format = DATE
            elif column in times:
                cell.number_format = TIME
            elif column == hours:
                cell.number_format = HOURS
