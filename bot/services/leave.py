"""Excused-absence requests (xin nghỉ có phép): a learner asks leave for a session with a
reason; the session's lecturer (else the class's, else the administrators) approves or rejects.

The first decision wins: it is a conditional UPDATE of the request's row, so two deciders
tapping at once cannot both decide. In the same transaction the learner's mark becomes an
excused absence (approved), the learner is told, and every other decider's copy of the
request is settled: edited to say who decided if it was sent, cancelled if it was not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import DecideLeave
from bot.attendance import LEAVE_AFTER, LeaveStatus, Mark, MarkSource, Standing
from bot.clock import Clock
from bot.delivery.model import NewMessage
from bot.domain import Actor, AuditAction, MessageKind, Person, Role
from bot.errors import Conflict, PermissionDenied
from bot.leave import LEAVE_AHEAD, clean_reason, may_ask
from bot.services.access import registered
from bot.services.attendance import teaches, warn_if_due
from bot.services.notices import moment, notice
from bot.services.quiet import Quiet
from bot.training import ClassStatus, EnrolmentStatus, Session, TrainingClass
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.leave import Decider, LeaveOption, LeaveRepository, LeaveRequest
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository

KIND = MessageKind.LEAVE_REQUEST.value


@dataclass(frozen=True, slots=True)
class LeaveAsked:
    """A request made, and who was asked to decide it."""

    request_id: int
    #: The lecturers asked, by name; empty when the request went to the training office.
    lecturers: tuple[str, ...]
    #: How many people were asked (none: nobody is linked to Telegram to decide it yet).
    asked: int


@dataclass(frozen=True, slots=True)
class LeaveDecided:
    """The request as decided, for the decider's own copy of it."""

    request: LeaveRequest

    @property
    def approved(self) -> bool:
        return self.request.status is LeaveStatus.APPROVED


#: A learner's own requests shown: those of sessions since this long ago, at most this many.
MINE_SINCE = timedelta(days=30)
MINE_LISTED = 8
#: Requests listed at once for a decider.
PENDING_LISTED = 10


def request_key(request_id: int) -> str:
    """The prefix of every decider's copy of one request."""
    return f"{KIND}:{request_id}:"


def request_params(
    request: LeaveRequest, standing: Standing | None = None, *, counted: bool = False
) -> dict[str, Any]:
    """What a decider's message names: the learner, their unit, the class, the session, why;
    and how many absences the learner could still afford were this one excused (`counted`:
    the session is among those missed already)."""
    params: dict[str, Any] = {
        "name": request.learner_name,
        "unit": request.learner_unit or "—",
        "class_name": request.class_name,
        "code": request.class_code,
        "at": moment(request.starts_at),
        "reason": request.reason,
        "standing": "",
    }
    if standing is not None and standing.total:
        spare = standing.reachable - standing.required - (0 if counted else 1)
        params["standing"] = {
            "key": "leave.standing" if spare >= 0 else "leave.standing_none_spare",
            "params": {"missed": standing.missed, "required": standing.required,
                       "total": standing.total, "spare": spare},
        }  # fmt: skip
    return params


#: The texts of each decision: how it reads, the refusal of a later tap, the learner's notice.
DECISION_TEXTS = {
    LeaveStatus.APPROVED: ("leave.decision_approved", "leave.already_approved",
                           "leave.told_approved"),
    LeaveStatus.REJECTED: ("leave.decision_rejected", "leave.already_rejected",
                           "leave.told_rejected"),
}  # fmt: skip


def decision_key(status: LeaveStatus) -> str:
    return DECISION_TEXTS[status][0]


def _already(request: LeaveRequest) -> Conflict:
    return Conflict(DECISION_TEXTS[request.status][1], by=request.decided_by_name or "—")


