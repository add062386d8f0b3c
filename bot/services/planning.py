"""The training office's side: the yearly plan and its targets, programmes, classes and their
sessions. Administrators only, checked on every call; every change is audited."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, tzinfo

from bot.clock import Clock
from bot.dates import Slot, recurring
from bot.domain import Actor, AuditAction, Person, Role
from bot.errors import Conflict, InvalidInput
from bot.reminders import session_reminders_prefix
from bot.services.access import require
from bot.text_search import fold
from bot.training import (
    ClassEventKind,
    ClassStatus,
    NewClass,
    NewPlan,
    NewProgramme,
    NewSession,
    Plan,
    PlanProgress,
    Programme,
    Session,
    SessionStatus,
    Target,
    TrainingClass,
)
from bot.validation import plain_text, telegram_length
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.plans import PlanRepository, ProgrammeRepository
from storage.repositories.roles import RoleRepository

CODE = re.compile(r"[A-Z0-9][A-Z0-9._\-]{1,31}")
NAME_MAX = 200
PLACE_MAX = 300
LINK = re.compile(r"https://[^\s<>\"]{3,490}")
#: What people type for a web address: a scheme, "www.", or a domain with a path.
LINK_LIKE = re.compile(r"[a-z][a-z0-9+.-]*://|www\.|[\w-]+(\.[\w-]+)*\.[a-z]{2,}/", re.IGNORECASE)
TARGET_MAX = 1_000_000
SESSIONS_MAX = 400  # a political-theory course runs for months, two sessions a day


def clean_code(raw: str) -> str:
    """A class or programme code: letters and digits, as offices write them ("CV.2026.01")."""
    code = plain_text(raw).strip().upper().replace(" ", "")
    if not CODE.fullmatch(code):
        raise InvalidInput("planning.code_format")
    return code


def clean_name(raw: str, limit: int = NAME_MAX) -> str:
    name = " ".join(plain_text(raw).split())
    if len(name) < 3 or telegram_length(name) > limit:
        raise InvalidInput("planning.name_length", max=limit)
    return name


def clean_place(raw: str) -> str:
    """A hall or a room, as offices write it: words and numbers (emoji alone name no place)."""
    place = " ".join(plain_text(raw).split())
    if sum(c.isalnum() for c in place) < 2:
        raise InvalidInput("planning.place_letters")
    length = telegram_length(place)
    if not 3 <= length <= PLACE_MAX:
        raise InvalidInput("planning.place_length", max=PLACE_MAX, length=length)
    return place


def parse_place(raw: str) -> tuple[str | None, str | None]:
    """A session's own place typed in one message: a room, a meeting link, or both for a
    blended session ("Hội trường B https://meet…"). A word that looks like a web address is
    read as the link, and has to be one."""
    words = plain_text(raw).split()
    links = [word for word in words if LINK_LIKE.match(word)]
    if len(links) > 1:
        raise InvalidInput("planning.place_one_link")
    room = " ".join(word for word in words if word not in links).strip(" ,;·-–—")
    if not room and not links:
        raise InvalidInput("planning.place_letters")
    return (clean_place(room) if room else None), (clean_link(links[0]) if links else None)


def clean_link(raw: str) -> str:
    link = raw.strip()
    if not LINK.fullmatch(link):
        raise InvalidInput("planning.link_format")
    return link


#: The latest a class may start counting a check-in as late, in minutes after the start.
LATE_AFTER_MAX = 240


def parse_count(raw: str, *, low: int = 0, high: int = TARGET_MAX) -> int:
    """A number typed with or without thousands dots: "2.668", "2668", "2 668"."""
    digits = re.sub(r"[.\s,]", "", raw.strip())
    if not digits.isascii() or not digits.isdigit() or not low <= int(digits) <= high:
        raise InvalidInput("planning.count_range", low=low, high=high)
    return int(digits)


def parse_target(raw: str) -> Target:
    """Classes and learners, typed "24 / 2668", "24 2668" or "24; 2.668"."""
    parts = [p for p in re.split(r"[/;|]|\s{1,}(?=\d)", raw.strip()) if p.strip()]
    if len(parts) != 2:
        raise InvalidInput("planning.target_format")
    return Target(parse_count(parts[0]), parse_count(parts[1]))


def check_window(opens: datetime | None, deadline: datetime) -> None:
    """Enrolment closes after it opens."""
    if opens is not None and deadline <= opens:
        raise InvalidInput("planning.deadline_order")


def check_not_past(at: date | datetime, now: datetime, tz: tzinfo) -> None:
    """A deadline, a session or a first day typed for the future, not one already gone (a
    "5/3" typed in December means next March: the plan's year says which)."""
    local = now.astimezone(tz)
    past = at < now if isinstance(at, datetime) else at < local.date()
    if past:
        raise InvalidInput("planning.in_the_past", day=at)


def check_changeable(session: Session, now: datetime) -> None:
    """A session's place changes while it is still to come (a card left open is not)."""
    if session.cancelled:
        raise Conflict("planning.session_cancelled")
    if session.ends_at <= now:
        raise Conflict("planning.session_over")


def check_starts_after(first_day: date, deadline: datetime, tz: tzinfo) -> None:
    """A class starts after its enrolment closes: a deadline covering the whole first day
    (or later) would enrol people into a class already running."""
    if deadline >= datetime.combine(first_day, time(23, 59), tz):
        raise InvalidInput("planning.starts_before_deadline", deadline=deadline)


def check_approval(on: date, today: date) -> None:
    """A plan is approved on a day that has come: a later date is a typing slip."""
    if on > today:
        raise InvalidInput("planning.approval_ahead", day=on)


def check_span(first: date, last: date) -> None:
    """The last day of a run of sessions is not before the first, and within a year."""
    if last < first or (last - first).days > 366:
        raise InvalidInput("planning.span_order")


def plan_sessions(first: date, last: date, weekdays: Sequence[int], slots: Sequence[Slot],
                  tz: tzinfo, skip: Sequence[date] = ()) -> list[NewSession]:  # fmt: skip
    """The sessions of a recurrence, refused if there are none or too many."""
    check_span(first, last)
    if not weekdays:
        raise InvalidInput("planning.no_weekdays")
    found = recurring(first, last, weekdays, slots, tz, skip)
    if not found:
        raise InvalidInput("planning.no_sessions")
    if len(found) > SESSIONS_MAX:
        raise InvalidInput("planning.too_many_sessions", max=SESSIONS_MAX)
    return [NewSession(starts_at, ends_at) for starts_at, ends_at in found]


def parse_year(raw: str, today: date) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and today.year - 1 <= int(text) <= today.year + 2):
        raise InvalidInput("planning.year_range", low=today.year - 1, high=today.year + 2)
    return int(text)


