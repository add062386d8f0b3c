"""Progress digests: the year's summary to administrators each week, the month's report of
their units to unit heads each month, with the workbook attached, through the outbox.

A pass (`queue_due`) runs with the reminder pass, in the process that sends. Nothing is kept
in memory: the schedule says which digests are due (bot/digests.py), and the outbox keys
already queued (or held for quiet hours) say who has had theirs, so passes repeated every
30 s, after a restart or in two processes queue each digest once. Figures and workbooks are
made once per scope (the province, a unit head's units) and language, a few scopes a pass,
outside any write transaction; the workbooks wait in a folder until sent, and go after
KEEP_FILES. An empty period is said in one line, without a workbook.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot import report_export
from bot.clock import Clock
from bot.delivery.model import NewMessage
from bot.digests import DigestKind, DigestSchedule, DueDigest, payloads
from bot.domain import Actor, MessageKind, Role, UnitScope
from bot.errors import PermissionDenied
from bot.i18n import DEFAULT_LANGUAGE, DEFAULT_OFFICE, Office, Texts, language_or_default, texts
from bot.reminders import ReminderPrefs
from bot.report_text import overview, period_name
from bot.services.access import AccessService, require, staff_scope
from bot.services.quiet import queue_or_hold
from bot.services.reports import ReportService
from bot.validation import shorten
from storage.database import Database
from storage.repositories.digests import DigestRepository
from storage.repositories.office import OfficeRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository

#: Scopes whose figures and workbooks one pass makes; the others wait for the next pass, so
#: that the session reminders sharing the pass are never held up for long.
SCOPES_PER_PASS = 8
#: A workbook is kept this long: whatever carried it was sent (or given up) long before.
KEEP_FILES = timedelta(days=35)
#: A unit head's units as the digest names them (a head of many units gets "…").
UNITS_MAX = 300
KINDS = {
    DigestKind.WEEKLY: MessageKind.DIGEST_WEEKLY,
    DigestKind.MONTHLY: MessageKind.DIGEST_MONTHLY,
}
INTROS = {DigestKind.WEEKLY: "digest.intro_weekly", DigestKind.MONTHLY: "digest.intro_monthly"}


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """What the operator set (DIGEST_WEEKLY, DIGEST_MONTHLY, DIGEST_AT, DIGEST_DIR) and what
    the texts need to be written in each reader's language."""

    schedule: DigestSchedule = field(default_factory=DigestSchedule)
    folder: Path = Path("data/digests")
    office: Office = DEFAULT_OFFICE
    default_language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class _Reader:
    """Someone whose digest is due: the key it goes under, and where."""

    key: str
    chat_id: int
    person_id: int | None
    language: str


@dataclass(slots=True)
class _Scope:
    """Readers who see the same figures: the actor they are read as, and who they are."""

    actor: Actor
    readers: list[_Reader] = field(default_factory=list)


