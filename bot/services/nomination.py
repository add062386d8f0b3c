"""Nomination (cử đi học): a unit head sends staff of their units to a class.

A nomination is an enrolment the head has decided: it takes a seat (or a waitlist place, in
the order chosen) by the same rules as enrolling oneself, audience and duplicated training
included, and needs no approval. The nominee hears of it through the outbox and may decline
with a reason, which frees the seat for the waitlist and tells the head. One not yet on
Telegram is enrolled all the same and told when they first link their account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import DeclineNomination, NominatedStaff, OpenClass
from bot.clock import Clock
from bot.delivery.model import NewMessage
from bot.domain import Actor, AuditAction, Gender, MessageKind, Person, UnitScope
from bot.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from bot.leave import clean_reason
from bot.reminders import ReminderPrefs
from bot.services.access import registered, staff_scope
from bot.services.enrolment import EnrolmentService, promote_waiting
from bot.services.notices import notice
from bot.services.quiet import queue_or_hold
from bot.training import (
    ACTIVE_ENROLMENT,
    ClassStatus,
    EnrolmentStatus,
    PriorityGroup,
    TrainingClass,
    priority_groups,
)
from bot.validation import plain_text
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.nominations import Nomination, NominationRepository, StaffEntry
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository

#: Staff shown per page of the picker, and the most nominated at once (the confirmation
#: lists them all in one message).
PICKER_PAGE = 8
NOMINEES_MAX = 30
#: The longest name search typed.
QUERY_MAX = 50
#: Entries per page of a head's list of their staff, and classes per page to choose from.
LIST_PAGE = 15
CLASSES_PAGE = 8
#: The furthest page asked for by a button (which can be forged): past it, the last page.
PAGE_MAX = 10_000
#: Why a cadre may not take a class, as the enrolment rules say it to them → as a head
#: reads it about one of their staff.
_BLOCKED = {
    "enrol.not_audience": "nomination.blocked_audience",
    "enrol.duplicate_current": "nomination.blocked_duplicate_current",
    "enrol.duplicate_done": "nomination.blocked_duplicate_done",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One of the head's staff in the picker: selectable unless `blocked` says why not."""

    person_id: int
    full_name: str
    unit: str | None
    groups: frozenset[PriorityGroup]
    #: The catalog key (and parameters) of why they cannot be nominated; None if they can.
    blocked: str | None = None
    params: dict[str, Any] | None = None
    #: Their reason, if they declined an earlier nomination to the class: they may be
    #: nominated again (a new nomination, told anew), but the head sees why they said no.
    declined: str | None = None


@dataclass(frozen=True, slots=True)
class Picker:
    training_class: TrainingClass
    candidates: list[Candidate]
    total: int
    page: int
    pages: int
    #: How many of the `total` cannot be nominated: they come after all the others.
    blocked: int = 0


@dataclass(frozen=True, slots=True)
class ClassChoice:
    """A page of the classes open to nominate to."""

    classes: list[TrainingClass]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class Nominee:
    full_name: str
    unit: str | None
    status: EnrolmentStatus
    position: int | None
    on_telegram: bool


@dataclass(frozen=True, slots=True)
class Nominated:
    """What a nomination did: each nominee's seat or waitlist place, in the order chosen."""

    training_class: TrainingClass
    nominees: list[Nominee]


@dataclass(frozen=True, slots=True)
class StaffList:
    """A page of a head's staff in one class (or in every class not over)."""

    training_class: TrainingClass | None
    entries: list[StaffEntry]
    total: int
    page: int
    pages: int


def clean_query(raw: str) -> str:
    """A name search as typed: one line, without invisible characters, not too long."""
    text = " ".join(plain_text(raw).split())
    if len(text) > QUERY_MAX:
        raise InvalidInput("nomination.query_long", max=QUERY_MAX, length=len(text))
    if not text:
        raise InvalidInput("nomination.query_empty")
    return text


def _groups(person: Person, year: int) -> frozenset[PriorityGroup]:
    return priority_groups(
        year=year,
        birth_year=person.birth_year,
        female=person.gender is Gender.FEMALE,
        ethnicity_code=person.ethnicity.code if person.ethnicity else None,
        source_pool=person.source_pool,
    )


def _class_params(training_class: TrainingClass) -> dict[str, Any]:
    return {"name": training_class.name, "code": training_class.code}


def _waiting(waitlisted: bool) -> Any:
    """The notice's line saying the nominee waits for a seat, or nothing."""
    return {"key": "nomination.told_waiting"} if waitlisted else ""


