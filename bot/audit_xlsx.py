"""The audit log as a workbook, written a chunk of entries at a time (the report workbook's
`Book` streams rows to disk), so a year of entries takes no more memory than a page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import tzinfo

from bot.audit_log import AuditLine
from bot.audit_words import DetailNames, action_name, details_text, who
from bot.i18n import Texts
from bot.record_labels import plain
from bot.report_workbook import Book, Column, Kind

#: Each column's header, width and what it holds.
COLUMNS = (
    ("audit_log.col_at", 17, Kind.DATETIME), ("audit_log.col_who", 28, Kind.TEXT),
    ("audit_log.col_action", 30, Kind.TEXT), ("audit_log.col_about", 28, Kind.TEXT),
    ("audit_log.col_details", 60, Kind.TEXT),
)  # fmt: skip


class AuditWorkbook:
    """One sheet: a bold, frozen header, then a row per entry, times local; text stays text (a
    name typed as "=…" is never a formula)."""

    def __init__(self, texts: Texts, tz: tzinfo) -> None:
        self.texts = texts
        self.out = io.BytesIO()
        self.book = Book(self.out, tz)
        columns = [Column(plain(texts, key), width, kind) for key, width, kind in COLUMNS]
        self.rows = self.book.sheet(plain(texts, "audit_log.sheet"), columns)

    def add(self, lines: Sequence[AuditLine], names: DetailNames) -> None:
        texts = self.texts
        for line in lines:
            self.rows.append([
                line.at,
                who(texts, line),
                action_name(texts, line.action),
                line.person_name,
                details_text(texts, line.details, names),
            ])  # fmt: skip

    def close(self) -> bytes:
        self.book.close()
        return self.out.getvalue()
