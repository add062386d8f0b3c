"""The plan, programmes, past completions, classes and sessions imported through the real app:
for each, the template downloaded and read back, a file with mistakes (each named by row and
column in Vietnamese, nothing saved), the dry run's counts, the save, the same file again
(nothing to change) and a revised one whose changes the dry run lists."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from bot.actions import DialogueChoice
from bot.clock import FrozenClock
from bot.i18n import DEFAULT_TIMEZONE, Texts
from bot.imports.kinds import importers
from bot.imports.model import ImportKind
from bot.imports.workbooks import column_name
from bot.training import ClassKind, NewPlan, NewProgramme, Target
from storage.database import Database
from storage.repositories.plans import PlanRepository, ProgrammeRepository
from storage.schema import class_sessions, classes, completions, people, plans, programmes
from tests.e2e.conftest import (
    SUPERADMIN_ID,
    Harness,
    forged_tap,
    no_dialogue_left,
    running_bot,
)
from tests.factories import add_person, add_role, count
from tools.emulator.users import ScriptedUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Today in every test: 10/01/2026, 08:00 in the province.
NOW = datetime(2026, 1, 10, 8, 0, tzinfo=TZ)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VI = Texts("vi")
KINDS = importers(FrozenClock(NOW), DEFAULT_TIMEZONE)


@pytest.fixture
async def harness(database_kind: str, tmp_path: object) -> AsyncIterator[Harness]:
    async with running_bot(database_kind, tmp_path, clock=FrozenClock(NOW)) as running:
        yield running


def _headers(kind: ImportKind) -> list[str]:
    return [column_name(VI, kind, column.key) for column in KINDS[kind].columns]


def _xlsx(kind: ImportKind, rows: Sequence[dict[str, object]]) -> bytes:
    """A sheet as an office fills in the template: the catalog's headers, a row each."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    keys = [column.key for column in KINDS[kind].columns]
    sheet.append(_headers(kind))
    for row in rows:
        sheet.append([row.get(key) for key in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


TONES = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258_csv(kind: ImportKind, rows: Sequence[dict[str, object]]) -> bytes:
    """A CSV as older Excel saves it in Vietnam: Windows-1258, tones as combining marks."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_headers(kind))
    keys = [column.key for column in KINDS[kind].columns]
    for row in rows:
        writer.writerow([row.get(key, "") for key in keys])
    chars = []
    for char in out.getvalue():
        parts = unicodedata.normalize("NFD", char)
        chars.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)))
        chars.append("".join(c for c in parts if c in TONES))
    return "".join(chars).encode("cp1258")


async def _admin(harness: Harness) -> ScriptedUser:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/start")
    await admin.next_message()
    return admin


async def _choose(admin: ScriptedUser, kind: ImportKind) -> None:
    await admin.send("/import")
    await admin.expect("Đồng chí chọn loại dữ liệu cần nhập")
    await admin.tap(VI(f"import.kind.{kind.value}"))
    await admin.expect("Đồng chí gửi file Excel")


async def _template(admin: ScriptedUser, kind: ImportKind) -> None:
    """The template downloaded: the catalog's headers, bold, alone on the data sheet; the
    examples on the guide. Sent back as it came, it holds no row to import."""
    await admin.tap("Tải file mẫu")
    sent = await admin.expect(f"File mẫu «{VI(f'import.kind.{kind.value}')}»")
    assert sent.document is not None
    assert sent.document.file_name == VI(f"import.file_name.{kind.value}") + ".xlsx"
    book = load_workbook(io.BytesIO(sent.document.content))
    data, guide = book.worksheets
    assert data.title == VI(f"import.sheet.{kind.value}") and guide.title == "Hướng dẫn"
    assert [cell.value for cell in data[1]] == _headers(kind)
    assert all(cell.font.bold for cell in data[1])
    assert data.max_row == 1
    assert guide["A1"].value == VI(f"import.key_note.{kind.value}")
    guided = list(guide.iter_rows(min_row=4, values_only=True))
    assert [row[0] for row in guided] == _headers(kind)
    examples = [column.example or None for column in KINDS[kind].columns]
    assert [row[2] for row in guided] == examples and any(examples)
    await admin.upload("mau.xlsx", sent.document.content, XLSX)
    await admin.expect("File không có dòng dữ liệu nào")


async def _dry_run(admin: ScriptedUser, name: str, data: bytes, mime: str = XLSX) -> str:
    await admin.upload(name, data, mime)
    return (await admin.expect(f"Kết quả kiểm tra file «{name}»")).text


async def _save(admin: ScriptedUser, name: str) -> str:
    await admin.expect("Đồng chí có lưu không?")
    await admin.tap("Lưu")
    return (await admin.expect(f"Đã lưu file «{name}»")).text


async def _nothing_to_change(admin: ScriptedUser, kind: ImportKind, name: str, data: bytes,
                             counted: str, mime: str = XLSX) -> None:  # fmt: skip
    await _choose(admin, kind)
    assert counted in await _dry_run(admin, name, data, mime)
    await admin.expect("không có gì cần thay đổi")


# --- the plan, programmes and past completions ------------------------------------------------

PLAN: dict[str, object] = {
    "year": 2026,
    "name": "Kế hoạch ĐTBD năm 2026",
    "approved_on": date(2026, 1, 5),
    "approved_by": "Ban Thường vụ Tỉnh ủy",
}
PLAN_ROWS = [
    {**PLAN, "kind": "Tổng", "classes": 24, "learners": 2668},
    {**PLAN, "kind": "Bồi dưỡng cập nhật kiến thức", "classes": 12, "learners": 1400},
    {**PLAN, "kind": "ly luan chinh tri", "classes": 4, "learners": "188"},
]  # fmt: skip
PROGRAMME_ROWS = [
    {"code": "CT.CV", "name": "Bồi dưỡng ngạch chuyên viên", "kind": "Bồi dưỡng theo ngạch"},
    {"code": "ct.cds", "name": "Chuyển đổi số trong cơ quan nhà nước",
     "kind": "Chuyên đề, tập huấn nghiệp vụ", "validity_months": "24"},
]  # fmt: skip
COMPLETION_ROWS = [
    {"staff_code": "CB101", "programme": "CT.CV", "completed_on": date(2024, 11, 28),
     "class_name": "Lớp bồi dưỡng ngạch chuyên viên khóa 3"},
    {"staff_code": "cb101", "programme": "CT.CDS", "completed_on": "15/06/2025"},
]  # fmt: skip


async def test_the_plan_programmes_and_past_completions(harness: Harness) -> None:
    db = harness.db
    admin = await _admin(harness)

    # A forged kind (the question's own token, a value never offered) is refused.
    await admin.send("/import")
    asked = await admin.expect("Đồng chí chọn loại dữ liệu cần nhập")
    offered = next(b.callback_data for row in asked.buttons for b in row if "Kế hoạch" in b.text)
    assert offered is not None
    forged = replace(DialogueChoice.unpack(offered), value="salaries").pack()
    assert "Loại dữ liệu này không có" in await forged_tap(admin, forged)
    await admin.tap(VI("import.kind.plan"))

    # The plan: its template, then a file with mistakes, each named; nothing saved.
    await admin.expect("Đồng chí gửi file Excel")
    await _template(admin, ImportKind.PLAN)
    bad = [PLAN_ROWS[0], {**PLAN_ROWS[1], "kind": "Lớp học vui", "classes": "mười"},
           {**PLAN_ROWS[2], "approved_on": date(2026, 2, 1)}]  # fmt: skip
    refused = await _dry_run(admin, "ke-hoach.xlsx", _xlsx(ImportKind.PLAN, bad))
    assert "Có 3 lỗi" in refused
    assert "Dòng 3, cột «Loại lớp»: «Lớp học vui» không phải giá trị được chấp nhận" in refused
    assert "Dòng 3, cột «Số lớp (chỉ tiêu)»: Vui lòng nhập một số từ 0 đến" in refused
    assert "Dòng 4, cột «Ngày phê duyệt»" in refused
    await admin.expect("Đồng chí gửi file đã sửa")
    assert await count(db, plans) == 0

    # The good file: counted, saved; the same file again changes nothing.
    good = _xlsx(ImportKind.PLAN, PLAN_ROWS)
    assert "3 dòng: thêm mới 3, cập nhật 0, giữ nguyên 0" in await _dry_run(
        admin, "ke-hoach.xlsx", good
    )
    assert "thêm mới 3" in await _save(admin, "ke-hoach.xlsx")
    async with db.read() as conn:
        plan = await PlanRepository(conn).of_year(2026)
    assert plan is not None and plan.approved and plan.targets["theory"] == Target(4, 188)
    await _nothing_to_change(admin, ImportKind.PLAN, "ke-hoach.xlsx", good, "giữ nguyên 3")

    # A revised target: the dry run says which row and column change, and how.
    revised = [*PLAN_ROWS[:1], {**PLAN_ROWS[1], "learners": "1.500"}, *PLAN_ROWS[2:]]
    await _choose(admin, ImportKind.PLAN)
    shown = await _dry_run(admin, "ke-hoach.xlsx", _xlsx(ImportKind.PLAN, revised))
    assert "cập nhật 1, giữ nguyên 2" in shown
    assert "Dòng 3, «Số học viên (chỉ tiêu)»: 1400 → 1500" in shown
    await _save(admin, "ke-hoach.xlsx")

    # Programmes from a CSV in Windows-1258.
    await _choose(admin, ImportKind.PROGRAMMES)
    await _template(admin, ImportKind.PROGRAMMES)
    wrong = [PROGRAMME_ROWS[0], {**PROGRAMME_ROWS[1], "validity_months": "0", "kind": ""}]
    csv_type = "text/csv"
    refused = await _dry_run(admin, "chuong-trinh.csv",
                             _cp1258_csv(ImportKind.PROGRAMMES, wrong), csv_type)  # fmt: skip
    assert "Dòng 3, cột «Loại lớp»: Ô này không được để trống." in refused
    assert "Dòng 3, cột «Thời hạn giá trị (tháng)»: Vui lòng nhập một số từ 1 đến 120." in refused
    await admin.expect("Đồng chí gửi file đã sửa")
    assert await count(db, programmes) == 0
    data = _cp1258_csv(ImportKind.PROGRAMMES, PROGRAMME_ROWS)
    assert "2 dòng: thêm mới 2" in await _dry_run(admin, "chuong-trinh.csv", data, csv_type)
    await _save(admin, "chuong-trinh.csv")
    async with db.read() as conn:
        saved = {p.code: p for p in await ProgrammeRepository(conn).all()}
    assert saved["CT.CDS"].name == "Chuyển đổi số trong cơ quan nhà nước"
    assert saved["CT.CDS"].kind is ClassKind.THEMATIC and saved["CT.CDS"].validity_months == 24
    await _nothing_to_change(admin, ImportKind.PROGRAMMES, "chuong-trinh.csv", data,
                             "giữ nguyên 2", csv_type)  # fmt: skip
    # A kind changed: shown in words, as the office writes it.
    moved = [{**PROGRAMME_ROWS[0], "kind": "Lý luận chính trị"}, PROGRAMME_ROWS[1]]
    await _choose(admin, ImportKind.PROGRAMMES)
    shown = await _dry_run(admin, "chuong-trinh.xlsx", _xlsx(ImportKind.PROGRAMMES, moved))
    assert "Dòng 2 (CT.CV), «Loại lớp»: Bồi dưỡng theo ngạch → Lý luận chính trị" in shown
    await admin.tap("❌ Hủy")
    await admin.expect("Đã hủy nhập dữ liệu")

    # Past completions of a cadre on the roster.
    cadre = await add_person(db, "Nguyễn Thị Phương", unit_id=harness.province.commune_id)
    async with db.write() as conn:
        await conn.execute(people.update().where(people.c.id == cadre).values(staff_code="CB101"))
    await _choose(admin, ImportKind.COMPLETIONS)
    await _template(admin, ImportKind.COMPLETIONS)
    wrong = [{**COMPLETION_ROWS[0], "staff_code": "CB999"},
             {**COMPLETION_ROWS[1], "completed_on": "15/06/2027"}]  # fmt: skip
    refused = await _dry_run(admin, "da-hoc.xlsx", _xlsx(ImportKind.COMPLETIONS, wrong))
    assert "Dòng 2, cột «Mã cán bộ»: Không có cán bộ mã CB999 trong danh sách cán bộ." in refused
    assert "Dòng 3, cột «Ngày hoàn thành»: Ngày hoàn thành 15/06/2027 cần từ năm 1975" in refused
    await admin.expect("Đồng chí gửi file đã sửa")
    assert await count(db, completions) == 0
    good = _xlsx(ImportKind.COMPLETIONS, COMPLETION_ROWS)
    assert "2 dòng: thêm mới 2" in await _dry_run(admin, "da-hoc.xlsx", good)
    await _save(admin, "da-hoc.xlsx")
    assert await count(db, completions) == 2
    await _nothing_to_change(admin, ImportKind.COMPLETIONS, "da-hoc.xlsx", good, "giữ nguyên 2")
    await no_dialogue_left(db)


# --- classes and their sessions ---------------------------------------------------------------

CLASS_ROWS: list[dict[str, object]] = [
    {"code": "CV.2026.01", "name": "Bồi dưỡng ngạch chuyên viên khóa 1", "programme": "CT.CV",
     "plan_year": 2026, "format": "Tập trung", "location": "Hội trường A, Trường Chính trị tỉnh",
     "capacity": 60, "enrol_opens": date(2026, 1, 12), "enrol_deadline": date(2026, 2, 20),
     "requires_approval": "Có", "audience": "SNV, XA.DONGVAN", "lecturers": "GV001"},
    {"code": "CDS.2026.01", "name": "Chuyển đổi số khóa 1", "programme": "CT.CDS",
     "plan_year": 2026, "format": "Trực tuyến", "meeting_link": "https://meet.example.vn/cds",
     "capacity": 200, "enrol_deadline": "01/03/2026 17:00", "late_after": 10},
]  # fmt: skip
SESSION_ROWS: list[dict[str, object]] = [
    {"class": "CV.2026.01", "date": date(2026, 3, 2), "start": "07:30", "end": "11:00",
     "topic": "Chuyên đề 1: Nhà nước pháp quyền", "lecturer": "GV001"},
    {"class": "CV.2026.01", "date": "03/03/2026", "start": "7h30", "end": "11:00"},
    {"class": "cv.2026.01", "date": date(2026, 3, 3), "start": "13:30", "end": "16:30",
     "room": "Phòng 201"},
]  # fmt: skip


async def _plan_and_programmes(db: Database) -> None:
    """This year's approved plan, two programmes and a lecturer with a staff code."""
    async with db.write() as conn:
        await PlanRepository(conn).add(
            NewPlan(2026, "Kế hoạch ĐTBD năm 2026", date(2026, 1, 5), "Ban Thường vụ Tỉnh ủy",
                    {"all": Target(24, 2668)})
        )  # fmt: skip
        for code, kind in (("CT.CV", ClassKind.GRADE), ("CT.CDS", ClassKind.THEMATIC)):
            await ProgrammeRepository(conn).add(
                NewProgramme(code, f"Chương trình {code}", kind, None)
            )
    lecturer = await add_person(db, "Hà Thị Giảng", unit_id=None)
    await add_role(db, lecturer, "lecturer")
    async with db.write() as conn:
        await conn.execute(people.update().where(people.c.id == lecturer).values(
            staff_code="GV001"))  # fmt: skip


async def _class_rows(db: Database) -> dict[str, tuple[str, int, bool]]:
    async with db.read() as conn:
        found = await conn.execute(sa.select(classes.c.code, classes.c.status, classes.c.capacity,
                                             classes.c.requires_approval))  # fmt: skip
        return {r.code: (r.status, r.capacity, bool(r.requires_approval)) for r in found}


async def test_classes_then_their_sessions(harness: Harness) -> None:
    db = harness.db
    await _plan_and_programmes(db)
    admin = await _admin(harness)

    await _choose(admin, ImportKind.CLASSES)
    await _template(admin, ImportKind.CLASSES)
    bad = [{**CLASS_ROWS[0], "name": "😀\u202e" * 3000, "format": "Học từ xa"},
           {**CLASS_ROWS[1], "programme": "KHONGCO", "capacity": "hai trăm"}]  # fmt: skip
    refused = await _dry_run(admin, "lop-hoc.xlsx", _xlsx(ImportKind.CLASSES, bad))
    assert "Có 4 lỗi" in refused
    assert "Dòng 2, cột «Tên lớp»: Tên cần từ 3 đến 200 ký tự." in refused
    assert "Dòng 2, cột «Hình thức»: «Học từ xa» không phải giá trị được chấp nhận" in refused
    assert "Dòng 3, cột «Sĩ số»: Vui lòng nhập một số từ 1 đến 10.000." in refused
    assert "Dòng 3, cột «Mã chương trình»: Chưa có chương trình mã KHONGCO." in refused
    await admin.expect("Đồng chí gửi file đã sửa")
    assert await count(db, classes) == 0

    good = _xlsx(ImportKind.CLASSES, CLASS_ROWS)
    assert "2 dòng: thêm mới 2, cập nhật 0" in await _dry_run(admin, "lop-hoc.xlsx", good)
    await _save(admin, "lop-hoc.xlsx")
    assert await _class_rows(db) == {"CV.2026.01": ("open", 60, True),
                                     "CDS.2026.01": ("open", 200, False)}  # fmt: skip
    await _nothing_to_change(admin, ImportKind.CLASSES, "lop-hoc.xlsx", good, "giữ nguyên 2")

    # What a file may change of a saved class, listed; a cancelled class is left alone.
    async with db.write() as conn:
        await conn.execute(classes.update().where(classes.c.code == "CDS.2026.01").values(
            status="cancelled"))  # fmt: skip
    revised = [{**CLASS_ROWS[0], "capacity": 80, "requires_approval": "Không"},
               {**CLASS_ROWS[1], "capacity": 300}]  # fmt: skip
    await _choose(admin, ImportKind.CLASSES)
    shown = await _dry_run(admin, "lop-hoc.xlsx", _xlsx(ImportKind.CLASSES, revised))
    assert "cập nhật 1, giữ nguyên 1" in shown
    assert "Dòng 2 (CV.2026.01), «Sĩ số»: 60 → 80" in shown
    assert "Dòng 2 (CV.2026.01), «Cần thủ trưởng duyệt»: Có → Không" in shown
    assert "Dòng 3: lớp CDS.2026.01 đã hủy nên được giữ nguyên." in shown
    await _save(admin, "lop-hoc.xlsx")
    assert await _class_rows(db) == {"CV.2026.01": ("open", 80, False),
                                     "CDS.2026.01": ("cancelled", 200, False)}  # fmt: skip

    # The timetable.
    await _choose(admin, ImportKind.SESSIONS)
    await _template(admin, ImportKind.SESSIONS)
    wrong = [{**SESSION_ROWS[0], "end": "07:00"}, {**SESSION_ROWS[1], "class": "KHONGCO"},
             {**SESSION_ROWS[2], "class": "CDS.2026.01"}]  # fmt: skip
    refused = await _dry_run(admin, "lich-hoc.xlsx", _xlsx(ImportKind.SESSIONS, wrong))
    ends = "Dòng 2, cột «Giờ kết thúc»: Giờ kết thúc (07:00) phải sau giờ bắt đầu (07:30)."
    assert ends in refused
    assert "Dòng 3, cột «Mã lớp»: Chưa có lớp mã KHONGCO." in refused
    assert "Dòng 4, cột «Mã lớp»" in refused and "hủy" in refused
    await admin.expect("Đồng chí gửi file đã sửa")
    assert await count(db, class_sessions) == 0

    good = _xlsx(ImportKind.SESSIONS, SESSION_ROWS)
    assert "3 dòng: thêm mới 3" in await _dry_run(admin, "lich-hoc.xlsx", good)
    await _save(admin, "lich-hoc.xlsx")
    assert await count(db, class_sessions) == 3
    await _nothing_to_change(admin, ImportKind.SESSIONS, "lich-hoc.xlsx", good, "giữ nguyên 3")
    moved = [*SESSION_ROWS[:2], {**SESSION_ROWS[2], "end": "17:00", "room": "Phòng 305"}]
    await _choose(admin, ImportKind.SESSIONS)
    shown = await _dry_run(admin, "lich-hoc.xlsx", _xlsx(ImportKind.SESSIONS, moved))
    assert "Dòng 4, «Giờ kết thúc»: 16:30 → 17:00" in shown
    assert "Dòng 4, «Phòng học»: Phòng 201 → Phòng 305" in shown
    await _save(admin, "lich-hoc.xlsx")
    async with db.read() as conn:
        ends = list(await conn.scalars(sa.select(class_sessions.c.room)
                                       .where(class_sessions.c.room.is_not(None))))  # fmt: skip
    assert ends == ["Phòng 305"]
    await no_dialogue_left(db)
