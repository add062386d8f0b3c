"""Progress digests against a real database (tests/report_world.py's year), with a set clock:
queued on their day from their time and not before, each reader once across repeated
passes, a restart and two processes at once; the weekly one to every administrator in their
language, one workbook per scope and language; the monthly one to each unit head of their
own units only, an empty month said in one line; nobody else, no blocked chat; workbooks
cleaned after KEEP_FILES; held for quiet hours in order."""

from __future__ import annotations

import asyncio
import os
import time as wall
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

import bot.digests
import bot.services.digests
from bot.clock import FrozenClock
from bot.digests import DigestSchedule
from bot.reminders import QuietHours
from bot.services import Services
from bot.services.digests import KEEP_FILES, DigestConfig
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.schema import held_messages, outbox
from tests.factories import NEVER_QUIET, add_person, add_role
from tests.report_world import TZ, World, build_world

#: Monday 16 November 2026, 07:30 in Vietnam: the weekly digest (ISO week 47) and, on the
#: 16th, the monthly one (of October) fall due.
DUE = datetime(2026, 11, 16, 7, 30, tzinfo=TZ)
SCHEDULE = DigestSchedule(weekday=0, month_day=16, at=time(7, 30))
SUPER, ADMIN, ADMIN_EN, HEAD, EMPTY_HEAD, LEARNER, BLOCKED = 801, 802, 803, 804, 805, 806, 807


class Office:
    """The report world with its readers: a super-administrator without a profile, two
    administrators (Vietnamese, English), the head of the department (and its sub-unit), the
    head of a unit nobody from was trained, a learner, and an administrator who blocked the
    bot."""

    def __init__(self, db: Database, folder: Path, world: World, quiet: QuietHours) -> None:
        self.db, self.folder, self.world, self.quiet = db, folder, world, quiet
        self.clock = FrozenClock(DUE - timedelta(hours=20))
        self.services = self.build()
        self.head_id = self.empty_head_id = 0

    def build(self, schedule: DigestSchedule = SCHEDULE) -> Services:
        """The services of one process (a restart, a second process: another call)."""
        return Services.build(
            self.db, superadmin_ids=frozenset({SUPER}), clock=self.clock, tz=TZ, quiet=self.quiet,
            digests=DigestConfig(schedule, self.folder),
        )  # fmt: skip

    async def run(self, moment: datetime | None = None, services: Services | None = None) -> int:
        if moment is not None:
            self.clock._now = moment.astimezone(UTC)
        return await (services or self.services).digests.queue_due()

    async def rows(self) -> list[Any]:
        async with self.db.read() as conn:
            found = await conn.execute(
                sa.select(outbox.c.id, outbox.c.chat_id, outbox.c.dedup_key, outbox.c.kind,
                          outbox.c.payload, outbox.c.batch_id)
                .where(outbox.c.dedup_key.startswith("digest:"))
                .order_by(outbox.c.id)
            )  # fmt: skip
            return list(found)

    def files(self) -> set[Path]:
        return set(self.folder.iterdir()) if self.folder.exists() else set()


async def office(db: Database, tmp_path: Path, quiet: QuietHours = NEVER_QUIET) -> Office:
    world = await build_world(db)
    o = Office(db, tmp_path / "digests", world, quiet)
    admin = await add_person(db, "Lê Thị Quản", unit_id=world.root_id, telegram_id=ADMIN)
    await add_role(db, admin, "admin")
    english = await add_person(db, "Trần Văn Anh", unit_id=world.root_id, telegram_id=ADMIN_EN)
    await add_role(db, english, "admin")
    async with db.write() as conn:
        await conn.execute(
            sa.text("UPDATE people SET language = 'en' WHERE id = :id"), {"id": english}
        )
    blocked = await add_person(db, "Vi Văn Chặn", unit_id=world.root_id, telegram_id=BLOCKED)
    await add_role(db, blocked, "admin")
    async with db.write() as conn:
        await OutboxRepository(conn).mark_unreachable(BLOCKED, "Forbidden: bot was blocked")
    o.head_id = await add_person(db, "Hà Văn Trưởng", unit_id=world.department_id,
                                 telegram_id=HEAD)  # fmt: skip
    await add_role(db, o.head_id, "unit_head", world.department_id)
    o.empty_head_id = await add_person(db, "Giàng A Vắng", unit_id=world.empty_unit_id,
                                       telegram_id=EMPTY_HEAD)  # fmt: skip
    await add_role(db, o.empty_head_id, "unit_head", world.empty_unit_id)
    await add_person(db, "Lò Thị Học", unit_id=world.department_id, telegram_id=LEARNER)
    return o


