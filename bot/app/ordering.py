"""Concurrent across people, in order for each person.

PTB's default processes updates one at a time (one slow user blocks everyone) or, with
`concurrent_updates(True)`, all at once (a double tap runs twice in parallel and
conversations race). This processor serialises updates per person and runs people in parallel.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


def person_of(update: object) -> int | None:
    """Whose update this is: the user, else the chat; None if it has neither."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerUserOrderedProcessor(BaseUpdateProcessor):
    """Runs each person's updates one at a time in arrival order, different people at once.

    PTB's final `process_update` takes one of the `max_concurrent_updates` slots and then
    calls `do_process_update`. The first update of a person becomes that person's runner: in
    its slot it runs its own coroutine, then the person's later ones from a FIFO queue, and
    removes the queue when it is empty. A later update of the same person only joins the
    queue and returns at once, giving its slot back: twenty taps hold one slot, not twenty.

    Arrival order survives the slot wait because asyncio's Semaphore wakes waiters first in,
    first out. Application.stop() still waits for queued updates: a runner is the task PTB
    made for the person's first update, and PTB awaits that task.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._queues: dict[int, deque[Awaitable[Any]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        person = person_of(update)
        if person is None:
            await coroutine
            return
        queue = self._queues.get(person)
        if queue is not None:  # this person's runner is active: it will run this one in turn
            queue.append(coroutine)
            return
        self._queues[person] = queue = deque()
        try:
            await _run(coroutine)
            while queue:
                await _run(queue.popleft())
        finally:
            # No await since the last `while queue` check: nothing can join in between.
            del self._queues[person]
            _close(queue)  # not empty only if the runner was cancelled

    async def initialize(self) -> None:
        """Nothing to open: queues are made on demand."""

    async def shutdown(self) -> None:
        """Drops what is still queued (Application.stop() has normally drained it)."""
        for queue in self._queues.values():
            if queue:
                log.warning("dropping %d queued updates at shutdown", len(queue))
            _close(queue)


async def _run(coroutine: Awaitable[Any]) -> None:
    """One failing update must not stop the person's queue (PTB already reports handler
    errors; this is the last line of defence)."""
    try:
        await coroutine
    except Exception:
        log.exception("update processing failed")


def _close(queue: deque[Awaitable[Any]]) -> None:
    """Empties the queue; an unstarted coroutine is closed so it is not reported as never
    awaited."""
    while queue:
        pending = queue.popleft()
        if isinstance(pending, Coroutine):
            pending.close()
