"""The workbooks the office downloads: a template per kind (its data sheet only the header,
bold and frozen; a guide sheet with each column's example and how to write it) and the list
of a file's errors.

Offices fill a template in place: an example row on the data sheet would be imported with it
(a real year's plan, a real staff code), so examples live on the guide, which is never read."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.i18n import Texts
from bot.imports.model import Importer, ImportKind, Outcome
from bot.record_labels import plain

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def column_name(texts: Texts, kind: ImportKind, key: str | None) -> str:
    """A column's header as the office reads it ("" for the row as a whole)."""
    return plain(texts, f"import.col.{kind.value}.{key}") if key else ""


def template(texts: Texts, importer: Importer) -> bytes:
    """The kind's template: its data sheet and its guide."""
    kind = importer.kind
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = plain(texts, f"import.sheet.{kind.value}")
    for index, column in enumerate(importer.columns, 1):
        cell = sheet.cell(1, index, column_name(texts, kind, column.key))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = 22
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(plain(texts, "import.guide_sheet"))
    guide["A1"] = plain(texts, f"import.key_note.{kind.value}")
    guide["A1"].font = Font(bold=True)
    guide.merge_cells("A1:D1")
    guide["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    guide.row_dimensions[1].height = 60
    heads = ("import.guide_column", "import.guide_required", "import.guide_example",
             "import.guide_help")  # fmt: skip
    for index, key in enumerate(heads, 1):
        guide.cell(3, index, plain(texts, key)).font = Font(bold=True)
    yes, no = plain(texts, "import.yes"), plain(texts, "import.no")
    for row, column in enumerate(importer.columns, 4):
        guide.cell(row, 1, column_name(texts, kind, column.key))
        guide.cell(row, 2, yes if column.required else no)
        guide.cell(row, 3, column.example or None)
        help_cell = guide.cell(row, 4, plain(texts, f"import.help.{kind.value}.{column.key}"))
        help_cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in (("A", 24), ("B", 12), ("C", 28), ("D", 80)):
        guide.column_dimensions[letter].width = width
    return _bytes(book)


def error_report(texts: Texts, outcomes: Sequence[Outcome]) -> bytes:
    """Every error of a file, one a row: the sheet, the row, the column and what is wrong."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(plain(texts, "import.errors_sheet"))
    heads = ("import.errors_kind", "import.errors_row", "import.errors_column",
             "import.errors_reason")  # fmt: skip
    sheet.append([plain(texts, key) for key in heads])
    for outcome in outcomes:
        kind_name = plain(texts, f"import.kind.{outcome.kind.value}")
        for error in outcome.errors:
            reason: Any = plain(texts, error.key, **error.params)
            sheet.append([kind_name, error.row, column_name(texts, outcome.kind, error.column),
                          reason])  # fmt: skip
    return _bytes(book)


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
