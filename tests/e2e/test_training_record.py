"""The training record through the real protocol: a learner opens theirs by command and by the
main keyboard, sees each class's attendance, downloads the PDF and the workbook (read back
with real parsers); a unit head opens a staff member's record from the person's card and
downloads it; forged taps for people out of reach are refused as unknown ones."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest

from bot.actions import DownloadRecord, RecordClass, ShowRecord
from bot.attendance import Mark, MarkSource
from bot.clock import FrozenClock
from bot.training_record import RecordFormat
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import results
from storage.types import utcnow
from tests.e2e.conftest import Harness, forged_tap, running_bot, tap_answer
from tests.factories import add_class, add_person, add_role
from tools.emulator.users import BotMessage

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LEARNER, HEAD, OUTSIDER = 3501, 3502, 3503
NOT_FOUND = "Không tìm thấy hồ sơ hoặc đồng chí không có quyền xem."
OLD_CLASS = "Kiến thức quốc phòng và an ninh"
NEW_CLASS = "Chuyển đổi số trong cơ quan nhà nước"


@pytest.fixture
async def harness(database_kind: str, tmp_path: object) -> AsyncIterator[Harness]:
    """The bot on a frozen clock: what has been held, and the file's year, are fixed."""
    clock = FrozenClock(utcnow().replace(microsecond=0))
    async with running_bot(database_kind, tmp_path, clock=clock) as running:
        yield running


async def marks(harness: Harness, class_id: int, person_id: int, given: list[Mark]) -> None:
    async with harness.db.write() as conn:
        sessions = await ClassRepository(conn).sessions(class_id)
        for session, mark in zip(sessions, given, strict=False):
            await AttendanceRepository(conn).put(
                session.id, class_id, {person_id: mark}, source=MarkSource.ROLL, by=None,
                at=session.starts_at,
            )  # fmt: skip


async def learner_in_two_classes(harness: Harness) -> dict[str, int]:
    """Lan: a class of an earlier year with its result, and one running now (three sessions
    held, one of them not marked yet, two to come); her unit head; someone of another unit."""
    province = harness.province
    assert harness.clock is not None
    now = harness.clock.now()
    ids = {
        "lan": await add_person(harness.db, "Nguyễn Thị Lan", unit_id=province.commune_id,
                                telegram_id=LEARNER),
        "head": await add_person(harness.db, "Sùng A Dế", unit_id=province.commune_id,
                                 telegram_id=HEAD),
        "outsider": await add_person(harness.db, "Trần Văn Xa", unit_id=province.department_id,
                                     telegram_id=OUTSIDER),
        "old": await add_class(harness.db, "QPAN", name=OLD_CLASS, days=4,
                               starts=now - timedelta(days=400)),
        "new": await add_class(harness.db, "CDS", name=NEW_CLASS, days=5,
                               starts=now - timedelta(days=3) + timedelta(hours=1)),
    }  # fmt: skip
    await add_role(harness.db, ids["head"], "unit_head", province.commune_id)
    async with harness.db.write() as conn:
        for class_id in (ids["old"], ids["new"]):
            await EnrolmentRepository(conn).add_enrolled(class_id, [ids["lan"], ids["outsider"]])
        await conn.execute(results.insert().values(
            class_id=ids["old"], person_id=ids["lan"], outcome="good", attended=2, total=4,
            override=False, recorded_by=None, recorded_at=now - timedelta(days=300),
        ))  # fmt: skip
    await marks(harness, ids["old"], ids["lan"], [Mark.PRESENT, Mark.LATE, Mark.EXCUSED,
                                                  Mark.ABSENT])  # fmt: skip
    await marks(harness, ids["new"], ids["lan"], [Mark.PRESENT, Mark.LATE])
    return ids


