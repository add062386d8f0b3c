"""Updates run concurrently across people and strictly in order for each person."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.app.ordering import PerUserOrderedProcessor


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "U", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_slow_person_does_not_block_others_and_own_order_is_kept() -> None:
    processor = PerUserOrderedProcessor(64)
    log: list[tuple[int, int, str]] = []
    release = asyncio.Event()

    async def handle(update: Update, slow: bool) -> None:
        log.append((update.effective_user.id, update.update_id, "start"))  # type: ignore[union-attr]
        if slow:
            await release.wait()
        await asyncio.sleep(0)
        log.append((update.effective_user.id, update.update_id, "end"))  # type: ignore[union-attr]

    async with processor:
        tasks = [
            asyncio.create_task(processor.process_update(u, handle(u, slow)))
            for u, slow in [
                (_update(1, 7), True),  # slow, person 7
                (_update(2, 7), False),  # must wait for update 1
                (_update(3, 8), False),  # another person: must not wait
            ]
        ]
        for _ in range(50):
            if (8, 3, "end") in log:
                break
            await asyncio.sleep(0.01)
        assert (8, 3, "end") in log
        assert (7, 2, "start") not in log  # a double tap is not processed at the same time
        release.set()
        await asyncio.gather(*tasks)
    person7 = [entry for entry in log if entry[0] == 7]
    assert person7 == [(7, 1, "start"), (7, 1, "end"), (7, 2, "start"), (7, 2, "end")]
    assert processor._locks == {}
