"""Session reminders, change notices and quiet hours: one pass, derived from the database.

A pass looks at the clock, works out from sessions, enrolments, settings and the ledger what
has come due, and writes the decisions and the messages in one transaction. Nothing lives in
memory between passes, so a restart loses nothing and doubles nothing; the scheduler only
decides when the next pass runs (`PassReport.next_at`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import Action, ClassTimetable, MuteClass
from bot.clock import Clock
from bot.delivery.model import NewMessage
from bot.domain import Actor, MessageKind
from bot.reminders import (
    DEFAULT_EVENING,
    HORIZON,
    Lead,
    QuietHours,
    ReminderPrefs,
    ReminderState,
    decide,
    local_day,
    session_reminders_prefix,
)
from bot.services.access import registered
from bot.services.notices import moment, notice
from bot.services.quiet import queue_or_hold
from bot.training import ClassEventKind, ClassFormat, EnrolmentStatus
from storage.database import Database
from storage.repositories.classes import ClassEvent, ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.reminders import Recipient, ReminderRepository

#: A session that began up to this long ago still has its missed reminders recorded as
#: skipped (the bot was down across them).
LOOKBACK = timedelta(days=1)
#: Changes to one class are told together once its administrator has paused this long...
CHANGE_SETTLE = timedelta(seconds=90)
#: ...or this long after the first, whichever comes first.
CHANGE_MAX_WAIT = timedelta(minutes=5)
#: Events told inline by the change that made them (the cadre must hear at once).
_TOLD_INLINE = frozenset({ClassEventKind.CLASS_CANCELLED, ClassEventKind.PROMOTED})


@dataclass(frozen=True, slots=True)
class PassReport:
    sent: int = 0
    merged: int = 0
    skipped: int = 0
    changes: int = 0
    released: int = 0
    #: When something next falls due, as far as this pass could see.
    next_at: datetime | None = None

    @property
    def queued(self) -> int:
        return self.sent + self.changes + self.released


@dataclass(frozen=True, slots=True)
class MyClass:
    """A class whose reminders the person may turn off or on."""

    class_id: int
    code: str
    name: str
    muted: bool


def reminder_key(r: Recipient, lead: Lead) -> str:
    """The outbox key: the session's start is in it, so a moved session is reminded afresh."""
    start = int(r.starts_at.timestamp())
    return f"{session_reminders_prefix(r.class_id, r.session_id)}{start}:{r.person_id}:{lead.value}"


