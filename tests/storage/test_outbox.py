"""The outbox repository and the sender lock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.delivery.model import NewMessage, Unreached
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.schema import outbox
from storage.sender_lock import AdvisorySenderLock, FileSenderLock
from storage.types import utcnow
from tests.factories import add_person, count, make_province


def _message(key: str, chat: int = 1, **kwargs: object) -> NewMessage:
    return NewMessage(key, chat, "test", {"text": key}, **kwargs)  # type: ignore[arg-type]


async def test_a_dedup_key_is_stored_once(db: Database) -> None:
    for _ in range(2):
        async with db.write() as conn:
            await OutboxRepository(conn).add([_message("k1"), _message("k2"), _message("k1")])
    assert await count(db, outbox) == 2


async def test_messages_commit_with_the_change_that_causes_them(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await OutboxRepository(conn).add([_message("lost")])
            raise RuntimeError("the enrolment failed")
    assert await count(db, outbox) == 0


async def test_due_rows_in_order_and_recovery_of_in_flight_rows(db: Database) -> None:
    now = utcnow()
    async with db.write() as conn:
        repo = OutboxRepository(conn)
        await repo.add([_message("later", due_at=now + timedelta(hours=1)),
                        _message("b", 2, due_at=now - timedelta(seconds=1)),
                        _message("a", 3, due_at=now - timedelta(seconds=2))])  # fmt: skip
    async with db.read() as conn:
        due = await OutboxRepository(conn).due(now, 10)
        assert [m.dedup_key for m in due] == ["a", "b"]
        assert await OutboxRepository(conn).next_due() == now - timedelta(seconds=2)
    async with db.write() as conn:
        repo = OutboxRepository(conn)
        assert await repo.claim([due[0].id, due[0].id + 999]) == {due[0].id}
        assert await repo.claim([due[0].id]) == set()  # already taken
        assert await repo.recover_in_flight(now, now) == 1
    async with db.read() as conn:
        states = dict((await conn.execute(sa.select(outbox.c.dedup_key, outbox.c.state))).all())
    assert states == {"a": "pending", "b": "pending", "later": "pending"}


async def test_report_lists_the_unreachable_by_unit(db: Database) -> None:
    province = await make_province(db)
    reached = await add_person(db, "Lò Văn A", unit_id=province.commune_id, telegram_id=11)
    missed = await add_person(
        db, "Lò Văn B", unit_id=province.commune_id, telegram_id=12, phone="+84912000012"
    )
    async with db.write() as conn:
        repo = OutboxRepository(conn)
        batch = await repo.new_batch("announcement", "Họp", 1, 2)
        await repo.add([_message("x", 11, person_id=reached, batch_id=batch),
                        _message("y", 12, person_id=missed, batch_id=batch)])  # fmt: skip
        rows = dict((await conn.execute(sa.select(outbox.c.dedup_key, outbox.c.id))).all())
        await repo.mark_sent_many([(rows["x"], 501)])
        await repo.mark_unreachable(12, "Forbidden: bot was blocked by the user")
    async with db.read() as conn:
        report = await OutboxRepository(conn).report(batch)
        assert await OutboxRepository(conn).report(batch + 1) is None
    assert report is not None
    assert (report.total, report.delivered, report.unreachable, report.pending) == (2, 1, 1, 0)
    assert report.unreachable_by_unit == {"Xã Đồng Văn": [Unreached("Lò Văn B", "+84912000012")]}


async def test_the_file_lock_admits_one_sender(tmp_path: Path) -> None:
    first, second = FileSenderLock(tmp_path / "bot.db"), FileSenderLock(tmp_path / "bot.db")
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert "pid" in await second.holder()
    await first.release()
    assert await second.try_acquire()
    await second.release()


async def test_the_advisory_lock_admits_one_sender(database_kind: str, db: Database) -> None:
    if database_kind != "postgres":
        pytest.skip("advisory locks are PostgreSQL's")
    first, second = AdvisorySenderLock(db), AdvisorySenderLock(db)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert "outbox-sender" in await second.holder()
    await first.release()
    assert await second.try_acquire()
    await second.release()
