"""Loads `tools.demo.classes` through the training repositories, inside the seed's transaction.

Seats are counted the way the application keeps them: a class's list goes in as one bulk
insert and its `enrolled_count` is set to match once (within capacity, which the database
checks), and the waitlist takes its tickets from the class's counter, so the first promotion
or withdrawal a person tries in the sandbox finds the counters it expects. Bulk, because
thousands of single enrolments would make the sandbox's first start take seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Role
from bot.training import (
    Audience,
    EnrolmentStatus,
    NewClass,
    NewPlan,
    NewProgramme,
    NewSession,
)
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.plans import PlanRepository, ProgrammeRepository
from storage.repositories.roles import RoleRepository
from storage.types import utcnow
from tools.demo.classes import DemoAudience, DemoClass, DemoTraining


@dataclass(frozen=True, slots=True)
class LoadedTraining:
    """Ids of what was loaded, for what is loaded next (attendance)."""

    class_ids: dict[str, int]
    people: dict[str, int]
    programmes: dict[str, int]


#: How long before its first session a demo class's learners enrolled.
ENROLLED_BEFORE = timedelta(days=7)


class _Codes:
    """Ids of what the demo names by code: units, grades, titles, plans, programmes, people."""

    def __init__(self, units: Mapping[str, int], grades: Mapping[str, int],
                 titles: Mapping[str, int]) -> None:  # fmt: skip
        self.units, self.grades, self.titles = units, grades, titles
        self.plans: dict[int, int] = {}
        self.programmes: dict[str, int] = {}
        self.people: dict[str, int] = {}

    def audience(self, audience: DemoAudience) -> Audience:
        return Audience(
            unit_ids=tuple(self.units[c] for c in audience.unit_codes),
            grade_ids=tuple(self.grades[c] for c in audience.grade_codes),
            title_ids=tuple(self.titles[c] for c in audience.title_codes),
            groups=audience.groups,
        )


async def load_training(
    conn: AsyncConnection,
    training: DemoTraining,
    units: Mapping[str, int],
    grades: Mapping[str, int],
    titles: Mapping[str, int],
) -> LoadedTraining:
    """Plans, programmes, lecturer roles, classes with sessions and people, completions."""
    codes = _Codes(units, grades, titles)
    plans, programmes = PlanRepository(conn), ProgrammeRepository(conn)
    for plan in training.plans:
        codes.plans[plan.year] = await plans.add(
            NewPlan(plan.year, plan.name, plan.approved_on, plan.approved_by, plan.targets)
        )
    for programme in training.programmes:
        codes.programmes[programme.code] = await programmes.add(
            NewProgramme(programme.code, programme.name, programme.kind, programme.validity_months)
        )
    phones = {p for c in training.classes for p in (*c.learners, *c.waitlist, *c.lecturer_phones)}
    phones |= {done.phone for done in training.completions}
    codes.people = await PeopleRepository(conn).ids_by_phone(sorted(phones))
    roles = RoleRepository(conn)
    for phone in training.lecturer_phones:
        await roles.grant(codes.people[phone], Role.LECTURER, None, by=None)
    class_ids = {c.code: await _add_class(conn, c, codes) for c in training.classes}
    enrolments = EnrolmentRepository(conn)
    for done in training.completions:
        await enrolments.add_completion(
            codes.people[done.phone], codes.programmes[done.programme_code], done.completed_on,
            class_name=done.class_name, source="import",
        )  # fmt: skip
    return LoadedTraining(class_ids, codes.people, codes.programmes)


async def _add_class(conn: AsyncConnection, demo_class: DemoClass, codes: _Codes) -> int:
    classes, enrolments, people = ClassRepository(conn), EnrolmentRepository(conn), codes.people
    c = demo_class
    class_id = await classes.add(
        NewClass(
            code=c.code, name=c.name, programme_id=codes.programmes[c.programme_code],
            plan_id=codes.plans[c.plan_year], kind=c.kind, format=c.format, capacity=c.capacity,
            audience=codes.audience(c.audience), location=c.location,
            meeting_link=c.meeting_link, organiser=c.organiser,
            lecturer_ids=tuple(people[p] for p in c.lecturer_phones),
            enrol_opens_at=c.enrol_opens_at, enrol_deadline=c.enrol_deadline, status=c.status,
        ),
        by=None,
    )  # fmt: skip
    await classes.add_sessions(
        class_id,
        [
            NewSession(s.starts_at, s.ends_at, s.topic,
                       people[s.lecturer_phone] if s.lecturer_phone else None)
            for s in c.sessions
        ],
    )  # fmt: skip
    if c.cancelled_reason:
        await classes.update(class_id, cancelled_reason=c.cancelled_reason)
    if c.learners:
        # Enrolled before the class began: its sessions' rolls expect them.
        enrolled_at = min(utcnow(), c.starts_at - ENROLLED_BEFORE)
        await enrolments.add_enrolled(class_id, [people[p] for p in c.learners], enrolled_at)
        await classes.update(class_id, enrolled_count=len(c.learners))
    for phone in c.waitlist:
        ticket = await classes.next_ticket(class_id)
        await enrolments.put(class_id, people[phone], EnrolmentStatus.WAITLISTED, ticket)
    return class_id
