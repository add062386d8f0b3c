"""A class's list through the real protocol: the office opens it from the class's admin card
(its figures, pages, the workbook read back with openpyxl and compared with the database, with
phones); its lecturer from the class's card, without phones; a unit head sees their own staff;
a learner's forged taps, another lecturer's and an unknown class are refused, and nothing is
sent."""

from __future__ import annotations

import io

import openpyxl
import sqlalchemy as sa

from bot.actions import ClassListWorkbook, ShowClassList
from storage.schema import audit_log, enrolments, people
from tests.class_list_world import (
    ADMIN,
    HEAD,
    LEARNER,
    LECTURER,
    OTHER_LECTURER,
    class_list_world,
)
from tests.e2e.conftest import Harness, forged_tap
from tools.emulator.users import BotMessage, ScriptedUser

FORBIDDEN = "Xin lỗi, chức năng này chỉ dành cho cán bộ quản lý được phân quyền."
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = ["Thông tin lớp", "Học viên", "Chờ duyệt", "Danh sách chờ", "Từ chối tham gia", "Khác"]


async def exports(harness: Harness) -> int:
    async with harness.db.read() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.action == "class_list_exported")
        )
        return int(found.scalar_one())


async def stored_names(harness: Harness, class_id: int, status: str) -> set[str]:
    async with harness.db.read() as conn:
        rows = await conn.execute(
            sa.select(people.c.full_name)
            .join(enrolments, enrolments.c.person_id == people.c.id)
            .where(enrolments.c.class_id == class_id, enrolments.c.status == status)
        )
        return {name for (name,) in rows}


async def download(user: ScriptedUser, caption: str = "") -> openpyxl.Workbook:
    """The workbook sent, its caption checked to start with `caption` if given."""
    await user.tap("⬇️ Tải Excel")
    sent = await user.expect("Danh sách lớp DS.01")
    assert sent.body.startswith(caption)
    assert sent.document is not None and sent.document.mime_type == XLSX
    assert sent.document.file_name == "danh-sach-DS.01.xlsx"
    return openpyxl.load_workbook(io.BytesIO(sent.document.content))


def rows_of(book: openpyxl.Workbook, sheet: str) -> list[tuple[object, ...]]:
    return list(book[sheet].iter_rows(values_only=True))


async def open_card(user: ScriptedUser) -> BotMessage:
    """/classes with the full classes too, then the class's card."""
    await user.send("/classes")
    await user.tap("Xem cả lớp đã đủ chỗ")
    await user.expect("1 lớp (trang 1/1)")
    await user.tap("1. Bồi dưỡng chuyên viên")
    return await user.expect("Bồi dưỡng chuyên viên")


async def open_from_catalog(user: ScriptedUser) -> BotMessage:
    """The class's card, then its list."""
    card = await open_card(user)
    assert "📋 Danh sách lớp" in card.labels
    # The way back to the catalogue does not read like the class's list.
    assert [label for label in card.labels if "anh sách lớp" in label] == ["📋 Danh sách lớp"]
    assert "⬅️ Về danh sách các lớp" in card.labels
    await user.tap("📋 Danh sách lớp")
    return await user.expect("Danh sách lớp DS.01")


