"""Report workbooks: a cover sheet, then a sheet per breakdown, streamed to a file so a sheet of
half a million rows takes no more memory than one of ten.

The caller gives plain data: a `Cover` (label/value lines: province, period, generated at,
by whom), then `Sheet`s, each with its `Column`s (title, width in characters, `Kind`), its rows
(any iterable, a generator included: each row is written as it comes, in openpyxl's write-only
mode), an optional bold totals row and note lines above the header. Every sheet gets a bold,
frozen header, its widths and the number formats offices expect: 2.668 (`#,##0`), 62,5%
(`0.0%`, from fractions: 0.625), 05/03/2026 (`dd/mm/yyyy`), 05/03/2026 08:30
(`dd/mm/yyyy hh:mm`); Excel and LibreOffice show the separators of the reader's locale.

Values are written as given, never as formulas ("=1+1" stays text); None leaves a cell empty,
as does a NaN. Aware datetimes are written in `tz` (Excel has no time zones). Sheet names are
made valid for Excel: at most 31 characters, none of []:*?/\\, unique whatever the case,
diacritics kept. The file appears whole or not at all (written beside it, then renamed).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder

from bot.i18n import DEFAULT_TIMEZONE

Value = str | int | float | Decimal | date | datetime | None


class Kind(StrEnum):
    """What a column holds, which decides how its numbers are shown."""

    TEXT = "text"
    INT = "int"
    PERCENT = "percent"  # fractions: 0.625 is shown 62.5%
    DATE = "date"
    DATETIME = "datetime"


FORMATS = {
    Kind.TEXT: "General",
    Kind.INT: "#,##0",
    Kind.PERCENT: "0.0%",
    Kind.DATE: "dd/mm/yyyy",
    Kind.DATETIME: "dd/mm/yyyy hh:mm",
}
#: Rows Excel holds in a sheet.
EXCEL_ROWS = 1_048_576
#: Characters Excel holds in a cell.
CELL_CHARS = 32_767
#: Characters (UTF-16 units) Excel allows in a sheet name.
NAME_UNITS = 31
#: Characters no XML file may hold (control characters, lone surrogates, U+FFFE/U+FFFF).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
NOT_IN_NAME = re.compile(r"[\[\]:*?/\\]")
#: A name Excel keeps for itself.
RESERVED_NAMES = frozenset({"history"})
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


@dataclass(frozen=True, slots=True)
class Column:
    """A sheet's column: its header, its width and what it holds."""

    title: str
    #: In characters, as Excel measures columns.
    width: float = 14
    kind: Kind = Kind.TEXT


