"""The sums behind progress reports (bot/report.py says what each figure means).

Attendance is summed from the tallies the database keeps (session_tallies, learner_tallies),
a few thousand rows for a year, rather than from millions of marks. A unit head's report
counts only the marks of their own staff, which the session tallies cannot tell apart: it
sums the marks of those people instead (far fewer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import Mark, Standing, standing
from bot.domain import UnitScope
from bot.report import HELD, AtRisk, ClassFact, ClassFigures, Covered, Marks, SessionFigures
from bot.training import (
    ClassStatus,
    EnrolmentStatus,
    PriorityGroup,
    SessionStatus,
)
from storage.repositories.people import group_condition
from storage.repositories.units import in_scope
from storage.schema import (
    attendance,
    class_sessions,
    classes,
    enrolments,
    grades,
    learner_tallies,
    people,
    results,
    session_tallies,
    titles,
    units,
)

ENROLLED = EnrolmentStatus.ENROLLED.value
SCHEDULED = SessionStatus.SCHEDULED.value
COMPLETING = ("excellent", "very_good", "good", "passed")


@dataclass(frozen=True, slots=True)
class _Learners:
    """A class row with its learners and those of them who attended."""

    row: Any
    enrolled: int
    attending: int


_FACT_COLUMNS = (classes.c.id, classes.c.code, classes.c.name, classes.c.kind, classes.c.plan_id,
                 classes.c.starts_at, classes.c.ends_at)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CoverageRows:
    """Staff and trained people of the scope, by own unit, priority group, grade, title."""

    units: dict[int | None, Covered]
    unit_groups: dict[int | None, dict[PriorityGroup, Covered]]
    grades: dict[int | None, Covered]
    titles: dict[int | None, Covered]

    def add(
        self,
        unit: int | None,
        grade: int | None,
        title: int | None,
        count: int,
        trained: bool,
        groups: dict[PriorityGroup, int],
    ) -> None:
        """Counts a cell of people (staff, or trained) in every breakdown."""
        one = Covered(0, count) if trained else Covered(count, 0)
        for table, key in ((self.units, unit), (self.grades, grade), (self.titles, title)):
            table[key] = table.get(key, Covered()) + one
        in_unit = self.unit_groups.setdefault(unit, {})
        for group, n in groups.items():
            in_unit[group] = in_unit.get(group, Covered()) + (
                Covered(0, n) if trained else Covered(n, 0)
            )


def staff_in(scope: UnitScope) -> list[sa.ColumnElement[bool]]:
    """People on the roster of the scope: imported, or self-declared and confirmed."""
    return [
        sa.or_(people.c.source == "roster", people.c.verified.is_(True)),
        in_scope(people.c.unit_id, scope),
    ]


def _people_in(scope: UnitScope) -> sa.Select[Any]:
    """Everyone of the scope's units, roster or not: whoever learns counts as a learner."""
    return sa.select(people.c.id).where(in_scope(people.c.unit_id, scope))


