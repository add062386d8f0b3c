"""Imports through the real app: an administrator chooses the roster, downloads its template,
sends a file with errors (each named by row and column, nothing saved) and files that are not
tables (explained), then a good one: the dry run, a restart, the save; the same file again
changes nothing and says so. A learner is refused."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from bot.actions import DialogueChoice
from bot.audit_words import DetailNames, details_text
from bot.i18n import Texts
from storage.schema import audit_log, people
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, no_dialogue_left
from tests.factories import add_person, count

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEARNER = 5401
HEAD = ["Mã cán bộ", "Họ và tên", "Mã đơn vị", "Giới tính", "Năm sinh", "Số điện thoại"]
GOOD = [
    ["CB101", "Nguyễn Thị Phương", "XA.DONGVAN", "Nữ", 1988, 912345678],
    ["CB102", "Lò Văn Pó", "SNV", "Nam", 1979, "0987654321"],
]


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEAD, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _coded(harness: Harness) -> dict[str, str]:
    async with harness.db.read() as conn:
        rows = await conn.execute(
            sa.select(people.c.staff_code, people.c.full_name).where(
                people.c.staff_code.is_not(None)
            )
        )
        return {r.staff_code: r.full_name for r in rows}


async def test_an_administrator_imports_the_roster(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/start")
    await admin.next_message()
    assert "import" in harness.menu(SUPERADMIN_ID)
    await admin.press("📥 Nhập từ Excel")  # the main keyboard's button runs /import
    await admin.expect("Đồng chí chọn loại dữ liệu cần nhập")
    await admin.tap("Danh sách cán bộ")
    asked = await admin.expect("• Mã cán bộ (bắt buộc)")
    assert "• Số điện thoại" in asked.text

    await admin.tap("Tải file mẫu")
    sent = await admin.expect("File mẫu «👥 Danh sách cán bộ»")
    assert sent.document is not None
    template = load_workbook(io.BytesIO(sent.document.content))
    assert template.sheetnames == ["Cán bộ", "Hướng dẫn"]
    data_sheet = template["Cán bộ"]
    assert data_sheet["A1"].value == "Mã cán bộ" and data_sheet["A1"].font.bold
    assert data_sheet.freeze_panes == "A2" and data_sheet.max_row == 1
    assert template["Hướng dẫn"]["C5"].value == "Nguyễn Thị Phương"  # the example, on the guide
    # Sent back as it came, it holds no row: nothing offered, nothing saved.
    await admin.upload("mau.xlsx", sent.document.content, XLSX)
    await admin.expect("File không có dòng dữ liệu nào")

    # Not a table: a photo, a PDF, a broken workbook; each explained, the step still waits.
    await admin.send_photo(b"\xff\xd8\xff\xe0 a photo of the list")
    await admin.expect("dưới dạng tệp (không phải ảnh hay tin nhắn)")
    await admin.upload("danh-sach.pdf", b"%PDF-1.4 printed", "application/pdf")
    await admin.expect("Bot chỉ đọc được file Excel (.xlsx) hoặc CSV")
    await admin.upload("danh-sach.xlsx", b"PK\x03\x04 broken", XLSX)
    await admin.expect("không mở được như một file Excel")

    # Errors named by row and column; nothing saved, no save button.
    bad = [
        list(GOOD[0]),
        ["CB102", "Lò Văn Pó", "KHONGCO", "Nam", 1879, "0987654321"],
        ["CB103", "😀\u202e" * 3000, "SNV", "<b>nữ</b>" * 500, 1990, "0987654322"],
    ]
    await admin.upload("danh-sach.xlsx", _xlsx(bad), XLSX)
    refused = await admin.expect("Có 4 lỗi")
    assert "Dòng 3, cột «Mã đơn vị»: không có đơn vị mã «KHONGCO»" in refused.text
    assert "Dòng 3, cột «Năm sinh»: năm sinh cần là 4 chữ số" in refused.text
    assert "Dòng 4, cột «Họ và tên»: họ tên cần có cả họ và tên" in refused.text
    assert "Dòng 4, cột «Giới tính»: «<b>nữ</b><b>nữ</b>" in refused.text
    corrected = await admin.expect("Đồng chí gửi file đã sửa")
    assert not any("Lưu" in label for label in corrected.labels)
    assert await _coded(harness) == {}

    # More errors than the chat shows: the first ten, and all of them in a workbook.
    many = [[f"CB2{n:02d}", "Lò Văn Pó", "SNV", "Nam", 1979, f"12{n}"] for n in range(12)]
    await admin.upload("danh-sach.xlsx", _xlsx(many), XLSX)
    listed = await admin.expect("Có 12 lỗi")
    assert listed.text.count("cột «Số điện thoại»") == 10 and "… và 2 lỗi khác" in listed.text
    report = await admin.expect("Danh sách đủ 12 lỗi của file")
    assert report.document is not None and report.document.file_name == "danh-sach-loi.xlsx"
    await admin.expect("Đồng chí gửi file đã sửa")

    # The good file: the dry run, a deploy, then the save.
    await admin.upload("danh-sach.xlsx", _xlsx(GOOD), XLSX)
    await admin.expect("Đã kiểm tra xong")
    dry = await admin.expect("Kết quả kiểm tra file «danh-sach.xlsx»")
    assert "2 dòng: thêm mới 2, cập nhật 0, giữ nguyên 0" in dry.text
    await admin.expect("Đồng chí có lưu không?")
    forged = DialogueChoice("import", "0" * 8, "save").pack()  # a save of another step's token
    assert "bước đã qua" in await forged_tap(admin, forged)
    await admin.expect("Đồng chí có lưu không?")
    assert await _coded(harness) == {}
    await harness.restart()
    await admin.tap("Lưu")
    saved = await admin.expect("Đã lưu file «danh-sach.xlsx»")
    assert "thêm mới 2" in saved.text
    assert await _coded(harness) == {"CB101": "Nguyễn Thị Phương", "CB102": "Lò Văn Pó"}
    await no_dialogue_left(harness.db)

    # The same file again: nothing to change, and no save offered.
    total = await count(harness.db, people)
    await admin.send("/import")
    await admin.tap("Danh sách cán bộ")
    await admin.upload("danh-sach.xlsx", _xlsx(GOOD), XLSX)
    await admin.expect("giữ nguyên 2")
    await admin.expect("không có gì cần thay đổi")
    assert await count(harness.db, people) == total


async def test_a_learner_cannot_import(harness: Harness) -> None:
    await add_person(harness.db, "Lò Thị Dung", unit_id=harness.province.commune_id,
                     telegram_id=LEARNER)  # fmt: skip
    learner = harness.user(LEARNER)
    await learner.send("/import")
    await learner.expect("chỉ dành cho cán bộ quản lý")
    await learner.upload("danh-sach.xlsx", _xlsx(GOOD), XLSX)
    await learner.next_message()
    assert await _coded(harness) == {}


async def test_the_dry_run_counts_rows_with_errors_and_names_who_changes(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    # On the list without a staff code: the file's row with her phone gives her one.
    await add_person(harness.db, "Nguyễn Thị Phương", unit_id=None, phone="+84912345678")
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/import")
    await admin.tap("Danh sách cán bộ")
    await admin.expect("• Mã cán bộ (bắt buộc)")

    # Only .xlsx and .csv: a text file and an old workbook are refused before being read.
    await admin.upload("danh-sach.txt", b"CB101,Lo Van Po,SNV\n", "text/plain")
    await admin.expect("Bot chỉ đọc được file Excel (.xlsx) hoặc CSV")
    await admin.upload("danh-sach.xls", b"\xd0\xcf\x11\xe0 old", "application/vnd.ms-excel")
    await admin.expect("Đây là file Excel cũ (.xls)")
    # A file that cannot be opened says only that: no "checked" above it.
    await admin.upload("danh-sach.xlsx", b"PK\x03\x04 broken", XLSX)
    events = [await admin.next_message()]
    while events[-1].deleted or "không mở được" not in events[-1].body:
        events.append(await admin.next_message())
    assert not any("Đã kiểm tra xong" in e.body for e in events if not e.deleted)
    assert any(e.deleted for e in events)

    rows = [
        ["CBX9", "Lò Văn Chín", "", "Nam", 1990, ""],
        list(GOOD[0]),
        ["CBX2", "", "", "", "", ""],
        list(GOOD[1]),
    ]
    await admin.upload("danh-sach.xlsx", _xlsx(rows), XLSX)
    dry = await admin.expect("Kết quả kiểm tra file")
    assert "4 dòng: thêm mới 1, cập nhật 1, giữ nguyên 0, có lỗi 2" in dry.text
    assert "Dòng 2, cột «Mã đơn vị»: Ô này không được để trống." in dry.text
    assert "Dòng 4, cột «Họ và tên»: Ô này không được để trống." in dry.text
    await admin.expect("Đồng chí gửi file đã sửa")

    await admin.upload("danh-sach.xlsx", _xlsx(GOOD), XLSX)
    dry = await admin.expect("Kết quả kiểm tra file")
    assert "2 dòng: thêm mới 1, cập nhật 1, giữ nguyên 0." in dry.text
    assert "Dòng 2 (Nguyễn Thị Phương), «Mã cán bộ»: (trống) → CB101" in dry.text
    await admin.tap("Lưu")
    await admin.expect("Đã lưu file «danh-sach.xlsx»")
    assert await _coded(harness) == {"CB101": "Nguyễn Thị Phương", "CB102": "Lò Văn Pó"}
    await no_dialogue_left(harness.db)


async def test_the_dialogue_starts_over_hints_briefly_and_saves_in_one_message(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/import")
    await admin.tap("Danh sách cán bộ")
    await admin.expect("• Mã cán bộ (bắt buộc)")

    # Text where a file is awaited: what to send and the template, not the column card again.
    await admin.send("danh sách đây ạ")
    hint = await admin.next_message()
    assert "dưới dạng tệp" in hint.body and "⬇️ Tải file mẫu" in hint.labels
    await admin.no_message()

    # /import in the middle starts over: the kinds, not the roster's card again.
    await admin.send("/import")
    menu = await admin.next_message()
    assert "Đồng chí chọn loại dữ liệu cần nhập" in menu.body
    await admin.tap("Danh sách cán bộ")
    await admin.expect("• Mã cán bộ (bắt buộc)")
    await admin.upload("danh-sach.xlsx", _xlsx(GOOD), XLSX)
    asked = await admin.expect("Đồng chí có lưu không?")

    # The save: the question becomes one message that says what happens, then the result.
    await admin.tap("Lưu")
    events = [await admin.next_message()]
    while "Đã lưu file" not in events[-1].body:
        events.append(await admin.next_message())
    *progress, saved = events
    assert progress and all(e.edited and e.message_id == asked.message_id for e in progress)
    assert "Đang đọc lại file «danh-sach.xlsx» để kiểm tra lần cuối rồi lưu" in progress[0].body
    assert "thêm mới 2" in saved.body

    # The audit log names the kind of data as the office reads it.
    async with harness.db.read() as conn:
        details = await conn.scalar(sa.select(audit_log.c.details).where(
            audit_log.c.action == "import_saved"))  # fmt: skip
    assert details_text(Texts("vi"), details, DetailNames()) == "Loại dữ liệu: 👥 Danh sách cán bộ"
    await no_dialogue_left(harness.db)
