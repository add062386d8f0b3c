"""The outbox on two channels, against a real database: each person's messages on their
channel(s), a Zalo copy queued once, each channel's 429 and unreachable chats its own.

The transports are the engine's own port, one per channel, recording what they are given;
the real bots are exercised end to end in tests/zalo_emulator/test_channel_delivery.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import pytest
import sqlalchemy as sa

from bot.app.channel_router import ChannelRouter, send_routed
from bot.channels import ZALO_ID_BASE, Channel, NotifyVia, channel_of
from bot.clock import SystemClock
from bot.delivery.model import (
    NewMessage,
    OutboxMessage,
    Outcome,
    RetryAfter,
    Sent,
    Transient,
    Unreachable,
)
from bot.delivery.pacing import ChatSpacing, Lane, PriorityPacer
from bot.delivery.sender import OutboxSender, SenderSettings, Transport
from bot.services.channels import ChannelService
from bot.services.delivery import DeliveryService
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.repositories.zalo_accounts import ZaloAccountRepository
from storage.schema import outbox, people, unreachable_chats, zalo_accounts
from storage.types import utcnow
from tests.factories import add_person, make_province

BOTH_TG, TG_ONLY_TG, ZALO_ONLY_TG = 101, 102, 103


@dataclass
class Recorder:
    """A channel's transport: records (chat as its bot knows it, key); answers `outcome`."""

    outcome: Callable[[OutboxMessage], Outcome] = lambda m: Sent(1)
    calls: list[tuple[int, str]] = field(default_factory=list)

    async def __call__(self, message: OutboxMessage) -> Outcome:
        self.calls.append((message.chat_id, message.dedup_key))
        return self.outcome(message)