def managed(plan_id: int | None, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """Held classes newly opened in [start, end) under the plan, or carried over into it."""
    new = (
        sa.and_(classes.c.plan_id == plan_id, classes.c.starts_at >= start,
                classes.c.starts_at < end)
        if plan_id is not None
        else sa.false()
    )  # fmt: skip
    carried = sa.and_(classes.c.starts_at < start, classes.c.ends_at >= start)
    return sa.and_(classes.c.status.in_([s.value for s in HELD]), sa.or_(new, carried))


def _held_sessions(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """Scheduled sessions of held classes that started in [start, end)."""
    return sa.and_(
        class_sessions.c.status == SCHEDULED,
        class_sessions.c.starts_at >= start,
        class_sessions.c.starts_at < end,
        class_sessions.c.class_id.in_(
            sa.select(classes.c.id).where(classes.c.status.in_([s.value for s in HELD]))
        ),
    )


def _tally_of(enrolment: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(
        learner_tallies.c.class_id == enrolment.c.class_id,
        learner_tallies.c.person_id == enrolment.c.person_id,
    )


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _marks(row: Any) -> Marks:
    return Marks(int(row.present), int(row.late), int(row.excused), int(row.absent))


def _summed(source: Any) -> list[sa.ColumnElement[Any]]:
    return [sa.func.coalesce(sa.func.sum(getattr(source.c, m.value)), 0).label(m.value)
            for m in Mark]  # fmt: skip


def _counted(mark_column: sa.ColumnElement[str]) -> list[sa.ColumnElement[Any]]:
    return [_count_if(mark_column == m.value).label(m.value) for m in Mark]


class ReportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- classes against the plan -----------------------------------------------------------

    async def class_facts(
        self, year_start: datetime, end: datetime, scope: UnitScope
    ) -> list[ClassFact]:
        """Held classes under way at some point from 1 January to `end`, with their
        learners (of the scope's units), those of them who attended, and their results."""
        candidates = sa.and_(
            classes.c.status.in_([s.value for s in HELD]),
            classes.c.starts_at < end,
            classes.c.ends_at >= year_start,
        )
        if scope.is_province:
            rows = await self._province_learners(candidates)
        else:
            rows = await self._scope_learners(candidates, scope)
        found = {r.row.id: r for r in rows}
        recorded_from: Any = results
        reach: list[sa.ColumnElement[bool]] = []
        if not scope.is_province:
            recorded_from = results.join(people, people.c.id == results.c.person_id)
            reach = [in_scope(people.c.unit_id, scope)]
        recorded = {
            r.class_id: r
            for r in await self.conn.execute(
                sa.select(results.c.class_id,
                          _count_if(results.c.outcome.in_(COMPLETING)).label("completed"),
                          sa.func.count().label("n"))
                .select_from(recorded_from)
                .where(results.c.class_id.in_(sa.select(classes.c.id).where(candidates)), *reach)
                .group_by(results.c.class_id)
            )
        }  # fmt: skip
        if not scope.is_province:  # classes their staff finished but left afterwards
            missing = [c for c in recorded if c not in found]
            if missing:
                extra = await self.conn.execute(
                    sa.select(*_FACT_COLUMNS).where(classes.c.id.in_(missing))
                )
                found |= {r.id: _Learners(r, 0, 0) for r in extra}
        facts = []
        for learners in sorted(found.values(), key=lambda f: (f.row.starts_at, f.row.id)):
            r, done = learners.row, recorded.get(learners.row.id)
            facts.append(
                ClassFact(r.id, r.code, r.name, r.kind, r.plan_id, r.starts_at, r.ends_at,
                          learners.enrolled, learners.attending,
                          int(done.completed) if done else 0, int(done.n) if done else 0)
            )  # fmt: skip
        return facts

    async def _province_learners(self, candidates: sa.ColumnElement[bool]) -> list[_Learners]:
        """Every learner: the seats taken are kept on the class row; the attending are the
        tallies with a session attended, less those of enrolments no longer enrolled (few)."""
        ids = sa.select(classes.c.id).where(candidates)
        attended = learner_tallies.c.present + learner_tallies.c.late > 0
        with_marks: dict[int, int] = dict((await self.conn.execute(
            sa.select(learner_tallies.c.class_id, sa.func.count())
            .where(learner_tallies.c.class_id.in_(ids), attended)
            .group_by(learner_tallies.c.class_id)
        )).all())  # fmt: skip
        left: dict[int, int] = dict((await self.conn.execute(
            sa.select(enrolments.c.class_id, sa.func.count())
            .select_from(enrolments.join(learner_tallies, _tally_of(enrolments)))
            .where(enrolments.c.class_id.in_(ids), enrolments.c.status != ENROLLED, attended)
            .group_by(enrolments.c.class_id)
        )).all())  # fmt: skip
        rows = await self.conn.execute(
            sa.select(*_FACT_COLUMNS, classes.c.enrolled_count.label("enrolled")).where(candidates)
        )
        return [
            _Learners(r, int(r.enrolled), with_marks.get(r.id, 0) - left.get(r.id, 0)) for r in rows
        ]

    async def _scope_learners(
        self, candidates: sa.ColumnElement[bool], scope: UnitScope
    ) -> list[_Learners]:
        """The scope's learners, class by class (a unit's staff: far fewer rows)."""
        learner = sa.and_(enrolments.c.class_id == classes.c.id, enrolments.c.status == ENROLLED)
        source = classes.join(
            enrolments.join(people, people.c.id == enrolments.c.person_id),
            sa.and_(learner, in_scope(people.c.unit_id, scope)),
        ).outerjoin(learner_tallies, _tally_of(enrolments))
        attended = learner_tallies.c.present + learner_tallies.c.late > 0
        rows = await self.conn.execute(
            sa.select(*_FACT_COLUMNS, sa.func.count(enrolments.c.person_id).label("enrolled"),
                      _count_if(attended).label("attending"))
            .select_from(source)
            .where(candidates)
            .group_by(*_FACT_COLUMNS)
        )  # fmt: skip
        return [_Learners(r, int(r.enrolled), int(r.attending)) for r in rows]

    # --- attendance ------------------------------------------------------------------------

    async def class_marks(
        self, start: datetime, end: datetime, now: datetime, scope: UnitScope
    ) -> list[ClassFigures]:
        """Each class's sessions held in [start, end) (started by `now`) and their marks:
        of everyone, or of the scope's staff only (then only classes they were marked in)."""
        held = _held_sessions(start, min(end, now))
        named = (class_sessions.c.class_id, classes.c.code, classes.c.name, classes.c.kind)
        of_class = class_sessions.join(classes, classes.c.id == class_sessions.c.class_id)
        if scope.is_province:  # sessions marked (a tally kept) and their tallies in one pass
            rows = await self.conn.execute(
                sa.select(*named, sa.func.count().label("n"), *_summed(session_tallies))
                .select_from(of_class.join(
                    session_tallies, session_tallies.c.session_id == class_sessions.c.id))
                .where(held)
                .group_by(*named)
            )  # fmt: skip
            return sorted(
                (ClassFigures(r.class_id, r.code, r.name, r.kind, int(r.n), _marks(r))
                 for r in rows),
                key=lambda c: (c.code, c.class_id),
            )  # fmt: skip
        rows = await self.conn.execute(
            sa.select(*named, sa.func.count(sa.distinct(class_sessions.c.id)).label("n"),
                      *_counted(attendance.c.mark))
            .select_from(of_class.join(attendance,
                                       attendance.c.session_id == class_sessions.c.id))
            .where(held, attendance.c.person_id.in_(_people_in(scope)))
            .group_by(*named)
        )  # fmt: skip
        return sorted(
            (ClassFigures(r.class_id, r.code, r.name, r.kind, int(r.n), _marks(r)) for r in rows),
            key=lambda c: (c.code, c.class_id),
        )

    async def session_marks(
        self, start: datetime, end: datetime, now: datetime, scope: UnitScope
    ) -> list[SessionFigures]:
        """Every session held in [start, end), in order, with its marks (the workbook)."""
        held = _held_sessions(start, min(end, now))
        base = class_sessions.join(classes, classes.c.id == class_sessions.c.class_id)
        if scope.is_province:
            query = sa.select(
                class_sessions.c.id, classes.c.code, class_sessions.c.starts_at,
                *_summed(session_tallies),
            ).select_from(
                base.join(session_tallies, session_tallies.c.session_id == class_sessions.c.id)
            )  # fmt: skip
        else:
            query = (
                sa.select(class_sessions.c.id, classes.c.code, class_sessions.c.starts_at,
                          *_counted(attendance.c.mark))
                .select_from(
                    base.join(attendance, attendance.c.session_id == class_sessions.c.id)
                )
                .where(attendance.c.person_id.in_(_people_in(scope)))
            )  # fmt: skip
        query = (
            query.where(held)
            .group_by(class_sessions.c.id, classes.c.code, class_sessions.c.starts_at)
            .order_by(class_sessions.c.starts_at, class_sessions.c.id)
        )
        return [
            SessionFigures(r.id, r.code, r.starts_at, _marks(r))
            for r in await self.conn.execute(query)
        ]

    async def at_risk(self, scope: UnitScope, now: datetime) -> list[AtRisk]:
        """Enrolled learners of classes under way whose attendance puts completion at risk.

        The database keeps those who could at best just reach the threshold (bot.attendance's
        rule, in integers: required = ceil(total × pct / 100)); their standing says which."""
        running = sa.select(classes.c.id).where(
            classes.c.status.in_([ClassStatus.OPEN.value, ClassStatus.RUNNING.value]),
            classes.c.starts_at <= now,
        )
        totals = (
            sa.select(class_sessions.c.class_id, sa.func.count().label("total"))
            .where(class_sessions.c.class_id.in_(running), class_sessions.c.status == SCHEDULED)
            .group_by(class_sessions.c.class_id)
            .subquery()
        )
        t = learner_tallies.c
        attended, missed = t.present + t.late, t.excused + t.absent
        required = (totals.c.total * classes.c.completion_pct + 99) // 100
        reachable = totals.c.total - missed
        rows = await self.conn.execute(
            sa.select(
                people.c.id, people.c.full_name, units.c.name.label("unit"), classes.c.code,
                classes.c.name, classes.c.completion_pct, totals.c.total, t.present, t.late,
                t.excused, t.absent,
            )
            .select_from(
                learner_tallies.join(totals, totals.c.class_id == t.class_id)
                .join(enrolments, sa.and_(enrolments.c.class_id == t.class_id,
                                          enrolments.c.person_id == t.person_id))
                .join(classes, classes.c.id == t.class_id)
                .join(people, people.c.id == t.person_id)
                .outerjoin(units, units.c.id == people.c.unit_id)
            )
            .where(
                t.class_id.in_(running), enrolments.c.status == ENROLLED, missed > 0,
                attended < required,
                reachable <= required, in_scope(people.c.unit_id, scope),
            )
            .order_by(classes.c.code, people.c.name_search)
        )  # fmt: skip
        found = []
        for r in rows:
            marks = ([Mark.PRESENT] * r.present + [Mark.LATE] * r.late
                     + [Mark.EXCUSED] * r.excused + [Mark.ABSENT] * r.absent)  # fmt: skip
            learner = standing(int(r.total), r.completion_pct, marks)
            if learner.warning is not None:
                found.append(AtRisk(r.id, r.full_name, r.unit, r.code, r.name, learner))
        return found

    async def class_detail(
        self, class_id: int, scope: UnitScope
    ) -> tuple[dict[str, int], list[SessionFigures], list[Standing], dict[str, int]]:
        """A class's learners by enrolment status, its scheduled sessions with their marks,
        its enrolled learners' standings and its results: of everyone, or of the scope's
        people only."""
        reach = _people_in(scope)
        statuses: dict[str, int] = dict((await self.conn.execute(
            sa.select(enrolments.c.status, sa.func.count())
            .where(enrolments.c.class_id == class_id, enrolments.c.person_id.in_(reach))
            .group_by(enrolments.c.status)
        )).all())  # fmt: skip
        sessions_of = sa.and_(class_sessions.c.class_id == class_id,
                              class_sessions.c.status == SCHEDULED)  # fmt: skip
        if scope.is_province:
            marks = (
                sa.select(class_sessions.c.id, classes.c.code, class_sessions.c.starts_at,
                          *_summed(session_tallies))
                .select_from(class_sessions.join(classes, classes.c.id == class_sessions.c.class_id)
                             .outerjoin(session_tallies,
                                        session_tallies.c.session_id == class_sessions.c.id))
            )  # fmt: skip
        else:
            marks = (
                sa.select(class_sessions.c.id, classes.c.code, class_sessions.c.starts_at,
                          *_counted(attendance.c.mark))
                .select_from(class_sessions.join(classes, classes.c.id == class_sessions.c.class_id)
                             .outerjoin(attendance, sa.and_(
                                 attendance.c.session_id == class_sessions.c.id,
                                 attendance.c.person_id.in_(reach))))
            )  # fmt: skip
        rows = await self.conn.execute(
            marks.where(sessions_of)
            .group_by(class_sessions.c.id, classes.c.code, class_sessions.c.starts_at)
            .order_by(class_sessions.c.starts_at, class_sessions.c.id)
        )
        sessions = [SessionFigures(r.id, r.code, r.starts_at, _marks(r)) for r in rows]
        completion = (
            await self.conn.execute(
                sa.select(classes.c.completion_pct).where(classes.c.id == class_id)
            )
        ).scalar_one()
        learners = await self.conn.execute(
            sa.select(*(sa.func.coalesce(getattr(learner_tallies.c, m.value), 0).label(m.value)
                        for m in Mark))
            .select_from(enrolments.outerjoin(learner_tallies, _tally_of(enrolments)))
            .where(enrolments.c.class_id == class_id, enrolments.c.status == ENROLLED,
                   enrolments.c.person_id.in_(reach))
        )  # fmt: skip
        standings = [
            standing(len(sessions), completion,
                     [Mark.PRESENT] * r.present + [Mark.LATE] * r.late
                     + [Mark.EXCUSED] * r.excused + [Mark.ABSENT] * r.absent)
            for r in learners
        ]  # fmt: skip
        outcomes: dict[str, int] = dict((await self.conn.execute(
            sa.select(results.c.outcome, sa.func.count())
            .where(results.c.class_id == class_id, results.c.person_id.in_(reach))
            .group_by(results.c.outcome)
        )).all())  # fmt: skip
        return statuses, sessions, standings, outcomes

    # --- coverage --------------------------------------------------------------------------

    async def coverage(
        self,
        plan_id: int | None,
        start: datetime,
        end: datetime,
        scope: UnitScope,
        *,
        year: int,
        young_under: int,
    ) -> CoverageRows:
        """The scope's staff, and those trained in [start, end), by own unit, priority
        group within the unit, grade and position.

        Two grouped queries, one over the roster (an index holds every column it reads) and
        one over the people trained; each row a (unit, grade, position) cell, summed here."""
        trained_ids = (
            sa.select(learner_tallies.c.person_id.label("id"))
            .select_from(classes.join(learner_tallies, learner_tallies.c.class_id == classes.c.id))
            .where(
                managed(plan_id, start, end),
                learner_tallies.c.present + learner_tallies.c.late > 0,
            )
            .group_by(learner_tallies.c.person_id)
            .subquery()
        )
        groups = {g: group_condition(g, year, young_under) for g in PriorityGroup}
        cells = (people.c.unit_id, people.c.grade_id, people.c.title_id)
        columns = [
            *cells,
            sa.func.count().label("n"),
            *(_count_if(condition).label(group.value) for group, condition in groups.items()),
        ]
        staff = await self.conn.execute(
            sa.select(*columns).where(*staff_in(scope)).group_by(*cells)
        )
        trained = await self.conn.execute(
            sa.select(*columns)
            .select_from(trained_ids.join(people, people.c.id == trained_ids.c.id))
            .where(*staff_in(scope))
            .group_by(*cells)
        )
        rows = CoverageRows({}, {}, {}, {})
        for row, done in [(r, False) for r in staff] + [(r, True) for r in trained]:
            rows.add(row.unit_id, row.grade_id, row.title_id, int(row.n), done,
                     {g: int(getattr(row, g.value)) for g in PriorityGroup})  # fmt: skip
        return rows

    async def units_in(self, scope: UnitScope) -> list[tuple[int, str, int | None]]:
        """(id, name, parent id) of every unit in the scope."""
        rows = await self.conn.execute(
            sa.select(units.c.id, units.c.name, units.c.parent_id)
            .where(in_scope(units.c.id, scope))
            .order_by(units.c.name_search, units.c.id)
        )
        return [(r.id, r.name, r.parent_id) for r in rows]

    async def names(self, table: sa.Table, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.conn.execute(sa.select(table.c.id, table.c.name).where(
            table.c.id.in_(ids)))  # fmt: skip
        return {r.id: r.name for r in rows}

    async def grade_names(self, ids: list[int]) -> dict[int, str]:
        return await self.names(grades, ids)

    async def title_names(self, ids: list[int]) -> dict[int, str]:
        return await self.names(titles, ids)
