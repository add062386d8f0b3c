"""Reading the office's files: XLSX (python-calamine, fast and light on 50,000 rows) and CSV
in the encodings Vietnamese offices produce, into text rows matched to a kind's columns.

Headers are matched by their catalog texts in every language, folded (no diacritics, case or
extra spaces), so "HO VA TEN", "Họ và tên" and "Full name" all name the same column.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from bot.errors import InvalidInput
from bot.i18n import LANGUAGES, t
from bot.imports.model import Column, ImportKind, SourceRow
from bot.text_search import fold

#: What getFile lets a bot download.
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
SPREADSHEETS = (".xlsx", ".xlsm")
TEXT_TABLES = (".csv", ".txt")
#: Encodings tried in order: UTF-8 (with or without BOM), then Windows-1258, the Vietnamese
#: code page older Excel writes CSV in.
_ENCODINGS = ("utf-8-sig", "cp1258")
_DELIMITERS = ",;\t"


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet as text: its name and its non-empty rows with their numbers in the sheet."""

    name: str
    rows: list[tuple[int, list[str]]]


@dataclass(frozen=True, slots=True)
class Matched:
    """A table's rows under a kind's columns; `missing` required column keys; `ignored` the
    headers no column has (said in the dry run)."""

    rows: list[SourceRow]
    missing: list[str]
    ignored: list[str]
    header_row: int = 1


def read_tables(data: bytes, file_name: str) -> list[Table]:
    """Every sheet of a workbook, or the one table of a CSV; anything else is refused."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("import.file_too_large", mb=MAX_BYTES // (1024 * 1024))
    name = file_name.lower()
    if name.endswith(SPREADSHEETS):
        return _workbook(data)
    if name.endswith(TEXT_TABLES):
        return [Table("", _numbered(_csv_rows(data)))]
    raise InvalidInput("import.file_kind")


def header_forms(kind: ImportKind, columns: Sequence[Column]) -> dict[str, str]:
    """Folded header text → column key, for every catalog language."""
    forms: dict[str, str] = {}
    for column in columns:
        for lang in LANGUAGES:
            forms[fold(t(lang, f"import.col.{kind.value}.{column.key}"))] = column.key
    return forms


def match(table: Table, kind: ImportKind, columns: Sequence[Column]) -> Matched:
    """The rows under the header row (the first non-empty one), as SourceRows."""
    if not table.rows:
        return Matched([], [c.key for c in columns if c.required], [])
    forms = header_forms(kind, columns)
    (_, header), body = table.rows[0], table.rows[1:]
    if len(body) > MAX_ROWS:
        raise InvalidInput("import.too_many_rows", max=MAX_ROWS)
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, text in enumerate(header):
        key = forms.get(fold(text))
        if key is not None and key not in positions:
            positions[key] = index
        elif text:
            ignored.append(text)
    missing = [c.key for c in columns if c.required and c.key not in positions]
    rows = [
        SourceRow(number, {key: cells[i] if i < len(cells) else "" for key, i in positions.items()})
        for number, cells in body
    ]
    kept = [r for r in rows if any(r.cells.values())]
    return Matched(kept, missing, ignored, table.rows[0][0])


# --- XLSX -------------------------------------------------------------------------------------


def _workbook(data: bytes) -> list[Table]:
    if not data.startswith(b"PK"):  # an XLSX is a zip; a renamed .xls, .doc or PDF is not
        raise InvalidInput("import.file_broken")
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        tables = []
        for sheet_name in book.sheet_names:
            sheet = book.get_sheet_by_name(sheet_name)
            rows = _numbered(([_cell(v) for v in row] for row in sheet.iter_rows()), sheet.start)
            tables.append(Table(sheet_name, rows))
    except (CalamineError, ValueError, TypeError) as exc:
        raise InvalidInput("import.file_broken") from exc
    return tables


def _numbered(
    rows: Iterable[list[str]], start: tuple[int, int] | None = None
) -> list[tuple[int, list[str]]]:
    """Non-empty rows with their numbers as the office sees them (the first row is 1)."""
    first_row = start[0] if start else 0
    first_column = start[1] if start else 0
    kept = []
    for index, cells in enumerate(rows):
        if any(cells):
            kept.append((first_row + index + 1, [""] * first_column + cells))
            if len(kept) > MAX_ROWS + 1:
                raise InvalidInput("import.too_many_rows", max=MAX_ROWS)
    return kept


def _cell(value: Any) -> str:
    """A cell as the office reads it: dates dd/mm/yyyy, whole numbers without ".0"."""
    match value:
        case str():
            return " ".join(unicodedata.normalize("NFC", value).split())
        case bool():
            return "1" if value else "0"
        case int():
            return str(value)
        case float():
            return str(int(value)) if value.is_integer() else repr(value)
        case datetime():
            if value.time() == time(0):
                return value.strftime("%d/%m/%Y")
            return value.strftime("%d/%m/%Y %H:%M")
        case date():
            return value.strftime("%d/%m/%Y")
        case time():
            return value.strftime("%H:%M")
        case timedelta():
            minutes = int(value.total_seconds()) // 60
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        case _:
            return ""


# --- CSV --------------------------------------------------------------------------------------


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    if b"\x00" in data[:4096]:  # UTF-16, a renamed workbook or picture: not a text table
        raise InvalidInput("import.file_kind")
    text = _decode(data)
    sample = text[:20_000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        firsts = sample.split("\n", 1)[0]
        delimiter = max(_DELIMITERS, key=firsts.count)
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [" ".join(cell.split()) for cell in row]


def _decode(data: bytes) -> str:
    """Text in NFC whatever wrote it (Windows-1258 writes tones as combining marks)."""
    for encoding in _ENCODINGS:
        try:
            return unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise InvalidInput("import.file_encoding")
