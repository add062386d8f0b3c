"""Report workbooks: a cover, then a sheet per breakdown with a bold frozen header, its widths,
formats and totals; text never turned into formulas, names valid for Excel, rows streamed in
little memory, and a file that appears whole or not at all."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot import report_workbook
from bot.report_workbook import Column, Cover, Kind, Sheet, Value, sheet_name, write_workbook

STATM = Path("/proc/self/statm")
COVER = Cover(
    "Thông tin",
    [
        ("Tỉnh", "Lào Cai"),
        ("Kỳ báo cáo", "01/01/2026 – 30/06/2026"),
        ("Lập lúc", datetime(2026, 7, 1, 1, 30, tzinfo=UTC)),
        ("Ngày chốt số liệu", date(2026, 6, 30)),
        ("Số lớp", 1234),
        ("Người lập", "Nguyễn Thị Phương"),
    ],
    title="Báo cáo tiến độ bồi dưỡng",
)
KINDS = [
    Column("Loại lớp", 30),
    Column("Chỉ tiêu", 12, Kind.INT),
    Column("Thực hiện", 12, Kind.INT),
    Column("Tỷ lệ", 10, Kind.PERCENT),
    Column("Khai giảng", 12, Kind.DATE),
    Column("Cập nhật", 17, Kind.DATETIME),
]
KIND_ROWS: list[Sequence[Value]] = [
    ["Lý luận chính trị cao cấp", 128, 160, 1.25, date(2026, 3, 2), None],
    ["Bồi dưỡng cập nhật kiến thức", 1200, 750, 0.625, datetime(2026, 3, 2, 23, 0, tzinfo=UTC),
     datetime(2026, 6, 30, 10, 0, tzinfo=UTC)],
    ["Quản lý nhà nước", 300, None, None, None, datetime(2026, 6, 30, 8, 15)],
]  # fmt: skip


def _write(path: Path, *sheets: Sheet) -> Path:
    return write_workbook(path, COVER, sheets)


def _widths(sheet: Worksheet) -> list[float]:
    """The columns' widths as Excel shows them: the file holds each with the cell's padding
    (5 pixels of a 7-pixel digit) added, and a run of equal widths once, as Excel writes them."""
    widths = {
        number: round(dimension.width - 5 / 7, 1)
        for dimension in sheet.column_dimensions.values()
        for number in range(dimension.min, dimension.max + 1)
    }
    return [widths[number] for number in sorted(widths)]


def test_a_report_reads_back_as_written(tmp_path: Path) -> None:
    by_kind = Sheet(
        "Theo loại lớp", KINDS, iter(KIND_ROWS),
        totals=["Tổng cộng", 1628, 910, 0.559, None, None],
        notes=["Số liệu tính đến 30/06/2026", "Nguồn: kế hoạch năm đã duyệt"],
    )  # fmt: skip
    plain = Sheet("Theo đơn vị", [Column("Đơn vị", 40), Column("Học viên", 10, Kind.INT)], [])
    path = _write(tmp_path / "báo cáo.xlsx", by_kind, plain)
    assert path == tmp_path / "báo cáo.xlsx" and list(tmp_path.iterdir()) == [path]
    book = load_workbook(path)
    assert book.sheetnames == ["Thông tin", "Theo loại lớp", "Theo đơn vị"]

    cover = book["Thông tin"]
    assert cover["A1"].value == "Báo cáo tiến độ bồi dưỡng" and cover["A1"].font.b
    assert [cover.cell(row, 1).value for row in range(3, 9)] == [label for label, _ in COVER.lines]
    assert all(cover.cell(row, 1).font.b for row in range(3, 9))
    assert cover["B5"].value == datetime(2026, 7, 1, 8, 30)  # in the province's time
    assert cover["B5"].number_format == "dd/mm/yyyy hh:mm"
    assert (cover["B6"].value, cover["B6"].number_format) == (datetime(2026, 6, 30), "dd/mm/yyyy")
    assert (cover["B7"].value, cover["B7"].number_format) == (1234, "#,##0")
    assert _widths(cover) == list(COVER.widths)

    sheet = book["Theo loại lớp"]
    assert [sheet.cell(row, 1).value for row in (1, 2, 3)] == [*by_kind.notes, None]
    header = [cell for cell in sheet[4]]
    assert [cell.value for cell in header] == [column.title for column in KINDS]
    assert all(cell.font.b and cell.alignment.wrap_text for cell in header)
    assert sheet.freeze_panes == "A5"
    assert _widths(sheet) == [c.width for c in KINDS]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5)]
    assert rows == [
        ["Lý luận chính trị cao cấp", 128, 160, 1.25, datetime(2026, 3, 2), None],
        ["Bồi dưỡng cập nhật kiến thức", 1200, 750, 0.625, datetime(2026, 3, 3),
         datetime(2026, 6, 30, 17, 0)],
        ["Quản lý nhà nước", 300, None, None, None, datetime(2026, 6, 30, 8, 15)],
        ["Tổng cộng", 1628, 910, 0.559, None, None],
    ]  # fmt: skip
    formats = ["General", "#,##0", "#,##0", "0.0%", "dd/mm/yyyy", "dd/mm/yyyy hh:mm"]
    assert [cell.number_format for cell in sheet[6]] == formats
    totals = sheet[8]
    assert all(cell.font.b for cell in totals[:4])
    assert [cell.number_format for cell in totals[:4]] == formats[:4]
    assert not sheet[5][0].font.b

    units = book["Theo đơn vị"]
    assert units.freeze_panes == "A2" and units.max_row == 1
    assert [cell.value for cell in units[1]] == ["Đơn vị", "Học viên"]


def test_text_is_kept_as_text(tmp_path: Path) -> None:
    texts = [
        "=HYPERLINK(\"http://x\",\"bấm\")", "=1+1", "#N/A", "@SUM(A1)", "+84 912 345 678",
        "a\x00b\x07c\x1fd", "nửa cặp \ud800 thay thế", "📚 Lớp 👩‍🏫", "x" * 40_000,
    ]  # fmt: skip
    columns = [Column("Văn bản", 40), Column("Số", 10, Kind.INT), Column("Tỷ lệ", 10, Kind.PERCENT)]
    rows = [[text, "—", float("nan")] for text in texts]
    rows += [[Decimal("1.5"), 7, float("inf")], [True, date(2026, 1, 2), 0.5]]
    path = _write(tmp_path / "t.xlsx", Sheet("Văn bản", columns, rows))
    sheet = load_workbook(path)["Văn bản"]
    read = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[0] for row in read[:8]] == [
        "=HYPERLINK(\"http://x\",\"bấm\")", "=1+1", "#N/A", "@SUM(A1)", "+84 912 345 678",
        "abcd", "nửa cặp  thay thế", "📚 Lớp 👩‍🏫",
    ]  # fmt: skip
    assert all(sheet.cell(row, 1).data_type == "s" for row in range(2, 11))
    assert read[8][0] == "x" * 32_767
    assert {row[1] for row in read[:9]} == {"—"} and {row[2] for row in read[:9]} == {None}
    assert read[9] == [1.5, 7, None]
    # A date in a number column keeps a date's format; a number, the column's.
    assert read[10] == [True, datetime(2026, 1, 2), 0.5]
    assert (sheet["B12"].number_format, sheet["C12"].number_format) == ("dd/mm/yyyy", "0.0%")


def test_sheet_names_are_made_valid_and_unique() -> None:
    taken: set[str] = set()
    names = [
        sheet_name(name, taken)
        for name in [
            "Tỷ lệ: theo [đơn vị]/tháng?*\\", "Lớp", "lớp", "LỚP",
            "Bồi dưỡng cập nhật kiến thức cho cán bộ cấp xã", "History", "'trích'", "", "\x00",
            "📚" * 20, "Tổng hợp", "Tổng hợp",
        ]
    ]  # fmt: skip
    assert names == [
        "Tỷ lệ theo đơn vị tháng", "Lớp", "lớp (2)", "LỚP (3)",
        "Bồi dưỡng cập nhật kiến thức ch", "History (2)", "trích", "8", "9",
        "📚" * 15, "Tổng hợp", "Tổng hợp (2)",
    ]  # fmt: skip
    assert all(len(name.encode("utf-16-le")) <= 62 for name in names)


def test_named_sheets_are_written_under_their_valid_names(tmp_path: Path) -> None:
    sheets = [Sheet(name, [Column("A")], [["x"]]) for name in ("Thông tin", "a/b", "A:B", "a?b")]
    book = load_workbook(_write(tmp_path / "n.xlsx", *sheets))
    assert book.sheetnames == ["Thông tin", "Thông tin (2)", "a b", "A B (2)", "a b (3)"]


def _failing(rows: int) -> Iterator[Sequence[Value]]:
    for number in range(rows):
        yield [f"Học viên {number}"]
    raise RuntimeError("the database went away")


@pytest.mark.parametrize(
    ("sheet", "error"),
    [
        (Sheet("Hỏng", [Column("A")], _failing(500)), RuntimeError),
        (Sheet("Thừa", [Column("A")], [["a"], ["b", "c"]]), ValueError),
        (Sheet("Tổng thừa", [Column("A")], [["a"]], totals=[1, 2]), ValueError),
        (Sheet("Lạ", [Column("A")], [[object()]]), ValueError),
    ],
)
def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    sheet: Sheet,
    error: type[Exception],
) -> None:
    scratch = tmp_path_factory.mktemp("scratch")  # where the sheets' rows wait to be packed
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    existing = tmp_path / "report.xlsx"
    existing.write_bytes(b"the previous report")
    with pytest.raises(error):
        _write(existing, Sheet("Trước", [Column("A")], [["ok"]]), sheet)
    assert list(tmp_path.iterdir()) == [existing]
    assert existing.read_bytes() == b"the previous report"
    assert list(scratch.iterdir()) == []


def test_rows_beyond_what_excel_holds_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_workbook, "EXCEL_ROWS", 5)
    fits = Sheet("Vừa", [Column("A")], [[n] for n in range(3)], totals=["Tổng"])
    assert load_workbook(_write(tmp_path / "ok.xlsx", fits))["Vừa"].max_row == 5
    over = Sheet("Tràn", [Column("A")], [[n] for n in range(4)], totals=["Tổng"])
    with pytest.raises(ValueError, match="more rows"):
        _write(tmp_path / "over.xlsx", over)
    assert not (tmp_path / "over.xlsx").exists()


def _rss_mb() -> float:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not STATM.exists(), reason="reads the process's memory from /proc")
def test_rows_are_streamed_in_little_memory(tmp_path: Path) -> None:
    """10,000 rows held in a workbook take 12 MB; streamed, next to nothing."""
    rows, before = 10_000, _rss_mb()
    highest = before

    def generated() -> Iterator[Sequence[Value]]:
        nonlocal highest
        for number in range(rows):
            if number % 2_000 == 0:
                highest = max(highest, _rss_mb())
            yield [f"Nguyễn Văn {number}", number, number / rows, date(2026, 1, 1 + number % 28)]

    columns = [Column("Họ tên", 30), Column("Số", 10, Kind.INT), Column("Tỷ lệ", 10, Kind.PERCENT),
               Column("Ngày", 12, Kind.DATE)]  # fmt: skip
    path = _write(tmp_path / "big.xlsx", Sheet("Học viên", columns, generated()))
    assert highest - before < 5
    sheet = load_workbook(path, read_only=True)["Học viên"]
    last = list(sheet.iter_rows(min_row=rows + 1, values_only=True))
    assert last == [(f"Nguyễn Văn {rows - 1}", rows - 1, (rows - 1) / rows, datetime(2026, 1, 4))]


@pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice absent"
)
def test_libreoffice_opens_it(tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    assert office is not None
    path = _write(tmp_path / "r.xlsx", Sheet("Theo loại lớp", KINDS, KIND_ROWS))
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path),
         str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with (tmp_path / "r.csv").open(encoding="utf-8") as fh:
        cover = list(csv.reader(fh))
    assert cover[0] == ["Báo cáo tiến độ bồi dưỡng", ""] or cover[0][0] == COVER.title
    assert ["Tỉnh", "Lào Cai"] in cover
