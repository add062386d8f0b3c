"""Announcements, delivery reports and who can be reached: the engine's business side."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.delivery.model import BatchReport, BatchSummary, KindReport
from bot.domain import Actor, AuditAction, MessageKind, Role
from bot.errors import InvalidInput, NotFound
from bot.services.access import require, staff_scope
from bot.services.notices import notice
from bot.validation import shorten, telegram_length, without_controls
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository

log = logging.getLogger(__name__)

ANNOUNCEMENT_MAX = 3500  # leaves room for the heading within Telegram's 4096
SIGNATURE_MAX = 200  # the units a head signs with (they may head many): within that room
#: The report by kind covers what was queued in this many last days.
KIND_REPORT_DAYS = 7


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
        """How many people an announcement from this actor would reach (not the sender)."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            return await PeopleRepository(conn).count_reachable(scope, but=_own_id(actor))

    def check_announcement(self, text: str) -> str:
        """The text as it will be sent; refuses an empty or overlong one (measured as
        Telegram measures, so an announcement of emoji cannot overflow the message)."""
        text = without_controls(text).strip()
        length = telegram_length(text)
        if not text or length > ANNOUNCEMENT_MAX:
            raise InvalidInput("error.announcement_length", max=ANNOUNCEMENT_MAX, length=length)
        return text

    @staticmethod
    def announcement(actor: Actor, text: str) -> tuple[str, dict[str, str]]:
        """The announcement as cadres will read it (catalog key and values): signed by the
        office for administrators, by their units for unit heads."""
        if actor.is_admin:
            return "notice.announcement_office", {"text": text}
        units = ", ".join(g.unit.label for g in actor.grants if g.unit is not None)
        return "notice.announcement_unit", {"text": text, "unit": shorten(units, SIGNATURE_MAX)}

    async def announce(self, actor: Actor, text: str, request_key: str | None = None) -> int:
        """Queues one announcement to everyone in the actor's reach, as one batch.

        A request repeated with the same `request_key` (after a crash, a double tap) returns
        the batch the first one queued and queues nothing.
        """
        scope = staff_scope(actor)
        text = self.check_announcement(text)
        async with self.db.write() as conn:
            repo = OutboxRepository(conn)
            if request_key and (done := await repo.batch_for_request(request_key)) is not None:
                return done
            recipients = await PeopleRepository(conn).reachable(scope, but=_own_id(actor))
            title = text.splitlines()[0][:200]
            text_key, params = self.announcement(actor, text)
            batch = await repo.new_batch(
                "announcement", title, actor.telegram_id, len(recipients), request_key
            )
            await repo.add(
                [
                    notice(
                        MessageKind.ANNOUNCEMENT,
                        f"announcement:{batch}:{person_id}",
                        chat_id=chat_id,
                        person_id=person_id,
                        batch_id=batch,
                        text_key=text_key,
                        params=params,
                    )
                    for person_id, chat_id in recipients
                ]
            )
            await AuditRepository(conn).record(
                AuditAction.ANNOUNCEMENT,
                actor=actor.telegram_id,
                batch=batch,
                recipients=len(recipients),
            )
        self.wake()
        return batch

    async def report(self, actor: Actor, batch: int | str) -> BatchReport:
        """The delivery report of a batch the actor may see: administrators any, unit heads
        their own. `batch` is its number, as typed or from a button."""
        staff_scope(actor)
        text = str(batch).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 12):
            raise InvalidInput("error.delivery_usage")
        async with self.db.read() as conn:
            report = await OutboxRepository(conn).report(int(text))
        if report is None or (not actor.is_admin and report.created_by != actor.telegram_id):
            raise NotFound("error.batch_unknown", batch=int(text))
        return report

    async def recent(self, actor: Actor) -> list[BatchSummary]:
        """The latest batches the actor may see: administrators all, unit heads their own."""
        staff_scope(actor)
        async with self.db.read() as conn:
            mine = None if actor.is_admin else actor.telegram_id
            return await OutboxRepository(conn).recent_batches(mine)

    async def kinds(self, actor: Actor) -> list[KindReport]:
        """What the bot sent on its own in the last KIND_REPORT_DAYS days, kind by kind in
        the catalog's order (administrators: it covers everyone)."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            found = {k.kind: k for k in await OutboxRepository(conn).by_kind(KIND_REPORT_DAYS)}
        return [found[kind.value] for kind in MessageKind if kind.value in found]

    async def kind_report(self, actor: Actor, kind: MessageKind) -> KindReport:
        """One kind's figures and the cadres it could not reach, by unit, to phone them."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            repo = OutboxRepository(conn)
            found = await repo.by_kind(KIND_REPORT_DAYS, kind.value)
            report = found[0] if found else KindReport(kind.value)
            if report.unreachable:
                unreached = await repo.unreached_of_kind(kind.value, KIND_REPORT_DAYS)
                report = replace(report, unreachable_by_unit=unreached)
        return report


def _own_id(actor: Actor) -> int | None:
    return actor.person.id if actor.person else None