def by_key(rows: list[Any]) -> dict[str, Any]:
    return {r.dedup_key: r for r in rows}


async def test_on_their_day_each_reader_gets_their_digest_once(
    db: Database, tmp_path: Path
) -> None:
    o = await office(db, tmp_path)
    assert await o.run() == 0  # Sunday
    assert await o.run(DUE - timedelta(minutes=1)) == 0
    assert await o.rows() == [] and o.files() == set()

    queued = await o.run(DUE)
    rows = await o.rows()
    assert queued == len(rows)
    found = by_key(rows)
    weekly = {k for k in found if k.startswith("digest:weekly:2026-W47:")}
    main = {f"digest:weekly:2026-W47:{chat}" for chat in (SUPER, ADMIN, ADMIN_EN)}
    assert {k for k in weekly if k.count(":") == 3} == main  # not the blocked administrator
    monthly = {k for k in found if k.startswith("digest:monthly:2026-10:")}
    assert {k for k in monthly if k.count(":") == 3} == {
        f"digest:monthly:2026-10:{o.head_id}",
        f"digest:monthly:2026-10:{o.empty_head_id}",
    }
    assert {r.chat_id for r in rows} == {SUPER, ADMIN, ADMIN_EN, HEAD, EMPTY_HEAD}
    assert {r.kind for r in rows} == {"digest_weekly", "digest_monthly"}
    assert len({r.batch_id for r in rows}) == 2  # one delivery batch per digest

    # Each reader's messages in reading order: the summary, then the workbook under it.
    for chat in (SUPER, ADMIN, ADMIN_EN):
        parts = [r.payload for r in rows if r.chat_id == chat]
        assert parts[-1]["document"]["path"].endswith(".xlsx")
        assert "document" not in parts[0] or len(parts) == 1
    vi = [r.payload for r in rows if r.chat_id == ADMIN]
    assert "Bản tin hằng tuần" in vi[0]["text"] and "Năm 2026" in vi[0]["text"]
    assert "BÁO CÁO TIẾN ĐỘ ĐÀO TẠO, BỒI DƯỠNG" in vi[0]["text"]
    assert vi[-1]["document"]["filename"] == "bao-cao-tien-do-nam-2026.xlsx"
    en = [r.payload for r in rows if r.chat_id == ADMIN_EN]
    assert "weekly digest" in en[0]["text"] and "Năm" not in en[0]["text"]
    # The workbook made once per scope and language: both Vietnamese readers share one.
    sup = [r.payload for r in rows if r.chat_id == SUPER]
    assert sup[-1]["document"] == vi[-1]["document"] != en[-1]["document"]

    head = [r.payload for r in rows if r.chat_id == HEAD]
    assert "Bản tin hằng tháng" in head[0]["text"] and "Tháng 10/2026" in head[0]["text"]
    assert "CỦA ĐƠN VỊ" in head[0]["text"] and "Sở Nội vụ" in head[0]["text"]
    book = openpyxl.load_workbook(head[-1]["document"]["path"], read_only=True)
    cover = {r[0]: r[1] for r in book["Thông tin"].iter_rows(values_only=True) if len(r) > 1}
    assert cover["Phạm vi"] == "Sở Nội vụ" and cover["Kỳ báo cáo"] == "Tháng 10/2026"
    units = [row[0].strip() for row in book["Theo đơn vị"].iter_rows(min_row=2, values_only=True)]
    assert units == ["Sở Nội vụ", "Văn phòng Sở Nội vụ", "Tổng cộng"]  # their units only
    # A unit nobody from was trained: the empty month in one message, no workbook.
    (empty,) = [r.payload for r in rows if r.chat_id == EMPTY_HEAD]
    assert "document" not in empty and "chưa có lớp học" in empty["text"]
    assert o.files() == {Path(r.payload["document"]["path"]) for r in rows
                         if "document" in r.payload}  # fmt: skip
    assert len(o.files()) == 3  # the province in two languages, the department

    # Again: at once, half a minute on, after a restart, later in the week: nothing more.
    assert await o.run() == 0
    assert await o.run(DUE + timedelta(seconds=30)) == 0
    assert await o.run(services=o.build()) == 0
    assert await o.run(DUE + timedelta(days=2, hours=12)) == 0
    assert len(await o.rows()) == len(rows) and len(o.files()) == 3

    # The next Monday: the next week's digest, and no monthly one (its grace has passed).
    assert await o.run(DUE + timedelta(days=7)) > 0
    later = [r.dedup_key for r in await o.rows()][len(rows) :]
    assert later and all(k.startswith("digest:weekly:2026-W48:") for k in later)


