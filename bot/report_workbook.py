"""Report workbooks: a cover sheet, then a sheet per breakdown, streamed to a file so a sheet of
half a million rows takes no more memory than one of ten.

The caller gives plain data: a `Cover` (label/value lines: province, period, generated at,
by whom), then `Sheet`s, each with its `Column`s (title, width in characters, `Kind`), its rows
(any iterable, a generator included: each row is written as it comes, by XlsxWriter in its
constant-memory mode), an optional bold totals row and note lines above the header. Every sheet
gets a bold, frozen header, its widths and the number formats offices expect: 2.668 (`#,##0`),
62,5% (`0.0%`, from fractions: 0.625), 05/03/2026 (`dd/mm/yyyy`), 05/03/2026 08:30
(`dd/mm/yyyy hh:mm`); Excel and LibreOffice show the separators of the reader's locale.

Values are written as given, never as formulas ("=1+1" stays text); None leaves a cell empty,
as does a NaN. Aware datetimes are written in `tz` (Excel has no time zones). Sheet names are
made valid for Excel: at most 31 characters, none of []:*?/\\, unique whatever the case,
diacritics kept. The file appears whole or not at all (written beside it, then renamed).

`Book` is the same writer for rows that arrive in chunks (the audit export) rather than from
one iterable.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, Any

import xlsxwriter  # type: ignore[import-untyped]

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
DATES = frozenset({Kind.DATE, Kind.DATETIME})
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
#: Rows go to disk as they are written; text is never read as a formula, a number or a link.
OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


class Style(Enum):
    """How a cell's text looks, beside its number format."""

    PLAIN = ()
    BOLD = (("bold", True),)
    HEADER = (("bold", True), ("text_wrap", True), ("valign", "vcenter"))
    TITLE = (("bold", True), ("font_size", 14))


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
    book = Book(part, tz)
    try:
        book.cover(cover)
        for sheet in sheets:
            rows = book.sheet(sheet.name, sheet.columns, sheet.notes)
            for values in sheet.rows:
                rows.append(values)
            if sheet.totals is not None:
                rows.totals(sheet.totals)
        book.close()
        os.replace(part, path)
    except BaseException:
        book.discard()
        part.unlink(missing_ok=True)
        raise
    return path


class Book:
    """A workbook written one sheet after another, row by row, in constant memory: each sheet's
    rows wait in a scratch file of their own until `close` packs them into the workbook."""

    def __init__(self, target: Path | IO[bytes], tz: tzinfo = DEFAULT_TIMEZONE) -> None:
        self.tz = tz
        # A directory of our own, so that a failed write leaves no scratch file behind.
        self._scratch = tempfile.TemporaryDirectory(prefix="workbook-")
        where = str(target) if isinstance(target, Path) else target
        self._book = xlsxwriter.Workbook(where, {**OPTIONS, "tmpdir": self._scratch.name})
        self._formats: dict[tuple[Style, Kind], Any] = {}
        self._taken: set[str] = set()
        self._closed = False

    def cover(self, cover: Cover) -> None:
        """The first sheet: the title, a blank line, then a bold label and its value a line."""
        sheet = self._add(cover.name, cover.widths)
        row = 0
        if cover.title is not None:
            self._put(sheet, 0, 0, Kind.TEXT, cover.title, Style.TITLE)
            row = 2
        for label, value in cover.lines:
            self._put(sheet, row, 0, Kind.TEXT, label, Style.BOLD)
            self._put(sheet, row, 1, _kind_of(value), value, Style.PLAIN)
            row += 1

    def sheet(self, name: str, columns: Sequence[Column], notes: Sequence[str] = ()) -> Rows:
        """A new sheet: its notes, a blank line if there are notes, then its bold header, frozen
        with all above it; the rows follow."""
        sheet = self._add(name, [column.width for column in columns])
        header = len(notes) + 1 if notes else 0
        sheet.freeze_panes(header + 1, 0)
        for row, note in enumerate(notes):
            self._put(sheet, row, 0, Kind.TEXT, note, Style.PLAIN)
        for col, column in enumerate(columns):
            self._put(sheet, header, col, Kind.TEXT, column.title, Style.HEADER)
        return Rows(self, sheet, [column.kind for column in columns], header + 1)

    def close(self) -> None:
        """Writes the workbook out whole."""
        try:
            self._book.close()
        finally:
            self._closed = True
            self._scratch.cleanup()

    def discard(self) -> None:
        """Gives up a workbook that failed half-way: its scratch files are closed and removed
        (what it wrote to the target, if anything, is for the caller to remove)."""
        if not self._closed:
            with contextlib.suppress(Exception):
                self._book.close()  # the only public way to close the sheets' scratch files
            self._closed = True
        self._scratch.cleanup()

    def _add(self, name: str, widths: Iterable[float]) -> Any:
        sheet = self._book.add_worksheet(sheet_name(name, self._taken))
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        return sheet

    def _format(self, style: Style, kind: Kind) -> Any:
        """The workbook's format for a style and a kind, made once (None: the default)."""
        key = (style, kind)
        if key not in self._formats:
            properties: dict[str, object] = dict(style.value)
            if kind is not Kind.TEXT:
                properties["num_format"] = FORMATS[kind]
            self._formats[key] = self._book.add_format(properties) if properties else None
        return self._formats[key]

    def _put(self, sheet: Any, row: int, col: int, kind: Kind, value: Value, style: Style) -> None:
        """Writes a value as what it is: text as text, whatever it looks like; a date in another
        column (or a number in a date's) keeps its own format."""
        value = _value(kind, value, self.tz)
        if value is None:
            return
        if isinstance(value, date) != (kind in DATES):
            kind = _kind_of(value)
        cell_format = self._format(style, kind)
        if isinstance(value, str):
            if text := _text(value):
                sheet.write_string(row, col, text, cell_format)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, cell_format)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value, cell_format)
        elif isinstance(value, Decimal):
            sheet.write_number(row, col, float(value), cell_format)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, value, cell_format)
        else:
            raise ValueError(f"sheet {sheet.name!r} cannot hold a {type(value).__name__}")