def nominated_notice(
    class_id: int, person_id: int, chat_id: int, change: str, params: dict[str, Any]
) -> NewMessage:
    """The nominee's notice, keyed by the nomination (`change`): the class's card, and a
    button to decline."""
    return notice(
        MessageKind.NOMINATED,
        f"{MessageKind.NOMINATED.value}:{class_id}:{person_id}:{change}",
        chat_id=chat_id,
        person_id=person_id,
        text_key="nomination.told",
        params=params,
        buttons=[
            [("catalog.open_card", OpenClass(class_id))],
            [("nomination.decline_button", DeclineNomination(class_id))],
        ],
    )


async def tell_untold(conn: AsyncConnection, person_id: int, chat_id: int, now: datetime) -> int:
    """Queues, in the caller's transaction, the notices of the person's nominations made
    before they were on Telegram, and marks them told; returns how many. Called when a
    roster record is first linked: the person is using the bot right then."""
    repo = NominationRepository(conn)
    untold = await repo.untold(person_id)
    if not untold:
        return 0
    await OutboxRepository(conn).add(
        [
            nominated_notice(
                u.class_id,
                person_id,
                chat_id,
                f"first-{int(u.decided_at.timestamp() * 1e6) if u.decided_at else 0}",
                {
                    "name": u.class_name,
                    "code": u.class_code,
                    "waiting": _waiting(u.status is EnrolmentStatus.WAITLISTED),
                },
            )
            for u in untold
        ]
    )
    await repo.set_told(person_id, [u.class_id for u in untold], now)
    return len(untold)


