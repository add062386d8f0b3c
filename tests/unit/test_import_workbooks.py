"""The workbooks of imports: each kind's template (only the header on its data sheet, bold and
frozen; the examples on the guide) and the list of every error of a refused file."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.clock import SystemClock
from bot.i18n import DEFAULT_TIMEZONE, Texts
from bot.imports.kinds import importers
from bot.imports.model import ImportKind, Outcome, RowError
from bot.imports.workbooks import error_report, template


def test_every_kind_has_a_template_with_its_guide() -> None:
    for kind, importer in importers(SystemClock(), DEFAULT_TIMEZONE).items():
        book = load_workbook(io.BytesIO(template(Texts("vi"), importer)))
        data, guide = book.worksheets
        assert guide.title == "Hướng dẫn" and data.freeze_panes == "A2"
        headers = [cell.value for cell in data[1]]
        assert len(headers) == len(importer.columns) and all(c.font.bold for c in data[1])
        assert data.max_row == 1, kind  # filled in place, an example row would be imported
        assert [c.value for c in guide[3]] == ["Cột", "Bắt buộc", "Ví dụ", "Cách ghi"]
        examples = [row[2] for row in guide.iter_rows(min_row=4, values_only=True)]
        assert examples == [c.example or None for c in importer.columns], kind


def test_the_error_report_lists_every_error_in_words() -> None:
    errors = [RowError(n, "phone", "import.err.phone", {"value": f"x{n}"}) for n in range(2, 40)]
    errors.append(RowError(40, None, "import.empty"))
    outcome = Outcome(ImportKind.ROSTER, rows=39, errors=errors)
    book = load_workbook(io.BytesIO(error_report(Texts("vi"), [outcome])))
    rows = list(book.worksheets[0].values)
    assert rows[0] == ("Loại dữ liệu", "Dòng", "Cột", "Lỗi")
    assert len(rows) == 1 + len(errors)
    assert rows[1] == ("👥 Danh sách cán bộ", 2, "Số điện thoại",
                       "«x2» không phải là số điện thoại hợp lệ.")  # fmt: skip
    assert rows[-1][1:3] == (40, None)
