"""A class's list for those who answer for it: administrators see everyone with their phones,
the class's lecturers everyone without phones, unit heads their own staff. Rights are checked
on every call; the workbook takes personal data out of the bot, so it is audited."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import tzinfo

from bot.class_list_xlsx import workbook
from bot.class_lists import ClassList, ClassListEntry, ListSection, ordered
from bot.clock import Clock
from bot.domain import Actor, AuditAction, Role, UnitScope
from bot.errors import PermissionDenied
from bot.i18n import Texts
from bot.services.access import require
from bot.training import YOUNG_UNDER, TrainingClass
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.class_lists import ClassListRepository
from storage.repositories.classes import ClassRepository


@dataclass(frozen=True, slots=True)
class ClassListFile:
    """A class's list as a workbook, the class, and how many people it names in each part
    (a caption counting them all as one would count those who declined as learners)."""

    content: bytes
    counts: dict[ListSection, int]
    training_class: TrainingClass


class ClassListService:
    def __init__(
        self, db: Database, clock: Clock, tz: tzinfo, young_under: int = YOUNG_UNDER
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.young_under = young_under

    async def view(self, actor: Actor, class_id: int) -> ClassList:
        """The class's list as this actor may read it; refused to a learner, to a lecturer of
        other classes, and for an unknown class."""
        require(actor, Role.ADMIN, Role.LECTURER, Role.UNIT_HEAD)
        async with self.db.read() as conn:
            training_class = await ClassRepository(conn).get(class_id)
            repo = ClassListRepository(conn)
            whole = actor.is_admin or (
                actor.person is not None
                and actor.has(Role.LECTURER)
                and await repo.teaches(class_id, actor.person.id)
            )
            if not whole and not actor.headed_unit_ids:
                raise PermissionDenied()
            scope = UnitScope.province() if whole else UnitScope(actor.headed_unit_ids)
            entries = await repo.entries(class_id, scope)
        now = self.clock.now()
        phones = actor.is_admin
        if not phones:
            entries = [_without_phone(e) for e in entries]
        return ClassList(
            training_class=training_class,
            entries=ordered(entries),
            whole=whole,
            phones=phones,
            year=now.astimezone(self.tz).year,
            generated_at=now,
            generated_by=actor.person.full_name if actor.person else None,
            young_under=self.young_under,
        )

    def may_offer(self, actor: Actor, teaches: bool) -> bool:
        """Whether a class's card offers its list (the list itself checks again)."""
        return (
            actor.is_admin or bool(actor.headed_unit_ids) or (teaches and actor.has(Role.LECTURER))
        )

    async def export(self, actor: Actor, class_id: int, texts: Texts) -> ClassListFile:
        """The list as a workbook in the actor's language (written in a worker thread);
        the download is recorded with the class, the rows and whether phones were in it."""
        shown = await self.view(actor, class_id)
        content = await asyncio.to_thread(workbook, texts, shown, self.tz)
        async with self.db.write() as conn:
            await AuditRepository(conn).record(
                AuditAction.CLASS_LIST_EXPORTED,
                actor=actor.telegram_id,
                class_id=class_id,
                entries=len(shown.entries),
                phones=shown.phones,
                whole=shown.whole,
            )
        return ClassListFile(content, shown.counts(), shown.training_class)


def _without_phone(entry: ClassListEntry) -> ClassListEntry:
    return replace(entry, phone=None)
