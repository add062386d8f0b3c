"""Enrolment: who may take a seat, the waitlist, withdrawal, and promotion when seats free.

Seats are guarded by the database: taking one is a single conditional UPDATE on the class's
row (`ClassRepository.take_seat`), and a CHECK keeps `enrolled_count <= capacity`; so two
processes, or two engines, cannot overbook a class whatever they do at once. Every change
that frees a seat promotes the first waiting cadre in its own transaction, and the notice
to them is queued in that transaction too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import OpenClass
from bot.clock import Clock
from bot.delivery.model import Unreached
from bot.domain import Actor, AuditAction, Gender, MessageKind, Person, Role
from bot.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from bot.reminders import ReminderPrefs, local_day, session_reminders_prefix
from bot.services.access import registered, require
from bot.services.approval_requests import ApprovalPolicy, hold_for_approval, settle
from bot.services.notices import moment, notice
from bot.services.quiet import queue_or_hold
from bot.training import (
    ACTIVE_ENROLMENT,
    Clash,
    ClassEventKind,
    ClassStatus,
    Enrolment,
    EnrolmentStatus,
    Learner,
    Session,
    TrainingClass,
    priority_groups,
)
from storage.database import Database
from storage.repositories.approvals import ApprovalRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.units import UnitRepository

#: The most seats a class may have.
CAPACITY_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Prospect:
    """What enrolling in a class would mean for a cadre, to confirm before it happens."""

    training_class: TrainingClass
    sessions: list[Session]
    clashes: list[Clash]

    @property
    def waitlist(self) -> bool:
        return self.training_class.full


@dataclass(frozen=True, slots=True)
class ClassCancelled:
    told: int
    unreached_by_unit: dict[str, list[Unreached]]


@dataclass(frozen=True, slots=True)
class EnrolmentOutcome:
    """A seat or a waitlist place, with the class as it was when it was taken."""

    enrolment: Enrolment
    training_class: TrainingClass

    @property
    def status(self) -> EnrolmentStatus:
        return self.enrolment.status

    @property
    def position(self) -> int | None:
        return self.enrolment.position


async def learner_of(conn: AsyncConnection, person: Person, year: int) -> Learner:
    """The cadre as audience rules see them: units up the tree, grade, title, groups."""
    ancestors = await UnitRepository(conn).ancestor_ids(person.unit.id) if person.unit else []
    return learner_in(person, ancestors, year)


def learner_in(person: Person, ancestors: Sequence[int], year: int) -> Learner:
    """`learner_of` with the units up the tree already read (for many cadres at once)."""
    groups = priority_groups(
        year=year,
        birth_year=person.birth_year,
        female=person.gender is Gender.FEMALE,
        ethnicity_code=person.ethnicity.code if person.ethnicity else None,
        source_pool=person.source_pool,
    )
    return Learner(
        person_id=person.id,
        unit_ancestor_ids=tuple(ancestors),
        grade_id=person.grade.id if person.grade else None,
        title_id=person.title.id if person.title else None,
        groups=groups,
    )


class EnrolmentService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: tzinfo,
        notify: Callable[[], None] = lambda: None,
        reminder_defaults: ReminderPrefs | None = None,
        approval: ApprovalPolicy | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.notify = notify  # wakes the outbox sender
        #: Whose quiet hours hold the notices of promotions and cancellations.
        self.reminder_defaults = reminder_defaults or ReminderPrefs()
        #: How classes that need a unit head's approval hold a seat, and who is asked.
        self.approval = approval or ApprovalPolicy(3, frozenset(), tz)

    # --- a cadre enrols ------------------------------------------------------------------------

    async def prospect(self, actor: Actor, class_id: int) -> Prospect:
        """The class and any clash with the cadre's timetable; refused with its reason if
        the cadre may not enrol."""
        person = registered(actor)
        async with self.db.read() as conn:
            repo = ClassRepository(conn)
            training_class = await repo.get(class_id)
            await self._check(conn, person, training_class)
            clashes = await repo.clashes(class_id, person.id)
            sessions = await repo.sessions(class_id)
        return Prospect(training_class, sessions, clashes)

    async def enrol(self, actor: Actor, class_id: int, *, clashes_seen: bool) -> EnrolmentOutcome:
        """A seat if one is left, else a place on the waitlist (its position returned).

        `clashes_seen`: the cadre was shown the clashes and confirmed; a clash that appeared
        since (they enrolled elsewhere meanwhile) is refused so they can look again.
        """
        person = registered(actor)
        async with self.db.write() as conn:
            classes = ClassRepository(conn)
            training_class = await classes.lock(class_id)
            await self._check(conn, person, training_class)
            if not clashes_seen and await classes.clashes(class_id, person.id):
                raise Conflict("enrol.clash_appeared")
            repo = EnrolmentRepository(conn)
            if await classes.take_seat(class_id):
                now = self.clock.now()
                pending = training_class.requires_approval
                status = EnrolmentStatus.PENDING if pending else EnrolmentStatus.ENROLLED
                await repo.put(class_id, person.id, status, at=now)
                until = None
                if pending:  # the seat is held while the unit head decides
                    held = await hold_for_approval(conn, training_class, person, now, self.approval)
                    until = held.expires_at
                result = Enrolment(class_id, person.id, status, expires_at=until)
            else:
                ticket = await classes.next_ticket(class_id)
                await repo.put(
                    class_id, person.id, EnrolmentStatus.WAITLISTED, ticket, at=self.clock.now()
                )
                position = await repo.position(class_id, ticket)
                result = Enrolment(class_id, person.id, EnrolmentStatus.WAITLISTED, position)
            action = (
                AuditAction.WAITLISTED
                if result.status is EnrolmentStatus.WAITLISTED
                else AuditAction.ENROLLED
            )
            await AuditRepository(conn).record(
                action,
                actor=actor.telegram_id,
                person_id=person.id,
                class_id=class_id,
                position=result.position,
                **({"pending": True} if result.status is EnrolmentStatus.PENDING else {}),
            )
        self.notify()
        return EnrolmentOutcome(result, training_class)

    async def withdraw(self, actor: Actor, class_id: int) -> Enrolment:
        """Leaves a class (or its waitlist) before it starts; a seat freed goes to the first
        waiting cadre, in the same transaction. Returns what the cadre had."""
        person = registered(actor)
        async with self.db.write() as conn:
            classes = ClassRepository(conn)
            training_class = await classes.lock(class_id)
            repo = EnrolmentRepository(conn)
            had = await repo.of(class_id, person.id)
            if had is None or had.status not in ACTIVE_ENROLMENT:
                raise NotFound("enrol.not_enrolled")
            if had.nominated:  # their head must hear why: NominationService.decline
                raise Conflict("enrol.nominated_decline")
            seated = had.status is not EnrolmentStatus.WAITLISTED
            if training_class.stage(self.clock.now()) is not ClassStatus.OPEN and seated:
                raise Conflict("enrol.withdraw_started")
            if had.status is EnrolmentStatus.PENDING:
                approvals = ApprovalRepository(conn)
                approval = await approvals.get(await approvals.id_of(class_id, person.id))
                outcome = {"key": "approval.outcome_withdrawn"}
                await settle(conn, approval, outcome, self.clock.now(), self.tz)
            await repo.set_status(
                class_id, person.id, EnrolmentStatus.WITHDRAWN, at=self.clock.now()
            )
            await AuditRepository(conn).record(
                AuditAction.WITHDRAWN,
                actor=actor.telegram_id,
                person_id=person.id,
                class_id=class_id,
                was=had.status.value,
            )
            if seated:
                await classes.free_seat(class_id)
                await self._promote(conn, training_class, actor.telegram_id)
        self.notify()
        return had

    async def enrolment(self, actor: Actor, class_id: int) -> Enrolment | None:
        person = registered(actor)
        async with self.db.read() as conn:
            return await EnrolmentRepository(conn).of(class_id, person.id)

    # --- administrators ------------------------------------------------------------------------

    async def set_capacity(self, actor: Actor, class_id: int, capacity: int) -> list[Person]:
        """A new capacity; seats it opens go to the waitlist at once. Returns who was
        promoted. Refused below the number already enrolled."""
        require(actor, Role.ADMIN)
        if not 1 <= capacity <= CAPACITY_MAX:
            raise InvalidInput("planning.capacity_range")
        async with self.db.write() as conn:
            classes = ClassRepository(conn)
            training_class = await classes.lock(class_id)
            if not await classes.set_capacity(class_id, capacity):
                raise Conflict("planning.capacity_below", enrolled=training_class.enrolled)
            await AuditRepository(conn).record(
                AuditAction.CAPACITY_CHANGED,
                actor=actor.telegram_id,
                class_id=class_id,
                before=training_class.capacity,
                after=capacity,
            )
            promoted = await self._promote(conn, training_class, actor.telegram_id)
        self.notify()
        return promoted

    async def allow_duplicate(self, actor: Actor, class_id: int, person_id: int) -> bool:
        """An administrator lets one person take a class despite earlier training (audited)."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            await ClassRepository(conn).get(class_id)
            added = await EnrolmentRepository(conn).add_override(
                class_id, person_id, actor.telegram_id
            )
            if added:
                await AuditRepository(conn).record(
                    AuditAction.DUPLICATE_ALLOWED,
                    actor=actor.telegram_id,
                    person_id=person_id,
                    class_id=class_id,
                )
        return added

    async def cancel_class(self, actor: Actor, class_id: int, reason: str) -> ClassCancelled:
        """Cancels a class: its learners and waitlist are told, in the transaction that
        cancels it; those not on Telegram are listed, by unit, for the office to phone."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            classes = ClassRepository(conn)
            training_class = await classes.lock(class_id)
            if training_class.status is ClassStatus.CANCELLED:
                raise Conflict("planning.already_cancelled")
            if training_class.stage(self.clock.now()) is ClassStatus.FINISHED:
                raise Conflict("planning.already_finished")
            repo = EnrolmentRepository(conn)
            affected = await repo.active_people(class_id)
            for approval in await ApprovalRepository(conn).pending_of_class(class_id):
                outcome = {"key": "approval.outcome_cancelled"}
                await settle(conn, approval, outcome, self.clock.now(), self.tz)
            await repo.cancel_class(class_id)
            await classes.update(
                class_id, status=ClassStatus.CANCELLED.value, cancelled_reason=reason or None
            )
            now = self.clock.now()
            event = await classes.record_event(
                class_id,
                ClassEventKind.CLASS_CANCELLED,
                actor=actor.telegram_id,
                before={"status": training_class.status.value},
                after={"reason": reason},
                at=now,
            )
            await OutboxRepository(conn).cancel_pending(session_reminders_prefix(class_id))
            await AuditRepository(conn).record(
                AuditAction.CLASS_CANCELLED,
                actor=actor.telegram_id,
                class_id=class_id,
                people=len(affected),
            )
            params = {"name": training_class.name, "code": training_class.code,
                      "reason": reason or "—"}  # fmt: skip
            told = [
                notice(MessageKind.CLASS_CANCELLED, f"class_cancelled:{event}:{m.person_id}",
                       chat_id=m.telegram_id, person_id=m.person_id,
                       text_key="notice.class_cancelled", params=params)
                for m in affected
                if m.telegram_id is not None
            ]  # fmt: skip
            urgent = await self._meets_today(conn, class_id, now)
            await queue_or_hold(
                conn, told, now=now, tz=self.tz, defaults=self.reminder_defaults, urgent=urgent
            )
        self.notify()
        unreached: dict[str, list[Unreached]] = {}
        for m in affected:
            if m.telegram_id is None:
                unreached.setdefault(m.unit or "—", []).append(Unreached(m.name, m.phone))
        return ClassCancelled(sum(1 for m in affected if m.telegram_id is not None), unreached)

    async def _meets_today(self, conn: AsyncConnection, class_id: int, now: datetime) -> bool:
        """Whether the class has a session today: news of it is not held for quiet hours."""
        today = local_day(now, self.tz)
        return any(
            local_day(s.starts_at, self.tz) == today and not s.cancelled
            for s in await ClassRepository(conn).sessions(class_id)
        )

    async def promote(
        self, conn: AsyncConnection, training_class: TrainingClass, actor: int | None
    ) -> list[Person]:
        """Fills the seats freed in the caller's transaction (a rejection, an expiry)."""
        return await self._promote(conn, training_class, actor)

    # --- rules ---------------------------------------------------------------------------------

    async def _check(
        self, conn: AsyncConnection, person: Person, training_class: TrainingClass
    ) -> None:
        """Raises the reason this cadre may not enrol in this class now, if there is one."""
        refused = (await self.refusals(conn, [person], training_class)).get(person.id)
        if refused is not None:
            raise refused

    async def refusals(
        self, conn: AsyncConnection, people: Sequence[Person], training_class: TrainingClass
    ) -> dict[int, DomainError]:
        """Why each of these cadres may not enrol in this class now; those who may are left
        out. The class is judged once, then their places in it, the audience and earlier
        training are read for all of them at once (a unit head's staff in the nomination
        picker), in the order a cadre enrolling alone is told."""
        now = self.clock.now()
        shut = self._closed_reason(training_class, now)
        if shut is not None:
            return {person.id: shut for person in people}
        repo = EnrolmentRepository(conn)
        refused: dict[int, DomainError] = {}
        places = await repo.of_many(training_class.id, [p.id for p in people])
        for person_id, held in places.items():
            if held.status is EnrolmentStatus.ENROLLED:
                refused[person_id] = Conflict("enrol.already_enrolled")
            elif held.status is EnrolmentStatus.PENDING:
                refused[person_id] = Conflict("enrol.already_pending", until=held.expires_at)
            elif held.status is EnrolmentStatus.WAITLISTED:
                refused[person_id] = Conflict("enrol.already_waiting", position=held.position)
        rest = [p for p in people if p.id not in refused]
        if not training_class.audience.everyone and rest:
            year = now.astimezone(self.tz).year
            units = await UnitRepository(conn).ancestors_of(
                sorted({p.unit.id for p in rest if p.unit})
            )
            wanted = set(training_class.audience.targets())
            for person in rest:
                ancestors = units.get(person.unit.id, []) if person.unit else []
                if not set(learner_in(person, ancestors, year).targets()) & wanted:
                    refused[person.id] = PermissionDenied("enrol.not_audience")
            rest = [p for p in rest if p.id not in refused]
        earlier = await repo.earlier_trainings(
            [p.id for p in rest],
            training_class.programme.id,
            training_class.programme.validity_months,
            training_class.id,
            now,
            self.tz,
        )
        allowed = await repo.overridden(training_class.id, list(earlier)) if earlier else set()
        for person_id, taken in earlier.items():
            if person_id in allowed:
                continue
            refused[person_id] = (
                Conflict("enrol.duplicate_current", other=taken.class_name)
                if taken.completed_on is None
                else Conflict("enrol.duplicate_done", other=taken.class_name, on=taken.completed_on)
            )
        return refused

    @staticmethod
    def _closed_reason(training_class: TrainingClass, now: datetime) -> DomainError | None:
        """Why nobody may enrol in this class now, if so."""
        stage = training_class.stage(now)
        if stage is ClassStatus.CANCELLED:
            return Conflict("enrol.cancelled")
        if stage in (ClassStatus.RUNNING, ClassStatus.FINISHED):
            return Conflict("enrol.started")
        if not training_class.plan_approved:
            return Conflict("enrol.plan_not_approved", year=training_class.plan_year)
        if stage is ClassStatus.PLANNED or (
            training_class.enrol_opens_at is not None and training_class.enrol_opens_at > now
        ):
            return Conflict("enrol.not_open_yet", opens=training_class.enrol_opens_at or "—")
        if training_class.enrol_deadline is not None and training_class.enrol_deadline <= now:
            return Conflict("enrol.deadline_passed", deadline=training_class.enrol_deadline)
        return None

    async def _promote(
        self, conn: AsyncConnection, training_class: TrainingClass, actor: int | None
    ) -> list[Person]:
        """Fills free seats from the waitlist, first ticket first; each promoted cadre is
        told. Returns who was promoted."""
        if training_class.status is ClassStatus.CANCELLED:
            return []
        classes = ClassRepository(conn)
        repo = EnrolmentRepository(conn)
        promoted: list[Person] = []
        for _ in range(CAPACITY_MAX):  # the seats free now, which a raise may have added
            person_id = await repo.first_waiting(training_class.id)
            if person_id is None or not await classes.take_seat(training_class.id):
                break
            now = self.clock.now()
            person = await PeopleRepository(conn).get(person_id)
            text_key = "notice.waitlist_promoted"
            params: dict[str, Any] = {"name": training_class.name, "code": training_class.code}
            if training_class.requires_approval:  # the seat is held while the head decides
                held = await hold_for_approval(conn, training_class, person, now, self.approval)
                text_key = "notice.waitlist_promoted_pending"
                params["until"] = moment(held.expires_at or now)
            else:
                await repo.set_status(
                    training_class.id, person_id, EnrolmentStatus.ENROLLED, at=now
                )
            event = await classes.record_event(
                training_class.id,
                ClassEventKind.PROMOTED,
                actor=actor,
                after={"person_id": person_id},
                at=now,
            )
            await AuditRepository(conn).record(
                AuditAction.PROMOTED, actor=actor, person_id=person_id, class_id=training_class.id
            )
            if person.telegram_id is not None:
                await queue_or_hold(
                    conn,
                    [
                        notice(
                            MessageKind.WAITLIST_PROMOTED,
                            f"promoted:{event}",
                            chat_id=person.telegram_id,
                            person_id=person_id,
                            text_key=text_key,
                            params=params,
                            buttons=[[("catalog.open_card", OpenClass(training_class.id))]],
                        )
                    ],
                    now=now,
                    tz=self.tz,
                    defaults=self.reminder_defaults,
                    urgent=await self._meets_today(conn, training_class.id, now),
                )
            promoted.append(person)
        return promoted


async def promote_waiting(
    service: EnrolmentService, conn: AsyncConnection, training_class: TrainingClass, actor: int
) -> list[Person]:
    """Fills the seats freed in the caller's transaction from the waitlist (a declined
    nomination), each promoted cadre told as on any promotion."""
    return await service._promote(conn, training_class, actor)
