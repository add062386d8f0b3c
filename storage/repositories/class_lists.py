"""A class's list: every enrolment of the class with the person's unit, position, grade and
the facts priority groups are made of, in one query; and who teaches the class."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.class_lists import ClassListEntry
from bot.domain import Gender, UnitScope
from bot.training import EnrolmentStatus
from storage.repositories.units import in_scope
from storage.schema import (
    class_lecturers,
    class_sessions,
    enrolments,
    ethnicities,
    grades,
    people,
    professional_titles,
    titles,
    units,
)

_unit = units.alias("u")
_parent = units.alias("up")
_nominator = people.alias("nom")

#: The waitlist's places over the whole class, so that a unit head's staff keep theirs.
_positions = (
    sa.select(
        enrolments.c.id,
        sa.func.row_number().over(order_by=enrolments.c.ticket).label("position"),
    )
    .where(
        enrolments.c.class_id == sa.bindparam("class_id"),
        enrolments.c.status == EnrolmentStatus.WAITLISTED.value,
    )
    .subquery("positions")
)

_LIST_SELECT = sa.select(
    people.c.id.label("person_id"),
    people.c.full_name,
    people.c.title_other,
    people.c.professional_rank,
    people.c.gender,
    people.c.birth_year,
    people.c.source_pool,
    people.c.phone,
    enrolments.c.status,
    enrolments.c.created_at,
    enrolments.c.updated_at,
    enrolments.c.expires_at,
    enrolments.c.reason,
    _positions.c.position,
    _nominator.c.full_name.label("nominated_by"),
    _unit.c.name.label("unit"),
    sa.case((_parent.c.parent_id.is_(None), None), else_=_parent.c.name).label("unit_parent"),
    titles.c.name.label("title"),
    grades.c.name.label("grade"),
    professional_titles.c.name.label("professional_title"),
    ethnicities.c.name.label("ethnicity"),
    ethnicities.c.code.label("ethnicity_code"),
).select_from(
    enrolments.join(people, people.c.id == enrolments.c.person_id)
    .outerjoin(_positions, _positions.c.id == enrolments.c.id)
    .outerjoin(_nominator, _nominator.c.id == enrolments.c.nominated_by)
    .outerjoin(_unit, _unit.c.id == people.c.unit_id)
    .outerjoin(_parent, _parent.c.id == _unit.c.parent_id)
    .outerjoin(titles, titles.c.id == people.c.title_id)
    .outerjoin(grades, grades.c.id == people.c.grade_id)
    .outerjoin(professional_titles, professional_titles.c.id == people.c.professional_title_id)
    .outerjoin(ethnicities, ethnicities.c.id == people.c.ethnicity_id)
)


def _entry(row: Any) -> ClassListEntry:
    return ClassListEntry(
        person_id=row.person_id,
        name=row.full_name,
        status=EnrolmentStatus(row.status),
        registered_at=row.created_at,
        changed_at=row.updated_at,
        unit=row.unit,
        unit_parent=row.unit_parent,
        title=row.title or row.title_other,
        grade=row.grade,
        professional_title=row.professional_title,
        professional_rank=row.professional_rank,
        gender=Gender(row.gender) if row.gender else None,
        birth_year=row.birth_year,
        ethnicity=row.ethnicity,
        ethnicity_code=row.ethnicity_code,
        source_pool=bool(row.source_pool),
        phone=row.phone,
        position=row.position,
        expires_at=row.expires_at,
        reason=row.reason,
        nominated_by=row.nominated_by,
    )


class ClassListRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def entries(self, class_id: int, scope: UnitScope) -> list[ClassListEntry]:
        """Every enrolment of the class, whatever its status, of the people in `scope`
        (unordered: the sections have their own orders, bot.class_lists.ordered)."""
        query = _LIST_SELECT.where(
            enrolments.c.class_id == sa.bindparam("class_id"),
            in_scope(people.c.unit_id, scope),
        )
        rows = await self.conn.execute(query, {"class_id": class_id})
        return [_entry(row) for row in rows]

    async def teaches(self, class_id: int, person_id: int) -> bool:
        """Named among the class's lecturers, or on one of its sessions."""
        named = sa.select(class_lecturers.c.person_id).where(
            class_lecturers.c.class_id == class_id, class_lecturers.c.person_id == person_id
        )
        on_session = sa.select(class_sessions.c.lecturer_id).where(
            class_sessions.c.class_id == class_id, class_sessions.c.lecturer_id == person_id
        )
        found = await self.conn.execute(sa.select(sa.or_(named.exists(), on_session.exists())))
        return bool(found.scalar())