@dataclass
class World:
    db: Database
    people: dict[str, int]  # name → person id
    zalo: dict[str, int]  # name → the number of their Zalo account
    delivery: DeliveryService
    telegram: Recorder = field(default_factory=Recorder)
    zalo_bot: Recorder = field(default_factory=Recorder)
    lanes: dict[Channel, Lane] = field(default_factory=dict)

    async def add(self, *messages: tuple[str, int, str]) -> None:
        """(key, chat, person's name) for each message."""
        async with self.db.write() as conn:
            await OutboxRepository(conn).add(
                [
                    NewMessage(key, chat, "test", {"text": key}, person_id=self.people[name])
                    for key, chat, name in messages
                ]
            )
        self.delivery.wake()

    async def rows(self) -> dict[str, tuple[int, str, str | None]]:
        """key → (chat, state, last error)."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(outbox.c.dedup_key, outbox.c.chat_id, outbox.c.state, outbox.c.last_error)
            )
            return {key: (chat, state, error) for key, chat, state, error in rows}

    async def unreachable(self) -> set[int]:
        async with self.db.read() as conn:
            return set((await conn.execute(sa.select(unreachable_chats.c.chat_id))).scalars())

    async def until(self, done: Callable[[dict[str, tuple[int, str, str | None]]], bool]) -> None:
        for _ in range(200):
            if done(await self.rows()):
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"not settled: {await self.rows()}")

    @asynccontextmanager
    async def sending(self, zalo_running: bool = True) -> AsyncIterator[OutboxSender]:
        transports: dict[Channel, Transport] = {Channel.TELEGRAM: self.telegram}
        if zalo_running:
            transports[Channel.ZALO] = self.zalo_bot
        channels = ChannelService(self.db, SystemClock())
        router = ChannelRouter(channels, self.delivery, lambda: zalo_running)
        sender = OutboxSender(
            self.db, partial(send_routed, router, transports), PriorityPacer(500),
            ChatSpacing(private_per_s=50), SenderSettings(backoff_first_s=0.05, idle_poll_s=0.05),
            lane_of=lambda chat: self.lanes[channel_of(chat)], prepare=router.prepare,
        )  # fmt: skip
        self.delivery.connect_sender(sender.wake)
        task = asyncio.create_task(sender.run())
        try:
            yield sender
        finally:
            await sender.stop()
            await task


def _lanes() -> dict[Channel, Lane]:
    return {c: Lane(PriorityPacer(500), ChatSpacing(private_per_s=50)) for c in Channel}


@pytest.fixture
async def world(db: Database) -> World:
    """Three people on Telegram with a Zalo account joined, one per choice, and one on Zalo
    alone."""
    province = await make_province(db)
    ids, numbers = {}, {}
    for name, telegram_id, via in (
        ("both", BOTH_TG, None),
        ("telegram", TG_ONLY_TG, "telegram"),
        ("zalo", ZALO_ONLY_TG, "zalo"),
    ):
        ids[name] = await add_person(db, name, unit_id=province.commune_id, telegram_id=telegram_id)
        async with db.write() as conn:
            account = await ZaloAccountRepository(conn).create(f"z{name}", utcnow())
            await conn.execute(
                sa.update(zalo_accounts)
                .where(zalo_accounts.c.zalo_id == f"z{name}")
                .values(person_id=ids[name])
            )
            await conn.execute(
                sa.update(people).where(people.c.id == ids[name]).values(notify_via=via)
            )
        numbers[name] = account.chat_id
    async with db.write() as conn:
        numbers["alone"] = (await ZaloAccountRepository(conn).create("zalone", utcnow())).chat_id
    ids["alone"] = await add_person(
        db, "alone", unit_id=province.commune_id, telegram_id=numbers["alone"]
    )
    return World(db, ids, numbers, DeliveryService(db), lanes=_lanes())


def _settled(keys: Sequence[str]) -> Callable[[dict[str, tuple[int, str, str | None]]], bool]:
    return lambda rows: all(k in rows and rows[k][1] not in ("pending", "sending") for k in keys)


async def test_each_person_gets_messages_where_they_chose(world: World) -> None:
    first = True

    def telegram_outcome(message: OutboxMessage) -> Outcome:
        nonlocal first
        if message.dedup_key == "m:both" and first:  # retried: its copy is not queued again
            first = False
            return Transient("502 Bad Gateway")
        return Sent(7)

    world.telegram.outcome = telegram_outcome
    async with world.sending():
        await world.add(
            ("m:both", BOTH_TG, "both"),
            ("m:telegram", TG_ONLY_TG, "telegram"),
            ("m:zalo", ZALO_ONLY_TG, "zalo"),
            ("m:alone", world.zalo["alone"], "alone"),
        )
        await world.until(_settled(["m:both", "m:telegram", "m:zalo", "m:alone", "m:both:zalo"]))
        await asyncio.sleep(0.2)  # nothing more comes
    rows = await world.rows()
    assert {k: state for k, (_, state, _) in rows.items()} == dict.fromkeys(
        ["m:both", "m:telegram", "m:zalo", "m:alone", "m:both:zalo"], "sent"
    )
    assert sorted(world.telegram.calls) == [
        (BOTH_TG, "m:both"), (BOTH_TG, "m:both"), (TG_ONLY_TG, "m:telegram"),
    ]  # fmt: skip
    # A joined person's Zalo chat is known to the Zalo bot by their Telegram id.
    assert sorted(world.zalo_bot.calls) == [
        (BOTH_TG, "m:both:zalo"), (ZALO_ONLY_TG, "m:zalo"), (world.zalo["alone"], "m:alone"),
    ]  # fmt: skip
    assert rows["m:zalo"][0] == world.zalo["zalo"]  # moved: an edit of it goes to Zalo too
    assert rows["m:both:zalo"][0] == world.zalo["both"]


async def test_without_the_zalo_channel_messages_for_zalo_wait(world: World) -> None:
    async with world.sending(zalo_running=False):
        await world.add(
            ("w:both", BOTH_TG, "both"),
            ("w:zalo", ZALO_ONLY_TG, "zalo"),
            ("w:alone", world.zalo["alone"], "alone"),
        )
        await world.until(
            lambda rows: (
                rows["w:both"][1] == "sent"
                and all(rows[k][2] and "not running" in rows[k][2] for k in ("w:zalo", "w:alone"))
            )
        )
    rows = await world.rows()
    assert world.telegram.calls == [(BOTH_TG, "w:both")] and world.zalo_bot.calls == []
    assert "w:both:zalo" not in rows  # "both" is Telegram alone meanwhile
    assert rows["w:zalo"][:2] == (world.zalo["zalo"], "pending")
    assert rows["w:alone"][:2] == (world.zalo["alone"], "pending")
    async with world.db.read() as conn:
        attempts = set((await conn.execute(sa.select(outbox.c.attempts))).scalars())
    assert attempts <= {0, 1}  # waiting for the channel is not an attempt: never given up


async def test_a_zalo_429_pauses_zalo_only(world: World) -> None:
    world.zalo_bot.outcome = lambda m: RetryAfter(30)
    async with world.sending():
        await world.add(("r:alone", world.zalo["alone"], "alone"))
        await world.until(lambda rows: "429" in (rows["r:alone"][2] or ""))
        started = time.monotonic()
        await world.add(*((f"r:{n}", 200 + n, "telegram") for n in range(5)))
        await world.until(_settled([f"r:{n}" for n in range(5)]))
        took = time.monotonic() - started
    now = time.monotonic()
    assert took < 3.0
    assert world.lanes[Channel.ZALO].pacer._next_free > now + 20
    assert world.lanes[Channel.TELEGRAM].pacer._next_free < now + 1
    assert (await world.rows())["r:alone"][1] == "pending"


async def test_an_unreachable_zalo_copy_leaves_telegram_alone(world: World) -> None:
    world.zalo_bot.outcome = lambda m: Unreachable("chat not found")
    async with world.sending():
        await world.add(("u:1", BOTH_TG, "both"))
        await world.until(_settled(["u:1", "u:1:zalo"]))
        await world.add(("u:2", BOTH_TG, "both"))
        await world.until(_settled(["u:2"]))
    rows = await world.rows()
    assert (rows["u:1"][1], rows["u:1:zalo"][1], rows["u:2"][1]) == ("sent", "unreachable", "sent")
    assert "u:2:zalo" not in rows  # no copy for a Zalo chat known to be unreachable
    assert await world.unreachable() == {world.zalo["both"]}


async def test_an_unreachable_telegram_chat_leaves_zalo_alone(world: World) -> None:
    world.telegram.outcome = lambda m: Unreachable("Forbidden: bot was blocked by the user")
    async with world.sending():
        await world.add(("t:1", BOTH_TG, "both"))
        await world.until(_settled(["t:1", "t:1:zalo"]))
        await world.add(("t:2", BOTH_TG, "both"))
        await world.until(_settled(["t:2"]))
    rows = await world.rows()
    assert (rows["t:1"][1], rows["t:1:zalo"][1]) == ("unreachable", "sent")
    # The next message goes to Zalo instead, not unreachable.
    assert rows["t:2"][:2] == (world.zalo["both"], "sent")
    assert await world.unreachable() == {BOTH_TG}
    assert [key for _, key in world.telegram.calls] == ["t:1"]


async def test_marking_telegram_unreachable_keeps_what_may_still_go_to_zalo(world: World) -> None:
    later = utcnow().replace(year=utcnow().year + 1)
    async with world.db.write() as conn:
        repo = OutboxRepository(conn)
        await repo.add(
            [
                NewMessage("k:both", BOTH_TG, "test", {"text": "a"}, due_at=later),
                NewMessage("k:telegram", TG_ONLY_TG, "test", {"text": "b"}, due_at=later),
            ]
        )
        await repo.mark_unreachable(BOTH_TG, "blocked")
        await repo.mark_unreachable(TG_ONLY_TG, "blocked")
        assert await repo.blocked([BOTH_TG, TG_ONLY_TG]) == {TG_ONLY_TG}
    rows = await world.rows()
    assert (rows["k:both"][1], rows["k:telegram"][1]) == ("pending", "unreachable")


async def test_writing_on_zalo_makes_the_zalo_account_reachable_again(world: World) -> None:
    async with world.db.write() as conn:
        await OutboxRepository(conn).mark_unreachable(BOTH_TG, "blocked")
        await OutboxRepository(conn).mark_unreachable(world.zalo["both"], "chat not found")
    await world.delivery.load_unreachable()
    # A joined person writes on Zalo under their Telegram id: their Zalo chat answered.
    await world.delivery.chat_seen(BOTH_TG, Channel.ZALO)
    assert await world.unreachable() == {BOTH_TG}
    await world.delivery.chat_seen(BOTH_TG)
    assert await world.unreachable() == set()


async def test_the_choice_is_kept_and_only_for_a_joined_person(world: World) -> None:
    channels = ChannelService(world.db, SystemClock())
    async with world.db.read() as conn:
        repo = ZaloAccountRepository(conn)
        assert await repo.notify_via(world.people["both"]) is NotifyVia.BOTH
        assert await repo.notify_via(world.people["zalo"]) is NotifyVia.ZALO
        assert await repo.notify_via(world.people["alone"]) is None
        joined = await repo.joined_to_many([BOTH_TG, 999, ZALO_ID_BASE - 1])
    assert set(joined) == {BOTH_TG} and joined[BOTH_TG].zalo_chat == world.zalo["both"]
    async with world.db.write() as conn:
        repo = ZaloAccountRepository(conn)
        await repo.set_notify_via(world.people["both"], NotifyVia.TELEGRAM, utcnow())
        await repo.set_notify_via(world.people["zalo"], NotifyVia.BOTH, utcnow())
    async with world.db.read() as conn:
        stored = dict(
            (await conn.execute(sa.select(people.c.telegram_id, people.c.notify_via))).all()
        )
    assert stored[BOTH_TG] == "telegram" and stored[ZALO_ONLY_TG] is None
    assert (await channels.joined_to([BOTH_TG]))[BOTH_TG].notify_via is NotifyVia.TELEGRAM
