"""The audit log for administrators: read a period page by page, narrowed to a person or a
kind of action, and export it as a workbook.

Every call checks that the actor is an administrator. Reading the log changes nothing and is
not recorded; an export takes personal data out of the bot, so it is (AUDIT_EXPORTED).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.audit_log import AuditLine, AuditQuery, Period, PeriodPreset, parse_period, preset
from bot.audit_words import DetailNames
from bot.audit_xlsx import AuditWorkbook
from bot.clock import Clock
from bot.domain import Actor, AuditAction, Person, Role
from bot.errors import InvalidInput, NotFound
from bot.i18n import Texts
from bot.services.access import require
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.units import UnitRepository

_Args = tuple[datetime, datetime, int | None, int | None]
PAGE_SIZE = 12
#: A workbook stays under Telegram's 50 MB for documents, and Excel's million rows.
EXPORT_MAX = 200_000


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the entries a query finds, newest first, and where it stands."""

    query: AuditQuery
    person: Person | None
    lines: list[AuditLine]
    names: DetailNames
    total: int
    number: int  # from 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


@dataclass(frozen=True, slots=True)
class AuditFile:
    """An export: the workbook and how many entries it holds."""

    content: bytes
    entries: int


class AuditLogService:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def require_reader(self, actor: Actor) -> None:
        """Refuses anyone but an administrator before a question about the log is asked."""
        require(actor, Role.ADMIN)

    def preset(self, actor: Actor, which: PeriodPreset) -> Period:
        require(actor, Role.ADMIN)
        return preset(which, self.today())

    def parse_period(self, actor: Actor, raw: str) -> Period:
        """A period typed: `01/10/2026-31/10/2026`; InvalidInput says what is wrong."""
        require(actor, Role.ADMIN)
        return parse_period(raw, self.today())

    async def person(self, actor: Actor, person_id: int) -> Person:
        """A person to narrow the log to; anyone in the province."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await _person(conn, person_id)

    async def page(self, actor: Actor, query: AuditQuery, number: int = 0) -> AuditPage:
        """A page of the entries (the last one if `number` is past it: the log only grows, but
        a narrower filter may have fewer pages)."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            person, args = await self._filter(conn, query)
            repo = AuditRepository(conn)
            total = await repo.count(*args, query.action)
            pages = max(1, -(-total // PAGE_SIZE))
            number = min(max(number, 0), pages - 1)
            lines = await repo.page(*args, query.action, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
            names = await _names(conn, lines)
        return AuditPage(query, person, lines, names, total, number)

    async def actions(self, actor: Actor, query: AuditQuery) -> list[tuple[AuditAction, int]]:
        """The kinds of action in the query's period (and of its person), the most frequent
        first, to narrow the log to one."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            _, args = await self._filter(conn, query)
            found = await AuditRepository(conn).actions(*args)
        known = {a.value for a in AuditAction}
        return [(AuditAction(action), n) for action, n in found if action in known]

    async def export(self, actor: Actor, query: AuditQuery, texts: Texts) -> AuditFile:
        """The query's entries as a workbook in the actor's language; the export is recorded.

        The rows are read from a cursor a chunk at a time and written as they come (in a
        worker thread, so the bot keeps answering others meanwhile)."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            _, args = await self._filter(conn, query)
            repo = AuditRepository(conn)
            total = await repo.count(*args, query.action)
            if total == 0:
                raise InvalidInput("audit_log.export_empty")
            if total > EXPORT_MAX:
                raise InvalidInput("audit_log.export_too_many", count=total, max=EXPORT_MAX)
            book = AuditWorkbook(texts, self.tz)
            entries = 0
            async for chunk in repo.stream(*args, query.action):
                names = await _names(conn, chunk)
                await asyncio.to_thread(book.add, chunk, names)
                entries += len(chunk)
        content = await asyncio.to_thread(book.close)
        async with self.db.write() as conn:
            await AuditRepository(conn).record(
                AuditAction.AUDIT_EXPORTED, actor=actor.telegram_id, person_id=query.person_id,
                since=query.period.first.isoformat(), until=query.period.last.isoformat(),
                kind=query.action.value if query.action else None, entries=entries,
            )  # fmt: skip
        return AuditFile(content, entries)

    async def _filter(
        self, conn: AsyncConnection, query: AuditQuery
    ) -> tuple[Person | None, _Args]:
        """The person narrowed to, and the query as the repository takes it: the period's
        local days as times, and the person's account (what they did from it)."""
        person = await _person(conn, query.person_id) if query.person_id else None
        since, until = query.period.bounds(self.tz)
        return person, (since, until, query.person_id, person.telegram_id if person else None)


async def _person(conn: AsyncConnection, person_id: int) -> Person:
    try:
        return await PeopleRepository(conn).get(person_id)
    except NotFound:
        raise NotFound("audit_log.person_unknown") from None


async def _names(conn: AsyncConnection, lines: Sequence[AuditLine]) -> DetailNames:
    """The names of the units and classes the entries refer to by id."""
    units = {u for line in lines for u in line.unit_ids()}
    classes = {c for line in lines for c in line.class_ids()}
    return DetailNames(
        units=await UnitRepository(conn).labels(units),
        classes=await ClassRepository(conn).codes(list(classes)),
    )
