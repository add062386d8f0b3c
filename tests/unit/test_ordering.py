"""Updates run concurrently across people and strictly in order for each person."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, RequestData

from bot.app.ordering import PerUserOrderedProcessor

WAIT_S = 2.0  # bound on every wait; the tests need a few event-loop turns, not seconds


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "U", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def _until(condition: Callable[[], bool]) -> None:
    """Lets the event loop turn until `condition` holds, within WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        while not condition():  # noqa: ASYNC110 - polls state the code under test owns
            await asyncio.sleep(0)


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
                (_update(4, 7), False),  # after update 2
            ]
        ]
        await _until(lambda: (8, 3, "end") in log)
        assert (7, 2, "start") not in log  # a double tap is not processed at the same time
        release.set()
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(*tasks)
    person7 = [entry for entry in log if entry[0] == 7]
    assert person7 == [
        (7, 1, "start"),
        (7, 1, "end"),
        (7, 2, "start"),
        (7, 2, "end"),
        (7, 4, "start"),
        (7, 4, "end"),
    ]
    assert processor._queues == {}  # no bookkeeping left behind


async def test_a_persons_backlog_holds_one_slot_and_does_not_starve_others() -> None:
    processor = PerUserOrderedProcessor(2)
    done: list[int] = []
    release = asyncio.Event()

    async def handle(update_id: int) -> None:
        if update_id == 1:
            await release.wait()
        done.append(update_id)

    async with processor:
        runner = asyncio.create_task(processor.process_update(_update(1, 7), handle(1)))
        backlog = [
            asyncio.create_task(processor.process_update(_update(i, 7), handle(i)))
            for i in range(2, 22)
        ]
        # Each later tap only joins the queue and gives its slot back at once.
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(*backlog)
        assert processor.current_concurrent_updates == 1
        # The one slot left is enough for someone else, even several times over.
        async with asyncio.timeout(WAIT_S):
            for i in range(100, 105):
                await processor.process_update(_update(i, 8), handle(i))
        assert done == [100, 101, 102, 103, 104]
        release.set()
        async with asyncio.timeout(WAIT_S):
            await runner
    assert done[5:] == list(range(1, 22))
    assert processor.current_concurrent_updates == 0
    assert processor._queues == {}


async def test_updates_without_user_or_chat_run_directly() -> None:
    processor = PerUserOrderedProcessor(8)
    started: list[int] = []
    release = asyncio.Event()

    async def handle(update_id: int) -> None:
        started.append(update_id)
        await release.wait()

    async with processor:
        tasks = [
            asyncio.create_task(processor.process_update(Update(i), handle(i))) for i in (1, 2)
        ]
        await _until(lambda: len(started) == 2)  # both at once: nothing to order them by
        assert processor._queues == {}
        release.set()
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(*tasks)


async def test_a_failing_update_does_not_stop_the_persons_queue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processor = PerUserOrderedProcessor(8)
    done: list[int] = []
    release = asyncio.Event()

    async def handle(update_id: int) -> None:
        if update_id == 1:
            await release.wait()
        if update_id in (1, 2):
            raise RuntimeError(f"update {update_id} failed")
        done.append(update_id)

    async with processor:
        tasks = [
            asyncio.create_task(processor.process_update(_update(i, 7), handle(i)))
            for i in (1, 2, 3)
        ]
        await _until(lambda: all(t.done() for t in tasks[1:]))
        release.set()
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(*tasks)  # the runner itself does not fail either
    assert done == [3]
    assert [r.getMessage() for r in caplog.records] == ["update processing failed"] * 2
    assert processor._queues == {}


async def test_cancelling_a_runner_closes_the_queued_coroutines() -> None:
    processor = PerUserOrderedProcessor(8)
    release = asyncio.Event()

    async def handle() -> None:
        await release.wait()

    first, second, third = handle(), handle(), handle()
    async with processor:
        runner = asyncio.create_task(processor.process_update(_update(1, 7), first))
        await _until(lambda: 7 in processor._queues)  # the runner is in place
        async with asyncio.timeout(WAIT_S):
            await processor.process_update(_update(2, 7), second)
            await processor.process_update(_update(3, 7), third)
        assert len(processor._queues[7]) == 2
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(WAIT_S):
                await runner
    # The running one got the cancellation, the queued ones were closed: none is left
    # "never awaited", and the person's bookkeeping is gone.
    for coroutine in (first, second, third):
        assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
    assert processor._queues == {}
    assert processor.current_concurrent_updates == 0


async def test_shutdown_closes_what_is_still_queued() -> None:
    processor = PerUserOrderedProcessor(8)
    release = asyncio.Event()

    async def handle() -> None:
        await release.wait()

    queued = handle()
    await processor.initialize()
    runner = asyncio.create_task(processor.process_update(_update(1, 7), handle()))
    await _until(lambda: 7 in processor._queues)
    async with asyncio.timeout(WAIT_S):
        await processor.process_update(_update(2, 7), queued)
    await processor.shutdown()
    assert inspect.getcoroutinestate(queued) == inspect.CORO_CLOSED
    release.set()
    async with asyncio.timeout(WAIT_S):
        await runner  # finishes its own update, finds the queue empty and cleans up
    assert processor._queues == {}


class _OfflineRequest(BaseRequest):
    """Answers getMe so Application.initialize() needs no network; any other call fails."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if url.endswith("/getMe"):
            me = {"id": 123, "is_bot": True, "first_name": "Test", "username": "test_bot"}
            return 200, json.dumps({"ok": True, "result": me}).encode()
        return 500, json.dumps({"ok": False, "description": f"offline: {url}"}).encode()


async def test_a_real_application_keeps_each_persons_order() -> None:
    """Through PTB's own path: update_queue, update fetcher, create_task, process_update."""
    app = (
        ApplicationBuilder()
        .token("123:abc")
        .request(_OfflineRequest())
        .get_updates_request(_OfflineRequest())
        .updater(None)
        .concurrent_updates(PerUserOrderedProcessor(4))
        .build()
    )
    log: list[tuple[int, int, str]] = []
    release = asyncio.Event()

    async def record(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        person = update.effective_user.id  # type: ignore[union-attr]
        log.append((person, update.update_id, "start"))
        if update.update_id == 1:
            await release.wait()
        log.append((person, update.update_id, "end"))

    app.add_handler(TypeHandler(Update, record))
    await app.initialize()
    await app.start()
    try:
        for update_id, person in [(1, 7), (2, 7), (3, 8), (4, 7), (5, 8)]:
            await app.update_queue.put(_update(update_id, person))
        await _until(lambda: (8, 5, "end") in log)  # person 8 is not held up by person 7
        assert (7, 2, "start") not in log
        release.set()
    finally:
        release.set()
        async with asyncio.timeout(WAIT_S):
            await app.stop()  # waits for person 7's queue to drain
        await app.shutdown()
    assert [entry for entry in log if entry[0] == 7] == [
        (7, 1, "start"),
        (7, 1, "end"),
        (7, 2, "start"),
        (7, 2, "end"),
        (7, 4, "start"),
        (7, 4, "end"),
    ]
    assert app.update_processor._queues == {}  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _quiet_ptb(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="telegram")