class ReminderService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: tzinfo,
        *,
        evening: time = DEFAULT_EVENING,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.evening = evening
        self.notify = notify

    # --- the pass ----------------------------------------------------------------------------

    async def run_pass(self) -> PassReport:
        """Everything that has come due, queued once; safe to run at any time, in any number
        of processes (the ledger and the outbox keys are unique)."""
        now = self.clock.now()
        async with self.db.write() as conn:
            repo = ReminderRepository(conn)
            released = await repo.release(now)
            changes, change_at = await self._changes(conn, now)
            report = await self._reminders(conn, now)
            next_release = await repo.next_release()
        candidates = [t for t in (report.next_at, change_at, next_release) if t is not None]
        report = replace(
            report,
            changes=changes,
            released=released,
            next_at=min(candidates) if candidates else None,
        )
        if report.queued:
            self.notify()
        return report

    async def _reminders(self, conn: AsyncConnection, now: datetime) -> PassReport:
        repo = ReminderRepository(conn)
        recipients = await repo.recipients(now - LOOKBACK, now + HORIZON)
        prefs = await repo.prefs(r.person_id for r in recipients)
        handled = await repo.handled({r.session_id for r in recipients})
        decided: list[tuple[Recipient, Lead, ReminderState]] = []
        to_send: dict[tuple[int, Lead], list[Recipient]] = defaultdict(list)
        wake: list[datetime] = []
        for r in recipients:
            wanted = prefs[r.person_id]
            if not wanted.wants(r.class_id):
                continue
            decision = decide(
                wanted.leads, starts_at=r.starts_at, since=r.since, now=now,
                handled=handled.get((r.session_id, r.person_id, r.starts_at), set()),
                quiet=wanted.quiet, tz=self.tz, evening=self.evening,
            )  # fmt: skip
            decided += [(r, lead, state) for lead, state in decision.decided.items()]
            if decision.send is not None:
                to_send[(r.session_id, decision.send)].append(r)
            if decision.wake_at is not None:
                wake.append(decision.wake_at)
        await repo.record(decided, now)
        outbox = OutboxRepository(conn)
        for (_, lead), group in to_send.items():
            first = group[0]
            local = first.starts_at.astimezone(self.tz)
            batch = await outbox.new_batch(
                MessageKind.REMINDER.value,
                f"{first.class_code} · {local:%d/%m %H:%M} · {lead.value}",
                None,
                len(group),
            )
            # One message per role, told to each: building it per recipient would cost more
            # than the rest of the pass (thousands of cadres share a session).
            shared = {teaching: self._reminder(r, lead, now, batch) for teaching, r in
                      {r.teaching: r for r in group}.items()}  # fmt: skip
            await outbox.add(
                [
                    replace(shared[r.teaching], dedup_key=reminder_key(r, lead),
                            chat_id=r.chat_id, person_id=r.person_id)
                    for r in group
                ]
            )  # fmt: skip
        states = [state for _, _, state in decided]
        return PassReport(
            sent=states.count(ReminderState.SENT),
            merged=states.count(ReminderState.MERGED),
            skipped=states.count(ReminderState.SKIPPED),
            next_at=min(wake) if wake else None,
        )

    def _reminder(self, r: Recipient, lead: Lead, now: datetime, batch: int) -> NewMessage:
        """The reminder of r's session for r's role (learning or teaching), addressed to r."""
        day = local_day(r.starts_at, self.tz)
        today = local_day(now, self.tz)
        when = (
            "reminder.today"
            if day == today
            else "reminder.tomorrow"
            if day == today + timedelta(days=1)
            else "reminder.on_day"
        )
        params: dict[str, Any] = {
            "name": r.class_name,
            "code": r.class_code,
            "number": r.number,
            "when": {"key": when, "params": {"day": moment(r.starts_at)}},
            "start": moment(r.starts_at),
            "end": moment(r.ends_at),
            "topic": {"key": "reminder.topic_line", "params": {"topic": r.topic}}
            if r.topic
            else "",
            "place": place_lines(r.class_format, r.room, r.link),
        }
        buttons: list[list[tuple[str, Action]]] = [
            [("reminder.timetable", ClassTimetable(r.class_id, fresh=True))]
        ]
        if not r.teaching:
            buttons.append([("reminder.mute_class", MuteClass(r.class_id))])
        return replace(
            notice(
                MessageKind.REMINDER,
                reminder_key(r, lead),
                chat_id=r.chat_id,
                person_id=r.person_id,
                text_key="reminder.teaching" if r.teaching else "reminder.learning",
                params=params,
                buttons=buttons,
            ),
            batch_id=batch,
        )

    # --- change notices ----------------------------------------------------------------------

    async def _changes(self, conn: AsyncConnection, now: datetime) -> tuple[int, datetime | None]:
        """Tells the people of each class what changed, once its changes have settled; one
        message per person for all the changes to the class. Returns how many were queued,
        and when the next class's changes will have settled."""
        classes = ClassRepository(conn)
        events = await classes.pending_events()
        inline = [e.id for e in events if e.kind in _TOLD_INLINE]
        by_class: dict[int, list[ClassEvent]] = defaultdict(list)
        for event in events:
            if event.kind not in _TOLD_INLINE:
                by_class[event.class_id].append(event)
        queued, next_at = 0, None
        done = list(inline)
        for class_id, group in by_class.items():
            ready_at = min(group[-1].at + CHANGE_SETTLE, group[0].at + CHANGE_MAX_WAIT)
            if ready_at > now:
                next_at = ready_at if next_at is None else min(next_at, ready_at)
                continue
            queued += await self._tell_changes(conn, class_id, group, now)
            done += [e.id for e in group]
        await classes.mark_handled(done, now)
        return queued, next_at

    async def _tell_changes(
        self, conn: AsyncConnection, class_id: int, events: Sequence[ClassEvent], now: datetime
    ) -> int:
        lines, days = change_lines(events)
        if not lines:  # moved and moved back: nothing to say
            return 0
        training_class = await ClassRepository(conn).get(class_id)
        members = [
            (m.person_id, m.telegram_id)
            for m in await EnrolmentRepository(conn).active_people(class_id)
            if m.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED)
        ]
        members += await ReminderRepository(conn).lecturers(class_id)
        reachable = {pid: chat for pid, chat in members if chat is not None}
        if not reachable:
            return 0
        outbox = OutboxRepository(conn)
        batch = await outbox.new_batch(
            MessageKind.CLASS_CHANGED.value,
            f"{training_class.code} · {training_class.name}"[:200],
            events[-1].actor,
            len(reachable),
        )
        params = {"name": training_class.name, "code": training_class.code, "changes": lines}
        messages = [
            replace(
                notice(
                    MessageKind.CLASS_CHANGED,
                    f"class_changed:{class_id}:{events[-1].id}:{person_id}",
                    chat_id=chat,
                    person_id=person_id,
                    text_key="change.notice",
                    params=params,
                    buttons=[[("reminder.timetable", ClassTimetable(class_id, fresh=True))]],
                ),
                batch_id=batch,
            )
            for person_id, chat in reachable.items()
        ]
        today = local_day(now, self.tz)
        urgent = any(local_day(day, self.tz) == today for day in days)
        await queue_or_hold(conn, messages, now=now, tz=self.tz, urgent=urgent)
        return len(messages)

    # --- settings ----------------------------------------------------------------------------

    async def settings(self, actor: Actor) -> ReminderPrefs:
        person = registered(actor)
        async with self.db.read() as conn:
            return (await ReminderRepository(conn).prefs([person.id]))[person.id]

    async def set_enabled(self, actor: Actor, enabled: bool) -> ReminderPrefs:
        """All reminders on or off; off also cancels those already queued."""
        return await self._change(actor, lambda p: replace(p, enabled=enabled))

    async def toggle_lead(self, actor: Actor, lead: Lead) -> ReminderPrefs:
        def toggled(p: ReminderPrefs) -> ReminderPrefs:
            chosen = set(p.leads) ^ {lead}
            return replace(p, leads=tuple(x for x in Lead if x in chosen))

        return await self._change(actor, toggled)

    async def set_quiet(self, actor: Actor, start: time, end: time) -> ReminderPrefs:
        """Quiet hours, local; equal times turn them off."""
        return await self._change(actor, lambda p: replace(p, quiet=QuietHours(start, end)))

    async def mute_class(self, actor: Actor, class_id: int, muted: bool) -> ReminderPrefs:
        person = registered(actor)
        async with self.db.write() as conn:
            await ClassRepository(conn).get(class_id)  # an unknown class is refused
            repo = ReminderRepository(conn)
            await repo.mute(person.id, class_id, muted, self.clock.now())
            if muted:
                await OutboxRepository(conn).cancel_pending(
                    session_reminders_prefix(class_id), person_id=person.id
                )
            return (await repo.prefs([person.id]))[person.id]

    async def my_classes(self, actor: Actor) -> list[MyClass]:
        """The classes to come the person learns in or teaches, for muting one by one."""
        person = registered(actor)
        now = self.clock.now()
        async with self.db.read() as conn:
            classes = ClassRepository(conn)
            entries = await classes.timetable(person.id, now, None)
            entries += await classes.timetable(person.id, now, None, teaching=True)
            prefs = (await ReminderRepository(conn).prefs([person.id]))[person.id]
        seen: dict[int, MyClass] = {}
        for e in entries:
            seen.setdefault(
                e.class_id,
                MyClass(e.class_id, e.class_code, e.class_name, e.class_id in prefs.muted_classes),
            )
        return list(seen.values())

    async def _change(
        self, actor: Actor, change: Callable[[ReminderPrefs], ReminderPrefs]
    ) -> ReminderPrefs:
        """Saves a change of settings; queued reminders it turns off are cancelled with it."""
        person = registered(actor)
        async with self.db.write() as conn:
            repo = ReminderRepository(conn)
            before = (await repo.prefs([person.id]))[person.id]
            after = change(before)
            await repo.save_prefs(person.id, after, self.clock.now())
            dropped = set(before.leads) - (set(after.leads) if after.enabled else set())
            if dropped:
                await OutboxRepository(conn).cancel_pending(
                    "reminder:", person_id=person.id, suffixes=[f":{d.value}" for d in dropped]
                )
            return after


