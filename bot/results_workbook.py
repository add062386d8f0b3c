"""The results workbook the training office fills: built from a class's sheet, and read back
row by row, every row checked before anything is saved (the service saves them all or none).

The layout is fixed: a title, the class code (also in a hidden sheet, so a workbook of another
class is recognised), a note, the headers, then one learner per row. Only the person's id, the
result and the exception are read; the rest is there for the people filling it in. Errors name
the row as Excel numbers it and the column by its header.
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from bot.attendance import Outcome
from bot.errors import InvalidInput
from bot.i18n import LANGUAGES, Texts, t
from bot.text_search import fold

#: A workbook larger than this is refused unread.
MAX_BYTES = 5 * 1024 * 1024
#: Learners' rows read at most (a class has far fewer).
MAX_ROWS = 5_000
#: Rows looked at in all, blank ones included: a file cannot keep the reader going forever.
BLANK_ROWS_MAX = 20 * MAX_ROWS
#: The hidden sheet holding what identifies the workbook.
META_SHEET = "meta"
META_MARK = "cadre-bot:results:v1"
CODE_ROW = 2
HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1


class Column(StrEnum):
    """The template's columns, in order; each has a header in the catalogs."""

    NUMBER = "number"
    PERSON = "person"
    NAME = "name"
    UNIT = "unit"
    ATTENDED = "attended"
    ELIGIBLE = "eligible"
    OUTCOME = "outcome"
    EXCEPTION = "exception"

    @property
    def position(self) -> int:
        """0-based position in a row."""
        return list(Column).index(self)

    @property
    def letter(self) -> str:
        return get_column_letter(self.position + 1)