async def test_two_processes_at_once_queue_each_digest_once(db: Database, tmp_path: Path) -> None:
    o = await office(db, tmp_path)
    o.clock._now = DUE.astimezone(UTC)
    first, second = o.build(), o.build()
    counts = await asyncio.gather(first.digests.queue_due(), second.digests.queue_due())
    rows = await o.rows()
    assert sum(counts) == len(rows) == len({r.dedup_key for r in rows})
    assert len({r.batch_id for r in rows}) == 2
    # The workbooks of the pass that came second are gone; those queued stay.
    assert o.files() == {Path(r.payload["document"]["path"]) for r in rows
                         if "document" in r.payload}  # fmt: skip


async def test_a_digest_missed_goes_out_late_and_off_is_off(db: Database, tmp_path: Path) -> None:
    o = await office(db, tmp_path)
    assert await o.run(DUE, services=o.build(DigestSchedule())) == 0
    assert await o.rows() == []
    # Down on Monday, up on Wednesday: the week's digest still goes; the month's too.
    assert await o.run(DUE + timedelta(days=2)) > 0
    keys = {r.dedup_key for r in await o.rows()}
    assert f"digest:weekly:2026-W47:{ADMIN}" in keys
    assert f"digest:monthly:2026-10:{o.head_id}" in keys


async def test_old_workbooks_are_cleaned_when_new_ones_are_made(
    db: Database, tmp_path: Path
) -> None:
    o = await office(db, tmp_path)
    o.folder.mkdir(parents=True)
    old, recent = o.folder / "weekly-2026-W40-province-vi-0.xlsx", o.folder / "recent.xlsx"
    for path in (old, recent):
        path.write_bytes(b"x")
    aged = wall.time() - KEEP_FILES.total_seconds() - 3600
    os.utime(old, (aged, aged))
    await o.run(DUE)
    assert not old.exists() and recent.exists()


async def test_quiet_hours_hold_the_digest_and_release_it_in_order(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Captions this short split every digest with a workbook into its text and the file.
    monkeypatch.setattr(bot.digests, "CAPTION_MAX", 200)
    o = await office(db, tmp_path, quiet=QuietHours(time(21, 30), time(8, 0)))
    queued = await o.run(DUE)
    assert queued > 0 and await o.rows() == []  # everyone is in their quiet hours
    async with db.read() as conn:
        held = await conn.execute(sa.select(sa.func.count()).select_from(held_messages))
        assert held.scalar_one() == queued
    assert await o.run(DUE + timedelta(minutes=10)) == 0  # held counts as queued
    o.clock._now = (DUE + timedelta(minutes=31)).astimezone(UTC)
    await o.services.reminders.run_pass()  # 08:01: the hours are over
    rows = await o.rows()
    assert len(rows) == queued
    mine = [r for r in rows if r.chat_id == ADMIN]
    assert [r.dedup_key for r in mine] == [
        f"digest:weekly:2026-W47:{ADMIN}",
        f"digest:weekly:2026-W47:{ADMIN}:1",
    ]  # in this order, as the sender sends one chat's messages
    assert "Bản tin hằng tuần" in mine[0].payload["text"] and "document" not in mine[0].payload
    assert mine[1].payload["text"].startswith("📎 Báo cáo tiến độ — Năm 2026")
    assert mine[1].payload["document"]["filename"] == "bao-cao-tien-do-nam-2026.xlsx"


@pytest.mark.parametrize("revoked", ["admin", "unit_head"])
async def test_a_role_revoked_is_a_digest_not_sent(
    db: Database, tmp_path: Path, revoked: str
) -> None:
    o = await office(db, tmp_path)
    async with db.write() as conn:
        await conn.execute(sa.text("DELETE FROM roles WHERE role = :role"), {"role": revoked})
    await o.run(DUE)
    chats = {r.chat_id for r in await o.rows()}
    assert LEARNER not in chats and BLOCKED not in chats
    if revoked == "admin":
        assert chats == {SUPER, HEAD, EMPTY_HEAD}
    else:
        assert chats == {SUPER, ADMIN, ADMIN_EN}


async def test_many_scopes_are_served_a_few_a_pass(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.services.digests, "SCOPES_PER_PASS", 1)
    o = await office(db, tmp_path)
    o.services = o.build(DigestSchedule(weekday=None, month_day=16, at=time(7, 30)))
    assert await o.run(DUE) == 1  # one unit head's units
    assert await o.run() == 1  # the other's, at the next pass
    assert await o.run() == 0
    assert {r.chat_id for r in await o.rows()} == {HEAD, EMPTY_HEAD}