@dataclass(frozen=True, slots=True)
class Sheet:
    """One breakdown. `rows` is read once, as the sheet is written; `totals`, if any, is
    the last row, in bold (the caller computes it, percents included)."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Value]]
    totals: Sequence[Value] | None = None
    #: Lines above the header (what the figures count, where they come from).
    notes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Cover:
    """The first sheet: a title, then a label and its value a line."""

    name: str
    lines: Sequence[tuple[str, Value]]
    title: str | None = None
    widths: tuple[float, float] = (28, 48)


def write_workbook(
    path: Path, cover: Cover, sheets: Iterable[Sheet], tz: tzinfo = DEFAULT_TIMEZONE
) -> Path:
    """Writes the workbook to `path` (replacing a file there only once it is complete) and
    returns it. A sheet with more rows than Excel holds is refused (ValueError)."""
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    book = Workbook(write_only=True)
    try:
        taken: set[str] = set()
        _cover(_sheet(book, cover.name, taken), cover, tz)
        for sheet in sheets:
            _write(_sheet(book, sheet.name, taken), sheet, tz)
        book.save(part)
        os.replace(part, path)
    except BaseException:
        # Saving closes the sheets written so far and removes openpyxl's temporary files.
        with contextlib.suppress(Exception):
            book.save(part)
        part.unlink(missing_ok=True)
        raise
    return path


def sheet_name(name: str, taken: set[str]) -> str:
    """`name` as Excel accepts it, unlike those in `taken` (folded); adds it to `taken`."""
    clean = " ".join(NOT_IN_NAME.sub(" ", _text(unicodedata.normalize("NFC", name))).split())
    base = _cut(clean.strip("'").strip(), NAME_UNITS) or str(len(taken) + 1)
    candidate, number = base, 1
    while candidate.casefold() in taken | RESERVED_NAMES:
        number += 1
        suffix = f" ({number})"
        candidate = _cut(base, NAME_UNITS - len(suffix)).rstrip() + suffix
    taken.add(candidate.casefold())
    return candidate


def _cut(text: str, units: int) -> str:
    """The longest start of `text` that is at most `units` UTF-16 units (Excel's count)."""
    while len(text.encode("utf-16-le")) > units * 2:
        text = text[:-1]
    return text


def _sheet(book: Workbook, name: str, taken: set[str]) -> WriteOnlyWorksheet:
    sheet = book.create_sheet(sheet_name(name, taken))
    assert isinstance(sheet, WriteOnlyWorksheet)
    return sheet


def _widths(sheet: WriteOnlyWorksheet, widths: Iterable[float]) -> None:
    """Column widths, set before the first row (they are written ahead of the rows)."""
    # A write-only sheet has column dimensions, which the openpyxl stubs leave out.
    columns: DimensionHolder[str, ColumnDimension] = sheet.column_dimensions  # type: ignore[attr-defined]
    for number, width in enumerate(widths, start=1):
        columns[get_column_letter(number)].width = width


def _text(value: str) -> str:
    return NOT_XML.sub("", value)[:CELL_CHARS]


def _cover(sheet: WriteOnlyWorksheet, cover: Cover, tz: tzinfo) -> None:
    _widths(sheet, cover.widths)
    if cover.title is not None:
        sheet.append([_styled(sheet, Kind.TEXT, cover.title, tz, TITLE)])
        sheet.append([])
    for label, value in cover.lines:
        kind = _kind_of(value)
        sheet.append([_styled(sheet, Kind.TEXT, label, tz, BOLD), _styled(sheet, kind, value, tz)])


def _kind_of(value: Value) -> Kind:
    if isinstance(value, datetime):
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    if isinstance(value, int):
        return Kind.INT
    return Kind.TEXT


def _write(sheet: WriteOnlyWorksheet, data: Sheet, tz: tzinfo) -> None:
    columns = list(data.columns)
    _widths(sheet, [column.width for column in columns])
    header_row = len(data.notes) + 2 if data.notes else 1
    # Must be set before the first row: the sheet's view is written with it.
    sheet.freeze_panes = f"A{header_row + 1}"
    for note in data.notes:
        sheet.append([_styled(sheet, Kind.TEXT, note, tz)])
    if data.notes:
        sheet.append([])
    header = Alignment(wrap_text=True, vertical="center")
    sheet.append([_styled(sheet, Kind.TEXT, c.title, tz, BOLD, header) for c in columns])
    cells = [_Cell(sheet, column.kind, tz) for column in columns]
    room = EXCEL_ROWS - header_row - (data.totals is not None)
    for count, row in enumerate(data.rows, start=1):
        if count > room:
            raise ValueError(f"sheet {sheet.title!r} has more rows than Excel holds")
        if len(row) > len(cells):
            raise ValueError(f"a row of sheet {sheet.title!r} has more values than columns")
        sheet.append([fill(value) for fill, value in zip(cells, row, strict=False)])
    if data.totals is not None:
        if len(data.totals) > len(columns):
            raise ValueError(f"the totals of sheet {sheet.title!r} outnumber its columns")
        sheet.append([
            _styled(sheet, column.kind, value, tz, BOLD)
            for column, value in zip(columns, data.totals, strict=False)
        ])  # fmt: skip


class _Cell:
    """A column's styled cell, refilled for each row: write-only sheets write a row out as it
    is appended, so one cell serves the whole column (styling half a million cells one by one
    would take most of the time)."""

    def __init__(self, sheet: WriteOnlyWorksheet, kind: Kind, tz: tzinfo) -> None:
        self.sheet, self.kind, self.tz = sheet, kind, tz
        self.cell = WriteOnlyCell(sheet)
        self.cell.number_format = FORMATS[kind]

    def __call__(self, value: Value) -> Cell | None:
        value = _value(self.kind, value, self.tz)
        if value is None:
            return None
        if isinstance(value, date) != (self.kind in (Kind.DATE, Kind.DATETIME)):
            # A date in another column (or a number in a date's) keeps its own format.
            return _styled(self.sheet, _kind_of(value), value, self.tz)
        return _filled(self.cell, value)


def _value(kind: Kind, value: Value, tz: tzinfo) -> Value:
    """What Excel can hold: local times without a zone, a day in a date column, no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(tz).replace(tzinfo=None)
        return value.date() if kind is Kind.DATE else value
    return value


def _filled(cell: Cell, value: Value) -> Cell:
    if isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = "s"  # "=…" or "#N/A" would be a formula or an error
    else:
        cell.value = value
    return cell


def _styled(
    sheet: WriteOnlyWorksheet,
    kind: Kind,
    value: Value,
    tz: tzinfo,
    font: Font | None = None,
    alignment: Alignment | None = None,
) -> Cell | None:
    """A cell of its own: headers, totals, the cover."""
    value = _value(kind, value, tz)
    if value is None:
        return None
    cell = WriteOnlyCell(sheet)
    if isinstance(value, date) == (kind in (Kind.DATE, Kind.DATETIME)):
        cell.number_format = FORMATS[kind]
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    return _filled(cell, value)
