"""What the dry run of the plan, programme, class, session and completion imports shows: a few
changes, field by field, in the reader's language (a yes/no or a kind of class as its word, a
day as dd/mm/yyyy), and the rows left alone with their reason."""

from __future__ import annotations

from datetime import date

from bot.i18n import Texts
from bot.imports.cells import CHANGES_SHOWN, note_changes
from bot.imports.model import Change, ImportKind, Outcome, RowNote
from bot.services.imports import ImportReport
from bot.training import ClassKind
from handlers.imports import report_text


def test_changes_are_kept_field_by_field_and_only_a_few() -> None:
    outcome = Outcome(ImportKind.CLASSES)
    note_changes(outcome, 2, [("capacity", 60, 80), ("requires_approval", True, False)])
    note_changes(outcome, 3, [("kind", ClassKind.GRADE, ClassKind.THEORY)])
    note_changes(outcome, 4, [("approved_on", None, date(2026, 1, 5))])
    assert outcome.changes == [
        Change(2, "capacity", "60", "80"),
        Change(2, "requires_approval", "import.word.yes", "import.word.no", keyed=True),
        Change(3, "kind", "training.kind_grade", "training.kind_theory", keyed=True),
        Change(4, "approved_on", "", "05/01/2026"),
    ]
    note_changes(outcome, 5, [("capacity", n, n + 1) for n in range(20)])
    assert len(outcome.changes) == CHANGES_SHOWN


def test_the_dry_run_shows_changes_and_notes_in_the_readers_language() -> None:
    classes = Outcome(ImportKind.CLASSES, rows=2, changed=1, unchanged=1)
    note_changes(classes, 2, [("capacity", 60, 80), ("requires_approval", True, False)])
    classes.notes.append(RowNote(3, "import.note.class_cancelled", {"code": "CDS.2026.01"}))
    programmes = Outcome(ImportKind.PROGRAMMES, rows=1, changed=1)
    note_changes(programmes, 2, [("kind", ClassKind.GRADE, ClassKind.THEORY),
                                 ("name", "<b>Cũ</b>", None)])  # fmt: skip
    report = ImportReport(ImportKind.CLASSES, "lop.xlsx", [classes, programmes])
    english = report_text(Texts("en"), report)
    assert "Row 2, «Seats»: 60 → 80" in english
    assert "Row 2, «Unit head approves»: Yes → No" in english
    assert "ℹ️ Row 3: class CDS.2026.01 is cancelled, so it is left as it is." in english
    assert "Row 2, «Kind of class»: Training by civil-service grade → Political theory" in english
    assert "Row 2, «Programme name»: &lt;b&gt;Cũ&lt;/b&gt; → (empty)" in english
    vietnamese = report_text(Texts("vi"), report)
    assert "Dòng 2, «Cần thủ trưởng duyệt»: Có → Không" in vietnamese
    assert "Dòng 2, «Loại lớp»: Bồi dưỡng theo ngạch → Lý luận chính trị" in vietnamese
