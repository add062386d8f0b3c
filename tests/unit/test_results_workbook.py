"""The results workbook: the template the office fills, and every way a filled one can be
wrong, each named by its row and column; outcomes typed with or without diacritics."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from bot.attendance import Outcome
from bot.errors import InvalidInput
from bot.i18n import texts
from bot.results_workbook import (
    FIRST_ROW,
    MAX_BYTES,
    MAX_ROWS,
    Column,
    TemplateRow,
    outcome_of,
    read,
    template,
)
from bot.services.results import ImportReport
from handlers.results import report_text

VI = texts("vi")
ROWS = [
    TemplateRow(11, "Nguyễn Thị Phương", "Xã Đồng Văn", 14, 18, True, Outcome.VERY_GOOD, False),
    TemplateRow(12, "Lò Văn Sáng", None, 10, 18, False, None, False),
    TemplateRow(13, "Hà Thị Mai", "Sở Nội vụ", 18, 18, True, None, False),
]


def _template(code: str = "CV.01") -> bytes:
    return template(VI, code, "Lớp chuyên viên & kỹ năng", 80, ROWS)


def _filled(cells: dict[str, object], code: str = "CV.01") -> bytes:
    book = load_workbook(io.BytesIO(_template(code)))
    sheet = book.worksheets[0]
    for ref, value in cells.items():
        sheet[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_names_the_class_and_prefills_results() -> None:
    book = load_workbook(io.BytesIO(_template()))
    sheet = book.worksheets[0]
    assert "CV.01" in str(sheet["A1"].value) and "&" in str(sheet["A1"].value)
    assert sheet["B2"].value == "CV.01"
    headers = [sheet.cell(FIRST_ROW - 1, c.position + 1).value for c in Column]
    assert headers == [
        "STT",
        "Mã học viên",
        "Họ và tên",
        "Đơn vị",
        "Số buổi tham dự",
        "Đủ điều kiện",
        "Kết quả",
        "Ngoại lệ",
    ]
    first = [cell.value for cell in sheet[FIRST_ROW]]
    assert first == [1, 11, "Nguyễn Thị Phương", "Xã Đồng Văn", "14/18", "Có", "Giỏi", None]
    assert sheet.cell(FIRST_ROW + 1, 6).value == "Không"
    assert sheet.freeze_panes == f"A{FIRST_ROW}"
    assert sheet.column_dimensions["C"].width == 30
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists[f"G{FIRST_ROW}:G{FIRST_ROW + 2}"] == '"Xuất sắc,Giỏi,Khá,Đạt,Không hoàn thành"'
    assert book["meta"].sheet_state == "hidden"
    # Read back as sent: the one result filled in, the rest left as they are.
    filled = read(_template(), "CV.01")
    assert [(r.row, r.person_id, r.outcome, r.override) for r in filled.rows] == [
        (FIRST_ROW, 11, Outcome.VERY_GOOD, False)
    ]
    assert filled.errors == []


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("xuat sac", Outcome.EXCELLENT),
        ("Giỏi", Outcome.VERY_GOOD),
        ("GIOI", Outcome.VERY_GOOD),
        (" khá ", Outcome.GOOD),
        ("dat", Outcome.PASSED),
        ("Đạt", Outcome.PASSED),
        ("khong hoan thanh", Outcome.NOT_COMPLETED),
        ("Very good", Outcome.VERY_GOOD),
        ("Gioi lam", None),
        ("", None),
    ],
)
def test_outcomes_are_read_with_or_without_diacritics(typed: str, outcome: Outcome | None) -> None:
    assert outcome_of(typed) is outcome


def test_every_bad_cell_is_named_by_row_and_column() -> None:
    data = _filled(
        {
            f"G{FIRST_ROW}": "Gioi lam",
            f"B{FIRST_ROW + 1}": "abc",
            f"G{FIRST_ROW + 1}": "kha",
            f"G{FIRST_ROW + 2}": "xuat sac",
            f"H{FIRST_ROW + 2}": "có lẽ",
            f"B{FIRST_ROW + 3}": 11.0,
            f"G{FIRST_ROW + 3}": "dat",
            f"B{FIRST_ROW + 4}": "14",
            f"G{FIRST_ROW + 4}": "Khá",
            f"H{FIRST_ROW + 4}": "co",
        }
    )
    filled = read(data, "CV.01")
    found = [(e.row, e.column, e.key) for e in filled.errors]
    assert found == [
        (FIRST_ROW, Column.OUTCOME, "results.err_outcome"),
        (FIRST_ROW + 1, Column.PERSON, "results.err_person_id"),
        (FIRST_ROW + 2, Column.EXCEPTION, "results.err_exception"),
        (FIRST_ROW + 3, Column.PERSON, "results.err_duplicate"),
    ]
    assert [(r.row, r.person_id, r.outcome, r.override) for r in filled.rows] == [
        (FIRST_ROW + 4, 14, Outcome.GOOD, True)
    ]
    text = report_text(VI, ImportReport(errors=tuple(filled.errors), error_count=4))
    assert f"Dòng {FIRST_ROW}, cột Kết quả: «Gioi lam» không phải là một kết quả hợp lệ" in text
    assert f"Dòng {FIRST_ROW + 1}, cột Mã học viên: «abc» không phải là mã học viên" in text
    assert f"Dòng {FIRST_ROW + 2}, cột Ngoại lệ: «có lẽ» không hợp lệ" in text
    assert f"Dòng {FIRST_ROW + 3}, cột Mã học viên: học viên mã 11 đã có ở dòng {FIRST_ROW}" in text


def test_a_workbook_of_another_class_or_not_a_template_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        read(_template("CV.02"), "CV.01")
    assert refused.value.key == "results.file_other_class"
    assert refused.value.params == {"found": "CV.02", "code": "CV.01"}
    # Without the hidden sheet the visible code still tells.
    book = load_workbook(io.BytesIO(_template("CV.02")))
    del book["meta"]
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(InvalidInput, match=r"results.file_other_class"):
        read(out.getvalue(), "CV.01")
    plain = io.BytesIO()
    Workbook().save(plain)
    with pytest.raises(InvalidInput, match=r"results.file_not_template"):
        read(plain.getvalue(), "CV.01")


def test_a_file_that_is_not_a_workbook_or_too_big_is_refused() -> None:
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    for data, key in [
        (b"%PDF-1.4 not a workbook", "results.file_not_xlsx"),
        (_template()[:400], "results.file_not_xlsx"),
        (damaged.getvalue(), "results.file_not_xlsx"),
        (b"PK" + b"\0" * MAX_BYTES, "results.file_too_large"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            read(data, "CV.01")
        assert refused.value.key == key
    crowded = {f"B{FIRST_ROW + i}": 1000 + i for i in range(MAX_ROWS + 1)}
    with pytest.raises(InvalidInput, match=r"results.file_too_many_rows"):
        read(_filled(crowded), "CV.01")
