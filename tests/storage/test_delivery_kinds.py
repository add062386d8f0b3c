"""What the bot sent on its own, kind by kind, over the last days: figures (held messages
pending, cancelled ones not failures) and the cadres to phone, each once, by unit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.delivery.model import NewMessage, Unreached
from bot.domain import MessageKind
from bot.errors import PermissionDenied
from bot.services import Services
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.repositories.reminders import ReminderRepository
from storage.schema import outbox
from storage.types import utcnow
from tests.factories import add_person, add_role, make_province

SUPER, HEAD = 601, 602


async def queue(db: Database, kind: str, key: str, person: int, chat: int, state: str) -> None:
    async with db.write() as conn:
        await OutboxRepository(conn).add([NewMessage(key, chat, kind, {"text": key}, person)])
        await conn.execute(outbox.update().where(outbox.c.dedup_key == key).values(state=state))


async def test_each_kind_of_the_last_week_with_whom_to_phone(db: Database) -> None:
    services = Services.build(db, superadmin_ids=frozenset({SUPER}))
    province = await make_province(db)
    await add_person(db, "Đinh Văn Quản", unit_id=province.root_id, telegram_id=SUPER)
    head = await add_person(db, "Sùng Thị Trưởng", unit_id=province.commune_id, telegram_id=HEAD)
    await add_role(db, head, "unit_head", province.commune_id)
    lan = await add_person(db, "Lò Thị Lan", unit_id=province.commune_id, telegram_id=7101,
                           phone="+84912000101")  # fmt: skip
    binh = await add_person(db, "Hà Văn Bình", unit_id=province.department_id, telegram_id=7102,
                            phone="+84912000102")  # fmt: skip

    for key, person, chat, state in [
        ("r1", lan, 7101, "sent"), ("r2", binh, 7102, "unreachable"),
        ("r3", binh, 7102, "unreachable"), ("r4", lan, 7101, "pending"),
        ("r5", lan, 7101, "cancelled"), ("r6", lan, 7101, "failed"),
    ]:  # fmt: skip
        await queue(db, "reminder", key, person, chat, state)
    await queue(db, "announcement", "a1", lan, 7101, "sent")
    await queue(db, "test", "t1", lan, 7101, "sent")  # not a kind the bot sends on its own
    await queue(db, "reminder", "old", lan, 7101, "unreachable")
    async with db.write() as conn:  # eight days ago: outside the report
        await conn.execute(
            outbox.update()
            .where(outbox.c.dedup_key == "old")
            .values(created_at=utcnow() - timedelta(days=8))
        )
        held = NewMessage("c1", 7101, "class_changed", {"text": "c1"}, lan)
        await ReminderRepository(conn).hold([(held, utcnow() + timedelta(hours=8))])

    admin = await services.access.actor(SUPER)
    kinds = await services.delivery.kinds(admin)
    assert [k.kind for k in kinds] == ["announcement", "reminder", "class_changed"]
    reminder = kinds[1]
    assert (reminder.delivered, reminder.pending, reminder.unreachable, reminder.failed,
            reminder.cancelled, reminder.total) == (1, 1, 2, 1, 1, 6)  # fmt: skip
    assert (kinds[2].pending, kinds[2].total) == (1, 1)  # held for quiet hours
    assert reminder.unreachable_by_unit == {}  # the overview names nobody

    detail = await services.delivery.kind_report(admin, MessageKind.REMINDER)
    assert detail.unreachable == 2
    assert list(detail.unreachable_by_unit.values()) == [
        [Unreached("Hà Văn Bình", "+84912000102")]  # once, though two messages missed him
    ]
    empty = await services.delivery.kind_report(admin, MessageKind.OFFICE_REPORT)
    assert (empty.total, empty.unreachable_by_unit) == (0, {})

    unit_head = await services.access.actor(HEAD)
    with pytest.raises(PermissionDenied):
        await services.delivery.kinds(unit_head)
    with pytest.raises(PermissionDenied):
        await services.delivery.kind_report(unit_head, MessageKind.REMINDER)


async def test_a_batch_says_its_kind_in_the_report_and_the_recent_list(db: Database) -> None:
    services = Services.build(db, superadmin_ids=frozenset({SUPER}))
    province = await make_province(db)
    await add_person(db, "Đinh Văn Quản", unit_id=province.root_id, telegram_id=SUPER)
    async with db.write() as conn:
        batch = await OutboxRepository(conn).new_batch("reminder", "NL01 · 08:00 10/03", None, 0)
    admin = await services.access.actor(SUPER)
    report = await services.delivery.report(admin, batch)
    assert (report.kind, report.created_by) == ("reminder", None)
    (recent,) = await services.delivery.recent(admin)
    assert (recent.kind, recent.title) == ("reminder", "NL01 · 08:00 10/03")