def place_lines(fmt: ClassFormat, room: str | None, link: str | None) -> list[dict[str, Any]]:
    """Where the session is: the room, the meeting link, or both for a blended class."""
    lines: list[dict[str, Any]] = []
    if fmt is not ClassFormat.ONLINE:
        lines.append(
            {"key": "reminder.room_line", "params": {"room": room}}
            if room
            else {"key": "reminder.no_room"}
        )
    if fmt is not ClassFormat.ON_SITE and link:
        lines.append({"key": "reminder.link_line", "params": {"link": link}})
    return lines


def change_lines(events: Sequence[ClassEvent]) -> tuple[list[dict[str, Any]], list[datetime]]:
    """What changed, one line per change of each session (moved twice: from the first time
    to the last), and the times of the sessions concerned (a change today is urgent)."""
    was: dict[int, dict[str, Any]] = {}
    now: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.session_id is None:
            continue
        earliest = was.setdefault(event.session_id, {})
        for name, value in event.before.items():
            earliest.setdefault(name, value)
        latest = now.setdefault(event.session_id, {})
        latest.update(event.after)
        latest["cancelled"] = event.kind is ClassEventKind.SESSION_CANCELLED
    lines: list[dict[str, Any]] = []
    days: list[datetime] = []
    for sid, before in was.items():
        after = now[sid]
        old_start = datetime.fromisoformat(before["starts_at"])
        if after["cancelled"]:
            lines.append({"key": "change.cancelled", "params": {"at": moment(old_start)}})
            days.append(old_start)
            continue
        new_start = datetime.fromisoformat(after.get("starts_at", before["starts_at"]))
        if new_start != old_start:
            lines.append({"key": "change.moved", "params": {
                "old": moment(old_start), "new": moment(new_start),
                "end": moment(datetime.fromisoformat(after["ends_at"])),
            }})  # fmt: skip
            days += [old_start, new_start]
        place = (after.get("room", before.get("room")), after.get("link", before.get("link")))
        if place != (before.get("room"), before.get("link")):
            room, link = place
            fmt = (
                ClassFormat.BLENDED if room and link
                else ClassFormat.ONLINE if link
                else ClassFormat.ON_SITE
            )  # fmt: skip
            lines.append({"key": "change.place", "params": {
                "at": moment(new_start), "place": place_lines(fmt, room, link),
            }})  # fmt: skip
            days.append(new_start)
    return lines, days
