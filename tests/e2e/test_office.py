"""The training office's reminders through the emulator: an administrator is told of a class
closing its enrolment and one never closed, closes it from the reminder, and reads what the
bot sent on its own, kind by kind, with the administrator it could not reach; refusals and
bad input change nothing."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.actions import CloseClass
from bot.app.reminders_runtime import wake_reminders
from bot.clock import FrozenClock
from storage.database import Database
from storage.schema import classes, outbox
from tests.e2e.conftest import SUPERADMIN_ID, forged_tap, running_bot, tap_answer
from tests.factories import add_class, add_person, add_role

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: 08:30 on a Monday of next year, in Vietnam: within the office's hours.
NOW = datetime(date.today().year + 1, 3, 8, 8, 30, tzinfo=TZ)
AWAY, HEAD, CADRE = 1701, 1702, 1703


async def settled(db: Database, seconds: float = 10.0) -> None:
    """Waits for the office's reminders to be sent or found unreachable."""
    for _ in range(int(seconds / 0.05)):
        async with db.read() as conn:
            waiting = await conn.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.kind.startswith("office_"), outbox.c.state.in_(["pending", "sending"])
                )
            )
            if waiting.scalar_one() == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the office's reminders were not sent")


async def status_of(db: Database, class_id: int) -> str:
    async with db.read() as conn:
        found = await conn.execute(sa.select(classes.c.status).where(classes.c.id == class_id))
        return str(found.scalar_one())


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_an_administrator_is_reminded_closes_the_class_and_reads_the_report_by_kind(
    database_kind: str, tmp_path: Path
) -> None:
    clock = FrozenClock(NOW)
    async with running_bot(
        database_kind, tmp_path, clock=clock, office_reminder_hours="08:00-20:00",
        refusals_allowed=("blocked",),
    ) as h:  # fmt: skip
        province = h.province
        await add_person(h.db, "Đinh Văn Quản", unit_id=province.root_id,
                         telegram_id=SUPERADMIN_ID)  # fmt: skip
        away = await add_person(h.db, "Lò Văn Vắng", unit_id=province.department_id,
                                telegram_id=AWAY, phone="+84912000701")  # fmt: skip
        await add_role(h.db, away, "admin")
        head = await add_person(h.db, "Sùng Thị Trưởng", unit_id=province.commune_id,
                                telegram_id=HEAD)  # fmt: skip
        await add_role(h.db, head, "unit_head", province.commune_id)
        await add_person(h.db, "Mùa A Học", unit_id=province.commune_id, telegram_id=CADRE)
        admin, blocked, unit_head, cadre = (h.user(i) for i in (SUPERADMIN_ID, AWAY, HEAD, CADRE))
        h.emulator.faults.blocked.add(AWAY)
        created = NOW - timedelta(days=30)
        await add_class(h.db, "HAN1", capacity=10, deadline=NOW + timedelta(days=2),
                        starts=NOW + timedelta(days=10), created=created)  # fmt: skip
        ended = await add_class(h.db, "XONG", starts=NOW - timedelta(days=3), days=2,
                                created=created)  # fmt: skip

        wake_reminders(h.app)
        deadline = await admin.expect("Sắp hết hạn đăng ký")
        assert "HAN1" in deadline.text and "0/10" in deadline.text
        unclosed = await admin.expect("Lớp đã học xong nhưng chưa đóng")
        assert "XONG" in unclosed.text and "HAN1" not in unclosed.text
        # Its two sessions ended with nobody's attendance taken: left open, the office told.
        untaken = await admin.expect("Buổi học chưa được điểm danh")
        assert untaken.text.count("XONG") == 2 and len(untaken.labels) == 2
        wake_reminders(h.app)  # a second pass the same day adds nothing
        await settled(h.db)
        await admin.no_message(0.3)

        await admin.tap(untaken.labels[0], message_id=untaken.message_id)
        session_card = await admin.expect("Điểm danh buổi học")
        assert session_card.message_id != untaken.message_id  # the list stays
        assert "XONG" in session_card.text and "Điểm danh theo danh sách" in str(
            session_card.labels
        )

        # From the reminder: the class's card below it (the list stays), then close it.
        await admin.tap("XONG", message_id=unclosed.message_id)
        card = await admin.expect("Trạng thái")
        assert card.message_id != unclosed.message_id and "XONG" in card.text
        await admin.tap("Đóng lớp", message_id=card.message_id)
        await admin.expect("Sau khi đóng")
        assert await status_of(h.db, ended) == "open"  # asked first
        assert "Đã đóng lớp XONG" in await tap_answer(admin, "Xác nhận")
        closed = await admin.expect("đã kết thúc")
        assert "Đóng lớp" not in str(closed.buttons) and "Hủy lớp" not in str(closed.buttons)
        assert await status_of(h.db, ended) == "finished"
        assert "đã kết thúc" in await forged_tap(admin, CloseClass(ended, confirmed=True).pack())
        assert "Không tìm thấy lớp" in await forged_tap(admin, CloseClass(999_999, True).pack())

        # The report by kind: from /delivery, then one kind with whom to phone.
        await admin.send("/delivery")
        recent = await admin.expect("Các đợt gửi gần đây")
        labels = [b.text for row in recent.buttons for b in row]
        assert any("Nhắc hạn đăng ký: HAN1" in label for label in labels)
        await admin.tap("theo loại", message_id=recent.message_id)
        overview = await admin.expect("theo loại")
        assert "Nhắc hạn đăng ký</b>: ✅ 1 · ⏳ 0 · 📵 1 · ❌ 0" in overview.html
        assert "Nhắc đóng lớp" in overview.text
        await admin.tap("Nhắc hạn đăng ký", message_id=overview.message_id)
        detail = await admin.expect("7 ngày qua")
        assert "Không liên lạc được: 1" in detail.text
        assert "Lò Văn Vắng (0912 000 701)" in detail.text and "Sở Nội vụ" in detail.text
        await admin.send("/delivery kinds")
        await admin.expect("theo loại")

        # Bad input, and people who may not see it: a clear answer, nothing changed.
        await admin.send("/delivery kinds 👩‍🌾")
        await admin.expect("Cú pháp")
        assert "hết hiệu lực" in await forged_tap(admin, "dlv.kind:nonsense")
        await unit_head.send("/delivery kinds")
        await unit_head.expect("chỉ dành cho cán bộ quản lý")
        await cadre.send("/start")
        await cadre.expect("Mùa A Học")
        assert "chỉ dành cho" in await forged_tap(cadre, CloseClass(ended, True).pack())
        assert "chỉ dành cho" in await forged_tap(cadre, "dlv.kinds")
        assert blocked.inbox == []
