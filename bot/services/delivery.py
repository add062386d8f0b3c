"""Announcements, delivery reports and who can be reached: the engine's business side."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.delivery.model import BatchReport, NewMessage
from bot.domain import Actor, Role
from bot.errors import InvalidInput, NotFound
from bot.services.access import require, unit_scope
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import audit

log = logging.getLogger(__name__)

ANNOUNCEMENT_MAX = 3500  # leaves room for the heading within Telegram's 4096


class DeliveryService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._wake: Callable[[], None] = lambda: None
        self._unreachable: set[int] = set()

    def connect_sender(self, wake: Callable[[], None]) -> None:
        """The sender, once running, is woken whenever a producer commits new messages."""
        self._wake = wake

    def wake(self) -> None:
        self._wake()

    # --- reachability ------------------------------------------------------------------------

    async def load_unreachable(self) -> None:
        async with self.db.read() as conn:
            self._unreachable = await OutboxRepository(conn).all_unreachable()

    def note_unreachable(self, chat_id: int) -> None:
        self._unreachable.add(chat_id)

    async def chat_blocked(self, chat_id: int, reason: str) -> None:
        """Telegram said the person blocked the bot (my_chat_member): stop sending now."""
        async with self.db.write() as conn:
            await OutboxRepository(conn).mark_unreachable(chat_id, reason)
        self._unreachable.add(chat_id)

    async def chat_seen(self, chat_id: int) -> None:
        """The person wrote or unblocked us: they can be reached again."""
        if chat_id not in self._unreachable:
            return
        async with self.db.write() as conn:
            await OutboxRepository(conn).clear_unreachable(chat_id)
        self._unreachable.discard(chat_id)
        log.info("a chat is reachable again")

    # --- announcements -----------------------------------------------------------------------

    async def audience(self, actor: Actor) -> int:
        require(actor, Role.ADMIN, Role.UNIT_HEAD)
        async with self.db.read() as conn:
            scope = await unit_scope(conn, actor)
            return len(await PeopleRepository(conn).reachable(scope))

    async def announce(self, actor: Actor, text: str) -> int:
        """Queues one announcement to every linked cadre in the actor's reach, as one batch."""
        require(actor, Role.ADMIN, Role.UNIT_HEAD)
        text = text.strip()
        if not text or len(text) > ANNOUNCEMENT_MAX:
            raise InvalidInput("error.announcement_length", max=ANNOUNCEMENT_MAX)
        async with self.db.write() as conn:
            scope = await unit_scope(conn, actor)
            recipients = await PeopleRepository(conn).reachable(scope)
            repo = OutboxRepository(conn)
            title = text.splitlines()[0][:200]
            batch = await repo.new_batch("announcement", title, actor.telegram_id, len(recipients))
            await repo.add(
                [
                    NewMessage(
                        dedup_key=f"announcement:{batch}:{person_id}",
                        chat_id=chat_id,
                        person_id=person_id,
                        batch_id=batch,
                        kind="announcement",
                        payload={"key": "notice.announcement", "params": {"text": text}},
                    )
                    for person_id, chat_id in recipients
                ]
            )
            await audit(conn, "announcement", actor=actor.telegram_id, batch=batch,
                        recipients=len(recipients))  # fmt: skip
        self.wake()
        return batch

    async def report(self, actor: Actor, batch_id: int) -> BatchReport:
        require(actor, Role.ADMIN, Role.UNIT_HEAD)
        async with self.db.read() as conn:
            report = await OutboxRepository(conn).report(batch_id)
        if report is None or (not actor.is_admin and report.created_by != actor.telegram_id):
            raise NotFound()
        return report
