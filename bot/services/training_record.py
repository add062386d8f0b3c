"""Each cadre's training record and their attendance per class, for the cadre, their unit
heads and the training office.

Who may see a record is checked here on every call: a learner their own, a unit head the
staff of their units, administrators anyone. Anyone else asking for someone's record, and
anyone asking for a record outside their reach, gets the same answer as for an id that does
not exist: nothing leaks about who is where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import Standing
from bot.clock import Clock
from bot.domain import Actor, Person, Role
from bot.errors import NotFound
from bot.services.access import registered
from bot.training_record import ClassRecord, TrainingRecord, by_year
from storage.database import Database
from storage.repositories.people import PeopleRepository
from storage.repositories.training_record import TrainingRecordRepository


@dataclass(frozen=True, slots=True)
class ClassAttendance:
    """One learner's sessions in one class, each with its mark, and where they stand."""

    person: Person
    record: ClassRecord
    standing: Standing


class TrainingRecordService:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    async def record(self, actor: Actor, person_id: int | None = None) -> TrainingRecord:
        """The record of `person_id` (by default the actor's own), as it stands now."""
        now = self.clock.now()
        async with self.db.read() as conn:
            person = await _whose(conn, actor, person_id)
            repo = TrainingRecordRepository(conn)
            classes = await repo.classes(person.id, now)
            imported = await repo.imported(person.id)
        return TrainingRecord(person, now, by_year(classes, imported, self.tz))

    async def class_attendance(
        self, actor: Actor, class_id: int, person_id: int | None = None
    ) -> ClassAttendance:
        """A learner's sessions in a class of their record, with marks and standing."""
        now = self.clock.now()
        async with self.db.read() as conn:
            person = await _whose(conn, actor, person_id)
            found = await TrainingRecordRepository(conn).classes(person.id, now, class_id)
        if not found:
            raise NotFound("error.class_unknown")
        return ClassAttendance(person, found[0], found[0].standing)


async def _whose(conn: AsyncConnection, actor: Actor, person_id: int | None) -> Person:
    """The person whose record is asked for, if the actor may see it; else NotFound, the
    same for an id out of reach as for one that does not exist."""
    people = PeopleRepository(conn)
    own = actor.person
    if person_id is None or (own is not None and own.id == person_id):
        return await people.get(registered(actor).id)
    if actor.is_admin:
        return await people.get(person_id)
    if actor.has(Role.UNIT_HEAD):
        return await people.get(person_id, actor.scope)
    raise NotFound()
