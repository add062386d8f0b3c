"""Classes, their audience, lecturers and sessions; the catalog; timetables and clashes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import NotFound
from bot.text_search import fold
from bot.training import (
    Audience,
    CatalogFilter,
    Clash,
    ClassEventKind,
    ClassFormat,
    ClassKind,
    ClassStatus,
    EnrolmentStatus,
    Learner,
    NewClass,
    NewSession,
    PlanProgress,
    PlanStatus,
    Session,
    SessionStatus,
    TimetableEntry,
    TrainingClass,
)
from storage.repositories.plans import programme_of
from storage.schema import (
    class_audience,
    class_events,
    class_lecturers,
    class_sessions,
    classes,
    enrolments,
    people,
    plans,
    programmes,
)
from storage.types import utcnow


@dataclass(frozen=True, slots=True)
class ClassEvent:
    """A change the people of a class must hear about (see class_events)."""

    id: int
    class_id: int
    session_id: int | None
    kind: ClassEventKind
    before: dict[str, Any]
    after: dict[str, Any]
    actor: int | None
    at: datetime


_waiting = (
    sa.select(sa.func.count())
    .where(
        enrolments.c.class_id == classes.c.id,
        enrolments.c.status == EnrolmentStatus.WAITLISTED.value,
    )
    .correlate(classes)
    .scalar_subquery()
)

_pending = (
    sa.select(sa.func.count())
    .where(
        enrolments.c.class_id == classes.c.id,
        enrolments.c.status == EnrolmentStatus.PENDING.value,
    )
    .correlate(classes)
    .scalar_subquery()
)

_CLASS_FROM = classes.join(programmes, programmes.c.id == classes.c.programme_id).join(
    plans, plans.c.id == classes.c.plan_id
)
_CLASS_SELECT = sa.select(
    classes,
    programmes.c.id.label("p_id"),
    programmes.c.code.label("p_code"),
    programmes.c.name.label("p_name"),
    programmes.c.kind.label("p_kind"),
    programmes.c.validity_months.label("p_validity_months"),
    plans.c.year.label("plan_year"),
    plans.c.status.label("plan_status"),
).select_from(_CLASS_FROM)


def _class(
    row: Any,
    *,
    waiting: int = 0,
    pending: int = 0,
    audience: Audience | None = None,
    lecturers: tuple[str, ...] = (),
) -> TrainingClass:
    return TrainingClass(
        id=row.id,
        code=row.code,
        name=row.name,
        programme=programme_of(row, "p_"),
        plan_id=row.plan_id,
        plan_year=row.plan_year,
        plan_approved=row.plan_status == PlanStatus.APPROVED.value,
        kind=ClassKind(row.kind),
        format=ClassFormat(row.format),
        capacity=row.capacity,
        enrolled=row.enrolled_count,
        waiting=waiting,
        pending=pending,
        status=ClassStatus(row.status),
        audience=audience or Audience(),
        location=row.location,
        meeting_link=row.meeting_link,
        organiser=row.organiser,
        enrol_opens_at=row.enrol_opens_at,
        enrol_deadline=row.enrol_deadline,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        lecturers=lecturers,
        cancelled_reason=row.cancelled_reason,
        late_after=row.late_after,
        completion_pct=row.completion_pct,
        requires_approval=row.requires_approval,
    )


_lecturer = people.alias("lect")

_SESSION_SELECT = sa.select(
    class_sessions, _lecturer.c.full_name.label("lecturer_name")
).select_from(class_sessions.outerjoin(_lecturer, _lecturer.c.id == class_sessions.c.lecturer_id))


def _session(row: Any) -> Session:
    return Session(
        id=row.id,
        class_id=row.class_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=SessionStatus(row.status),
        topic=row.topic,
        lecturer_id=row.lecturer_id,
        lecturer_name=row.lecturer_name,
        room=row.room,
        link=row.link,
        moved_from=row.moved_from,
    )


def open_for_enrolment(now: datetime) -> list[sa.ColumnElement[bool]]:
    """Open, in an approved plan, within the enrolment window, with a timetable that has
    not begun (a class without sessions cannot say when it is: it waits for them). The
    start bounds the index range the catalog walks, soonest first."""
    return [
        classes.c.status == ClassStatus.OPEN.value,
        classes.c.starts_at > now,
        plans.c.status == PlanStatus.APPROVED.value,
        sa.or_(classes.c.enrol_opens_at.is_(None), classes.c.enrol_opens_at <= now),
        sa.or_(classes.c.enrol_deadline.is_(None), classes.c.enrol_deadline > now),
    ]


def for_learner(learner: Learner) -> sa.ColumnElement[bool]:
    """The class's audience takes this cadre: it has none, or one target matches."""
    has_audience = sa.exists().where(class_audience.c.class_id == classes.c.id)
    matches = sa.exists().where(
        class_audience.c.class_id == classes.c.id, class_audience.c.target.in_(learner.targets())
    )
    return sa.or_(~has_audience, matches)


class ClassRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- classes ------------------------------------------------------------------------------

    async def add(self, new: NewClass, by: int | None) -> int:
        now = utcnow()
        result = await self.conn.execute(
            classes.insert()
            .values(
                code=new.code,
                name=new.name,
                search_text=fold(f"{new.name} {new.code}"),
                programme_id=new.programme_id,
                plan_id=new.plan_id,
                kind=new.kind.value,
                format=new.format.value,
                location=new.location,
                meeting_link=new.meeting_link,
                organiser=new.organiser,
                capacity=new.capacity,
                enrolled_count=0,
                waitlist_seq=0,
                enrol_opens_at=new.enrol_opens_at,
                enrol_deadline=new.enrol_deadline,
                status=new.status.value,
                late_after=new.late_after,
                completion_pct=new.completion_pct,
                requires_approval=new.requires_approval,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
            .returning(classes.c.id)
        )
        class_id = int(result.scalar_one())
        await self.set_audience(class_id, new.audience)
        await self.set_lecturers(class_id, new.lecturer_ids)
        return class_id

    async def get(self, class_id: int) -> TrainingClass:
        row = (
            await self.conn.execute(
                _CLASS_SELECT.add_columns(
                    _waiting.label("waiting"), _pending.label("pending")
                ).where(classes.c.id == class_id)
            )
        ).first()
        if row is None:
            raise NotFound("error.class_unknown")
        targets = await self.conn.execute(
            sa.select(class_audience.c.target).where(class_audience.c.class_id == class_id)
        )
        names = await self.conn.execute(
            sa.select(people.c.full_name)
            .select_from(class_lecturers.join(people, people.c.id == class_lecturers.c.person_id))
            .where(class_lecturers.c.class_id == class_id)
            .order_by(people.c.full_name)
        )
        audience = Audience.from_targets(list(targets.scalars()))
        return _class(
            row,
            waiting=row.waiting,
            pending=row.pending,
            audience=audience,
            lecturers=tuple(names.scalars()),
        )

    async def lock(self, class_id: int) -> TrainingClass:
        """Reads the class and, on PostgreSQL, holds its row until the transaction ends: the
        changes to one class (seats, waitlist, status) run one after the other."""
        await self.conn.execute(
            sa.select(classes.c.id).where(classes.c.id == class_id).with_for_update()
        )
        return await self.get(class_id)

    async def code_taken(self, code: str) -> bool:
        return await self.id_of(code) is not None

    async def id_of(self, code: str) -> int | None:
        found = await self.conn.execute(sa.select(classes.c.id).where(classes.c.code == code))
        return found.scalar()

    async def update(self, class_id: int, **values: Any) -> None:
        if "name" in values or "code" in values:
            row = (
                await self.conn.execute(
                    sa.select(classes.c.name, classes.c.code).where(classes.c.id == class_id)
                )
            ).one()
            name, code = values.get("name", row.name), values.get("code", row.code)
            values["search_text"] = fold(f"{name} {code}")
        await self.conn.execute(
            classes.update().where(classes.c.id == class_id).values(updated_at=utcnow(), **values)
        )

    async def set_audience(self, class_id: int, audience: Audience) -> None:
        await self.conn.execute(
            class_audience.delete().where(class_audience.c.class_id == class_id)
        )
        targets = audience.targets()
        if targets:
            await self.conn.execute(
                class_audience.insert(), [{"class_id": class_id, "target": t} for t in targets]
            )

    async def set_lecturers(self, class_id: int, person_ids: Sequence[int]) -> None:
        await self.conn.execute(
            class_lecturers.delete().where(class_lecturers.c.class_id == class_id)
        )
        if person_ids:
            await self.conn.execute(
                class_lecturers.insert(),
                [{"class_id": class_id, "person_id": p} for p in dict.fromkeys(person_ids)],
            )

    async def of_plan(self, plan_id: int) -> list[TrainingClass]:
        rows = await self.conn.execute(
            _CLASS_SELECT.add_columns(_waiting.label("waiting"))
            .where(classes.c.plan_id == plan_id)
            .order_by(classes.c.starts_at.desc().nulls_first(), classes.c.id.desc())
        )
        return [_class(r, waiting=r.waiting) for r in rows]

    async def progress(self, plan_id: int, year_start: datetime) -> PlanProgress:
        """The classes a plan has, has opened, and those carried over into its year: of an
        earlier plan, begun before the year and still running in it. Learners: those
        enrolled in the classes opened and carried over."""
        opened_states = [s.value for s in (ClassStatus.OPEN, ClassStatus.RUNNING,
                                           ClassStatus.FINISHED)]  # fmt: skip
        earlier = sa.select(plans.c.id).where(
            plans.c.year < sa.select(plans.c.year).where(plans.c.id == plan_id).scalar_subquery()
        )
        opened = sa.and_(classes.c.plan_id == plan_id, classes.c.status.in_(opened_states))
        carried = sa.and_(
            classes.c.plan_id.in_(earlier),
            classes.c.status != ClassStatus.CANCELLED.value,
            classes.c.starts_at < year_start,
            classes.c.ends_at >= year_start,
        )
        counted = sa.select(
            sa.func.count().filter(classes.c.plan_id == plan_id),
            sa.func.count().filter(opened),
            sa.func.count().filter(carried),
        ).where(sa.or_(classes.c.plan_id == plan_id, carried))
        total, opened_n, carried_n = (await self.conn.execute(counted)).one()
        learners = await self.conn.scalar(
            sa.select(sa.func.count())
            .select_from(enrolments.join(classes, classes.c.id == enrolments.c.class_id))
            .where(enrolments.c.status == EnrolmentStatus.ENROLLED.value, sa.or_(opened, carried))
        )
        return PlanProgress(plan_id, int(total), int(opened_n), int(carried_n), int(learners or 0))

    async def search(self, words: Sequence[str], limit: int = 9) -> list[TrainingClass]:
        """Any class whose name or code has every word (administrators pick one)."""
        rows = await self.conn.execute(
            _CLASS_SELECT.add_columns(_waiting.label("waiting"))
            .where(*(classes.c.search_text.contains(w, autoescape=True) for w in words))
            .order_by(classes.c.starts_at.desc().nulls_last(), classes.c.id.desc())
            .limit(limit)
        )
        return [_class(r, waiting=r.waiting) for r in rows]

    # --- seats: each a single conditional statement -------------------------------------------

    async def take_seat(self, class_id: int) -> bool:
        """One seat, if one is left: the condition and the increment are one statement, so two
        engines (two processes) can never both take the last seat."""
        result = await self.conn.execute(
            classes.update()
            .where(classes.c.id == class_id, classes.c.enrolled_count < classes.c.capacity)
            .values(enrolled_count=classes.c.enrolled_count + 1)
        )
        return result.rowcount == 1

    async def free_seat(self, class_id: int) -> None:
        await self.conn.execute(
            classes.update()
            .where(classes.c.id == class_id, classes.c.enrolled_count > 0)
            .values(enrolled_count=classes.c.enrolled_count - 1)
        )

    async def next_ticket(self, class_id: int) -> int:
        """The next waitlist ticket, from a counter on the class's row (the increment also
        queues concurrent takers one behind the other)."""
        await self.conn.execute(
            classes.update()
            .where(classes.c.id == class_id)
            .values(waitlist_seq=classes.c.waitlist_seq + 1)
        )
        found = await self.conn.execute(
            sa.select(classes.c.waitlist_seq).where(classes.c.id == class_id)
        )
        return int(found.scalar_one())

    async def set_capacity(self, class_id: int, capacity: int) -> bool:
        """False (and nothing changed) when more are enrolled than the new capacity."""
        result = await self.conn.execute(
            classes.update()
            .where(classes.c.id == class_id, classes.c.enrolled_count <= capacity)
            .values(capacity=capacity, updated_at=utcnow())
        )
        return result.rowcount == 1

    # --- the catalog --------------------------------------------------------------------------

    async def catalog(
        self,
        learner: Learner,
        view: CatalogFilter,
        now: datetime,
        size: int,
        month_range: tuple[datetime, datetime] | None,
    ) -> tuple[list[TrainingClass], int, int]:
        """A page of the classes this cadre may enrol in, soonest first; the number that match
        and have a seat, and the number that match but are full."""
        where = [*open_for_enrolment(now), for_learner(learner)]
        if view.kind is not None:
            where.append(classes.c.kind == view.kind.value)
        if view.format is not None:
            where.append(classes.c.format == view.format.value)
        if month_range is not None:
            where += [classes.c.starts_at >= month_range[0], classes.c.starts_at < month_range[1]]
        where += [classes.c.search_text.contains(w, autoescape=True) for w in view.query.split()]
        has_seat = classes.c.enrolled_count < classes.c.capacity
        counts = (
            await self.conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(sa.case((has_seat, 0), else_=1)), 0),
                )
                .select_from(_CLASS_FROM)
                .where(*where)
            )
        ).one()
        total, full = int(counts[0]), int(counts[1])
        if not view.include_full:
            where.append(has_seat)
            total -= full
        rows = await self.conn.execute(
            _CLASS_SELECT.add_columns(_waiting.label("waiting"))
            .where(*where)
            .order_by(classes.c.starts_at, classes.c.id)
            .offset(view.page * size)
            .limit(size)
        )
        return [_class(r, waiting=r.waiting) for r in rows], total, full

    # --- sessions -----------------------------------------------------------------------------

    async def add_sessions(
        self, class_id: int, sessions: Sequence[NewSession], *, at: datetime | None = None
    ) -> None:
        now = at or utcnow()
        if sessions:
            await self.conn.execute(
                class_sessions.insert(),
                [
                    {
                        "class_id": class_id,
                        "starts_at": s.starts_at,
                        "ends_at": s.ends_at,
                        "topic": s.topic,
                        "lecturer_id": s.lecturer_id,
                        "room": s.room,
                        "link": s.link,
                        "status": SessionStatus.SCHEDULED.value,
                        "timed_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for s in sessions
                ],
            )
        await self.refresh_span(class_id)

    async def refresh_span(self, class_id: int) -> None:
        """The class's first start and last end, from its scheduled sessions."""
        scheduled = sa.and_(
            class_sessions.c.class_id == class_id,
            class_sessions.c.status == SessionStatus.SCHEDULED.value,
        )
        first = sa.select(sa.func.min(class_sessions.c.starts_at)).where(scheduled)
        last = sa.select(sa.func.max(class_sessions.c.ends_at)).where(scheduled)
        await self.conn.execute(
            classes.update()
            .where(classes.c.id == class_id)
            .values(starts_at=first.scalar_subquery(), ends_at=last.scalar_subquery())
        )

    async def sessions(self, class_id: int) -> list[Session]:
        rows = await self.conn.execute(
            _SESSION_SELECT.where(class_sessions.c.class_id == class_id).order_by(
                class_sessions.c.starts_at, class_sessions.c.id
            )
        )
        return [_session(r) for r in rows]

    async def sessions_of(self, class_ids: Sequence[int]) -> dict[int, list[Session]]:
        """The sessions of several classes (a catalog page), by class."""
        found: dict[int, list[Session]] = {class_id: [] for class_id in class_ids}
        if class_ids:
            rows = await self.conn.execute(
                _SESSION_SELECT.where(class_sessions.c.class_id.in_(list(class_ids))).order_by(
                    class_sessions.c.starts_at
                )
            )
            for row in rows:
                found[row.class_id].append(_session(row))
        return found

    async def session(self, session_id: int) -> Session:
        row = (
            await self.conn.execute(_SESSION_SELECT.where(class_sessions.c.id == session_id))
        ).first()
        if row is None:
            raise NotFound("error.session_unknown")
        return _session(row)

    async def update_session(
        self, session_id: int, *, at: datetime | None = None, **values: Any
    ) -> None:
        await self.conn.execute(
            class_sessions.update()
            .where(class_sessions.c.id == session_id)
            .values(updated_at=at or utcnow(), **values)
        )

    async def record_event(
        self,
        class_id: int,
        kind: ClassEventKind,
        *,
        session_id: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        actor: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """A change its people must hear about, for the notifier to consume."""
        result = await self.conn.execute(
            class_events.insert()
            .values(
                class_id=class_id,
                session_id=session_id,
                kind=kind.value,
                before=before or {},
                after=after or {},
                actor_telegram_id=actor,
                at=at or utcnow(),
            )
            .returning(class_events.c.id)
        )
        return int(result.scalar_one())

    async def pending_events(self, limit: int = 1_000) -> list[ClassEvent]:
        """Events the notifier has not handled yet, oldest first."""
        rows = await self.conn.execute(
            sa.select(class_events)
            .where(class_events.c.handled_at.is_(None))
            .order_by(class_events.c.id)
            .limit(limit)
        )
        return [
            ClassEvent(r.id, r.class_id, r.session_id, ClassEventKind(r.kind), r.before, r.after,
                       r.actor_telegram_id, r.at)
            for r in rows
        ]  # fmt: skip

    async def mark_handled(self, event_ids: Sequence[int], at: datetime) -> None:
        if event_ids:
            await self.conn.execute(
                class_events.update()
                .where(class_events.c.id.in_(list(event_ids)))
                .values(handled_at=at)
            )

    async def clashes(self, class_id: int, person_id: int) -> list[Clash]:
        """Sessions of this class overlapping a session of another class the person holds a
        seat in (enrolled, or pending a unit head's approval)."""
        mine = class_sessions.alias("mine")
        other = class_sessions.alias("other")
        other_class = classes.alias("oc")
        scheduled = SessionStatus.SCHEDULED.value
        rows = await self.conn.execute(
            sa.select(
                mine.c.id.label("mine_id"),
                other.c.id.label("other_id"),
                other_class.c.name.label("other_name"),
            )
            .select_from(
                mine.join(
                    other,
                    sa.and_(other.c.starts_at < mine.c.ends_at, mine.c.starts_at < other.c.ends_at),
                )
                .join(other_class, other_class.c.id == other.c.class_id)
                .join(enrolments, enrolments.c.class_id == other.c.class_id)
            )
            .where(
                mine.c.class_id == class_id,
                mine.c.status == scheduled,
                other.c.class_id != class_id,
                other.c.status == scheduled,
                other_class.c.status != ClassStatus.CANCELLED.value,
                enrolments.c.person_id == person_id,
                enrolments.c.status.in_(
                    [EnrolmentStatus.ENROLLED.value, EnrolmentStatus.PENDING.value]
                ),
            )
            .order_by(mine.c.starts_at)
        )
        found = rows.all()
        ids = {r.mine_id for r in found} | {r.other_id for r in found}
        sessions = {
            s.id: s
            for s in map(
                _session,
                await self.conn.execute(_SESSION_SELECT.where(class_sessions.c.id.in_(ids))),
            )
        }
        return [Clash(sessions[r.mine_id], sessions[r.other_id], r.other_name) for r in found]

    async def timetable(
        self, person_id: int, since: datetime, until: datetime | None, *, teaching: bool = False
    ) -> list[TimetableEntry]:
        """Sessions from `since` (until `until`) of the classes the person is enrolled in,
        or, `teaching`, those they teach (named on the session or on the class)."""
        if teaching:
            mine = sa.or_(
                class_sessions.c.lecturer_id == person_id,
                sa.and_(
                    class_sessions.c.lecturer_id.is_(None),
                    class_sessions.c.class_id.in_(
                        sa.select(class_lecturers.c.class_id).where(
                            class_lecturers.c.person_id == person_id
                        )
                    ),
                ),
            )
        else:
            mine = class_sessions.c.class_id.in_(
                sa.select(enrolments.c.class_id).where(
                    enrolments.c.person_id == person_id,
                    enrolments.c.status.in_(
                        [EnrolmentStatus.ENROLLED.value, EnrolmentStatus.PENDING.value]
                    ),
                )
            )
        pending_until = (
            sa.select(enrolments.c.expires_at)
            .where(
                enrolments.c.class_id == class_sessions.c.class_id,
                enrolments.c.person_id == person_id,
                enrolments.c.status == EnrolmentStatus.PENDING.value,
            )
            .scalar_subquery()
        )
        query = (
            _SESSION_SELECT.add_columns(
                classes.c.code.label("class_code"),
                classes.c.name.label("class_name"),
                classes.c.format.label("class_format"),
                classes.c.location.label("class_location"),
                classes.c.meeting_link.label("class_link"),
                (sa.null() if teaching else pending_until).label("pending_until"),
            )
            .join(classes, classes.c.id == class_sessions.c.class_id)
            .where(
                mine,
                class_sessions.c.ends_at > since,
                classes.c.status != ClassStatus.CANCELLED.value,
            )
            .order_by(class_sessions.c.starts_at, class_sessions.c.id)
        )
        if until is not None:
            query = query.where(class_sessions.c.starts_at < until)
        rows = await self.conn.execute(query)
        return [
            TimetableEntry(
                _session(r),
                r.class_id,
                r.class_code,
                r.class_name,
                ClassFormat(r.class_format),
                r.class_location,
                r.class_link,
                r.pending_until,
            )
            for r in rows
        ]

    async def codes(self, class_ids: Sequence[int]) -> dict[int, str]:
        """Class id → its code, for the ids that exist (the audit log names classes so)."""
        if not class_ids:
            return {}
        rows = await self.conn.execute(
            sa.select(classes.c.id, classes.c.code).where(classes.c.id.in_(set(class_ids)))
        )
        return {r.id: r.code for r in rows}