class DigestService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: tzinfo,
        reports: ReportService,
        access: AccessService,
        config: DigestConfig | None = None,
        *,
        defaults: ReminderPrefs | None = None,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.reports = reports
        self.access = access
        self.config = config or DigestConfig()
        self.defaults = defaults or ReminderPrefs()
        self.notify = notify

    async def queue_due(self, now: datetime | None = None) -> int:
        """Queues the digests due now to those who have not had them; returns how many
        messages. Safe to repeat at any time."""
        now = now or self.clock.now()
        queued = 0
        for digest in self.config.schedule.due(now, self.tz):
            queued += await self._queue(digest, now)
        if queued:
            self.notify()
        return queued

    async def _queue(self, digest: DueDigest, now: datetime) -> int:
        readers = await self._pending(digest)
        if not readers:
            return 0
        scopes = await self._scopes(digest, readers)
        made: list[Path] = []
        queued: list[NewMessage] = []
        try:
            messages: list[list[NewMessage]] = []
            for scope in scopes:
                messages += await self._messages(digest, scope, made)
            queued = await self._commit(digest, messages, now)
        finally:
            used = {Path(m.payload["document"]["path"]) for m in queued if "document" in m.payload}
            for path in made:
                if path not in used:  # another process queued this digest first
                    path.unlink(missing_ok=True)
        return len(queued)

    # --- who --------------------------------------------------------------------------------

    async def _pending(self, digest: DueDigest) -> list[_Reader]:
        """Those due this digest who have not had it, and whose chat is not known blocked."""
        default = self.config.default_language
        async with self.db.read() as conn:
            if digest.kind is DigestKind.WEEKLY:
                admins = await RoleRepository(conn).admins(self.access.superadmin_ids)
                chats = [chat for _, chat in admins]
                linked = await PeopleRepository(conn).linked_among(
                    {*chats, *self.access.superadmin_ids}
                )
                found = [
                    _Reader(digest.key(chat), chat, person, language_or_default(
                        linked.get(chat) or default))
                    for person, chat in admins
                ]  # fmt: skip
                # A super-administrator (ADMIN_IDS) without a profile still has a chat.
                found += [
                    _Reader(digest.key(chat), chat, None, language_or_default(default))
                    for chat in sorted(self.access.superadmin_ids - set(linked))
                ]
            else:
                found = [
                    _Reader(digest.key(h.person_id), h.chat_id, h.person_id,
                            language_or_default(h.language or default))
                    for h in await DigestRepository(conn).unit_heads()
                ]  # fmt: skip
            blocked = await OutboxRepository(conn).unreachable(r.chat_id for r in found)
            known = await OfficeRepository(conn).known_keys(r.key for r in found)
        return [r for r in found if r.chat_id not in blocked and r.key not in known]

    async def _scopes(self, digest: DueDigest, readers: Sequence[_Reader]) -> list[_Scope]:
        """The readers grouped by what they may see, each checked as the reports check
        anyone: administrators see the province; a unit head, in the monthly digest, their
        own units (even one who also administers). Up to SCOPES_PER_PASS scopes."""
        scopes: dict[UnitScope, _Scope] = {}
        for reader in readers:
            actor = await self.access.actor(reader.chat_id)
            try:
                if digest.kind is DigestKind.WEEKLY:
                    require(actor, Role.ADMIN)
                else:
                    actor = _as_unit_head(actor)
                scope = staff_scope(actor)
            except PermissionDenied:
                continue  # the role went between the two reads
            key = UnitScope(None if scope.roots is None else tuple(sorted(scope.roots)))
            if key not in scopes and len(scopes) == SCOPES_PER_PASS:
                continue  # the next pass
            scopes.setdefault(key, _Scope(actor)).readers.append(reader)
        return list(scopes.values())

    # --- what -------------------------------------------------------------------------------

    async def _messages(
        self, digest: DueDigest, scope: _Scope, made: list[Path]
    ) -> list[list[NewMessage]]:
        """Each reader's messages, in order; the figures read once, the text and the workbook
        made once per language."""
        actor, period = scope.actor, digest.period
        summary = await self.reports.summary(actor, period)
        data = None
        if not summary.empty:
            coverage = await self.reports.coverage(actor, period)
            sessions = await self.reports.sessions(actor, period)
            data = report_export.ReportData(
                summary, coverage, sessions, "", self.config.office.name
            )
        units = None if digest.kind is DigestKind.WEEKLY else _units(actor)
        kind = KINDS[digest.kind]
        found: list[list[NewMessage]] = []
        for language in sorted({r.language for r in scope.readers}):
            words = texts(language, self.tz, self.config.office)
            name = period_name(words, period)
            footer = "digest.footer" if data else "digest.footer_empty"
            text = "\n\n".join([words(INTROS[digest.kind], period=name),
                                overview(words, summary, units), words(footer)])  # fmt: skip
            document = None
            if data is not None:
                shown = replace(data, scope=units or words("report.province"))
                path = await self._workbook(digest, actor, words, shown)
                made.append(path)
                filename = report_export.file_name(words, digest.period, ".xlsx")
                document = {"path": str(path), "filename": filename}
            caption = words("report.caption", period=name, at=summary.generated_at)
            parts = payloads(text, document, caption)
            for reader in scope.readers:
                if reader.language == language:
                    found.append([
                        NewMessage(reader.key if n == 0 else f"{reader.key}:{n}", reader.chat_id,
                                   kind.value, payload, person_id=reader.person_id)
                        for n, payload in enumerate(parts)
                    ])  # fmt: skip
        return found

    async def _workbook(
        self, digest: DueDigest, actor: Actor, words: Texts, data: report_export.ReportData
    ) -> Path:
        """Written in a worker thread under a name of its own (two processes never share
        one), after the folder is rid of workbooks older than KEEP_FILES."""
        roots = actor.scope.roots
        scope = "province" if roots is None else _tag(sorted(roots))
        name = f"{digest.kind.value}-{digest.label}-{scope}-{words.language}-{uuid.uuid4().hex[:8]}"
        path = self.config.folder.absolute() / f"{name}.xlsx"

        def write() -> Path:
            path.parent.mkdir(parents=True, exist_ok=True)
            sweep(path.parent, KEEP_FILES)
            return report_export.workbook(path, words, data, self.tz)

        return await asyncio.to_thread(write)

    async def _commit(
        self, digest: DueDigest, messages: Sequence[Sequence[NewMessage]], now: datetime
    ) -> list[NewMessage]:
        """Queues each reader's messages unless another pass did meanwhile, in one
        transaction, held for the reader's quiet hours; one delivery batch per digest."""
        if not messages:
            return []
        try:
            async with self.db.write() as conn:
                known = await OfficeRepository(conn).known_keys(
                    parts[0].dedup_key for parts in messages
                )
                fresh = [m for parts in messages if parts[0].dedup_key not in known for m in parts]
                if not fresh:
                    return []
                # Named by what it queues: a second process queueing the same digest to the
                # same readers at once is stopped by the batch's unique request key.
                keys = ",".join(sorted(m.dedup_key for m in fresh))
                request = f"{digest.kind.value}:{hashlib.sha256(keys.encode()).hexdigest()[:32]}"
                kind = KINDS[digest.kind].value
                batch = await OutboxRepository(conn).new_batch(
                    kind, digest.label, None, len(fresh), request
                )
                fresh = [replace(m, batch_id=batch) for m in fresh]
                await queue_or_hold(conn, fresh, now=now, tz=self.tz, defaults=self.defaults)
        except IntegrityError:
            return []  # the other process's transaction queued them
        return fresh


def _as_unit_head(actor: Actor) -> Actor:
    """The actor with their unit-head grants only: the monthly digest is of their units."""
    heads = tuple(g for g in actor.grants if g.role is Role.UNIT_HEAD)
    return Actor(actor.telegram_id, actor.person, heads)


def _units(actor: Actor) -> str:
    return shorten(", ".join(g.unit.label for g in actor.grants if g.unit is not None), UNITS_MAX)


def _tag(roots: Sequence[int]) -> str:
    """A short stable name for a set of units, for file names."""
    return "u" + hashlib.blake2b(repr(list(roots)).encode(), digest_size=4).hexdigest()


def sweep(folder: Path, older_than: timedelta) -> int:
    """Removes the files of `folder` not changed for `older_than` (by the files' own times);
    returns how many."""
    limit = time.time() - older_than.total_seconds()
    removed = 0
    for path in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
    return removed
