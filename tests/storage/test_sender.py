"""The sender's scheduling against a real database, with a transport that records calls.

The transport is the engine's own port (bot.delivery.sender.Transport); the Telegram one is
exercised end to end in tests/e2e/test_delivery.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import sqlalchemy as sa

from bot.delivery.model import NewMessage, OutboxMessage, Outcome, Sent, Transient
from bot.delivery.pacing import ChatSpacing, PriorityPacer
from bot.delivery.sender import OutboxSender, SenderSettings
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.schema import outbox


class RecordingTransport:
    def __init__(self, fail_first: int = 0, delay: float = 0.01) -> None:
        self.delay = delay
        self.calls: list[OutboxMessage] = []
        self.active: Counter[int] = Counter()
        self.overlaps = 0
        self.fail_first = fail_first

    async def __call__(self, message: OutboxMessage) -> Outcome:
        self.calls.append(message)
        self.active[message.chat_id] += 1
        if self.active[message.chat_id] > 1:
            self.overlaps += 1
        await asyncio.sleep(self.delay)
        self.active[message.chat_id] -= 1
        if self.fail_first:
            self.fail_first -= 1
            return Transient("502 Bad Gateway")
        return Sent(len(self.calls))


async def _add(db: Database, prefix: str, chats: list[int]) -> None:
    async with db.write() as conn:
        await OutboxRepository(conn).add(
            [NewMessage(f"{prefix}:{i}", c, "t", {"text": "x"}) for i, c in enumerate(chats)]
        )


async def _until_settled(db: Database, total: int) -> Counter[str]:
    for _ in range(400):
        async with db.read() as conn:
            states = Counter((await conn.execute(sa.select(outbox.c.state))).scalars())
        if states["sent"] + states["failed"] >= total:
            return states
        await asyncio.sleep(0.025)
    raise AssertionError(f"not settled: {states}")


async def test_batches_added_while_sending_never_overlap_sends_to_one_chat(
    db: Database,
) -> None:
    transport = RecordingTransport(delay=0.05)
    sender = OutboxSender(
        db, transport, PriorityPacer(500), ChatSpacing(private_per_s=50),
        SenderSettings(in_flight=2, idle_poll_s=0.1),
    )  # fmt: skip
    task = asyncio.create_task(sender.run())
    chats = list(range(100, 110))
    await _add(db, "first", chats)
    sender.wake()
    await asyncio.sleep(0.02)
    await _add(db, "second", chats)  # the same chats, while the first batch is under way
    sender.wake()
    states = await _until_settled(db, 20)
    await sender.stop()
    await task
    assert states == {"sent": 20}
    assert transport.overlaps == 0
    assert len(transport.calls) == 20


async def test_transient_failures_are_retried_with_backoff(db: Database) -> None:
    transport = RecordingTransport(fail_first=2)
    sender = OutboxSender(
        db, transport, PriorityPacer(500), ChatSpacing(private_per_s=50),
        SenderSettings(backoff_first_s=0.05, idle_poll_s=0.05),
    )  # fmt: skip
    task = asyncio.create_task(sender.run())
    await _add(db, "r", [7])
    sender.wake()
    states = await _until_settled(db, 1)
    await sender.stop()
    await task
    async with db.read() as conn:
        attempts, error = (
            await conn.execute(sa.select(outbox.c.attempts, outbox.c.last_error))
        ).one()
    assert states == {"sent": 1}
    assert attempts == 3 and error is None