class PlanningService:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    # --- plans --------------------------------------------------------------------------------

    async def plans(self, actor: Actor) -> list[Plan]:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await PlanRepository(conn).all()

    async def plan(self, actor: Actor, plan_id: int) -> Plan:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await PlanRepository(conn).get(plan_id)

    async def add_plan(self, actor: Actor, plan: NewPlan) -> Plan:
        """A plan for a year that has none; approved at once if its approval is given."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            repo = PlanRepository(conn)
            if await repo.of_year(plan.year) is not None:
                raise Conflict("planning.year_taken", year=plan.year)
            plan_id = await repo.add(plan)
            await AuditRepository(conn).record(
                AuditAction.PLAN_SAVED,
                actor=actor.telegram_id,
                plan_id=plan_id,
                year=plan.year,
                targets=_targets_json(plan.targets),
                approved=plan.approved_on is not None,
            )
            return await repo.get(plan_id)

    async def approve_plan(self, actor: Actor, plan_id: int, on: date, by: str) -> Plan:
        require(actor, Role.ADMIN)
        by = clean_name(by)
        async with self.db.write() as conn:
            repo = PlanRepository(conn)
            plan = await repo.lock(plan_id)
            if plan.approved:
                raise Conflict("planning.already_approved")
            await repo.approve(plan_id, on, by)
            await AuditRepository(conn).record(
                AuditAction.PLAN_APPROVED,
                actor=actor.telegram_id,
                plan_id=plan_id,
                on=on.isoformat(),
                by=by,
            )
            return await repo.get(plan_id)

    async def set_targets(self, actor: Actor, plan_id: int, targets: Mapping[str, Target]) -> Plan:
        """Targets stay editable after approval; the audit keeps what they were."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            repo = PlanRepository(conn)
            plan = await repo.lock(plan_id)
            await repo.set_targets(plan_id, targets)
            await AuditRepository(conn).record(
                AuditAction.PLAN_TARGETS_SET,
                actor=actor.telegram_id,
                plan_id=plan_id,
                before=_targets_json(plan.targets),
                after=_targets_json(targets),
            )
            return await repo.get(plan_id)

    # --- programmes ---------------------------------------------------------------------------

    async def programmes(self, actor: Actor) -> list[Programme]:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await ProgrammeRepository(conn).all()

    async def programme(self, actor: Actor, programme_id: int) -> Programme:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await ProgrammeRepository(conn).get(programme_id)

    async def new_programme_code(self, actor: Actor, raw: str) -> str:
        """A code typed for a new programme: well formed and free (checked again on saving)."""
        require(actor, Role.ADMIN)
        code = clean_code(raw)
        async with self.db.read() as conn:
            if await ProgrammeRepository(conn).code_taken(code):
                raise Conflict("planning.code_taken", code=code)
        return code

    async def add_programme(self, actor: Actor, programme: NewProgramme) -> Programme:
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            repo = ProgrammeRepository(conn)
            if await repo.code_taken(programme.code):
                raise Conflict("planning.code_taken", code=programme.code)
            programme_id = await repo.add(programme)
            await AuditRepository(conn).record(
                AuditAction.PROGRAMME_SAVED,
                actor=actor.telegram_id,
                programme_id=programme_id,
                code=programme.code,
                validity_months=programme.validity_months,
            )
            return await repo.get(programme_id)

    # --- classes ------------------------------------------------------------------------------

    async def lecturers(self, actor: Actor) -> list[Person]:
        """People who hold the lecturer role, to put on a class."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            ids = await RoleRepository(conn).holders(Role.LECTURER)
            repo = PeopleRepository(conn)
            return [await repo.get(person_id) for person_id in ids]

    async def code_taken(self, code: str) -> bool:
        async with self.db.read() as conn:
            return await ClassRepository(conn).code_taken(code)

    async def new_class_code(self, actor: Actor, raw: str) -> str:
        """A code typed for a new class: well formed and free (checked again on saving)."""
        require(actor, Role.ADMIN)
        code = clean_code(raw)
        if await self.code_taken(code):
            raise Conflict("planning.code_taken", code=code)
        return code

    async def admin_class(self, actor: Actor, class_id: int) -> TrainingClass:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await ClassRepository(conn).get(class_id)

    async def progress(self, actor: Actor, plans: Sequence[Plan]) -> dict[int, PlanProgress]:
        """Each plan's classes opened and carried over, and its learners, by plan id."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            repo = ClassRepository(conn)
            return {
                plan.id: await repo.progress(plan.id, datetime(plan.year, 1, 1, tzinfo=self.tz))
                for plan in plans
            }

    async def add_class(
        self, actor: Actor, new: NewClass, sessions: Sequence[NewSession] = ()
    ) -> TrainingClass:
        """A class with its sessions, in one transaction. Only a class of an approved plan
        opens for enrolment."""
        require(actor, Role.ADMIN)
        _check_sessions(sessions)
        async with self.db.write() as conn:
            plan = await PlanRepository(conn).get(new.plan_id)
            await ProgrammeRepository(conn).get(new.programme_id)
            if new.status is ClassStatus.OPEN and not plan.approved:
                raise Conflict("planning.plan_not_approved", year=plan.year)
            repo = ClassRepository(conn)
            if await repo.code_taken(new.code):
                raise Conflict("planning.code_taken", code=new.code)
            class_id = await repo.add(new, actor.telegram_id)
            await repo.add_sessions(class_id, sessions, at=self.clock.now())
            await AuditRepository(conn).record(
                AuditAction.CLASS_SAVED,
                actor=actor.telegram_id,
                class_id=class_id,
                code=new.code,
                sessions=len(sessions),
                capacity=new.capacity,
                **({"requires_approval": True} if new.requires_approval else {}),
            )
            return await repo.get(class_id)

    async def open_class(self, actor: Actor, class_id: int) -> TrainingClass:
        """A planned class opens for enrolment, if its plan is approved."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            repo = ClassRepository(conn)
            training_class = await repo.lock(class_id)
            if not training_class.plan_approved:
                raise Conflict("planning.plan_not_approved", year=training_class.plan_year)
            if training_class.status is not ClassStatus.PLANNED:
                raise Conflict("planning.not_planned")
            await repo.update(class_id, status=ClassStatus.OPEN.value)
            await AuditRepository(conn).record(
                AuditAction.CLASS_SAVED,
                actor=actor.telegram_id,
                class_id=class_id,
                status={"before": "planned", "after": "open"},
            )
            return await repo.get(class_id)

    async def close_class(self, actor: Actor, class_id: int) -> TrainingClass:
        """A class whose last session has ended is closed (finished): it leaves the office's
        reminders and takes no more changes. Refused before its last session has ended."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            repo = ClassRepository(conn)
            training_class = await repo.lock(class_id)
            if training_class.status is ClassStatus.CANCELLED:
                raise Conflict("planning.already_cancelled")
            if training_class.status is ClassStatus.FINISHED:
                raise Conflict("planning.already_finished")
            ended = training_class.ends_at
            if ended is None or ended > self.clock.now():
                raise Conflict("planning.not_ended")
            await repo.update(class_id, status=ClassStatus.FINISHED.value)
            await AuditRepository(conn).record(
                AuditAction.CLASS_CLOSED,
                actor=actor.telegram_id,
                class_id=class_id,
                status={"before": training_class.status.value, "after": "finished"},
            )
            return await repo.get(class_id)

    async def set_attendance_rules(
        self, actor: Actor, class_id: int, late_after: int, completion_pct: int
    ) -> TrainingClass:
        """A class's own attendance rules: late from `late_after` minutes after a start, and
        the share of sessions (percent) a learner must attend to complete. Audited."""
        require(actor, Role.ADMIN)
        if not 0 <= late_after <= LATE_AFTER_MAX:
            raise InvalidInput("planning.count_range", low=0, high=LATE_AFTER_MAX)
        if not 1 <= completion_pct <= 100:
            raise InvalidInput("planning.count_range", low=1, high=100)
        async with self.db.write() as conn:
            repo = ClassRepository(conn)
            before = await repo.lock(class_id)
            if before.status is ClassStatus.CANCELLED:
                raise Conflict("planning.already_cancelled")
            await repo.update(class_id, late_after=late_after, completion_pct=completion_pct)
            await AuditRepository(conn).record(
                AuditAction.CLASS_SAVED, actor=actor.telegram_id, class_id=class_id,
                late_after={"before": before.late_after, "after": late_after},
                completion_pct={"before": before.completion_pct, "after": completion_pct},
            )  # fmt: skip
            return await repo.get(class_id)

    async def classes_of(self, actor: Actor, plan_id: int) -> list[TrainingClass]:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await ClassRepository(conn).of_plan(plan_id)

    async def find_classes(self, actor: Actor, query: str) -> list[TrainingClass]:
        require(actor, Role.ADMIN)
        words = fold(plain_text(query)[:60]).split()
        if not words:
            raise InvalidInput("catalog.query_short")
        async with self.db.read() as conn:
            return await ClassRepository(conn).search(words)

    # --- sessions -----------------------------------------------------------------------------

    async def sessions(self, actor: Actor, class_id: int) -> list[Session]:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await ClassRepository(conn).sessions(class_id)

    async def session(self, actor: Actor, session_id: int) -> Session:
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await ClassRepository(conn).session(session_id)

    async def add_sessions(
        self, actor: Actor, class_id: int, sessions: Sequence[NewSession]
    ) -> int:
        require(actor, Role.ADMIN)
        _check_sessions(sessions)
        async with self.db.write() as conn:
            repo = ClassRepository(conn)
            training_class = await repo.lock(class_id)
            if training_class.status is ClassStatus.CANCELLED:
                raise Conflict("planning.already_cancelled")
            await repo.add_sessions(class_id, sessions, at=self.clock.now())
            await AuditRepository(conn).record(
                AuditAction.SESSIONS_ADDED,
                actor=actor.telegram_id,
                class_id=class_id,
                count=len(sessions),
            )
        return len(sessions)

    async def move_session(
        self, actor: Actor, session_id: int, starts_at: datetime, ends_at: datetime
    ) -> Session:
        """Moves a session; what changed is recorded as an event for the notifier."""
        require(actor, Role.ADMIN)
        if ends_at <= starts_at:
            raise InvalidInput("error.slot_order", typed="")
        async with self.db.write() as conn:
            repo = ClassRepository(conn)
            session = await repo.session(session_id)
            await repo.lock(session.class_id)
            if session.cancelled:
                raise Conflict("planning.session_cancelled")
            now = self.clock.now()
            await repo.update_session(
                session_id, at=now, starts_at=starts_at, ends_at=ends_at,
                moved_from=session.starts_at, timed_at=now,
            )  # fmt: skip
            await repo.refresh_span(session.class_id)
            before = {
                "starts_at": session.starts_at.isoformat(),
                "ends_at": session.ends_at.isoformat(),
            }
            after = {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}
            await repo.record_event(
                session.class_id,
                ClassEventKind.SESSION_MOVED,
                session_id=session_id,
                before=before,
                after=after,
                actor=actor.telegram_id,
                at=now,
            )
            await OutboxRepository(conn).cancel_pending(
                session_reminders_prefix(session.class_id, session_id)
            )
            await AuditRepository(conn).record(
                AuditAction.SESSION_MOVED,
                actor=actor.telegram_id,
                class_id=session.class_id,
                session_id=session_id,
                before=before,
                after=after,
            )
            return await repo.session(session_id)

    async def change_place(
        self, actor: Actor, session_id: int, room: str | None, link: str | None
    ) -> Session:
        """A session's own room and meeting link (none: the class's); switching a session
        online is a link and no room. Its people are told by the notifier."""
        require(actor, Role.ADMIN)
        room = clean_place(room) if room else None
        link = clean_link(link) if link else None
        async with self.db.write() as conn:
            repo = ClassRepository(conn)
            session = await repo.session(session_id)
            await repo.lock(session.class_id)
            now = self.clock.now()
            check_changeable(session, now)
            if (session.room, session.link) == (room, link):
                return session
            await repo.update_session(session_id, at=now, room=room, link=link)
            before = {"starts_at": session.starts_at.isoformat(), "room": session.room,
                      "link": session.link}  # fmt: skip
            after = {"room": room, "link": link}
            await repo.record_event(
                session.class_id, ClassEventKind.SESSION_PLACE, session_id=session_id,
                before=before, after=after, actor=actor.telegram_id, at=now,
            )  # fmt: skip
            await AuditRepository(conn).record(
                AuditAction.SESSION_PLACE, actor=actor.telegram_id, class_id=session.class_id,
                session_id=session_id, before=before, after=after,
            )  # fmt: skip
            return await repo.session(session_id)

    async def cancel_session(self, actor: Actor, session_id: int) -> Session:
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            repo = ClassRepository(conn)
            session = await repo.session(session_id)
            await repo.lock(session.class_id)
            if session.cancelled:
                raise Conflict("planning.session_cancelled")
            now = self.clock.now()
            await repo.update_session(session_id, at=now, status=SessionStatus.CANCELLED.value)
            await repo.refresh_span(session.class_id)
            before = {"starts_at": session.starts_at.isoformat()}
            await repo.record_event(
                session.class_id,
                ClassEventKind.SESSION_CANCELLED,
                session_id=session_id,
                before=before,
                actor=actor.telegram_id,
                at=now,
            )
            await OutboxRepository(conn).cancel_pending(
                session_reminders_prefix(session.class_id, session_id)
            )
            await AuditRepository(conn).record(
                AuditAction.SESSION_CANCELLED,
                actor=actor.telegram_id,
                class_id=session.class_id,
                session_id=session_id,
                before=before,
            )
            return await repo.session(session_id)


def _check_sessions(sessions: Sequence[NewSession]) -> None:
    if len(sessions) > SESSIONS_MAX:
        raise InvalidInput("planning.too_many_sessions", max=SESSIONS_MAX)
    for session in sessions:
        if session.ends_at <= session.starts_at:
            raise InvalidInput("error.slot_order", typed="")


def _targets_json(targets: Mapping[str, Target]) -> dict[str, list[int]]:
    return {kind: [t.classes, t.learners] for kind, t in targets.items()}
