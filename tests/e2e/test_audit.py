"""/audit through the real protocol: an administrator reads the audit log page by page,
narrows it to a kind of action, to a person (searched without diacritics) and to a typed
period, and downloads it as a workbook read back with openpyxl; learners and unit heads are
refused; bad dates, a huge name, an unknown person and forged buttons get clear answers, and
nothing is sent."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa

from bot.actions import AuditKinds, ExportAuditLog, PickAuditPerson, ShowAuditLog
from bot.audit_log import Period
from bot.clock import FrozenClock
from bot.domain import AuditAction
from storage.database import Database
from storage.schema import audit_log
from storage.types import utcnow
from tests.e2e.conftest import Harness, forged_tap, running_bot, tap_answer
from tests.factories import add_class, add_person, add_role
from tools.emulator.users import ScriptedUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN, LAN, HEAD, POM = 3601, 3602, 3603, 3604
FORBIDDEN = "Xin lỗi, chức năng này chỉ dành cho cán bộ quản lý được phân quyền."
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def harness(database_kind: str, tmp_path: object) -> AsyncIterator[Harness]:
    """The bot on a frozen clock: "the last 7 days" are the same days for the whole test."""
    clock = FrozenClock(utcnow().replace(microsecond=0))
    async with running_bot(database_kind, tmp_path, clock=clock) as running:
        yield running


def today(harness: Harness) -> date:
    assert harness.clock is not None
    return harness.clock.now().astimezone(TZ).date()


def at_noon(day: date, minute: int = 0) -> datetime:
    return datetime.combine(day, time(12, minute), TZ)


async def entry(
    db: Database,
    at: datetime,
    action: AuditAction,
    *,
    actor: int | None,
    person_id: int | None = None,
    **details: object,
) -> None:
    async with db.write() as conn:
        await conn.execute(
            audit_log.insert().values(at=at, actor_telegram_id=actor, action=action.value,
                                      person_id=person_id, details=details)
        )  # fmt: skip


async def exports(db: Database) -> int:
    async with db.read() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.action == "audit_exported")
        )
        return int(found.scalar_one())


async def office(harness: Harness) -> dict[str, int]:
    """An administrator, a learner with a week of enrolments, a unit head, another learner
    whose profile was confirmed; a system entry, and one older than a week."""
    province, db = harness.province, harness.db
    ids = {
        "admin": await add_person(db, "Trần Văn Quản", unit_id=province.root_id,
                                  telegram_id=ADMIN),
        "lan": await add_person(db, "Nguyễn Thị Lan", unit_id=province.commune_id,
                                telegram_id=LAN),
        "head": await add_person(db, "Sùng A Dế", unit_id=province.commune_id, telegram_id=HEAD),
        "pom": await add_person(db, "Lò Văn Pọm", unit_id=province.commune_id, telegram_id=POM),
        "class": await add_class(db, "QPAN"),
    }  # fmt: skip
    await add_role(db, ids["admin"], "admin")
    await add_role(db, ids["head"], "unit_head", province.commune_id)
    day = today(harness)
    await entry(db, at_noon(day - timedelta(days=10)), AuditAction.ROLE_GRANTED, actor=ADMIN,
                person_id=ids["head"], role="unit_head", unit_id=province.commune_id)  # fmt: skip
    for n in range(26):  # oldest first, the last one today
        await entry(db, at_noon(day - timedelta(days=5), n) + timedelta(days=n // 5),
                    AuditAction.ENROLLED, actor=LAN, person_id=ids["lan"],
                    class_id=ids["class"])  # fmt: skip
    await entry(db, at_noon(day - timedelta(days=6)), AuditAction.DEMO_SEED, actor=None)
    for n in range(3):
        await entry(db, at_noon(day - timedelta(days=1), 30 + n), AuditAction.PROFILE_VERIFIED,
                    actor=ADMIN, person_id=ids["pom"])  # fmt: skip
    return ids


def lines_of(body: str) -> list[str]:
    """The entries of a view: the lines that start with a date."""
    return [line for line in body.splitlines() if line[:2].isdigit()]


async def test_an_administrator_reads_narrows_and_downloads_the_audit_log(
    harness: Harness,
) -> None:
    await office(harness)
    day = today(harness)
    admin = harness.user(ADMIN)
    await admin.send("/audit")
    view = await admin.expect("Nhật ký thay đổi")
    assert "audit" in harness.menu(ADMIN)
    week = f"{day - timedelta(days=6):%d/%m/%Y} – {day:%d/%m/%Y}"
    assert f"Thời gian: {week}" in view.body
    assert "Có 30 mục, mới nhất ở trên. Trang 1/3." in view.body
    shown = lines_of(view.body)
    assert len(shown) == 12
    assert (
        shown[0]
        == f"{day:%d/%m/%Y} 12:25 — Nguyễn Thị Lan — Đăng ký lớp — Nguyễn Thị Lan — Lớp: QPAN"
    )
    yesterday = day - timedelta(days=1)
    verified = f"{yesterday:%d/%m/%Y} 12:32 — Trần Văn Quản — Xác nhận hồ sơ — Lò Văn Pọm"
    assert verified in shown
    assert view.labels == ["Sau ▶️", "📅 Thời gian", "👤 Theo người", "🏷 Thao tác",
                           "📥 Tải về Excel"]  # fmt: skip

    await admin.tap("Sau ▶️")
    second = await admin.expect("Trang 2/3")
    assert second.edited and second.message_id == view.message_id
    await admin.tap("Sau ▶️")
    third = await admin.expect("Trang 3/3")
    assert lines_of(third.body)[-1] == (
        f"{day - timedelta(days=6):%d/%m/%Y} 12:00 — Hệ thống — Tạo dữ liệu mẫu"
    )
    await admin.tap("◀️ Trước")
    await admin.expect("Trang 2/3")

    # One kind of action: the kinds of the period, with how many of each.
    await admin.tap("🏷 Thao tác")
    kinds = await admin.expect("Đồng chí chọn một loại")
    assert kinds.labels == ["Đăng ký lớp (26)", "Xác nhận hồ sơ (3)", "Tạo dữ liệu mẫu (1)",
                            "Mọi thao tác"]  # fmt: skip
    await admin.tap("Xác nhận hồ sơ (3)")
    verified_view = await admin.expect("Thao tác: Xác nhận hồ sơ")
    assert "Có 3 mục" in verified_view.body and "Trang" not in verified_view.body
    assert all("Xác nhận hồ sơ" in line for line in lines_of(verified_view.body))
    await admin.tap("✖️ Mọi thao tác")
    await admin.expect("Có 30 mục")

    # A person, searched without diacritics: what concerns her and what she did.
    await admin.tap("👤 Theo người")
    await admin.expect("gõ họ tên người cần xem")
    await admin.send("nguyen thi lan")
    found = await admin.expect("Kết quả tìm «nguyen thi lan»")
    assert found.labels[0] == "Nguyễn Thị Lan (1988) · Xã Đồng Văn"
    await admin.tap("Nguyễn Thị Lan (1988) · Xã Đồng Văn")
    lan_view = await admin.expect("Người: Nguyễn Thị Lan (1988)")
    assert "Có 26 mục" in lan_view.body
    assert "✖️ Mọi người" in lan_view.labels

    # A typed period: the ten days before, which hold the role granted.
    await admin.tap("📅 Thời gian")
    await admin.expect("Đồng chí chọn khoảng thời gian")
    await admin.tap("✏️ Nhập khoảng ngày")
    await admin.expect("gõ khoảng thời gian")
    earlier = f"{day - timedelta(days=12):%d/%m/%Y}-{day - timedelta(days=8):%d/%m/%Y}"
    await admin.send(earlier)
    older = await admin.expect("Người: Nguyễn Thị Lan")  # the person stays chosen
    assert "Không có mục nào" in older.body
    await admin.tap("✖️ Mọi người")
    granted = await admin.expect("Có 1 mục")
    assert lines_of(granted.body) == [
        f"{day - timedelta(days=10):%d/%m/%Y} 12:00 — Trần Văn Quản — Giao vai trò — Sùng A Dế"
        " — Vai trò: Thủ trưởng đơn vị; Đơn vị: Xã Đồng Văn"
    ]

    # The workbook of the default week, read back: the same entries, newest first.
    await admin.send("/audit")
    await admin.expect("Có 30 mục")
    assert await tap_answer(admin, "📥 Tải về Excel") == "Đang chuẩn bị tệp Excel…"
    sent = await admin.expect("Nhật ký thay đổi từ")
    assert sent.document is not None and sent.document.mime_type == XLSX
    stem = Period(day - timedelta(days=6), day).file_stem()
    assert sent.document.file_name == f"nhat-ky-{stem}.xlsx"
    assert "30 mục" in (sent.caption or "")
    book = openpyxl.load_workbook(io.BytesIO(sent.document.content))
    assert book.sheetnames == ["Nhật ký thay đổi"]
    sheet = book["Nhật ký thay đổi"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Thời điểm", "Người thực hiện", "Thao tác", "Đối tượng", "Chi tiết")
    assert len(rows) == 31
    assert rows[1] == (datetime.combine(day, time(12, 25)), "Nguyễn Thị Lan", "Đăng ký lớp",
                       "Nguyễn Thị Lan", "Lớp: QPAN")  # fmt: skip
    assert rows[-1] == (datetime.combine(day - timedelta(days=6), time(12)), "Hệ thống",
                        "Tạo dữ liệu mẫu", None, None)  # fmt: skip
    assert [row[0] for row in rows[1:]] == sorted((row[0] for row in rows[1:]), reverse=True)
    assert sheet["A2"].number_format == "dd/mm/yyyy hh:mm"
    assert sum(row[2] == "Xác nhận hồ sơ" for row in rows) == 3
    assert await exports(harness.db) == 1  # the export is audited; reading was not

    # The export shows in the log: who downloaded which days.
    await admin.send("/audit")
    logged = lines_of((await admin.expect("Có 31 mục")).body)
    week_words = f"Từ ngày: {day - timedelta(days=6):%d/%m/%Y}; Đến ngày: {day:%d/%m/%Y}"
    assert any(
        f"Trần Văn Quản — Tải về nhật ký thay đổi — {week_words}; Số mục: 30" in line
        for line in logged
    )


async def refused(user: ScriptedUser) -> None:
    """A member of staff without the right: refused by command and by forged buttons, and
    sent no file."""
    await user.send("/audit")
    await user.expect(FORBIDDEN)
    first, last = Period(date(2026, 11, 1), date(2026, 11, 30)).key()
    for forged in (ShowAuditLog(first, last), ExportAuditLog(first, last),
                   AuditKinds(first, last), PickAuditPerson(first, last)):  # fmt: skip
        assert await forged_tap(user, forged.pack()) == FORBIDDEN
    await user.no_message()
    assert not any(event.document for event in user.inbox)


async def test_learners_and_unit_heads_are_refused(harness: Harness) -> None:
    await office(harness)
    for telegram_id in (LAN, HEAD):
        await refused(harness.user(telegram_id))
        assert "audit" not in harness.menu(telegram_id)
    assert await exports(harness.db) == 0


async def test_bad_input_gets_a_clear_answer_and_nothing_is_sent(harness: Harness) -> None:
    await office(harness)
    admin = harness.user(ADMIN)
    await admin.send("/audit 31/10/2026-01/10/2026")
    await admin.expect("Ngày bắt đầu (31/10/2026) đang sau ngày kết thúc (01/10/2026)")
    await admin.send("/audit 31/02/2026")
    await admin.expect("Ngày «31/02/2026» không có trên lịch.")
    await admin.send("/audit hôm qua")
    await admin.expect("Chưa đọc được khoảng thời gian «hôm qua»")

    # Typed in the dialogue: each mistake is explained, and the question stays open.
    await admin.send("/audit")
    await admin.expect("Có 30 mục")
    await admin.tap("📅 Thời gian")
    await admin.tap("✏️ Nhập khoảng ngày")
    await admin.expect("gõ khoảng thời gian")
    await admin.send("31/02/2026-05/03/2026")
    await admin.expect("Ngày «31/02/2026» không có trên lịch.")
    await admin.send("🎉" * 3000)
    answer = await admin.expect("Chưa đọc được khoảng thời gian")
    assert len(answer.body) < 300
    quiet_day = f"{today(harness) - timedelta(days=30):%d/%m/%Y}"
    await admin.send(quiet_day)
    single = await admin.expect(f"Thời gian: {quiet_day} – {quiet_day}")
    assert "Không có mục nào" in single.body and "📥 Tải về Excel" not in single.labels

    # A person: a huge name in any script finds nobody; the question stays open.
    await admin.send("/audit")
    await admin.expect("Có 30 mục")
    await admin.tap("👤 Theo người")
    await admin.expect("gõ họ tên người cần xem")
    await admin.send("Nguyễn 𝕏 ‮ فلان 王 " * 400)
    nobody = await admin.expect("Không tìm thấy ai có tên")
    assert len(nobody.body) < 300
    await admin.tap("Hủy")
    await admin.expect("Đã hủy")

    # Forged or outdated buttons: an unknown person, kind or day.
    first, last = Period(today(harness) - timedelta(days=6), today(harness)).key()
    answers = {
        ShowAuditLog(first, last, 999_999): "Không tìm thấy người này.",
        ShowAuditLog(first, last, 0, "nonsense"): "Loại thao tác này không có trong nhật ký.",
        ShowAuditLog(20260231, 20260301): "Khoảng thời gian của nút này không hợp lệ.",
        ExportAuditLog(20261031, 20261001): "Ngày bắt đầu (31/10/2026) đang sau ngày kết thúc",
    }
    for forged, said in answers.items():
        assert said in await forged_tap(admin, forged.pack())
    # An export is answered at once (it may take a while); why nothing comes follows.
    for forged, said in {
        ExportAuditLog(first, last, 999_999): "Không tìm thấy người này.",
        ExportAuditLog(20200101, 20200102): "Không có mục nào để tải về",
    }.items():
        assert await forged_tap(admin, forged.pack()) == "Đang chuẩn bị tệp Excel…"
        await admin.expect(said)
    assert not any(event.document for event in admin.inbox)
    assert await exports(harness.db) == 0
