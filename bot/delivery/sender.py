"""The outbox sender: one long-running task that delivers due messages at the limits.

It is woken when producers add rows (in this process) and when rows come due; otherwise it
looks at the table every `idle_poll_s` for rows added by other processes. A row is marked
'sending' in its own committed write just before its request goes out and settled right
after, so a crash leaves exactly the in-flight rows (at most one per chat) in doubt: they
are sent again at the next start. A graceful stop waits for in-flight requests to settle.

Each chat is paced on its channel's lane (`lane_of`): Zalo has its own overall and per-chat
limits, and a 429 from one channel pauses that channel only.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.delivery.model import (
    Moved,
    OutboxMessage,
    Outcome,
    Rejected,
    RetryAfter,
    Sent,
    Transient,
    Unreachable,
)
from bot.delivery.pacing import BULK, ChatSpacing, Lane, PriorityPacer
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.types import utcnow

log = logging.getLogger(__name__)

REFILL_EVERY_S = 0.25
WRITE_ATTEMPTS = 5

Transport = Callable[[OutboxMessage], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class SenderSettings:
    in_flight: int = 8
    max_attempts: int = 8
    backoff_first_s: float = 1.0
    backoff_cap_s: float = 300.0
    idle_poll_s: float = 1.0
    fetch_size: int = 500
    stop_grace_s: float = 15.0
    #: When a message whose channel is not running here is tried again (never given up).
    channel_down_retry_s: float = 60.0


WriteOp = Callable[[OutboxRepository], Awaitable[None]]


class GroupWriter:
    """Commits the state changes of many sends in one transaction (group commit).

    Each caller waits until its change is durable, so the sender still never releases an
    in-flight slot before the outcome is on disk; but one SQLite commit, with one statement
    for all claims and one for all deliveries, serves every send that finished meanwhile.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._claims: dict[int, asyncio.Future[bool]] = {}
        self._sent: list[tuple[int, int | None, asyncio.Future[bool]]] = []
        self._ops: list[tuple[WriteOp, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None

    async def claim(self, row_id: int) -> bool:
        """Marks the row 'sending'; False if it is no longer pending (settled elsewhere)."""
        future = self._future()
        self._claims[row_id] = future
        return await future

    async def sent(self, row_id: int, message_id: int | None) -> None:
        future = self._future()
        self._sent.append((row_id, message_id, future))
        await future

    async def submit(self, op: WriteOp) -> None:
        future = self._future()
        self._ops.append((op, future))
        await future

    def _future(self) -> asyncio.Future[bool]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_loop(), name="outbox-writer")
        return asyncio.get_running_loop().create_future()

    async def _flush_loop(self) -> None:
        await asyncio.sleep(0)  # let the callers of this tick add their changes
        while self._claims or self._sent or self._ops:
            claims, self._claims = self._claims, {}
            sent, self._sent = self._sent, []
            ops, self._ops = self._ops, []
            futures = [*claims.values(), *(f for *_, f in sent), *(f for _, f in ops)]
            try:
                claimed = await self._write(list(claims), [(r, m) for r, m, _ in sent], ops)
            except Exception as exc:
                for future in futures:
                    future.set_exception(exc)
                continue
            for row_id, future in claims.items():
                future.set_result(row_id in claimed)
            for future in futures[len(claims) :]:
                future.set_result(True)

    async def _write(
        self,
        claims: list[int],
        sent: list[tuple[int, int | None]],
        ops: list[tuple[WriteOp, asyncio.Future[bool]]],
    ) -> set[int]:
        """One transaction, retried: a message Telegram accepted must not lose its 'sent'
        mark to a passing database error, or it would go out again after the next restart."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self.db.write() as conn:
                    repo = OutboxRepository(conn)
                    claimed = await repo.claim(claims) if claims else set()
                    if sent:
                        await repo.mark_sent_many(sent)
                    for op, _ in ops:
                        await op(repo)
                return claimed
            except Exception as exc:
                if attempt + 1 == WRITE_ATTEMPTS:
                    raise
                log.warning("outbox: write failed (%s), retrying", exc.__class__.__name__)
                await asyncio.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")


class OutboxSender:
    """Delivers due outbox rows; one instance per run, built again after a failure."""

    def __init__(
        self,
        db: Database,
        transport: Transport,
        pacer: PriorityPacer,
        spacing: ChatSpacing,
        settings: SenderSettings | None = None,
        *,
        lane_of: Callable[[int], Lane] | None = None,
        prepare: Callable[[list[OutboxMessage]], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.transport = transport
        self.pacer = pacer
        self.spacing = spacing
        default = Lane(pacer, spacing)
        #: The limits a chat is sent under: its channel's (Telegram's, unless told otherwise).
        self.lane_of: Callable[[int], Lane] = lane_of or (lambda _: default)
        #: Told of each fetched batch before it is sent (its routes are looked up at once).
        self.prepare = prepare
        self.settings = settings or SenderSettings()
        self._wake = asyncio.Event()
        self._stopping = False
        self._queued: dict[int, deque[OutboxMessage]] = {}  # chat → rows waiting in memory
        self._ready: list[tuple[float, int, int]] = []  # (ready_at, seq, chat) one per chat
        self._busy: set[int] = set()  # chats with an entry in _ready or a send in flight
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # chat → its single send
        self._known: set[int] = set()  # row ids in memory or in flight
        self._seq = 0
        self._last_refill = 0.0
        self._new_rows = True
        self._fetching: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(self.settings.in_flight)
        self._writer = GroupWriter(db)

    def wake(self) -> None:
        """Producers call this after committing new rows."""
        self._new_rows = True
        self._wake.set()

    async def run(self) -> None:
        now = utcnow()
        async with self.db.write() as conn:
            recovered = await OutboxRepository(conn).recover_in_flight(
                now + timedelta(seconds=self.spacing.private_interval),
                now + timedelta(seconds=self.spacing.group_interval),
            )
        if recovered:
            log.warning("outbox: %d messages were in flight at the last stop; resending", recovered)
        try:
            while not self._stopping:
                self._refill()
                if not await self._dispatch_next():
                    await self._idle()
        finally:
            await self._drain()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    # --- scheduling --------------------------------------------------------------------------

    def _refill(self) -> None:
        """Reads due rows when memory runs low, at most a few times a second.

        The read runs beside the dispatch loop, so sending never pauses for it.
        """
        if self._fetching is not None and not self._fetching.done():
            return
        if len(self._known) - len(self._in_flight) >= self.settings.fetch_size // 2:
            return
        now = time.monotonic()
        if not self._new_rows and now - self._last_refill < REFILL_EVERY_S:
            return
        self._new_rows, self._last_refill = False, now
        self._fetching = asyncio.create_task(self._fetch(), name="outbox-fetch")

    async def _fetch(self) -> None:
        async with self.db.read() as conn:
            repo = OutboxRepository(conn)
            rows = await repo.due(utcnow(), self.settings.fetch_size, skip=self._known)
            blocked = await repo.blocked({r.chat_id for r in rows})
        sendable = [r for r in rows if r.chat_id not in blocked]
        if self.prepare is not None and sendable:
            await self.prepare(sendable)
        for row in rows:
            if row.chat_id in blocked:
                await self._settle(row, Unreachable("chat marked unreachable"))
            elif row.id not in self._known:
                self._known.add(row.id)
                self._queued.setdefault(row.chat_id, deque()).append(row)
                if row.chat_id not in self._busy:
                    self._push(row.chat_id)
        if rows:
            self._wake.set()

    def _push(self, chat_id: int) -> None:
        """Schedules the chat's next row for when the chat's own limit allows it."""
        self._seq += 1
        self._busy.add(chat_id)
        ready_at = max(time.monotonic(), self.lane_of(chat_id).spacing.free_at(chat_id))
        heapq.heappush(self._ready, (ready_at, self._seq, chat_id))

    async def _dispatch_next(self) -> bool:
        """Sends the next message whose chat is free; False when nothing is ready now."""
        if not self._ready:
            return False
        ready_at, _, chat_id = self._ready[0]
        delay = ready_at - time.monotonic()
        if delay > 0:
            await self._sleep(min(delay, self.settings.idle_poll_s))
            return True
        heapq.heappop(self._ready)
        queue = self._queued.get(chat_id)
        if not queue:  # its rows were settled meanwhile (the chat became unreachable)
            self._queued.pop(chat_id, None)
            self._busy.discard(chat_id)
            return True
        row = queue.popleft()
        # The chat stays busy while we wait for a slot, so no second send to it can start.
        await self._slots.acquire()
        lane = self.lane_of(chat_id)
        await lane.pacer.acquire(BULK)
        lane.spacing.sent(chat_id)
        self._in_flight[chat_id] = asyncio.create_task(self._send(row), name="outbox-send")
        return True

    async def _idle(self) -> None:
        self._new_rows = True  # after a quiet spell, look at the table again
        timeout = self.settings.idle_poll_s
        async with self.db.read() as conn:
            next_due = await OutboxRepository(conn).next_due()
        if next_due is not None:
            timeout = min(timeout, max(0.0, (next_due - utcnow()).total_seconds()))
        await self._sleep(timeout)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _drain(self) -> None:
        """Lets in-flight requests settle so nothing is left in doubt.

        Past the grace period the rest are cancelled: they stay 'sending' and are sent again
        by the next sender, the same as after a crash.
        """
        pending = list(self._in_flight.values())
        if self._fetching is not None:
            pending.append(self._fetching)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=self.settings.stop_grace_s)
        for task in late:
            task.cancel()
        if late:
            log.warning("outbox: %d sends did not finish within the grace period", len(late))
            await asyncio.wait(late)

    # --- one message -------------------------------------------------------------------------

    async def _send(self, row: OutboxMessage) -> None:
        try:
            if await self._writer.claim(row.id):
                try:
                    outcome = await self.transport(row)
                except Exception as exc:  # a bug (e.g. in a template): retrying won't help
                    log.exception("outbox: message %d could not be sent", row.id)
                    outcome = Rejected(exc.__class__.__name__)
                await self._settle(row, outcome)
        finally:
            self._slots.release()
            self._known.discard(row.id)
            self._in_flight.pop(row.chat_id, None)
            self._busy.discard(row.chat_id)
            if self._queued.get(row.chat_id):
                self._push(row.chat_id)
            else:
                self._queued.pop(row.chat_id, None)
            self._wake.set()

    async def _settle(self, row: OutboxMessage, outcome: Outcome) -> None:
        """Records the outcome of one attempt (always, whatever it was)."""
        if isinstance(outcome, Sent):
            await self._writer.sent(row.id, outcome.message_id)
            return

        async def record(repo: OutboxRepository) -> None:
            match outcome:
                case RetryAfter(seconds):
                    due = utcnow() + timedelta(seconds=seconds)
                    await repo.mark_retry(row.id, due, f"429 retry after {seconds}s", counts=False)
                case Transient(error, counts=False):
                    due = utcnow() + timedelta(seconds=self.settings.channel_down_retry_s)
                    await repo.mark_retry(row.id, due, error, counts=False)
                case Transient(error) if row.attempts + 1 < self.settings.max_attempts:
                    backoff = min(
                        self.settings.backoff_cap_s,
                        self.settings.backoff_first_s * 2**row.attempts,
                    )
                    due = utcnow() + timedelta(seconds=backoff)
                    await repo.mark_retry(row.id, due, error, counts=True)
                case Transient(error):
                    await repo.mark_final(row.id, "failed", f"gave up: {error}")
                case Unreachable(reason):
                    await repo.mark_final(row.id, "unreachable", reason)
                    await repo.mark_unreachable(row.chat_id, reason)
                case Rejected(error):
                    await repo.mark_final(row.id, "failed", error)
                case Moved(chat_id):
                    await repo.move(row.id, chat_id)

        if isinstance(outcome, RetryAfter):
            self.lane_of(row.chat_id).pacer.pause(outcome.seconds)
        await self._writer.submit(record)
        if isinstance(outcome, Unreachable):
            self._forget_chat(row.chat_id)
        if isinstance(outcome, Moved):
            self._new_rows = True  # it is due at once, on its new chat

    def _forget_chat(self, chat_id: int) -> None:
        """Rows of an unreachable chat still in memory were settled in the database."""
        for row in self._queued.pop(chat_id, ()):
            self._known.discard(row.id)