async def test_the_office_reads_the_list_page_by_page_and_downloads_it(
    harness: Harness,
) -> None:
    world = await class_list_world(harness.db, harness.province, extra_enrolled=100)
    admin = harness.user(ADMIN)
    await admin.send("/classadmin DS.01")
    await admin.expect("DS.01")
    await admin.tap("📋 Danh sách lớp")
    first = await admin.expect("Danh sách lớp DS.01")
    assert "Học viên: 103/104 · Chờ duyệt: 1 · Danh sách chờ: 2 · Từ chối tham gia: 1" in first.body
    assert "🌱 cán bộ trẻ (dưới 35 tuổi) · 👩 nữ · 🏔 dân tộc thiểu số · ⭐ cán bộ nguồn" in (
        first.body
    )
    assert "Học viên (103)" in first.body and "Trang 1/2" in first.body
    assert "1. Học viên Số 001 — Xã Đồng Văn · 👩🏔" in first.body
    assert first.labels == ["Trang sau ▶️", "⬇️ Tải Excel", "⬅️ Quay lại"]

    await admin.tap("Trang sau ▶️")
    second = await admin.expect("Trang 2/2")
    assert second.edited and second.message_id == first.message_id
    body = second.body
    assert "Học viên (tiếp)" in body
    assert "Trần Văn Bình — Văn phòng (Sở Nội vụ) · ⭐" in body
    assert "Nguyễn Thị Phương — Xã Đồng Văn · 🌱👩🏔" in body
    assert "Chờ duyệt (1)\n1. Vàng Thị Em — Xã Đồng Văn · 👩🏔 · chờ duyệt đến" in body
    assert "do Sùng A Dế cử" in body
    assert "Danh sách chờ (2)\n1. Hoàng Văn Dũng — Văn phòng (Sở Nội vụ)\n2. Lò Văn Cường" in body
    assert "1. Sùng A Phủ — Xã Đồng Văn · 🏔 · lý do: Trùng lịch tiếp dân" in body
    assert "Giàng A Tủa" not in body  # rejected, expired, withdrawn: in the workbook only
    assert second.labels == ["◀️ Trang trước", "⬇️ Tải Excel", "⬅️ Quay lại"]
    await admin.tap("◀️ Trang trước")
    await admin.expect("Trang 1/2")
    # A page past the end (the list has shrunk since) shows the last one.
    assert await forged_tap(admin, ShowClassList(world.class_id, 99).pack()) == ""
    await admin.expect("Trang 2/2")

    # The caption counts each part as the text does: those who declined are not learners.
    book = await download(admin, "📋 Danh sách lớp DS.01: 103 học viên · 1 chờ duyệt · 2 trong "
                                 "danh sách chờ · 1 từ chối tham gia · 3 khác")  # fmt: skip
    assert book.sheetnames == SHEETS
    cover = {row[0]: row[1] for row in rows_of(book, "Thông tin lớp")[2:]}
    assert cover["Mã lớp"] == "DS.01" and cover["Sĩ số tối đa"] == 104
    assert cover["Học viên"] == 103 and cover["Khác"] == 3
    assert cover["Người lập"] == "Trần Văn Quản"
    enrolled = rows_of(book, "Học viên")
    assert enrolled[0] == ("STT", "Họ và tên", "Đơn vị", "Chức vụ/ngạch", "Giới tính", "Năm sinh",
                           "Dân tộc", "Cán bộ trẻ", "Nữ", "Dân tộc thiểu số", "Cán bộ nguồn",
                           "Điện thoại", "Trạng thái", "Ngày đăng ký", "Ghi chú")  # fmt: skip
    assert book["Học viên"].freeze_panes == "A2"
    assert book["Học viên"].page_setup.orientation == "landscape"
    assert book["Học viên"].print_title_rows == "$1:$1"  # the header on every printed page
    setup = book["Học viên"].page_setup
    # Fitted to one page wide (Excel's default width of 1 is left out), as long as it takes.
    fitted = book["Học viên"].sheet_properties.pageSetUpPr
    assert fitted is not None and fitted.fitToPage
    assert (setup.fitToWidth or 1, setup.fitToHeight, setup.paperSize) == (1, 0, 9)
    assert {row[1] for row in enrolled[1:]} == await stored_names(
        harness, world.class_id, "enrolled"
    )
    phuong = next(row for row in enrolled if row[1] == "Nguyễn Thị Phương")
    assert phuong[2:12] == ("Xã Đồng Văn", "Phó Chủ tịch UBND · Chuyên viên", "Nữ", 1999, "Mông",
                            "x", "x", "x", None, "0912 000 111")  # fmt: skip
    pending = rows_of(book, "Chờ duyệt")[1]
    assert pending[1] == "Vàng Thị Em" and pending[12] == "Chờ thủ trưởng duyệt"
    assert "Giữ chỗ đến" in str(pending[14]) and "Do Sùng A Dế cử" in str(pending[14])
    waiting = rows_of(book, "Danh sách chờ")[1:]
    assert [(row[1], row[14]) for row in waiting] == [
        ("Hoàng Văn Dũng", "Thứ tự chờ: 1"),
        ("Lò Văn Cường", "Thứ tự chờ: 2"),
    ]
    others = rows_of(book, "Khác")[1:]
    assert [(row[1], row[12]) for row in others] == [
        ("Lý Thị Mai", "Quá hạn duyệt"),
        ("Giàng A Tủa", "Không được duyệt"),
        ("Bùi Văn Thắng", "Đã rút"),
    ]
    assert others[1][14] == "Lý do: Đơn vị thiếu người"
    assert await exports(harness) == 1

    unknown = "Không tìm thấy lớp học này."
    assert await forged_tap(admin, ShowClassList(987_654).pack()) == unknown
    assert await forged_tap(admin, ClassListWorkbook(987_654).pack()) == unknown
    assert await exports(harness) == 1


