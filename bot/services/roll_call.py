"""The lecturer's roll call of a session, corrections to it, and the session's close.

A roll call is saved in one transaction, in a few bulk statements whatever the class size.
Marking a learner who has no mark yet is taking the roll; changing a mark someone already
has (the learner's own check-in, an approved leave, an absence from the close, or a roll
call saved before) is a correction: it needs a reason and each one is audited with who
changed what, from what, and why. A session closes (the lecturer ends it, or the periodic
pass CLOSE_AFTER its end): the enrolled learners still unmarked become unexcused absences.
Each change of marks decides the warnings in its own transaction (bot/services/attendance).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import CHECKIN_EARLY, CLOSE_AFTER, Mark, MarkSource
from bot.clock import Clock
from bot.domain import Actor, AuditAction
from bot.errors import Conflict, InvalidInput
from bot.services.attendance import require_teacher, warn_if_due
from bot.services.quiet import Quiet
from bot.training import ClassStatus, Session, TrainingClass
from bot.validation import plain_text
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository, RollEntry, SessionState
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository

REASON_MIN, REASON_MAX = 3, 300
#: Sessions the periodic pass closes per transaction, and batches per pass.
CLOSE_BATCH, CLOSE_BATCHES = 50, 20
#: Sessions that ended longer ago than this are left as they are: a deployment does not turn
#: the history before attendance was taken here into absences.
CLOSE_WITHIN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class RollCounts:
    """How many of the roll have each mark, and how many have none yet."""

    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0
    unmarked: int = 0

    @classmethod
    def of(cls, marks: list[Mark | None]) -> RollCounts:
        counted = Counter(marks)
        return cls(counted[Mark.PRESENT], counted[Mark.LATE], counted[Mark.EXCUSED],
                   counted[Mark.ABSENT], counted[None])  # fmt: skip

    def as_dict(self) -> dict[str, int]:
        return {**{m.value: getattr(self, m.name.lower()) for m in Mark}, "unmarked": self.unmarked}


@dataclass(frozen=True, slots=True)
class RollSheet:
    """A session's roll as its lecturer sees it: everyone expected, with their marks so far
    (pre-filled from their own check-ins), and where the roll call stands."""

    session: Session
    training_class: TrainingClass
    entries: list[RollEntry]
    saved_at: datetime | None
    saved_by: int | None
    closed_at: datetime | None

    @property
    def counts(self) -> RollCounts:
        return RollCounts.of([e.mark for e in self.entries])

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass(frozen=True, slots=True)
class SavedRoll:
    """What a save (or a close) did."""

    counts: RollCounts
    marked: int  # learners who had no mark and got one
    corrected: int  # marks changed, each audited with its reason
    absent: int = 0  # unmarked learners made absent by the close
    warned: int = 0  # learners warned (with their unit heads) because of it
    closed: bool = False


def clean_reason(raw: str) -> str:
    """Why a mark was changed: one line of plain text, long enough to mean something."""
    text = " ".join(plain_text(unicodedata.normalize("NFC", raw)).split())
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise InvalidInput("roll.reason_length", min=REASON_MIN, max=REASON_MAX, length=len(text))
    return text


def corrections(entries: list[RollEntry], marks: Mapping[int, Mark]) -> dict[int, Mark]:
    """The marks that change one somebody already has (needing a reason)."""
    had = {e.person_id: e.mark for e in entries}
    return {p: m for p, m in marks.items() if had.get(p) is not None and had[p] is not m}


class RollCallService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        notify: Callable[[], None] = lambda: None,
        quiet: Quiet | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.notify = notify
        #: Warnings wait for their readers' quiet hours to end.
        self.quiet = quiet or Quiet()

    # --- the lecturer ----------------------------------------------------------------------

    async def sheet(self, actor: Actor, session_id: int) -> RollSheet:
        async with self.db.read() as conn:
            session, training_class = await self._allowed(conn, actor, session_id)
            return await self._sheet(conn, session, training_class)

    async def needs_reason(self, actor: Actor, session_id: int, marks: Mapping[int, Mark]) -> bool:
        """Whether saving these marks corrects marks already there (ask why first)."""
        sheet = await self.sheet(actor, session_id)
        return bool(corrections(sheet.entries, marks))

    async def save(
        self,
        actor: Actor,
        session_id: int,
        marks: Mapping[int, Mark],
        reason: str | None = None,
    ) -> SavedRoll:
        """Saves the roll call in one transaction: only marks that change are written."""
        why = clean_reason(reason) if reason is not None else None
        now = self.clock.now()
        async with self.db.write() as conn:
            session, training_class = await self._allowed(conn, actor, session_id)
            saved = await self._save(conn, actor, session, training_class, marks, why, now)
        self.notify()
        return saved

    async def close(
        self,
        actor: Actor,
        session_id: int,
        marks: Mapping[int, Mark] | None = None,
        reason: str | None = None,
    ) -> SavedRoll:
        """Ends the session's attendance now (with the roll call's last marks, if given):
        check-in stops, and the enrolled learners still unmarked become unexcused absences."""
        why = clean_reason(reason) if reason is not None else None
        now = self.clock.now()
        async with self.db.write() as conn:
            session, training_class = await self._allowed(conn, actor, session_id)
            if now < session.starts_at:
                raise Conflict("roll.not_started")
            state = await AttendanceRepository(conn).state(session_id)
            if state.closed_at is not None:
                raise Conflict("roll.already_closed")
            saved = await self._save(conn, actor, session, training_class, marks or {}, why, now,
                                     audited=False)  # fmt: skip
            absent, warned = await _close(conn, session, training_class, state, now, self.quiet)
            counts = (await self._sheet(conn, session, training_class)).counts
            await AuditRepository(conn).record(
                AuditAction.ROLL_CALL_SAVED, actor=actor.telegram_id, session_id=session.id,
                class_id=session.class_id, counts=counts.as_dict(), marked=saved.marked,
                absent=absent, closed=True,
            )  # fmt: skip
        self.notify()
        return SavedRoll(counts, saved.marked, saved.corrected, absent, saved.warned + warned,
                         closed=True)  # fmt: skip

    # --- the periodic pass -----------------------------------------------------------------

    async def close_due(self, now: datetime | None = None) -> int:
        """Closes the sessions that ended CLOSE_AFTER ago or more; returns how many. One
        indexed read when there is nothing to close, as there mostly is not."""
        now = now or self.clock.now()
        before, since = now - CLOSE_AFTER, now - CLOSE_AFTER - CLOSE_WITHIN
        async with self.db.read() as conn:
            if not await AttendanceRepository(conn).to_close(before, 1, since=since):
                return 0
        closed = 0
        for _ in range(CLOSE_BATCHES):
            async with self.db.write() as conn:
                repo = AttendanceRepository(conn)
                due = await repo.to_close(before, CLOSE_BATCH, since=since)
                classes: dict[int, TrainingClass] = {}
                for session_id, class_id, _ends in due:
                    if class_id not in classes:
                        classes[class_id] = await ClassRepository(conn).get(class_id)
                    session = await ClassRepository(conn).session(session_id)
                    state = await repo.state(session_id)
                    await _close(conn, session, classes[class_id], state, now, self.quiet)
            closed += len(due)
            if due:
                self.notify()
            if len(due) < CLOSE_BATCH:
                break
        return closed

    # --- inside a transaction --------------------------------------------------------------

    async def _allowed(
        self, conn: AsyncConnection, actor: Actor, session_id: int
    ) -> tuple[Session, TrainingClass]:
        """The session and its class, if the actor teaches it and its roll can be taken."""
        classes = ClassRepository(conn)
        session = await classes.session(session_id)
        await require_teacher(conn, actor, session)
        training_class = await classes.get(session.class_id)
        if training_class.status is ClassStatus.CANCELLED:
            raise Conflict("roll.class_cancelled")
        if session.cancelled:
            raise Conflict("roll.session_cancelled")
        if self.clock.now() < session.starts_at - CHECKIN_EARLY:
            raise Conflict("roll.too_early", at=session.starts_at - CHECKIN_EARLY)
        return session, training_class

    async def _sheet(
        self, conn: AsyncConnection, session: Session, training_class: TrainingClass
    ) -> RollSheet:
        repo = AttendanceRepository(conn)
        entries = await repo.roll(session.id, session.class_id, session.ends_at)
        state = await repo.state(session.id)
        return RollSheet(session, training_class, entries, state.saved_at, state.saved_by,
                         state.closed_at)  # fmt: skip

    async def _save(
        self,
        conn: AsyncConnection,
        actor: Actor,
        session: Session,
        training_class: TrainingClass,
        marks: Mapping[int, Mark],
        reason: str | None,
        now: datetime,
        *,
        audited: bool = True,
    ) -> SavedRoll:
        """Writes the marks that change; the roll call is audited unless a close does it."""
        repo = AttendanceRepository(conn)
        entries = await repo.roll(session.id, session.class_id, session.ends_at)
        had = {e.person_id: e.mark for e in entries}
        if any(person_id not in had for person_id in marks):
            raise InvalidInput("roll.not_on_roll")
        fixed = corrections(entries, marks)
        if fixed and reason is None:
            raise InvalidInput("roll.reason_needed")
        new = {p: m for p, m in marks.items() if had[p] is None}
        by = actor.person.id if actor.person else None
        state = await repo.state(session.id)
        await repo.put(session.id, session.class_id, new, source=MarkSource.ROLL, by=by, at=now)
        await repo.put(session.id, session.class_id, fixed, source=MarkSource.CORRECTION, by=by,
                       at=now)  # fmt: skip
        counts = RollCounts.of([marks.get(e.person_id, e.mark) for e in entries])
        audit = AuditRepository(conn)
        if audited and (new or state.saved_at is None):
            await audit.record(
                AuditAction.ROLL_CALL_SAVED, actor=actor.telegram_id, session_id=session.id,
                class_id=session.class_id, counts=counts.as_dict(), marked=len(new),
            )  # fmt: skip
        await audit.record_each(
            AuditAction.ATTENDANCE_CORRECTED, actor=actor.telegram_id,
            entries={p: {"session_id": session.id, "class_id": session.class_id, "by": by,
                         "before": _value(had[p]), "after": m.value,
                         "reason": reason} for p, m in fixed.items()},
        )  # fmt: skip
        await repo.update_state(session.id, saved_at=now, saved_by=by)
        changed = [*new, *fixed]
        warned = await warn_if_due(conn, training_class, changed, now, self.quiet) if changed else 0
        return SavedRoll(counts, len(new), len(fixed), warned=warned)


def _value(mark: Mark | None) -> str | None:
    return mark.value if mark is not None else None


async def _close(
    conn: AsyncConnection,
    session: Session,
    training_class: TrainingClass,
    state: SessionState,
    now: datetime,
    quiet: Quiet,
) -> tuple[int, int]:
    """Closes a session: its check-in stops, its unmarked learners become absent (and are
    warned if need be). Returns how many were made absent, and how many of them warned."""
    repo = AttendanceRepository(conn)
    absent = await repo.absent_unmarked(session.id, session.class_id, session.ends_at, now)
    stopped = state.stopped_at or (now if state.secret is not None else None)
    await repo.update_state(session.id, closed_at=now, stopped_at=stopped)
    warned = await warn_if_due(conn, training_class, absent, now, quiet) if absent else 0
    return len(absent), warned
