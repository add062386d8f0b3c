"""Reading the office's files: CSV in UTF-8 (with or without BOM) and Windows-1258, any of
three delimiters; XLSX with dates and numbers; headers however written; what is refused."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from bot.errors import InvalidInput
from bot.imports.model import ImportKind
from bot.imports.reading import match, read_tables
from bot.imports.roster import RosterImporter, roster_phone

NAME = "Nguyễn Thị Phương"
COLUMNS = RosterImporter.columns


def _rows(data: bytes, file_name: str = "ds.csv") -> list[dict[str, str]]:
    table = read_tables(data, file_name)[0]
    matched = match(table, ImportKind.ROSTER, COLUMNS)
    return [dict(row.cells) for row in matched.rows]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_or_without_bom(encoding: str) -> None:
    data = f"Mã cán bộ,Họ và tên\nCB1,{NAME}\n".encode(encoding)
    assert _rows(data) == [{"staff_code": "CB1", "full_name": NAME}]


TONES = "\u0300\u0301\u0303\u0309\u0323"


def _as_cp1258(text: str) -> bytes:
    """How Windows-1258 writes Vietnamese: "ễ" as "ê" plus a combining tilde."""
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)))
        out.append(tones)
    return "".join(out).encode("cp1258")


def test_windows_1258_combining_tones_become_nfc() -> None:
    data = _as_cp1258(f"Mã cán bộ;Họ và tên\r\nCB1;{NAME}\r\n")
    assert NAME not in data.decode("cp1258")
    (row,) = _rows(data)
    assert row["full_name"] == NAME and unicodedata.is_normalized("NFC", row["full_name"])


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(delimiter: str) -> None:
    text = delimiter.join(["Mã cán bộ", "Họ và tên", "Năm sinh"]) + "\n"
    text += delimiter.join(["CB1", NAME, "1988"]) + "\n\n"
    assert _rows(text.encode()) == [{"staff_code": "CB1", "full_name": NAME, "birth_year": "1988"}]


def test_headers_in_other_case_without_diacritics_or_english_match() -> None:
    data = "MA CAN BO;  ho va  TEN ;Phone number;Ghi chú\nCB1;X;912345678;y\n".encode()
    (table,) = read_tables(data, "ds.csv")
    matched = match(table, ImportKind.ROSTER, COLUMNS)
    assert matched.rows[0].cells == {"staff_code": "CB1", "full_name": "X", "phone": "912345678"}
    assert matched.ignored == ["Ghi chú"]
    assert matched.missing == ["unit"]


def test_xlsx_cells_read_as_the_office_sees_them() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Mã cán bộ", "Họ và tên", "Năm sinh", "Số điện thoại", "Mã đơn vị"])
    sheet.append([123, NAME, 1988.0, 912345678, date(2024, 3, 5)])
    sheet.append([None, None, None, None, None])  # empty rows are skipped
    sheet.append(["CB2", " Lò  Văn Pó ", 2.5, "0912 345 678", datetime(2024, 3, 5, 7, 30)])
    out = io.BytesIO()
    book.save(out)
    (table,) = read_tables(out.getvalue(), "Danh sach.XLSX")
    matched = match(table, ImportKind.ROSTER, COLUMNS)
    assert [(r.number, dict(r.cells)) for r in matched.rows] == [
        (2, {"staff_code": "123", "full_name": NAME, "birth_year": "1988",
             "phone": "912345678", "unit": "05/03/2024"}),
        (4, {"staff_code": "CB2", "full_name": "Lò Văn Pó", "birth_year": "2.5",
             "phone": "0912 345 678", "unit": "05/03/2024 07:30"}),
    ]  # fmt: skip
    assert roster_phone("912345678") == roster_phone("0912 345 678") == "+84912345678"


@pytest.mark.parametrize(
    ("data", "name", "key"),
    [
        (b"%PDF-1.4 printed", "ds.pdf", "import.file_kind"),
        (b"\xff\xd8\xff\xe0 a photo", "anh.jpg", "import.file_kind"),
        (b"\xd0\xcf\x11\xe0 an old .xls or .doc", "ds.xlsx", "import.file_xls"),
        (b"\xd0\xcf\x11\xe0 an old workbook", "DS.XLS", "import.file_xls"),
        (
            "Mã cán bộ,Họ và tên,Mã đơn vị\nCB1,Lò Văn Pó,SNV\n".encode(),
            "ds.txt",
            "import.file_kind",
        ),
        (b"PK\x03\x04 a workbook with macros", "ds.xlsm", "import.file_kind"),
        (b"PK\x03\x04 not really a workbook", "ds.xlsx", "import.file_broken"),
        ("Mã\x00".encode("utf-16"), "ds.csv", "import.file_kind"),
    ],
)
def test_what_is_not_a_table_is_refused(data: bytes, name: str, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        for table in read_tables(data, name):
            match(table, ImportKind.ROSTER, COLUMNS)
    assert refused.value.key == key