async def test_its_lecturer_reads_it_without_phones_another_lecturer_cannot(
    harness: Harness,
) -> None:
    world = await class_list_world(harness.db, harness.province)
    lecturer = harness.user(LECTURER)
    shown = await open_from_catalog(lecturer)
    assert "Toàn bộ học viên của lớp." in shown.body
    assert "Học viên: 3/4" in shown.body and "Trang" not in shown.body
    assert "0912000111" not in shown.body
    book = await download(lecturer)
    header = rows_of(book, "Học viên")[0]
    assert "Điện thoại" not in header and len(header) == 14
    assert len(rows_of(book, "Học viên")) == 4

    other = harness.user(OTHER_LECTURER)
    card = await open_card(other)
    assert "📋 Danh sách lớp" not in card.labels
    for forged in (ShowClassList(world.class_id), ClassListWorkbook(world.class_id)):
        assert await forged_tap(other, forged.pack()) == FORBIDDEN
    await other.no_message()
    assert await exports(harness) == 1


async def test_a_unit_head_sees_their_staff_only(harness: Harness) -> None:
    await class_list_world(harness.db, harness.province)
    head = harness.user(HEAD)
    shown = await open_from_catalog(head)
    body = shown.body
    assert "Chỉ gồm cán bộ thuộc đơn vị do đồng chí phụ trách." in body
    assert "Học viên: 2 · Chờ duyệt: 1 · Danh sách chờ: 1 · Từ chối tham gia: 1" in body
    assert "Trần Văn Bình" not in body and "Hoàng Văn Dũng" not in body
    assert "Danh sách chờ (1)\n2. Lò Văn Cường — Xã Đồng Văn · 🏔" in body  # keeps its place
    book = await download(head)
    staff = {row[1] for sheet in SHEETS[1:] for row in rows_of(book, sheet)[1:]}
    assert staff == {"Vàng Văn An", "Nguyễn Thị Phương", "Vàng Thị Em", "Lò Văn Cường",
                     "Sùng A Phủ", "Lý Thị Mai", "Giàng A Tủa"}  # fmt: skip
    assert "Điện thoại" not in rows_of(book, "Học viên")[0]


async def test_a_unit_head_opens_it_from_the_staff_view_of_the_timetable(harness: Harness) -> None:
    """Also for classes no longer open for enrolment (the timetable's staff view has no words
    for a pending enrolment yet: the class is seen here without one)."""
    await class_list_world(harness.db, harness.province, pending=False)
    head = harness.user(HEAD)
    await head.send("/schedule")
    await head.tap("👥 Cán bộ đơn vị")
    staff = await head.expect("Cán bộ đơn vị đang học")
    assert "📋 DS.01" in staff.labels
    await head.tap("📋 DS.01")
    again = await head.expect("Danh sách lớp DS.01")
    assert again.edited and "Chỉ gồm cán bộ thuộc đơn vị" in again.body
    assert "Học viên: 2 · Chờ duyệt: 0 · Danh sách chờ: 1" in again.body


async def test_a_learner_is_refused_and_sent_nothing(harness: Harness) -> None:
    world = await class_list_world(harness.db, harness.province)
    learner = harness.user(LEARNER)
    card = await open_card(learner)
    assert "📋 Danh sách lớp" not in card.labels
    for forged in (ShowClassList(world.class_id), ShowClassList(world.class_id, 3),
                   ClassListWorkbook(world.class_id), ShowClassList(987_654)):  # fmt: skip
        assert await forged_tap(learner, forged.pack()) == FORBIDDEN
    await learner.no_message()
    assert "hết hiệu lực" in await forged_tap(learner, "cl:abc")  # malformed: help follows
    await learner.expect("Các chức năng của đồng chí")
    assert not any(event.document for event in learner.inbox)
    assert await exports(harness) == 0