def pdf_text(document: BotMessage) -> str:
    """The PDF's text, its lines joined (a long name wraps in its table cell)."""
    assert document.document is not None
    reader = pypdf.PdfReader(io.BytesIO(document.document.content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def classes_sheet(document: BotMessage) -> dict[str, dict[str, object]]:
    """The classes sheet's rows by class code, each as {header: value}."""
    assert document.document is not None
    book = openpyxl.load_workbook(io.BytesIO(document.document.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(rows) if row[1] == "Mã lớp")
    header = [str(h) for h in rows[header_at]]
    found = {}
    for row in rows[header_at + 1 :]:
        if row[1]:
            found[str(row[1])] = dict(zip(header, row, strict=True))
    return found


async def test_a_learner_reads_and_downloads_their_record(harness: Harness) -> None:
    ids = await learner_in_two_classes(harness)
    assert harness.clock is not None
    year = harness.clock.now().astimezone(TZ).year
    lan = harness.user(LEARNER)
    assert "record" in harness.menu(LEARNER)
    await lan.send("/record")
    record = await lan.expect("Quá trình học tập")
    assert "Nguyễn Thị Lan" in record.body and "Xã Đồng Văn" in record.body
    assert f"Năm {year}: 1 lớp · tham dự 2/3 buổi · 6 giờ" in record.body
    assert f"{NEW_CLASS} (CDS)" in record.body and "Đang học" in record.body
    assert f"{OLD_CLASS} (QPAN)" in record.body and "Hoàn thành, loại khá" in record.body
    assert "tham dự 2/4 buổi, 6 giờ" in record.body
    assert record.labels == ["🗓 CDS", "🗓 QPAN", "📄 Tải PDF", "📊 Tải Excel"]

    await lan.tap("🗓 CDS")
    attendance = await lan.expect("Đã tham dự 2/5 buổi, cần ít nhất 4 buổi.")
    assert attendance.edited and attendance.message_id == record.message_id
    lines = [line.split(": ", 1)[1] for line in attendance.body.splitlines() if line[:1] == "•"]
    assert lines == ["có mặt", "đi muộn", "chưa điểm danh", "sắp tới", "sắp tới"]
    assert "Đi muộn: 1 · vắng có phép: 0 · vắng không phép: 0" in attendance.body
    await lan.tap("⬅️ Quá trình học tập")
    await lan.expect("Chọn một lớp")

    await lan.send("📒 Quá trình học tập")  # the main keyboard's button
    await lan.expect("Quá trình học tập")
    await lan.tap("📄 Tải PDF")
    pdf = await lan.expect("Quá trình đào tạo, bồi dưỡng của đồng chí Nguyễn Thị Lan")
    assert pdf.document is not None
    assert pdf.document.file_name == f"qua-trinh-hoc-tap-nguyen-thi-lan-{year}.pdf"
    text = pdf_text(pdf)
    assert "QUÁ TRÌNH ĐÀO TẠO, BỒI DƯỠNG" in text and "Nguyễn Thị Lan" in text
    assert OLD_CLASS in text and NEW_CLASS in text and "Hoàn thành, loại khá" in text
    assert "Tổng cộng: 2 lớp · tham dự 4/7 buổi · 12 giờ · hoàn thành 1 lớp" in text

    await lan.tap("📊 Tải Excel")
    xlsx = await lan.expect("Quá trình đào tạo, bồi dưỡng của đồng chí Nguyễn Thị Lan")
    assert xlsx.document is not None
    assert xlsx.document.file_name == f"qua-trinh-hoc-tap-nguyen-thi-lan-{year}.xlsx"
    rows = classes_sheet(xlsx)
    figures = ("Số buổi đã học", "Số buổi tham dự", "Đi muộn", "Vắng có phép", "Vắng không phép")
    assert [rows["QPAN"][f] for f in figures] == [4, 2, 1, 1, 1]
    assert [rows["CDS"][f] for f in figures] == [3, 2, 1, 0, 0]
    assert (rows["QPAN"]["Số giờ"], rows["CDS"]["Số giờ"]) == (6, 6)
    assert (
        rows["QPAN"]["Tên lớp"] == OLD_CLASS and rows["QPAN"]["Kết quả"] == "Hoàn thành, loại khá"
    )
    book = openpyxl.load_workbook(io.BytesIO(xlsx.document.content))
    assert book.sheetnames == ["Quá trình học tập", "Điểm danh"]
    assert len(list(book["Điểm danh"].iter_rows(min_row=2))) == 9

    # Another's record, by a forged button: the same answer as for nobody at all.
    for forged in (
        ShowRecord(ids["outsider"]),
        RecordClass(ids["new"], ids["outsider"]),
        DownloadRecord(RecordFormat.PDF, ids["outsider"]),
        ShowRecord(999_999),
    ):
        assert await forged_tap(lan, forged.pack()) == NOT_FOUND  # fmt: skip


async def test_a_unit_head_downloads_a_staff_members_record(harness: Harness) -> None:
    ids = await learner_in_two_classes(harness)
    head = harness.user(HEAD)
    await head.send("/people nguyen thi lan")
    await head.tap("Nguyễn Thị Lan")
    card = await head.expect("Nguyễn Thị Lan")
    await head.tap("📒 Quá trình học tập", card.message_id)
    record = await head.expect("Quá trình học tập")
    assert "Nguyễn Thị Lan" in record.body and "tham dự 2/3 buổi" in record.body
    assert record.labels[-1] == "⬅️ Quay lại"
    await head.tap("🗓 QPAN")
    await head.expect("Đã tham dự 2/4 buổi, cần ít nhất 4 buổi.")
    await head.tap("⬅️ Quá trình học tập")
    await head.tap("📄 Tải PDF")
    pdf = await head.expect("Quá trình đào tạo, bồi dưỡng của đồng chí Nguyễn Thị Lan")
    assert "Nguyễn Thị Lan" in pdf_text(pdf) and OLD_CLASS in pdf_text(pdf)

    # Someone of another unit: refused exactly as an id that does not exist.
    for forged in (
        ShowRecord(ids["outsider"]),
        RecordClass(ids["old"], ids["outsider"]),
        DownloadRecord(RecordFormat.XLSX, ids["outsider"]),
        ShowRecord(999_999),
    ):
        assert await forged_tap(head, forged.pack()) == NOT_FOUND  # fmt: skip
    assert await tap_answer(head, "📊 Tải Excel") == ""
    await head.expect("Quá trình đào tạo, bồi dưỡng của đồng chí Nguyễn Thị Lan")
