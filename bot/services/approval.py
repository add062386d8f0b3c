"""A unit head's approval of enrolments in classes that need it (issue 13).

An enrolment in such a class takes its seat at once but waits as 'pending' until one of its
deciders approves or rejects it, or until its time runs out. The first decision wins: it is
a conditional UPDATE of the enrolment's row, so two heads tapping at once, or a head and the
expiry pass, cannot both decide. In that same transaction the seat is freed (rejected,
expired) and the waitlist promoted, the learner is told, and every decider's copy of the
request is settled (edited to say the outcome, or cancelled if not sent yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import OpenClass, PendingApprovals
from bot.clock import Clock
from bot.domain import Actor, AuditAction, MessageKind, Person, Role, UnitScope
from bot.errors import Conflict, PermissionDenied
from bot.office_reminders import DEFAULT_OFFICE_HOURS, OfficeHours
from bot.reminders import ReminderPrefs
from bot.services.access import registered, require
from bot.services.approval_requests import ApprovalPolicy, deciders, recipients, settle
from bot.services.enrolment import EnrolmentService
from bot.services.notices import moment, notice
from bot.services.quiet import queue_or_hold
from bot.training import EnrolmentStatus
from storage.database import Database
from storage.repositories.approvals import Approval, ApprovalRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.office import OfficeRepository
from storage.repositories.people import PeopleRepository

#: Expired enrolments handled in one pass (the rest in the next, a minute later).
EXPIRE_BATCH = 100
#: Enrolments listed for a decider at once, and read to find them.
LISTED = 10
SCANNED = 500

#: How a decided request reads to its deciders, and the refusal of a later tap.
_OUTCOMES = {
    EnrolmentStatus.ENROLLED: ("approval.outcome_approved", "approval.already_approved"),
    EnrolmentStatus.REJECTED: ("approval.outcome_rejected", "approval.already_rejected"),
    EnrolmentStatus.EXPIRED: ("approval.outcome_expired", "approval.already_expired"),
}


@dataclass(frozen=True, slots=True)
class Waiting:
    """The enrolments waiting for a decider, the first LISTED, and how many in all."""

    approvals: list[Approval]
    total: int


def _already(approval: Approval) -> Conflict:
    """A tap on an enrolment that no longer waits: who decided it, or what became of it."""
    texts = _OUTCOMES.get(approval.status)
    if texts is None:
        return Conflict("approval.no_longer_pending")
    return Conflict(texts[1], by=approval.decided_by_name or "—")


class ApprovalService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        enrolment: EnrolmentService,
        policy: ApprovalPolicy,
        *,
        hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        defaults: ReminderPrefs | None = None,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.enrolment = enrolment  # frees seats to the waitlist
        self.policy = policy
        self.hours = hours  # the daily reminder goes out within these
        self.defaults = defaults or ReminderPrefs()
        self.notify = notify  # wakes the outbox sender
        #: The day this process last made the reminders: later passes that day need not look.
        self._reminded_on: date | None = None

    # --- a decider -----------------------------------------------------------------------------

    async def pending(self, actor: Actor) -> Waiting:
        """The enrolments waiting for this decider (any, for an administrator), the soonest
        to expire first."""
        person = registered(actor)
        if not (actor.is_admin or actor.headed_unit_ids):
            raise PermissionDenied()
        scope = UnitScope.province() if actor.is_admin else UnitScope(actor.headed_unit_ids)
        async with self.db.read() as conn:
            mine = await self._decided_by(conn, actor, person, scope)
        return Waiting(mine[:LISTED], len(mine))

    async def _decided_by(
        self, conn: AsyncConnection, actor: Actor, person: Person, scope: UnitScope
    ) -> list[Approval]:
        found = await ApprovalRepository(conn).pending(scope, SCANNED)
        people = PeopleRepository(conn)
        mine = []
        for approval in found:
            if approval.person_id == person.id:
                continue
            if actor.is_admin:
                mine.append(approval)
                continue
            ids, _ = await deciders(conn, await people.get(approval.person_id), self.policy)
            if person.id in ids:
                mine.append(approval)
        return mine

    async def request(self, actor: Actor, enrolment_id: int) -> Approval:
        """One enrolment this decider may still decide (before a reason is asked for): refused
        if they may not, or if it no longer waits."""
        person = registered(actor)
        async with self.db.read() as conn:
            approval = await ApprovalRepository(conn).get(enrolment_id)
            await self._require_decider(conn, actor, person, approval)
        if approval.status is not EnrolmentStatus.PENDING:
            raise _already(approval)
        return approval

    async def decide(
        self, actor: Actor, enrolment_id: int, approve: bool, reason: str | None = None
    ) -> Approval:
        """The first decision on an enrolment; a later one is refused, naming who decided."""
        person = registered(actor)
        now = self.clock.now()
        status = EnrolmentStatus.ENROLLED if approve else EnrolmentStatus.REJECTED
        async with self.db.write() as conn:
            repo = ApprovalRepository(conn)
            approval = await repo.get(enrolment_id)
            await self._require_decider(conn, actor, person, approval)
            if approval.status is not EnrolmentStatus.PENDING:
                raise _already(approval)
            training_class = await ClassRepository(conn).lock(approval.class_id)
            if not await repo.decide(enrolment_id, status, person.id, now, reason or None):
                raise _already(await repo.get(enrolment_id))  # another decider, a moment ago
            decided = await repo.get(enrolment_id)
            change = await AuditRepository(conn).record(
                AuditAction.ENROLMENT_APPROVED if approve else AuditAction.ENROLMENT_REJECTED,
                actor=actor.telegram_id, person_id=approval.person_id,
                class_id=approval.class_id, reason=reason or None,
            )  # fmt: skip
            outcome = {"key": _OUTCOMES[status][0],
                       "params": {"by": person.full_name, "at": moment(now),
                                  "reason": _reason_line(reason)}}  # fmt: skip
            await settle(conn, decided, outcome, now, self.policy.tz)
            await self._tell_learner(conn, decided, change, now)
            if not approve:
                await ClassRepository(conn).free_seat(approval.class_id)
                await self.enrolment.promote(conn, training_class, actor.telegram_id)
        self.notify()
        return decided

    async def _require_decider(
        self, conn: AsyncConnection, actor: Actor, person: Person, approval: Approval
    ) -> None:
        """An administrator, or one of the enrolment's deciders; never the learner."""
        if person.id == approval.person_id:
            raise PermissionDenied()
        if actor.is_admin:
            return
        require(actor, Role.UNIT_HEAD)
        learner = await PeopleRepository(conn).get(approval.person_id)
        ids, _ = await deciders(conn, learner, self.policy)
        if person.id not in ids:
            raise PermissionDenied()

    async def _tell_learner(
        self, conn: AsyncConnection, approval: Approval, change: int, now: datetime
    ) -> None:
        """The learner hears the outcome, keyed by the decision's audit entry (told once)."""
        learner = await PeopleRepository(conn).get(approval.person_id)
        if learner.telegram_id is None:
            return
        text = {
            EnrolmentStatus.ENROLLED: "approval.told_approved",
            EnrolmentStatus.REJECTED: "approval.told_rejected",
        }.get(approval.status, "approval.told_expired")
        params = {"class_name": approval.class_name, "code": approval.class_code,
                  "by": approval.decided_by_name or "—",
                  "reason": _reason_line(approval.reason)}  # fmt: skip
        buttons = [[("catalog.open_card", OpenClass(approval.class_id))]]
        kind = MessageKind.APPROVAL_DECIDED
        message = notice(
            kind, f"{kind.value}:{approval.id}:{change}", chat_id=learner.telegram_id,
            person_id=learner.id, text_key=text, params=params, buttons=buttons,
        )  # fmt: skip
        await queue_or_hold(conn, [message], now=now, tz=self.policy.tz, defaults=self.defaults)

    # --- the pass ------------------------------------------------------------------------------

    async def expire_due(self) -> int:
        """Pending enrolments past their time give their seat back, each in its own
        transaction; the same conditional UPDATE as a decision, so a decision made a moment
        before wins and a second process expires nothing twice. Returns how many expired."""
        now = self.clock.now()
        async with self.db.read() as conn:
            due = await ApprovalRepository(conn).due(now, EXPIRE_BATCH)
        expired = 0
        for enrolment_id, class_id in due:
            async with self.db.write() as conn:
                training_class = await ClassRepository(conn).lock(class_id)
                repo = ApprovalRepository(conn)
                if not await repo.decide(enrolment_id, EnrolmentStatus.EXPIRED, None, now):
                    continue
                approval = await repo.get(enrolment_id)
                change = await AuditRepository(conn).record(
                    AuditAction.ENROLMENT_EXPIRED, actor=None, person_id=approval.person_id,
                    class_id=class_id,
                )  # fmt: skip
                await settle(conn, approval, {"key": "approval.outcome_expired"}, now,
                             self.policy.tz)  # fmt: skip
                await self._tell_learner(conn, approval, change, now)
                await ClassRepository(conn).free_seat(class_id)
                await self.enrolment.promote(conn, training_class, None)
            expired += 1
        if expired:
            self.notify()
        return expired

    async def remind_due(self) -> int:
        """Once a day within the office's hours, each decider with enrolments waiting is
        reminded, with a button to the list: keyed by the day and the person, so any number of
        passes (or processes) remind once. Returns how many reminders were queued."""
        now = self.clock.now()
        today = self.hours.day(now, self.policy.tz)
        if today is None or today == self._reminded_on:
            return 0
        counts: dict[tuple[int, int], int] = {}
        async with self.db.read() as conn:  # the long part reads; only the queueing writes
            people = PeopleRepository(conn)
            for approval in await ApprovalRepository(conn).pending(UnitScope.province(), SCANNED):
                learner = await people.get(approval.person_id)
                for d in await recipients(conn, learner, self.policy):
                    who = (d.person_id, d.telegram_id)
                    counts[who] = counts.get(who, 0) + 1
        self._reminded_on = today
        if not counts:
            return 0
        kind = MessageKind.APPROVAL_REMINDER
        keys = {who: f"{kind.value}:{today.isoformat()}:{who[0]}" for who in counts}
        buttons = [[("approval.list_button", PendingApprovals(fresh=True))]]
        async with self.db.write() as conn:
            known = await OfficeRepository(conn).known_keys(keys.values())
            messages = [
                notice(kind, key, chat_id=chat, person_id=pid, text_key="approval.reminder",
                       params={"count": counts[(pid, chat)]}, buttons=buttons)
                for (pid, chat), key in keys.items()
                if key not in known
            ]  # fmt: skip
            await queue_or_hold(conn, messages, now=now, tz=self.policy.tz, defaults=self.defaults)
        if messages:
            self.notify()
        return len(messages)

    # --- administrators ------------------------------------------------------------------------

    async def set_required(self, actor: Actor, class_id: int, required: bool) -> int | None:
        """Whether the class's enrolments wait for the unit head's approval (audited); the
        wanted state, so a double tap cannot undo itself. Switched off, the enrolments still
        waiting are approved by the administrator who switched it (each audited, its learner
        told and its requests settled): the office no longer asks, so nobody would decide
        them. Returns how many were approved so, or None if nothing changed."""
        require(actor, Role.ADMIN)
        now = self.clock.now()
        async with self.db.write() as conn:
            classes = ClassRepository(conn)
            training_class = await classes.lock(class_id)
            if training_class.requires_approval == required:
                return None
            await classes.update(class_id, requires_approval=required)
            await AuditRepository(conn).record(
                AuditAction.APPROVAL_REQUIRED if required else AuditAction.APPROVAL_DROPPED,
                actor=actor.telegram_id, class_id=class_id,
                before=training_class.requires_approval, after=required,
            )  # fmt: skip
            approved = 0
            if not required:
                for approval in await ApprovalRepository(conn).pending_of_class(class_id):
                    approved += await self._approve_as(conn, actor, approval, now)
        if approved:
            self.notify()
        return approved

    async def _approve_as(
        self, conn: AsyncConnection, actor: Actor, approval: Approval, now: datetime
    ) -> int:
        """Approves one waiting enrolment as this administrator (a superadmin may have no
        profile: then nobody is named), in the caller's transaction: 1 if it still waited."""
        repo = ApprovalRepository(conn)
        by = actor.person
        if not await repo.decide(approval.id, EnrolmentStatus.ENROLLED, by.id if by else None, now):
            return 0
        decided = await repo.get(approval.id)
        change = await AuditRepository(conn).record(
            AuditAction.ENROLMENT_APPROVED, actor=actor.telegram_id,
            person_id=approval.person_id, class_id=approval.class_id, approval_dropped=True,
        )  # fmt: skip
        outcome = {"key": "approval.outcome_approved",
                   "params": {"by": by.full_name if by else "—", "at": moment(now)}}  # fmt: skip
        await settle(conn, decided, outcome, now, self.policy.tz)
        await self._tell_learner(conn, decided, change, now)
        return 1


def _reason_line(reason: str | None) -> Any:
    """A rejection's reason as a sentence of its own (its full stop added unless it has one),
    or nothing at all."""
    if not reason:
        return ""
    end = "" if reason.endswith((".", "!", "?", "…")) else "."
    return {"key": "approval.reason_line", "params": {"reason": reason, "end": end}}