class Rows:
    """A sheet's rows below its header, each written out as it is appended."""

    def __init__(self, book: Book, sheet: Any, kinds: Sequence[Kind], first: int) -> None:
        self.book, self.sheet, self.kinds = book, sheet, tuple(kinds)
        self.next = first
        # Each column's own format, and whether it holds days: most cells need nothing else.
        self._formats = [book._format(Style.PLAIN, kind) for kind in self.kinds]
        self._numbers = [kind not in DATES for kind in self.kinds]

    def append(self, values: Sequence[Value], style: Style = Style.PLAIN) -> None:
        """The next row; more rows than Excel holds, or more values than columns: ValueError."""
        if self.next >= EXCEL_ROWS:
            raise ValueError(f"sheet {self.sheet.name!r} has more rows than Excel holds")
        if len(values) > len(self.kinds):
            raise ValueError(f"a row of sheet {self.sheet.name!r} has more values than columns")
        row, sheet, put, tz = self.next, self.sheet, self.book._put, self.book.tz
        kinds, formats, numbers = self.kinds, self._formats, self._numbers
        plain = style is Style.PLAIN
        for col, value in enumerate(values):
            if value is None:
                continue
            # The common cells straight to XlsxWriter (a year's report has half a million);
            # days among numbers, odd values and bold rows through `_put`.
            cls = value.__class__
            if plain and numbers[col] and (cls is str or cls is int or cls is float):
                if isinstance(value, str):
                    if text := _text(value):
                        sheet.write_string(row, col, text, formats[col])
                elif not isinstance(value, float) or math.isfinite(value):
                    sheet.write_number(row, col, value, formats[col])
            elif plain and cls is date and not numbers[col]:
                sheet.write_datetime(row, col, value, formats[col])
            elif plain and isinstance(value, datetime) and kinds[col] is Kind.DATETIME:
                if value.tzinfo is not None:
                    value = value.astimezone(tz).replace(tzinfo=None)
                sheet.write_datetime(row, col, value, formats[col])
            else:
                put(sheet, row, col, kinds[col], value, style)
        self.next += 1

    def totals(self, values: Sequence[Value]) -> None:
        """The last row, in bold."""
        if len(values) > len(self.kinds):
            raise ValueError(f"the totals of sheet {self.sheet.name!r} outnumber its columns")
        self.append(values, Style.BOLD)


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


def _text(value: str) -> str:
    return NOT_XML.sub("", value)[:CELL_CHARS]


def _kind_of(value: Value) -> Kind:
    if isinstance(value, datetime):
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    if isinstance(value, int):
        return Kind.INT
    return Kind.TEXT


def _value(kind: Kind, value: Value, tz: tzinfo) -> Value:
    """What Excel can hold: local times without a zone, a day in a date column, no NaN."""
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(tz).replace(tzinfo=None)
        return value.date() if kind is Kind.DATE else value
    return value
