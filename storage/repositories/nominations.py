"""Nominations (cử đi học): a unit head's staff to pick from, who was nominated and told,
declines, and what the head sees of their staff's enrolments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import PersonSource, UnitScope
from bot.text_search import fold
from bot.training import ClassStatus, EnrolmentStatus, PriorityGroup
from storage.repositories.classes import open_for_enrolment
from storage.repositories.people import group_condition
from storage.repositories.units import in_scope
from storage.schema import classes, enrolments, people, plans, units

#: A nomination still standing: the nominee holds a seat or a waitlist place.
_STANDING = (EnrolmentStatus.ENROLLED.value, EnrolmentStatus.WAITLISTED.value)
#: What a head's list of their staff shows.
_LISTED = (*_STANDING, EnrolmentStatus.PENDING.value, EnrolmentStatus.DECLINED.value)
#: In that list: those in the class first, then pending, waiting, declined.
_LISTED_ORDER = sa.case(
    {EnrolmentStatus.ENROLLED.value: 0, EnrolmentStatus.PENDING.value: 1,
     EnrolmentStatus.WAITLISTED.value: 2},
    value=enrolments.c.status,
    else_=3,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Nomination:
    """A person's enrolment in a class as a nomination: its status and who nominated."""

    status: EnrolmentStatus
    nominated_by: int | None
    #: Why they declined (or the head refused), if they did.
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Untold:
    """A nomination its nominee has not heard of yet (they were not on Telegram then)."""

    class_id: int
    class_name: str
    class_code: str
    status: EnrolmentStatus
    #: When the head nominated them: names this nomination among any earlier ones.
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class StaffEntry:
    """One of a head's staff in a class, as the head's list shows them."""

    full_name: str
    unit: str | None
    class_code: str
    class_name: str
    status: EnrolmentStatus
    nominated: bool
    reason: str | None


class NominationRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def staff(self, scope: UnitScope, query: str, priority_year: int | None) -> list[int]:
        """Ids of the staff in scope whose name contains `query` (with or without diacritics),
        only the priority groups of `priority_year` if given, by name: all of them, since who
        can be nominated (and so comes first) is only known one by one.

        Confirmed records only: anyone can claim a unit in a self-declared profile, and one
        whose cadre withdrew is nobody's to send."""
        where = [
            in_scope(people.c.unit_id, scope),
            people.c.verified.is_(True),
            sa.or_(people.c.source == PersonSource.ROSTER.value, people.c.telegram_id.is_not(None)),
        ]
        if query:
            where.append(people.c.name_search.contains(fold(query), autoescape=True))
        if priority_year is not None:
            where.append(sa.or_(*(group_condition(g, priority_year) for g in PriorityGroup)))
        rows = await self.conn.execute(
            sa.select(people.c.id).where(*where).order_by(people.c.name_search, people.c.id)
        )
        return [r.id for r in rows]

    async def open_classes(self, now: datetime, page: int, size: int) -> tuple[list[int], int]:
        """Ids of one page of the classes open for enrolment now, soonest first, whoever
        their audience (the head's staff, not the head, are to go); and how many in all."""
        where = open_for_enrolment(now)
        joined = classes.join(plans, plans.c.id == classes.c.plan_id)
        total = await self.conn.execute(
            sa.select(sa.func.count()).select_from(joined).where(*where)
        )
        rows = await self.conn.execute(
            sa.select(classes.c.id)
            .select_from(joined)
            .where(*where)
            .order_by(classes.c.starts_at, classes.c.id)
            .offset(page * size)
            .limit(size)
        )
        return [r.id for r in rows], int(total.scalar_one())

    async def of(self, class_id: int, person_id: int) -> Nomination | None:
        row = (
            await self.conn.execute(
                sa.select(
                    enrolments.c.status, enrolments.c.nominated_by, enrolments.c.reason
                ).where(enrolments.c.class_id == class_id, enrolments.c.person_id == person_id)
            )
        ).first()
        return (
            Nomination(EnrolmentStatus(row.status), row.nominated_by, row.reason) if row else None
        )

    async def in_class(self, class_id: int, person_ids: Sequence[int]) -> dict[int, Nomination]:
        """These people's enrolments in the class, read at once for a whole picker."""
        found: dict[int, Nomination] = {}
        for start in range(0, len(person_ids), 1_000):
            rows = await self.conn.execute(
                sa.select(enrolments.c.person_id, enrolments.c.status, enrolments.c.nominated_by,
                          enrolments.c.reason)
                .where(enrolments.c.class_id == class_id,
                       enrolments.c.person_id.in_(person_ids[start : start + 1_000]))
            )  # fmt: skip
            for r in rows:
                found[r.person_id] = Nomination(EnrolmentStatus(r.status), r.nominated_by, r.reason)
        return found

    async def mark(
        self, class_id: int, person_id: int, *, by: int, at: datetime, told_at: datetime | None
    ) -> None:
        """Records the enrolment just made as the head's nomination, decided by them then."""
        await self.conn.execute(
            enrolments.update()
            .where(enrolments.c.class_id == class_id, enrolments.c.person_id == person_id)
            .values(nominated_by=by, decided_by=by, decided_at=at, told_at=told_at,
                    expires_at=None, reason=None)
        )  # fmt: skip

    async def decline(self, class_id: int, person_id: int, reason: str, at: datetime) -> bool:
        """The nominee declines: only a nomination still standing, once (a double tap loses)."""
        result = await self.conn.execute(
            enrolments.update()
            .where(
                enrolments.c.class_id == class_id,
                enrolments.c.person_id == person_id,
                enrolments.c.nominated_by.is_not(None),
                enrolments.c.status.in_(_STANDING),
            )
            .values(status=EnrolmentStatus.DECLINED.value, reason=reason, ticket=None,
                    updated_at=at)
        )  # fmt: skip
        return result.rowcount == 1

    async def untold(self, person_id: int) -> list[Untold]:
        """The person's nominations still standing that they were never told of, in classes
        not cancelled."""
        rows = await self.conn.execute(
            sa.select(
                classes.c.id,
                classes.c.name,
                classes.c.code,
                enrolments.c.status,
                enrolments.c.decided_at,
            )
            .select_from(enrolments.join(classes, classes.c.id == enrolments.c.class_id))
            .where(
                enrolments.c.person_id == person_id,
                enrolments.c.nominated_by.is_not(None),
                enrolments.c.told_at.is_(None),
                enrolments.c.status.in_(_STANDING),
                classes.c.status != ClassStatus.CANCELLED.value,
            )
            .order_by(classes.c.id)
        )
        return [Untold(r.id, r.name, r.code, EnrolmentStatus(r.status), r.decided_at) for r in rows]

    async def set_told(self, person_id: int, class_ids: Sequence[int], at: datetime) -> None:
        if class_ids:
            await self.conn.execute(
                enrolments.update()
                .where(
                    enrolments.c.person_id == person_id,
                    enrolments.c.class_id.in_(class_ids),
                    enrolments.c.told_at.is_(None),
                )
                .values(told_at=at)
            )

    async def of_staff(
        self,
        scope: UnitScope,
        class_id: int | None,
        since: datetime,
        page: int,
        size: int,
    ) -> tuple[list[StaffEntry], int]:
        """The staff in scope nominated, enrolled, pending, waiting or declined: in one class,
        or in every class not over by `since`; a page of them, and how many in all."""
        where = [
            in_scope(people.c.unit_id, scope),
            enrolments.c.status.in_(_LISTED),
            classes.c.status != ClassStatus.CANCELLED.value,
        ]
        if class_id is not None:
            where.append(enrolments.c.class_id == class_id)
        else:
            where.append(sa.or_(classes.c.ends_at.is_(None), classes.c.ends_at > since))
        joined = (
            enrolments.join(people, people.c.id == enrolments.c.person_id)
            .join(classes, classes.c.id == enrolments.c.class_id)
            .outerjoin(units, units.c.id == people.c.unit_id)
        )
        total = await self.conn.execute(
            sa.select(sa.func.count()).select_from(joined).where(*where)
        )
        rows = await self.conn.execute(
            sa.select(people.c.full_name, units.c.name.label("unit"), classes.c.code,
                      classes.c.name, enrolments.c.status, enrolments.c.nominated_by,
                      enrolments.c.reason)
            .select_from(joined)
            .where(*where)
            .order_by(classes.c.starts_at, classes.c.code, _LISTED_ORDER, people.c.name_search,
                      people.c.id)
            .offset(page * size)
            .limit(size)
        )  # fmt: skip
        entries = [
            StaffEntry(r.full_name, r.unit, r.code, r.name, EnrolmentStatus(r.status),
                       r.nominated_by is not None, r.reason)
            for r in rows
        ]  # fmt: skip
        return entries, int(total.scalar_one())
