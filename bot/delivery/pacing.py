"""Pacing of outgoing requests under Telegram's limits, shared by replies and the outbox.

One `PriorityPacer` spaces every send evenly under the overall limit; waiting replies to
people are released before waiting outbox messages, so a broadcast never makes the bot feel
dead. `ChatSpacing` keeps each chat under its own limit (about 1/s per private chat,
20/min per group). Both aim a little under the configured ceilings because the server counts
arrival times, which network jitter bunches together.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass

#: Fraction of a configured limit actually used.
HEADROOM = 0.95

INTERACTIVE = 0
BULK = 1


class PriorityPacer:
    """Releases one waiter per interval, lowest priority number first, FIFO within a priority.

    It keeps a schedule (a virtual arrival time, as in GCRA) instead of spacing each release
    from the previous one: timer wake-ups are always a little late, and spacing from the
    last release would add that lateness to every interval. A tolerance of one interval
    absorbs it, allowing at most one extra message in any window.
    """

    def __init__(self, rate_per_s: float) -> None:
        self.interval = 1.0 / (rate_per_s * HEADROOM)
        self._next_free = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, priority: int = INTERACTIVE) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), future))
        self._schedule(loop)
        await future

    def pause(self, seconds: float) -> None:
        """After a 429: nothing leaves before the server's retry_after has passed."""
        self._next_free = max(self._next_free, time.monotonic() + seconds)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None or not self._waiters:
            return
        delay = max(0.0, self._next_free - self.interval - time.monotonic())
        self._timer = loop.call_later(delay, self._release, loop)

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = time.monotonic()
        if now < self._next_free - self.interval:  # a pause arrived after the timer was set
            self._schedule(loop)
            return
        while self._waiters:
            *_, future = heapq.heappop(self._waiters)
            if not future.done():  # skip waiters that were cancelled
                future.set_result(None)
                self._next_free = max(now, self._next_free) + self.interval
                break
        self._schedule(loop)


class ChatSpacing:
    """When each chat may next receive a message."""

    def __init__(self, private_per_s: float, group_per_min: float = 20.0) -> None:
        self.private_interval = 1.0 / (private_per_s * HEADROOM)
        self.group_interval = 60.0 / (group_per_min * HEADROOM)
        self._free_at: dict[int, float] = {}

    def interval(self, chat_id: int) -> float:
        return self.group_interval if chat_id < 0 else self.private_interval

    def free_at(self, chat_id: int) -> float:
        return self._free_at.get(chat_id, 0.0)

    def sent(self, chat_id: int, at: float | None = None) -> None:
        now = time.monotonic() if at is None else at
        self._free_at[chat_id] = now + self.interval(chat_id)
        if len(self._free_at) > 50_000:
            self._forget(now)

    def _forget(self, now: float) -> None:
        self._free_at = {c: t for c, t in self._free_at.items() if t > now}


@dataclass(frozen=True, slots=True)
class Lane:
    """One channel's limits: a 429 on Zalo pauses Zalo's pacer, never Telegram's."""

    pacer: PriorityPacer
    spacing: ChatSpacing
