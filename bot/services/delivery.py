"""Announcements, delivery reports and who can be reached: the engine's business side."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.audience import AudienceKind, AudienceLabel, AudienceSize, ClassOption, Recipients
from bot.channels import Channel, channel_of
from bot.clock import Clock, SystemClock
from bot.delivery.model import (
    BatchReport,
    BatchSummary,
    KindReport,
    NewMessage,
    OutboxMessage,
    ProgressMessage,
)
from bot.delivery.routing import copy_key
from bot.domain import Actor, AuditAction, MessageKind, Role
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.i18n import DEFAULT_TIMEZONE
from bot.services.access import require, staff_scope
from bot.services.notices import notice
from bot.text_search import fold
from bot.validation import plain_text, shorten, telegram_length, without_controls
from storage.database import Database
from storage.repositories.audience import AudienceRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.units import UnitRepository
from storage.repositories.zalo_accounts import ZaloAccountRepository
from storage.types import utcnow

log = logging.getLogger(__name__)

ANNOUNCEMENT_MAX = 3500  # leaves room for the heading within Telegram's 4096
SIGNATURE_MAX = 200  # the units a head signs with (they may head many): within that room
#: The report by kind covers what was queued in this many last days.
KIND_REPORT_DAYS = 7
#: An audience's class or unit, as the report names it (the column holds 200).
AUDIENCE_NAME_MAX = 200
#: Words of a class search that count (a longer text is cut, not refused).
CLASS_QUERY_MAX = 60
#: The sender's progress message is kept up to date this long at most: a delivery stuck
#: longer (Telegram down for hours) ends with the report as it stands.
FOLLOW_FOR = timedelta(hours=6)
#: Marks the digest of a final report, so that it replaces the last progress figures even
#: when they were the same.
FINAL = "!"
EVERYONE = Recipients()


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress message and its batch's report now. Final once nothing is pending (or it
    was followed long enough): then it shows the report, once, and is left alone."""

    message: ProgressMessage
    report: BatchReport
    final: bool

    @property
    def shown(self) -> str:
        """What the message will show, as a digest."""
        return self.report.digest + (FINAL if self.final else "")

    @property
    def changed(self) -> bool:
        """Only a change is edited in: Telegram refuses an edit that changes nothing."""
        return self.shown != self.message.shown


