"""Progress digests through the emulator, on a generated year of training
(tests/report_world.py): nothing the day before; on Monday at 07:30 the administrator gets
the year's summary with its workbook, the unit head the month's report of their units with
theirs, each read back with openpyxl; passes later that day and after a restart send
nothing more."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from bot.app.reminders_runtime import wake_reminders
from bot.clock import FrozenClock
from bot.i18n import texts
from bot.report import Period
from storage.database import Database
from storage.schema import outbox
from tests.e2e.conftest import SUPERADMIN_ID, running_bot
from tests.factories import add_person, add_role
from tests.report_world import TZ, build_world, expected
from tools.emulator.users import BotMessage, ScriptedUser

#: Monday 16 November 2026, 07:30 in Vietnam: the weekly digest and, set to the 16th, the
#: monthly one (of October) fall due.
DUE = datetime(2026, 11, 16, 7, 30, tzinfo=TZ)
HEAD, LEARNER = 4301, 4302
VI = texts("vi", TZ)


async def settled(db: Database, seconds: float = 20.0) -> None:
    """Waits for every digest queued to be sent."""
    for _ in range(int(seconds / 0.05)):
        async with db.read() as conn:
            waiting = await conn.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.kind.startswith("digest_"), outbox.c.state.in_(["pending", "sending"])
                )
            )
            if waiting.scalar_one() == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the digests were not sent")


async def digest(user: ScriptedUser, heading: str) -> tuple[str, BotMessage]:
    """The digest's text (a message, or the workbook's caption) and the workbook's message."""
    first = await user.expect(heading, timeout=30)
    if first.document is not None:
        return first.body, first
    return first.body, await user.next_message(timeout=30)


def cover(book: openpyxl.Workbook) -> dict[object, object]:
    return {row[0]: row[1] for row in book["Thông tin"].iter_rows(values_only=True) if len(row) > 1}


@pytest.mark.parametrize("database_kind", ["sqlite", "postgres"], indirect=True)
async def test_the_digests_go_out_once_on_their_day(database_kind: str, tmp_path: Path) -> None:
    clock = FrozenClock(DUE - timedelta(days=1))
    async with running_bot(
        database_kind, tmp_path, clock=clock, digest_weekly="t2", digest_monthly="16",
        digest_dir=str(tmp_path / "digests"),
    ) as h:  # fmt: skip
        world = await build_world(h.db)
        await add_person(h.db, "Đinh Văn Quản", unit_id=world.root_id, telegram_id=SUPERADMIN_ID)
        head_id = await add_person(h.db, "Hà Văn Trưởng", unit_id=world.department_id,
                                   telegram_id=HEAD)  # fmt: skip
        await add_role(h.db, head_id, "unit_head", world.department_id)
        await add_person(h.db, "Lò Thị Học", unit_id=world.department_id, telegram_id=LEARNER)
        admin, head, learner = h.user(SUPERADMIN_ID), h.user(HEAD), h.user(LEARNER)
        want = await expected(h.db, Period.of_year(2026), None)

        wake_reminders(h.app)  # Sunday: not yet
        await admin.no_message(0.5)
        await head.no_message(0.1)

        clock.advance(timedelta(days=1))
        wake_reminders(h.app)
        text, sent = await digest(admin, "Bản tin hằng tuần")
        managed = want.managed_to_date["all"]
        share = VI.format("{value:percent}", value=managed / 24)
        assert "Năm 2026" in text and f"Số lớp: {managed}/24 lớp, đạt {share} kế hoạch" in text
        assert "/report" in text
        assert sent.document is not None
        assert sent.document.file_name == "bao-cao-tien-do-nam-2026.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(sent.document.content))
        assert cover(book)["Phạm vi"] == "Toàn tỉnh" and cover(book)["Kỳ báo cáo"] == "Năm 2026"
        total = {row[0]: row for row in book["Theo loại lớp"].iter_rows(values_only=True)}["Tổng"]
        assert total[1:3] == (24, managed)

        text, sent = await digest(head, "Bản tin hằng tháng")
        assert "Tháng 10/2026" in text and "Sở Nội vụ" in text
        assert sent.document is not None
        assert sent.document.file_name == "bao-cao-tien-do-thang-10-2026.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(sent.document.content))
        assert cover(book)["Phạm vi"] == "Sở Nội vụ"
        assert cover(book)["Kỳ báo cáo"] == "Tháng 10/2026"
        units = [row[0].strip() for row in book["Theo đơn vị"].iter_rows(values_only=True)][1:]
        assert units == ["Sở Nội vụ", "Văn phòng Sở Nội vụ", "Tổng cộng"]

        # Later that day, and after a restart the same week: nothing more.
        await settled(h.db)
        clock.advance(timedelta(hours=3))
        wake_reminders(h.app)
        await h.restart()
        clock.advance(timedelta(days=1))
        wake_reminders(h.app)
        assert await h.app.bot_data.services.digests.queue_due() == 0
        await settled(h.db)
        for user in (admin, head, learner):
            await user.no_message(0.5)