WIDTHS = {
    Column.NUMBER: 6, Column.PERSON: 14, Column.NAME: 30, Column.UNIT: 32,
    Column.ATTENDED: 16, Column.ELIGIBLE: 14, Column.OUTCOME: 20, Column.EXCEPTION: 12,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One learner as the template shows them."""

    person_id: int
    name: str
    unit: str | None
    attended: int
    total: int
    met: bool
    outcome: Outcome | None
    override: bool


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one cell: its row (as Excel numbers it), its column, and why."""

    row: int
    column: Column
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FilledRow:
    row: int
    person_id: int
    outcome: Outcome
    override: bool


@dataclass(frozen=True, slots=True)
class Filled:
    """The rows with a result filled in, and what is wrong with the others."""

    rows: list[FilledRow]
    errors: list[RowError]


def _forms(key: str) -> set[str]:
    """A catalog word in every language, folded: typed with or without diacritics."""
    return {fold(t(lang, key)) for lang in LANGUAGES}


def outcome_of(text: str) -> Outcome | None:
    """The outcome a cell names ("Giỏi", "gioi", "XUẤT SẮC", "Very good"), if any."""
    typed = fold(text)
    return next((o for o in Outcome if typed in _forms(f"results.outcome.{o.value}")), None)


def _yes_no(text: str) -> bool | None:
    typed = fold(text)
    if typed in _forms("results.yes") | {"x"}:
        return True
    if typed in _forms("results.no") | {""}:
        return False
    return None


# --- the template -------------------------------------------------------------------------------


def template(texts: Texts, code: str, name: str, pct: int, rows: Sequence[TemplateRow]) -> bytes:
    """The workbook of one class: existing results filled in, a list to pick each result."""

    def plain(key: str, **params: Any) -> str:  # catalog texts escape for Telegram's HTML
        return html.unescape(texts(key, **params))

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = plain("results.wb_sheet")
    last = get_column_letter(len(Column))
    sheet["A1"] = plain("results.wb_title", code=code, name=name)
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.merge_cells(f"A1:{last}1")
    sheet[f"A{CODE_ROW}"] = plain("results.wb_code")
    sheet[f"B{CODE_ROW}"] = code
    sheet[f"B{CODE_ROW}"].font = Font(bold=True)
    sheet["A3"] = plain("results.wb_note", pct=pct)
    sheet["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(f"A3:{last}3")
    sheet.row_dimensions[3].height = 48
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for column in Column:
        cell = sheet.cell(HEADER_ROW, column.position + 1, plain(f"results.column.{column.value}"))
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[column.letter].width = WIDTHS[column]
    yes, no = plain("results.yes"), plain("results.no")
    for number, row in enumerate(rows, 1):
        outcome = plain(f"results.outcome.{row.outcome.value}") if row.outcome else None
        sheet.append([
            number, row.person_id, row.name, row.unit or "", f"{row.attended}/{row.total}",
            yes if row.met else no, outcome, yes if row.override else None,
        ])  # fmt: skip
    end = max(FIRST_ROW + len(rows) - 1, FIRST_ROW)
    outcomes = ",".join(plain(f"results.outcome.{o.value}") for o in Outcome)
    for column, choices in ((Column.OUTCOME, outcomes), (Column.EXCEPTION, f"{yes},{no}")):
        listed = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        listed.error = plain("results.wb_pick")
        listed.showErrorMessage = True
        sheet.add_data_validation(listed)
        listed.add(f"{column.letter}{FIRST_ROW}:{column.letter}{end}")
    sheet.freeze_panes = f"A{FIRST_ROW}"
    meta = book.create_sheet(META_SHEET)
    meta["A1"], meta["A2"] = META_MARK, code
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading it back ----------------------------------------------------------------------------


def read(data: bytes, code: str) -> Filled:
    """The filled rows of the workbook of class `code`. A file that is not such a workbook is
    refused (InvalidInput); what is wrong with single rows is listed, every row checked."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("results.file_too_large", mb=MAX_BYTES // (1024 * 1024))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidInput("results.file_not_xlsx")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign file
        raise InvalidInput("results.file_not_xlsx") from exc
    try:
        found = _code_of(book)
        if found is None:
            raise InvalidInput("results.file_not_template")
        if found != code:
            raise InvalidInput("results.file_other_class", found=found[:40], code=code)
        cells = book.worksheets[0].iter_rows(
            min_row=FIRST_ROW, max_col=len(Column), values_only=True
        )
        return _rows(enumerate(cells, FIRST_ROW))
    finally:
        book.close()


def _code_of(book: Any) -> str | None:
    """The class code the workbook was made for: in the hidden sheet, else the visible cell."""
    if META_SHEET in book.sheetnames:
        meta = book[META_SHEET].iter_rows(max_row=2, max_col=1, values_only=True)
        values = [_text(row[0]) if row else "" for row in meta]
        if len(values) == 2 and values[0] == META_MARK and values[1]:
            return values[1]
    if not book.worksheets:
        return None
    visible = book.worksheets[0]
    for row in visible.iter_rows(min_row=CODE_ROW, max_row=CODE_ROW, max_col=2, values_only=True):
        return _text(row[1]) or None
    return None


def _rows(cells: Any) -> Filled:
    rows: list[FilledRow] = []
    errors: list[RowError] = []
    first_seen: dict[int, int] = {}
    filled = 0
    for looked, (number, values) in enumerate(cells, 1):
        cell = {c: _text(values[c.position]) if c.position < len(values) else "" for c in Column}
        filled += any(cell.values())
        # Blank rows (formatted, or a list's validation range) are passed over, up to a point.
        if filled > MAX_ROWS or looked > BLANK_ROWS_MAX:
            raise InvalidInput("results.file_too_many_rows", rows=MAX_ROWS)
        person, result, exception = (
            cell[Column.PERSON],
            cell[Column.OUTCOME],
            cell[Column.EXCEPTION],
        )
        if not result:
            continue  # not decided yet: left as it is
        row_errors = []
        person_id = _person_id(person)
        if person_id is None:
            row_errors.append(
                _error(number, Column.PERSON, "results.err_person_id", value=person[:40])
            )
        elif person_id in first_seen:
            first = first_seen[person_id]
            row_errors.append(
                _error(number, Column.PERSON, "results.err_duplicate", id=person_id, first=first)
            )
        outcome = outcome_of(result)
        if outcome is None:
            row_errors.append(
                _error(number, Column.OUTCOME, "results.err_outcome", value=result[:40])
            )
        override = _yes_no(exception)
        if override is None:
            row_errors.append(
                _error(number, Column.EXCEPTION, "results.err_exception", value=exception[:40])
            )
        if person_id is not None:
            first_seen.setdefault(person_id, number)
        if row_errors:
            errors += row_errors
            continue
        assert person_id is not None and outcome is not None and override is not None
        rows.append(FilledRow(number, person_id, outcome, override))
    return Filled(rows, errors)


def _error(row: int, column: Column, key: str, **params: Any) -> RowError:
    return RowError(row, column, key, params)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _person_id(text: str) -> int | None:
    return int(text) if text.isdecimal() and 0 < len(text) <= 12 else None