class DeliveryService:
    def __init__(
        self, db: Database, clock: Clock | None = None, tz: tzinfo = DEFAULT_TIMEZONE
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.tz = tz
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

    async def chat_seen(self, chat_id: int, channel: Channel = Channel.TELEGRAM) -> None:
        """The person wrote or unblocked us: they can be reached again, on that channel. A
        joined person writing on Zalo appears under their Telegram id, but it is their Zalo
        account that answered."""
        if channel is Channel.ZALO and channel_of(chat_id) is Channel.TELEGRAM:
            if not any(channel_of(c) is Channel.ZALO for c in self._unreachable):
                return
            async with self.db.lookup() as conn:
                joined = await ZaloAccountRepository(conn).joined_to(chat_id)
            if joined is None:
                return
            chat_id = joined.zalo_chat
        if chat_id not in self._unreachable:
            return
        async with self.db.write() as conn:
            await OutboxRepository(conn).clear_unreachable(chat_id)
        self._unreachable.discard(chat_id)
        log.info("a chat is reachable again")

    async def queue_copies(self, copies: Sequence[tuple[OutboxMessage, int]]) -> None:
        """Messages' copies for other chats of their people (bot.delivery.routing), in one
        write: each queued once however often its original is tried, outside its batch,
        whose report counts the original."""
        async with self.db.write() as conn:
            await OutboxRepository(conn).add(
                [
                    NewMessage(
                        copy_key(m.dedup_key), chat_id, m.kind, m.payload, person_id=m.person_id
                    )
                    for m, chat_id in copies
                ]
            )
        self._wake()

    # --- announcements -----------------------------------------------------------------------

    async def audience(self, actor: Actor, recipients: Recipients = EVERYONE) -> AudienceSize:
        """Whom an announcement from this actor to `recipients` would reach now (never the
        sender), in words and in numbers; refuses a unit outside a unit head's units."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            label = await self._label(conn, actor, recipients)
            reachable, blocked = await AudienceRepository(conn).size(
                recipients, scope, self._year(), _own_id(actor)
            )
        return AudienceSize(recipients, label, reachable, blocked)

    async def find_classes(self, actor: Actor, query: str, limit: int) -> list[ClassOption]:
        """At most `limit` classes whose code or name has every word typed, to announce to;
        a unit head reaches only their own staff in a class: they are offered those classes."""
        scope = staff_scope(actor)
        words = fold(plain_text(query)[:CLASS_QUERY_MAX]).split()
        if not words:
            raise InvalidInput("catalog.query_short")
        async with self.db.read() as conn:
            return await AudienceRepository(conn).classes(words, scope, limit)

    async def _label(
        self, conn: AsyncConnection, actor: Actor, recipients: Recipients
    ) -> AudienceLabel:
        """The audience in words; the rights to it checked: a unit must lie in the actor's
        reach, and what else a unit head names is kept within their units."""
        kind, ref = recipients.kind, recipients.ref
        within = None
        if not actor.scope.is_province:
            heads = [g.unit.label for g in actor.grants if g.role is Role.UNIT_HEAD and g.unit]
            within = shorten(", ".join(heads), SIGNATURE_MAX)
        if kind.of_class:
            assert ref is not None
            found = await ClassRepository(conn).get(ref)
            return AudienceLabel(kind, shorten(f"{found.name} ({found.code})", AUDIENCE_NAME_MAX),
                                 within)  # fmt: skip
        if kind is AudienceKind.UNIT:
            assert ref is not None
            unit = await UnitRepository(conn).get(ref)
            if not await AudienceRepository(conn).unit_in_scope(ref, actor.scope):
                raise PermissionDenied("announce.unit_outside")
            return AudienceLabel(kind, shorten(unit.label, AUDIENCE_NAME_MAX))
        return AudienceLabel(kind, None, within)

    def _year(self) -> int:
        """The year priority groups are reckoned in (young: under 35 this year)."""
        return self.clock.now().astimezone(self.tz).year

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

    async def announce(
        self,
        actor: Actor,
        text: str,
        request_key: str | None = None,
        audience: Recipients = EVERYONE,
    ) -> int:
        """Queues one announcement to the audience, within the actor's reach, as one batch;
        refuses an audience no one in it can be sent to.

        A request repeated with the same `request_key` (after a crash, a double tap) returns
        the batch the first one queued and queues nothing.
        """
        scope = staff_scope(actor)
        text = self.check_announcement(text)
        async with self.db.write() as conn:
            repo = OutboxRepository(conn)
            if request_key and (done := await repo.batch_for_request(request_key)) is not None:
                return done
            label = await self._label(conn, actor, audience)
            chosen = AudienceRepository(conn)
            reachable, _ = await chosen.size(audience, scope, self._year(), _own_id(actor))
            if not reachable:
                raise InvalidInput("announce.nobody")
            recipients = await chosen.recipients(audience, scope, self._year(), _own_id(actor))
            title = text.splitlines()[0][:200]
            text_key, params = self.announcement(actor, text)
            batch = await repo.new_batch(
                "announcement", title, actor.telegram_id, len(recipients), request_key,
                audience=label, audience_ref=audience.ref,
            )  # fmt: skip
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
                audience=audience.kind.value,
                audience_ref=audience.ref,
                audience_name=label.name,
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

    # --- the sender's progress message --------------------------------------------------------

    async def follow(
        self, actor: Actor, batch: int, chat_id: int, message_id: int, shown: str
    ) -> None:
        """Keeps the sender's message about their batch up to date as it is delivered
        (bot/app/broadcast_progress.py), across restarts; `shown` is the digest it shows."""
        report = await self.report(actor, batch)  # theirs to see
        async with self.db.write() as conn:
            await OutboxRepository(conn).watch(
                report.batch_id, chat_id, message_id, shown, utcnow() + FOLLOW_FOR
            )

    async def progress(self) -> list[Progress]:
        """The progress messages whose figures changed since they were last shown. The
        batches are stamped with the system's time, so the bound is measured with it too."""
        now = utcnow()
        found: list[Progress] = []
        async with self.db.read() as conn:
            repo = OutboxRepository(conn)
            for message in await repo.watched():
                report = await repo.report(message.batch_id)
                if report is None:
                    continue
                final = report.pending == 0 or message.until <= now
                progress = Progress(message, report, final)
                if progress.changed:
                    found.append(progress)
        return found

    async def progress_shown(self, progress: Progress, *, stop: bool = False) -> None:
        """The progress message shows these figures now; a final one (or one that can no
        longer be edited: `stop`) is left alone from now on."""
        async with self.db.write() as conn:
            await OutboxRepository(conn).progress_shown(
                progress.message.batch_id, progress.shown, final=progress.final or stop
            )


def _own_id(actor: Actor) -> int | None:
    return actor.person.id if actor.person else None
