"""Results at the end of a class through the real app: an administrator records results by
buttons (a completion below the threshold only as a confirmed exception), downloads the
template, sends it back filled with a bad row (refused, nothing saved), then corrected
(saved); files of the wrong kind are explained; a learner's forged tap is refused."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from bot.actions import SetResult
from bot.attendance import Mark, MarkSource, Outcome
from bot.training import EnrolmentStatus
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import completions, results
from storage.types import utcnow
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, tap_answer
from tests.factories import add_class, add_person, count

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Telegram ids of learners A, B and C: they attended 5, 3 and 4 of 5 sessions (4 needed).
LEARNERS = {5201: 5, 5202: 3, 5203: 4}
FIRST_ROW = 5  # learners A, B, C on rows 5, 6, 7 (by name)


async def _ended_class(harness: Harness) -> tuple[int, dict[int, int]]:
    """A class whose five sessions are over, its learners' attendance taken; its id and the
    learners' person ids."""
    starts = utcnow().replace(microsecond=0) - timedelta(days=20)
    class_id = await add_class(harness.db, "KQ.E2E", starts=starts, days=5)
    people = {}
    for telegram_id, letter in zip(LEARNERS, "ABC", strict=True):
        people[telegram_id] = await add_person(
            harness.db, f"Học viên {letter}", telegram_id=telegram_id,
            unit_id=harness.province.commune_id,
        )  # fmt: skip
    async with harness.db.write() as conn:
        for person in people.values():
            assert await ClassRepository(conn).take_seat(class_id)
            await EnrolmentRepository(conn).put(class_id, person, EnrolmentStatus.ENROLLED)
        for number, session in enumerate(await ClassRepository(conn).sessions(class_id)):
            marks = {
                people[t]: Mark.PRESENT if number < attended else Mark.ABSENT
                for t, attended in LEARNERS.items()
            }
            await AttendanceRepository(conn).put(
                session.id, class_id, marks, source=MarkSource.ROLL, by=None, at=utcnow()
            )
    return class_id, people


def _fill(template: bytes, cells: dict[str, str]) -> bytes:
    book = load_workbook(io.BytesIO(template))
    for ref, value in cells.items():
        book.worksheets[0][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _outcomes(harness: Harness) -> dict[int, str]:
    async with harness.db.read() as conn:
        rows = await conn.execute(sa.select(results.c.person_id, results.c.outcome))
        return {r.person_id: r.outcome for r in rows}


async def test_an_administrator_records_results_by_buttons_and_by_workbook(
    harness: Harness,
) -> None:
    class_id, people = await _ended_class(harness)
    a, b, c = people.values()
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/classadmin KQ.E2E")
    await admin.tap("Kết quả học tập")
    sheet = await admin.expect("Đã ghi kết quả 0/3")
    assert "Học viên B (Xã Đồng Văn): 3/5 buổi ⚠️ · chưa có kết quả" in sheet.text

    # By buttons: A completes; B below the threshold, refused, then recorded as an exception.
    await admin.tap("Học viên A")
    await admin.expect("cần ít nhất 4 buổi: đủ điều kiện hoàn thành")
    assert await tap_answer(admin, "Xuất sắc") == "Đã ghi kết quả của Học viên A: Xuất sắc."
    await admin.tap("Học viên B")
    await admin.tap("Đạt")
    asked = await admin.expect("chưa đủ 4 buổi")
    assert "Vẫn công nhận (ngoại lệ)" in asked.labels
    assert await _outcomes(harness) == {a: "excellent"}
    assert await tap_answer(admin, "Vẫn công nhận (ngoại lệ)") == (
        "Đã ghi kết quả của Học viên B: Đạt."
    )
    shown = await admin.expect("Đã ghi kết quả 2/3")
    assert "Học viên B · Đạt (ngoại lệ)" in shown.labels
    assert await _outcomes(harness) == {a: "excellent", b: "passed"}

    # By workbook: the template, filled with a bad row, refused whole; then corrected.
    await admin.tap("Tải mẫu Excel")
    sent = await admin.expect("Mẫu kết quả học tập lớp KQ.E2E")
    assert sent.document is not None and sent.document.file_name == "ket-qua-KQ.E2E.xlsx"
    template = sent.document.content
    await admin.tap("Gửi file kết quả")
    await admin.expect("Đồng chí gửi file Excel (.xlsx) kết quả lớp KQ.E2E")
    await admin.send_photo(b"\xff\xd8\xff\xe0 a photo of the sheet")
    await admin.expect("gửi dưới dạng tệp, không phải ảnh")
    await admin.upload("ket-qua.pdf", b"%PDF-1.4 printed", "application/pdf")
    await admin.expect("không phải là file Excel (.xlsx)")
    other = io.BytesIO()
    Workbook().save(other)
    await admin.upload("so-lieu.xlsx", other.getvalue(), XLSX)
    await admin.expect("không phải là mẫu kết quả do bot cung cấp")
    bad = _fill(template, {f"G{FIRST_ROW + 2}": "Gioi lam", f"G{FIRST_ROW}": "gioi"})
    await admin.upload("ket-qua-KQ.E2E.xlsx", bad, XLSX)
    refused = await admin.expect("chưa lưu kết quả nào")
    assert (
        f"Dòng {FIRST_ROW + 2}, cột Kết quả: «Gioi lam» không phải là một kết quả hợp lệ"
        in refused.text
    )
    assert await _outcomes(harness) == {a: "excellent", b: "passed"}
    assert await count(harness.db, completions) == 2

    fixed = _fill(template, {f"G{FIRST_ROW + 2}": "kha"})
    await admin.upload("ket-qua-KQ.E2E.xlsx", fixed, XLSX)
    await admin.expect("Đã lưu kết quả: 1 học viên (0 trường hợp ngoại lệ); 2 học viên không")
    await admin.expect("Đã ghi kết quả 3/3")
    assert await _outcomes(harness) == {a: "excellent", b: "passed", c: "good"}
    assert await count(harness.db, completions) == 3

    # A learner forging the administrators' button is refused; nothing changes.
    learner = harness.user(5202)
    await learner.send("/start")
    await learner.next_message()
    forged = SetResult(class_id, b, Outcome.EXCELLENT).pack()
    assert "chỉ dành cho cán bộ quản lý" in await forged_tap(learner, forged)
    assert await _outcomes(harness) == {a: "excellent", b: "passed", c: "good"}