class NominationService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: tzinfo,
        enrolment: EnrolmentService,
        notify: Callable[[], None] = lambda: None,
        reminder_defaults: ReminderPrefs | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.enrolment = enrolment  # its rules and its waitlist promotion
        self.notify = notify  # wakes the outbox sender
        self.reminder_defaults = reminder_defaults or ReminderPrefs()

    # --- the head picks ------------------------------------------------------------------------

    async def picker(
        self,
        actor: Actor,
        class_id: int,
        *,
        query: str = "",
        priority_only: bool = False,
        page: int = 0,
    ) -> Picker:
        """A page of the head's staff for a class, each marked with their priority groups and,
        if they cannot be nominated, why: those who can come first (priority groups first
        among them), those who cannot after them, each part in name order."""
        scope = staff_scope(actor)
        registered(actor)
        year = self._year()
        page = min(max(page, 0), PAGE_MAX)
        async with self.db.read() as conn:
            training_class = await self._open_class(conn, class_id)
            repo = NominationRepository(conn)
            ids = await repo.staff(scope, query, year if priority_only else None)
            people = await PeopleRepository(conn).many(ids)
            held = await repo.in_class(class_id, ids)
            staff = [people[i] for i in ids]
            refused = await self.enrolment.refusals(conn, staff, training_class)
            candidates = [
                _candidate(person, year, held.get(person.id), refused.get(person.id))
                for person in staff
            ]
        candidates.sort(key=lambda c: (c.blocked is not None, not c.groups))  # stable: by name
        total, size = len(candidates), PICKER_PAGE
        pages = max(1, -(-total // size))
        page = min(page, pages - 1)  # the list may have shrunk under a page kept in the draft
        shown = candidates[page * size : (page + 1) * size]
        blocked = sum(c.blocked is not None for c in candidates)
        return Picker(training_class, shown, total, page, pages, blocked)

    async def open_classes(self, actor: Actor, page: int = 0) -> ClassChoice:
        """The classes a head may nominate to now, a page at a time: every class open for
        enrolment, including those whose audience leaves out the head themselves."""
        staff_scope(actor)
        size = CLASSES_PAGE
        page = min(max(page, 0), PAGE_MAX)
        async with self.db.read() as conn:
            repo = NominationRepository(conn)
            ids, total = await repo.open_classes(self.clock.now(), page, size)
            pages = max(1, -(-total // size))
            if page >= pages:
                page = pages - 1
                ids, total = await repo.open_classes(self.clock.now(), page, size)
            found = [await ClassRepository(conn).get(class_id) for class_id in ids]
        return ClassChoice(found, total, page, pages)

    async def pick(self, actor: Actor, class_id: int, person_id: int) -> Candidate:
        """One of the head's staff, checked before they join the selection: refused if outside
        the head's units (a forged tap) or unable to take the class."""
        scope = staff_scope(actor)
        registered(actor)
        async with self.db.read() as conn:
            training_class = await self._open_class(conn, class_id)
            person = await self._staff(conn, scope, person_id)
            found = await self._candidate_of(conn, person, training_class, self._year())
        if found.blocked is not None:
            raise Conflict(found.blocked, **(found.params or {}))
        return found

    async def chosen(self, actor: Actor, class_id: int, person_ids: Sequence[int]) -> Picker:
        """The selection as the confirmation lists it (each still checked)."""
        scope = staff_scope(actor)
        registered(actor)
        year = self._year()
        async with self.db.read() as conn:
            training_class = await self._open_class(conn, class_id)
            candidates = [
                await self._candidate_of(conn, await self._staff(conn, scope, pid), training_class,
                                      year)
                for pid in person_ids
            ]  # fmt: skip
        return Picker(training_class, candidates, len(candidates), 0, 1)

    # --- the head nominates --------------------------------------------------------------------

    async def nominate(self, actor: Actor, class_id: int, person_ids: Sequence[int]) -> Nominated:
        """Enrols the chosen staff as the head's nomination, all or none: seats while they
        last, then the waitlist in the order chosen. Each nominee on Telegram is told."""
        scope = staff_scope(actor)
        head = registered(actor)
        chosen = list(dict.fromkeys(person_ids))
        if not chosen:
            raise InvalidInput("nomination.none_chosen")
        if len(chosen) > NOMINEES_MAX:
            raise InvalidInput("nomination.too_many", max=NOMINEES_MAX)
        now = self.clock.now()
        year = self._year()
        async with self.db.write() as conn:
            classes = ClassRepository(conn)
            training_class = await classes.lock(class_id)
            self._check_open(training_class)
            people = [await self._staff(conn, scope, pid) for pid in chosen]
            for person in people:
                found = await self._candidate_of(conn, person, training_class, year)
                if found.blocked is not None:
                    raise Conflict(found.blocked, **(found.params or {}))
            enrolments = EnrolmentRepository(conn)
            repo = NominationRepository(conn)
            audit = AuditRepository(conn)
            params = _class_params(training_class)
            told = []
            nominees = []
            for person in people:
                position = None
                if await classes.take_seat(class_id):
                    status = EnrolmentStatus.ENROLLED
                    await enrolments.put(class_id, person.id, status, at=now)
                else:
                    status = EnrolmentStatus.WAITLISTED
                    ticket = await classes.next_ticket(class_id)
                    await enrolments.put(class_id, person.id, status, ticket, at=now)
                    position = await enrolments.position(class_id, ticket)
                linked = person.telegram_id is not None and person.consent_at is not None
                await repo.mark(class_id, person.id, by=head.id, at=now,
                                told_at=now if linked else None)  # fmt: skip
                change = await audit.record(
                    AuditAction.NOMINATED, actor=actor.telegram_id, person_id=person.id,
                    class_id=class_id, status=status.value, position=position,
                )  # fmt: skip
                if linked and person.telegram_id is not None:
                    told.append(
                        nominated_notice(class_id, person.id, person.telegram_id, str(change),
                                         {**params, "waiting": _waiting(position is not None)})
                    )  # fmt: skip
                unit = person.unit.name if person.unit else None
                nominees.append(Nominee(person.full_name, unit, status, position, linked))
            await queue_or_hold(conn, told, now=now, tz=self.tz, defaults=self.reminder_defaults)
            training_class = await classes.get(class_id)
        self.notify()
        return Nominated(training_class, nominees)

    # --- the nominee declines ------------------------------------------------------------------

    async def declinable(self, actor: Actor, class_id: int) -> TrainingClass:
        """The class the cadre was nominated to and may still decline; refused otherwise."""
        person = registered(actor)
        async with self.db.read() as conn:
            training_class = await ClassRepository(conn).get(class_id)
            found = await NominationRepository(conn).of(class_id, person.id)
        self._check_declinable(training_class, found)
        return training_class

    @staticmethod
    def clean_reason(raw: str) -> str:
        """The reason for declining: required, one line, at most 300 characters."""
        return clean_reason(raw)

    async def decline(self, actor: Actor, class_id: int, reason: str) -> TrainingClass:
        """The nominee declines with a reason: a seat held goes to the waitlist, and the head
        who nominated them is told, all in one transaction."""
        person = registered(actor)
        reason = clean_reason(reason)
        now = self.clock.now()
        async with self.db.write() as conn:
            classes = ClassRepository(conn)
            training_class = await classes.lock(class_id)
            repo = NominationRepository(conn)
            found = await repo.of(class_id, person.id)
            self._check_declinable(training_class, found)
            assert found is not None and found.nominated_by is not None
            if not await repo.decline(class_id, person.id, reason, now):
                raise NotFound("nomination.not_nominated")
            change = await AuditRepository(conn).record(
                AuditAction.NOMINATION_DECLINED, actor=actor.telegram_id, person_id=person.id,
                class_id=class_id, was=found.status.value, reason=reason,
            )  # fmt: skip
            if found.status is EnrolmentStatus.ENROLLED:
                await classes.free_seat(class_id)
                await promote_waiting(self.enrolment, conn, training_class, actor.telegram_id)
            head = await PeopleRepository(conn).get(found.nominated_by)
            if head.telegram_id is not None and head.consent_at is not None:
                message = notice(
                    MessageKind.NOMINATION_DECLINED,
                    f"{MessageKind.NOMINATION_DECLINED.value}:{change}",
                    chat_id=head.telegram_id,
                    person_id=head.id,
                    text_key="nomination.head_told_declined",
                    params={**_class_params(training_class), "person": person.full_name,
                            "unit": person.unit.name if person.unit else "—",
                            "reason": reason},
                    buttons=[[("nomination.staff_button", NominatedStaff(class_id))]],
                )  # fmt: skip
                await queue_or_hold(
                    conn, [message], now=now, tz=self.tz, defaults=self.reminder_defaults
                )
        self.notify()
        return training_class

    # --- the head's view -----------------------------------------------------------------------

    async def staff(self, actor: Actor, class_id: int = 0, page: int = 0) -> StaffList:
        """The head's staff nominated, enrolled by themselves, pending, waiting or declined: in
        one class, or (no class) in every class not over."""
        scope = staff_scope(actor)
        size = LIST_PAGE
        page = min(max(page, 0), PAGE_MAX)
        async with self.db.read() as conn:
            training_class = await ClassRepository(conn).get(class_id) if class_id else None
            since = self.clock.now() - timedelta(days=1)
            repo = NominationRepository(conn)
            entries, total = await repo.of_staff(scope, class_id or None, since, page, size)
            pages = max(1, -(-total // size))
            if page >= pages:
                page = pages - 1
                entries, total = await repo.of_staff(scope, class_id or None, since, page, size)
        return StaffList(training_class, entries, total, page, pages)

    # --- rules ---------------------------------------------------------------------------------

    def _year(self) -> int:
        return self.clock.now().astimezone(self.tz).year

    def _check_open(self, training_class: TrainingClass) -> None:
        if not training_class.enrolment_open(self.clock.now()):
            raise Conflict("nomination.class_closed", **_class_params(training_class))

    async def _open_class(self, conn: AsyncConnection, class_id: int) -> TrainingClass:
        training_class = await ClassRepository(conn).get(class_id)
        self._check_open(training_class)
        return training_class

    @staticmethod
    async def _staff(conn: AsyncConnection, scope: UnitScope, person_id: int) -> Person:
        """One of the head's staff; anyone else (or nobody) is refused alike."""
        try:
            return await PeopleRepository(conn).get(person_id, scope)
        except NotFound:
            raise PermissionDenied("nomination.not_your_staff") from None

    async def _candidate_of(
        self, conn: AsyncConnection, person: Person, training_class: TrainingClass, year: int
    ) -> Candidate:
        """One person as the picker shows them, their enrolment in the class read here."""
        held = await NominationRepository(conn).of(training_class.id, person.id)
        refused = await self.enrolment.refusals(conn, [person], training_class)
        return _candidate(person, year, held, refused.get(person.id))

    def _check_declinable(self, training_class: TrainingClass, found: Any) -> None:
        if (
            found is None
            or found.nominated_by is None
            or found.status not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED)
        ):
            raise NotFound("nomination.not_nominated")
        if training_class.stage(self.clock.now()) is not ClassStatus.OPEN:
            raise Conflict("nomination.decline_started", **_class_params(training_class))


def _candidate(
    person: Person, year: int, held: Nomination | None, refused: DomainError | None
) -> Candidate:
    """The person as the picker shows them; `blocked` (with the parameters of its text,
    their name among them) if they cannot be nominated to the class. `held`: their
    enrolment in the class, if any; `refused`: why the enrolment rules refuse them."""
    unit = person.unit.name if person.unit else None
    base = (person.id, person.full_name, unit, _groups(person, year))
    who = {"name": person.full_name, "unit": unit or "—"}
    if held is not None and held.status in ACTIVE_ENROLMENT:
        return Candidate(*base, f"nomination.blocked_{held.status.value}", who)
    if refused is None:
        if held is not None and held.status is EnrolmentStatus.DECLINED:
            return Candidate(*base, declined=held.reason or "—")
        return Candidate(*base)
    # A rule the picker has no words of its own for is said as the cadre would read it.
    return Candidate(*base, _BLOCKED.get(refused.key, refused.key), {**refused.params, **who})
