"""Reading the office's files: XLSX (python-calamine, fast and light on 50,000 rows) and CSV
in the encodings Vietnamese offices produce, into text rows matched to a kind's columns.

Headers are matched by their catalog texts in every language, folded (no diacritics, case or
extra spaces), so "HO VA TEN", "Họ và tên" and "Full name" all name the same column.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
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
SPREADSHEETS = (".xlsx",)
TEXT_TABLES = (".csv",)
#: Old Excel's workbooks (and Word's files): what a renamed .xls starts with.
_OLE = b"\xd0\xcf\x11\xe0"
#: Encodings tried in order: UTF-8 (with or without BOM), then Windows-1258, the Vietnamese
#: code page older Excel writes CSV in.
_ENCODINGS = ("utf-8-sig", "cp1258")
_DELIMITERS = ",;\t"


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet: its name and its rows, read when matched (a 50,000-row sheet is never held
    twice: each row becomes a SourceRow as it is read)."""

    name: str
    rows: Callable[[], Iterator[Sequence[Any]]]


@dataclass(frozen=True, slots=True)
class Matched:
    """A table's rows under a kind's columns; `missing` required column keys; `ignored` the
    headers no column has (said in the dry run); `header_row` None for an empty table."""

    rows: list[SourceRow]
    missing: list[str]
    ignored: list[str]
    header_row: int | None = 1


def read_tables(data: bytes, file_name: str) -> list[Table]:
    """Every sheet of a workbook, or the one table of a CSV; anything else is refused."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("import.file_too_large", mb=MAX_BYTES // (1024 * 1024))
    name = file_name.lower()
    if name.endswith(".xls"):
        raise InvalidInput("import.file_xls")
    if name.endswith(SPREADSHEETS):
        return _workbook(data)
    if name.endswith(TEXT_TABLES):
        return [_csv_table(data)]
    raise InvalidInput("import.file_kind")


def header_forms(kind: ImportKind, columns: Sequence[Column]) -> dict[str, str]:
    """Folded header text → column key, for every catalog language."""
    forms: dict[str, str] = {}
    for column in columns:
        for lang in LANGUAGES:
            forms[fold(t(lang, f"import.col.{kind.value}.{column.key}"))] = column.key
    return forms


def match(table: Table, kind: ImportKind, columns: Sequence[Column]) -> Matched:
    """The rows under the header row (the first non-empty one), as SourceRows numbered as
    the office sees them (the sheet's first row is 1); empty rows skipped."""
    forms = header_forms(kind, columns)
    positions: dict[str, int] = {}
    ignored: list[str] = []
    rows: list[SourceRow] = []
    repeated: dict[str, str] = {}
    keys: dict[str, int] = {}
    header_row: int | None = None
    for number, raw in enumerate(table.rows(), 1):
        if header_row is None:
            header = [_cell(value) for value in raw]
            if not any(header):
                continue
            header_row = number
            for index, text in enumerate(header):
                key = forms.get(fold(text))
                if key is not None and key not in positions:
                    positions[key] = index
                elif text:
                    ignored.append(text)
            keys = {key: n for n, key in enumerate(positions)}
            continue
        width = len(raw)
        values = tuple(
            repeated.setdefault(text, text)  # one copy of "Nam", a unit code, "Công chức"…
            for text in (_cell(raw[i]) if i < width else "" for i in positions.values())
        )
        if any(values):
            rows.append(SourceRow(number, Cells(keys, values)))
            if len(rows) > MAX_ROWS:
                raise InvalidInput("import.too_many_rows", max=MAX_ROWS)
    if header_row is None:
        return Matched([], [], [], None)
    missing = [c.key for c in columns if c.required and c.key not in positions]
    return Matched(rows, missing, ignored, header_row)


class Cells(Mapping[str, str]):
    """A row's cells by column key: the values in a tuple, the keys shared by every row of
    the table (a dict per row would take three times the memory on 50,000 rows)."""

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: Mapping[str, int], values: tuple[str, ...]) -> None:
        self._keys = keys
        self._values = values

    def __getitem__(self, key: str) -> str:
        return self._values[self._keys[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


# --- XLSX -------------------------------------------------------------------------------------


def _workbook(data: bytes) -> list[Table]:
    if data.startswith(_OLE):  # an old .xls renamed to .xlsx
        raise InvalidInput("import.file_xls")
    if not data.startswith(b"PK"):  # an XLSX is a zip; a renamed .xls, .doc or PDF is not
        raise InvalidInput("import.file_broken")
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
    except (CalamineError, ValueError, TypeError) as exc:
        raise InvalidInput("import.file_broken") from exc

    def rows_of(sheet_name: str) -> Callable[[], Iterator[Sequence[Any]]]:
        def rows() -> Iterator[Sequence[Any]]:
            try:
                sheet = book.get_sheet_by_name(sheet_name)
                start = sheet.start
                # Rows above the used range are not in it: they count in the numbering.
                yield from [[]] * (start[0] if start else 0)
                yield from sheet.iter_rows()
            except (CalamineError, ValueError, TypeError) as exc:
                raise InvalidInput("import.file_broken") from exc

        return rows

    return [Table(name, rows_of(name)) for name in names]


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


def _csv_table(data: bytes) -> Table:
    if b"\x00" in data[:4096]:  # UTF-16, a renamed workbook or picture: not a text table
        raise InvalidInput("import.file_kind")
    text = _decode(data)
    sample = text[:20_000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        firsts = sample.split("\n", 1)[0]
        delimiter = max(_DELIMITERS, key=firsts.count)

    def rows() -> Iterator[Sequence[Any]]:
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    return Table("", rows)


def _decode(data: bytes) -> str:
    """Text in NFC whatever wrote it (Windows-1258 writes tones as combining marks)."""
    for encoding in _ENCODINGS:
        try:
            return unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise InvalidInput("import.file_encoding")
