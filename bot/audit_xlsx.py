"""The audit log as a workbook, written a chunk of entries at a time (openpyxl's write-only
mode streams rows to disk), so a year of entries takes no more memory than a page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import tzinfo

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.audit_log import AuditLine
from bot.audit_words import DetailNames, action_name, details_text, who
from bot.i18n import Texts
from bot.record_labels import plain

DATE_TIME = "dd/mm/yyyy hh:mm"
BOLD = Font(bold=True)
#: Each column's header and width.
COLUMNS = (
    ("audit_log.col_at", 17), ("audit_log.col_who", 28), ("audit_log.col_action", 30),
    ("audit_log.col_about", 28), ("audit_log.col_details", 60),
)  # fmt: skip
SHEET_TITLE_MAX = 31  # Excel's limit


class AuditWorkbook:
    """One sheet: a bold, frozen header, then a row per entry, times local."""

    def __init__(self, texts: Texts, tz: tzinfo) -> None:
        self.texts = texts
        self.tz = tz
        self.book = Workbook(write_only=True)
        self.sheet: WriteOnlyWorksheet = self.book.create_sheet(
            plain(texts, "audit_log.sheet")[:SHEET_TITLE_MAX]
        )
        # Widths and the frozen pane go before the first row, as write-only mode requires.
        for number, (_key, width) in enumerate(COLUMNS, start=1):
            self.sheet.column_dimensions[get_column_letter(number)].width = width
        self.sheet.freeze_panes = "A2"
        header = [WriteOnlyCell(self.sheet, plain(texts, key)) for key, _width in COLUMNS]
        for cell in header:
            cell.font = BOLD
        self.sheet.append(header)

    def add(self, lines: Sequence[AuditLine], names: DetailNames) -> None:
        texts = self.texts
        for line in lines:
            at = WriteOnlyCell(self.sheet, line.at.astimezone(self.tz).replace(tzinfo=None))
            at.number_format = DATE_TIME  # Excel has no zones: the local wall-clock time
            self.sheet.append([
                at,
                self._text(who(texts, line)),
                self._text(action_name(texts, line.action)),
                self._text(line.person_name or ""),
                self._text(details_text(texts, line.details, names)),
            ])  # fmt: skip

    def close(self) -> bytes:
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()

    def _text(self, text: str) -> str | Cell:
        """Text as it is; one that starts with "=" (a name typed so) stays text, never a
        formula."""
        if not text.startswith("="):
            return text
        cell = WriteOnlyCell(self.sheet, text)
        cell.data_type = "s"
        return cell
