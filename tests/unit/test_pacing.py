"""The pacer: even spacing under the limit, replies to people first, pauses after a 429."""

from __future__ import annotations

import asyncio
import time

from bot.delivery.pacing import BULK, HEADROOM, INTERACTIVE, ChatSpacing, PriorityPacer


async def test_releases_are_spaced_under_the_limit() -> None:
    pacer = PriorityPacer(100)
    started = time.monotonic()
    stamps = []
    for _ in range(30):
        await pacer.acquire(BULK)
        stamps.append(time.monotonic() - started)
    # 30 releases at 95/s take about 0.3 s; one interval of tolerance at the start.
    assert stamps[-1] >= 28 / (100 * HEADROOM)
    assert stamps[-1] < 1.0


async def test_replies_to_people_overtake_waiting_outbox_messages() -> None:
    pacer = PriorityPacer(20)
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await pacer.acquire(priority)
        order.append(name)

    bulk = [asyncio.create_task(take(f"bulk{i}", BULK)) for i in range(5)]
    await asyncio.sleep(0)
    reply = asyncio.create_task(take("reply", INTERACTIVE))
    await asyncio.gather(reply, *bulk)
    assert order.index("reply") <= 1


async def test_a_pause_holds_everyone_back() -> None:
    pacer = PriorityPacer(1000)
    await pacer.acquire()
    pacer.pause(0.3)
    started = time.monotonic()
    await pacer.acquire()
    assert time.monotonic() - started >= 0.28


def test_chat_spacing_differs_for_private_chats_and_groups() -> None:
    spacing = ChatSpacing(private_per_s=1, group_per_min=20)
    spacing.sent(5, at=100.0)
    spacing.sent(-5, at=100.0)
    assert 101.0 < spacing.free_at(5) < 101.1
    assert 103.0 < spacing.free_at(-5) < 103.2
    assert spacing.free_at(6) == 0.0