class LeaveService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        superadmin_ids: frozenset[int],
        notify: Callable[[], None] = lambda: None,
        quiet: Quiet | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.superadmin_ids = superadmin_ids  # asked when a session has no linked lecturer
        self.notify = notify  # wakes the outbox sender
        self.quiet = quiet or Quiet()  # warnings wait for their readers' quiet hours

    # --- the learner ---------------------------------------------------------------------------

    async def options(self, actor: Actor) -> list[LeaveOption]:
        """The sessions the learner may still ask leave for, soonest first."""
        person = registered(actor)
        now = self.clock.now()
        async with self.db.read() as conn:
            return await LeaveRepository(conn).options(
                person.id, now - LEAVE_AFTER, now + LEAVE_AHEAD
            )

    async def mine(self, actor: Actor) -> list[LeaveRequest]:
        """The learner's requests for sessions of the last month and to come."""
        person = registered(actor)
        async with self.db.read() as conn:
            return await LeaveRepository(conn).of_learner(
                person.id, self.clock.now() - MINE_SINCE, MINE_LISTED
            )

    async def pending(self, actor: Actor) -> tuple[list[LeaveRequest], int]:
        """What waits for this decider: the requests of the sessions they teach (all of them,
        for administrators), the first PENDING_LISTED; and how many in all."""
        if not (actor.is_admin or actor.has(Role.LECTURER)):
            raise PermissionDenied()
        whose = None if actor.is_admin else registered(actor).id
        async with self.db.read() as conn:
            return await LeaveRepository(conn).pending_for(whose, PENDING_LISTED)

    async def option(self, actor: Actor, session_id: int) -> LeaveOption:
        """One session the learner picked, checked as asking would (the button may be forged
        or old)."""
        person = registered(actor)
        async with self.db.read() as conn:
            return await self._check(conn, person, session_id)

    async def ask(self, actor: Actor, session_id: int, reason: str) -> LeaveAsked:
        """Makes the request and queues it to its deciders, in one transaction."""
        person = registered(actor)
        cleaned = clean_reason(reason)
        now = self.clock.now()
        async with self.db.write() as conn:
            option = await self._check(conn, person, session_id)
            repo = LeaveRepository(conn)
            request_id = await repo.add(session_id, option.class_id, person.id, cleaned, now)
            if request_id is None:  # asked a moment ago, from another device
                raise Conflict("leave.already_asked")
            request = await repo.get(request_id)
            session = await ClassRepository(conn).session(session_id)
            deciders, lecturers = await self._deciders(conn, session, person.id)
            buttons = [[("leave.approve", DecideLeave(request_id, True)),
                        ("leave.reject", DecideLeave(request_id, False))]]  # fmt: skip
            training_class = await ClassRepository(conn).get(option.class_id)
            standings = await AttendanceRepository(conn).standings(
                option.class_id, training_class.completion_pct, [person.id]
            )
            mark = await AttendanceRepository(conn).mark_of(session_id, person.id)
            params = request_params(request, standings[person.id], counted=mark is not None)
            await OutboxRepository(conn).add(
                [
                    notice(MessageKind.LEAVE_REQUEST, f"{request_key(request_id)}{d.person_id}",
                           chat_id=d.telegram_id, person_id=d.person_id,
                           text_key="leave.request", params=params, buttons=buttons)
                    for d in deciders
                ]
            )  # fmt: skip
        self.notify()
        names = tuple(d.name for d in deciders) if lecturers else ()
        return LeaveAsked(request_id, names, len(deciders))

    async def _check(self, conn: AsyncConnection, person: Person, session_id: int) -> LeaveOption:
        """Refuses a session the learner may not ask leave for, saying why."""
        classes = ClassRepository(conn)
        session = await classes.session(session_id)
        enrolment = await EnrolmentRepository(conn).of(session.class_id, person.id)
        if enrolment is None or enrolment.status is not EnrolmentStatus.ENROLLED:
            raise PermissionDenied("leave.not_enrolled")
        training_class = await classes.get(session.class_id)
        if session.cancelled or training_class.status is ClassStatus.CANCELLED:
            raise Conflict("leave.cancelled")
        if not may_ask(session.starts_at, self.clock.now()):
            raise Conflict("leave.too_late")
        mark = await AttendanceRepository(conn).mark_of(session_id, person.id)
        if mark is not None and mark.mark.attended:
            raise Conflict("leave.attended")
        if await LeaveRepository(conn).of(session_id, person.id) is not None:
            raise Conflict("leave.already_asked")
        return _option(session, training_class)

    async def _deciders(
        self, conn: AsyncConnection, session: Session, learner_id: int
    ) -> tuple[list[Decider], bool]:
        """Who decides, and whether they are lecturers: the session's lecturer, else the
        class's lecturers, linked to Telegram; else the administrators."""
        repo = LeaveRepository(conn)
        for ids in (
            [session.lecturer_id] if session.lecturer_id else [],
            await repo.lecturer_ids(session.class_id),
        ):
            found = [d for d in await repo.linked(ids) if d.person_id != learner_id]
            if found:
                return found, True
        admins = await RoleRepository(conn).admins(also=self.superadmin_ids)
        people = await repo.linked([person_id for person_id, _ in admins])
        return [d for d in people if d.person_id != learner_id], False

    # --- a decider -----------------------------------------------------------------------------

    async def decide(self, actor: Actor, request_id: int, approve: bool) -> LeaveDecided:
        """The first decision on a request; a later one is refused naming who decided."""
        person = registered(actor)
        status = LeaveStatus.APPROVED if approve else LeaveStatus.REJECTED
        now = self.clock.now()
        async with self.db.write() as conn:
            repo = LeaveRepository(conn)
            request = await repo.get(request_id)
            classes = ClassRepository(conn)
            session = await classes.session(request.session_id)
            await self._require_decider(conn, actor, person, request, session)
            if request.status is not LeaveStatus.PENDING:
                raise _already(request)
            if not await repo.decide(request_id, status, person.id, now):
                raise _already(await repo.get(request_id))  # another decider, a moment ago
            decided = await repo.get(request_id)
            await self._tell_learner(conn, decided)  # before any warning the absence brings
            if approve:
                await self._excuse(conn, request, person, now)
            await AuditRepository(conn).record(
                AuditAction.LEAVE_DECIDED, actor=actor.telegram_id, person_id=request.person_id,
                request_id=request_id, session_id=request.session_id, class_id=request.class_id,
                decision=status.value,
            )  # fmt: skip
            await self._settle_copies(conn, decided, actor.telegram_id)
        self.notify()
        return LeaveDecided(decided)

    async def _require_decider(
        self,
        conn: AsyncConnection,
        actor: Actor,
        person: Person,
        request: LeaveRequest,
        session: Session,
    ) -> None:
        """An administrator, or a lecturer of the session; never the learner themselves."""
        if person.id == request.person_id:
            raise PermissionDenied()
        if actor.is_superadmin or actor.has(Role.ADMIN):
            return
        if not await teaches(conn, person.id, request.class_id, session):
            raise PermissionDenied()

    async def _excuse(
        self, conn: AsyncConnection, request: LeaveRequest, decider: Person, now: datetime
    ) -> None:
        """The learner's mark becomes an excused absence, unless they came after all."""
        marks = AttendanceRepository(conn)
        mark = await marks.mark_of(request.session_id, request.person_id)
        if mark is not None and mark.mark.attended:
            return
        await marks.put(
            request.session_id, request.class_id, {request.person_id: Mark.EXCUSED},
            source=MarkSource.LEAVE, by=decider.id, at=now,
        )  # fmt: skip
        training_class = await ClassRepository(conn).get(request.class_id)
        await warn_if_due(conn, training_class, [request.person_id], now, self.quiet)

    async def _tell_learner(self, conn: AsyncConnection, request: LeaveRequest) -> None:
        learner = await PeopleRepository(conn).get(request.person_id)
        if learner.telegram_id is None:
            return
        key = f"{MessageKind.LEAVE_DECIDED.value}:{request.id}"
        text = DECISION_TEXTS[request.status][2]
        await OutboxRepository(conn).add(
            [
                notice(
                    MessageKind.LEAVE_DECIDED, key, chat_id=learner.telegram_id,
                    person_id=learner.id, text_key=text,
                    params={"class_name": request.class_name, "code": request.class_code,
                            "at": moment(request.starts_at), "by": request.decided_by_name},
                )
            ]
        )  # fmt: skip

    async def _settle_copies(
        self, conn: AsyncConnection, request: LeaveRequest, decider_chat: int
    ) -> None:
        """The other deciders' copies say who decided and lose their buttons: edited if sent,
        cancelled if not sent yet, and told in a new message if being sent this very moment."""
        outbox = OutboxRepository(conn)
        params = {
            **request_params(request),
            "by": request.decided_by_name,
            "decision": {"key": decision_key(request.status)},
        }
        copies = await outbox.copies(request_key(request.id))
        await outbox.cancel_pending(request_key(request.id))
        messages: list[NewMessage] = []
        for copy in copies:
            if copy.chat_id == decider_chat or copy.state not in ("sent", "sending"):
                continue  # the decider's own is edited by its tap; the rest never went out
            message = notice(
                MessageKind.LEAVE_REQUEST, f"{copy.dedup_key}:closed", chat_id=copy.chat_id,
                person_id=copy.person_id, text_key="leave.request_closed", params=params,
            )  # fmt: skip
            if copy.state == "sent" and copy.message_id is not None:
                edit = {"chat_id": copy.chat_id, "message_id": copy.message_id}
                message = dataclasses.replace(message, payload={**message.payload, "edit": edit})
            messages.append(message)
        await outbox.add(messages)


def _option(session: Session, training_class: TrainingClass) -> LeaveOption:
    return LeaveOption(
        session.id, training_class.id, training_class.code, training_class.name,
        session.starts_at, session.ends_at,
    )  # fmt: skip
