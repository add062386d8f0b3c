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

from bot.actions import Action, CheckIn, ClassTimetable, MuteClass
from bot.clock import Clock
from bot.delivery.model import NewMessage
from bot.domain import Actor, MessageKind
from bot.places import Text, place_lines, place_words
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
from bot.services.office_reminders import OfficeReminders
from bot.services.quiet import queue_or_hold
from bot.training import (
    ClassEventKind,
    ClassFormat,
    ClassStatus,
    EnrolmentStatus,
    Place,
    TrainingClass,
    session_place,
)
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
#: A session this close says how long is left ("còn 15 phút", "còn 2 giờ 45 phút"), not
#: just "today".
SOON_MINUTES = 180
#: An online session's reminder this close to it carries the check-in button (the evening's
#: would only be told "not yet").
CHECKIN_BUTTON_AHEAD = timedelta(minutes=75)
#: Events told inline by the change that made them (the cadre must hear at once).
_TOLD_INLINE = frozenset({ClassEventKind.CLASS_CANCELLED, ClassEventKind.PROMOTED})


@dataclass(frozen=True, slots=True)
class PassReport:
    sent: int = 0
    merged: int = 0
    skipped: int = 0
    changes: int = 0
    released: int = 0
    #: Reminders to the training office (bot/services/office_reminders.py).
    office: int = 0
    #: When something next falls due, as far as this pass could see.
    next_at: datetime | None = None

    @property
    def queued(self) -> int:
        return self.sent + self.changes + self.released + self.office


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


def time_left(minutes: int) -> Text:
    """How long until a session later today, as people say it: "còn 45 phút", and past an
    hour "còn 2 giờ 45 phút" (nobody counts "165 phút" in their head)."""
    if minutes <= 60:
        return {"key": "reminder.soon", "params": {"minutes": max(minutes, 1)}}
    hours, rest = divmod(minutes, 60)
    left: Text = {"key": "reminder.hours", "params": {"count": hours}}
    if rest:
        left = {"key": "reminder.hours_minutes", "params": {"hours": left, "count": rest}}
    return {"key": "reminder.soon_hours", "params": {"left": left}}


class ReminderService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: tzinfo,
        *,
        evening: time = DEFAULT_EVENING,
        defaults: ReminderPrefs | None = None,
        notify: Callable[[], None] = lambda: None,
        office: OfficeReminders | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.evening = evening
        #: What a person who never opened /settings gets (QUIET_HOURS sets its quiet hours).
        self.defaults = defaults or ReminderPrefs()
        self.notify = notify
        self.office = office or OfficeReminders(tz, frozenset())

    # --- the pass ----------------------------------------------------------------------------

    async def run_pass(self) -> PassReport:
        """Everything that has come due, queued once; safe to repeat at any time (the
        ledger and the outbox keys are unique). The runtime runs one pass at a time, in the
        process that sends, so a fan-out is one delivery batch."""
        now = self.clock.now()
        async with self.db.write() as conn:
            repo = ReminderRepository(conn)
            released = await repo.release(now)
            changes, change_at = await self._changes(conn, now)
            report = await self._reminders(conn, now)
            office = await self.office.run(conn, now, self.defaults)
            next_release = await repo.next_release()
        candidates = [t for t in (report.next_at, change_at, next_release) if t is not None]
        report = replace(
            report,
            changes=changes,
            released=released,
            office=office,
            next_at=min(candidates) if candidates else None,
        )
        if report.queued:
            self.notify()
        return report

    async def _reminders(self, conn: AsyncConnection, now: datetime) -> PassReport:
        repo = ReminderRepository(conn)
        recipients = await repo.recipients(now - LOOKBACK, now + HORIZON)
        prefs = await repo.prefs((r.person_id for r in recipients), self.defaults)
        handled = await repo.handled({r.session_id for r in recipients})
        decided: list[tuple[Recipient, Lead, ReminderState]] = []
        to_send: dict[tuple[int, Lead], list[Recipient]] = defaultdict(list)
        wake: list[datetime] = []
        for r in recipients:
            wanted = prefs[r.person_id]
            if not wanted.wants(r.class_id):
                continue
            decision = decide(
                wanted.leads, starts_at=r.starts_at, now=now,
                since=max(r.since, wanted.chosen_at or r.since),
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
            # Read in /delivery after the kind's name: "Nhắc lịch học: NL01 · 08:00 10/03".
            batch = await outbox.new_batch(
                MessageKind.REMINDER.value,
                f"{first.class_code} · {local:%H:%M %d/%m}",
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
        minutes = round((r.starts_at - now).total_seconds() / 60)
        when: dict[str, Any] = {"key": "reminder.on_day", "params": {"day": moment(r.starts_at)}}
        if day == today and minutes <= SOON_MINUTES:
            when = time_left(minutes)
        elif day == today:
            when = {"key": "reminder.today"}
        elif day == today + timedelta(days=1):
            when = {"key": "reminder.tomorrow", "params": {"day": moment(r.starts_at)}}
        params: dict[str, Any] = {
            "name": r.class_name,
            "code": r.class_code,
            "number": r.number,
            "when": when,
            "start": moment(r.starts_at),
            "end": moment(r.ends_at),
            "topic": {"key": "reminder.topic_line", "params": {"topic": r.topic}}
            if r.topic
            else "",
            "place": place_lines(r.place),
        }
        buttons: list[list[tuple[str, Action]]] = [
            [("reminder.timetable", ClassTimetable(r.class_id, fresh=True))]
        ]
        if not r.teaching:
            buttons.append([("reminder.mute_class", MuteClass(r.class_id))])
        near = r.starts_at - now <= CHECKIN_BUTTON_AHEAD
        if near and not r.teaching and r.place.format is not ClassFormat.ON_SITE:
            # An online session's check-in: no projector to read a code from.
            buttons.insert(0, [("checkin.button_checkin", CheckIn(r.session_id))])
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
        training_class = await ClassRepository(conn).get(class_id)
        changes = session_changes(events, training_class)
        if not changes or training_class.status is ClassStatus.CANCELLED:
            return 0  # moved and moved back; or the class is off, which they were told
        # Each person's chat, and whether they read the meeting link: the people of the
        # class do; the waitlist reads "online".
        told: dict[int, tuple[int, bool]] = {
            m.person_id: (m.telegram_id, m.status is EnrolmentStatus.ENROLLED)
            for m in await EnrolmentRepository(conn).active_people(class_id)
            if m.telegram_id is not None
        }
        for person_id, chat in await ReminderRepository(conn).lecturers(class_id):
            if chat is not None:
                told[person_id] = (chat, True)
        if not told:
            return 0
        outbox = OutboxRepository(conn)
        batch = await outbox.new_batch(
            MessageKind.CLASS_CHANGED.value,
            f"{training_class.code} · {training_class.name}"[:200],
            events[-1].actor,
            len(told),
        )
        params = {
            shown: {"name": training_class.name, "code": training_class.code,
                    "changes": change_lines(changes, shows_link=shown)}
            for shown in (True, False)
        }  # fmt: skip
        messages = [
            replace(
                notice(
                    MessageKind.CLASS_CHANGED,
                    f"class_changed:{class_id}:{events[-1].id}:{person_id}",
                    chat_id=chat,
                    person_id=person_id,
                    text_key="change.notice",
                    params=params[shown],
                    buttons=[[("reminder.timetable", ClassTimetable(class_id, fresh=True))]],
                ),
                batch_id=batch,
            )
            for person_id, (chat, shown) in told.items()
        ]
        today = local_day(now, self.tz)
        urgent = any(local_day(day, self.tz) == today for c in changes for day in c.days)
        await queue_or_hold(
            conn, messages, now=now, tz=self.tz, defaults=self.defaults, urgent=urgent
        )
        return len(messages)

    # --- settings ----------------------------------------------------------------------------

    async def settings(self, actor: Actor) -> ReminderPrefs:
        person = registered(actor)
        async with self.db.read() as conn:
            return (await ReminderRepository(conn).prefs([person.id], self.defaults))[person.id]

    async def set_enabled(self, actor: Actor, enabled: bool) -> ReminderPrefs:
        """All reminders on or off; off also cancels those already queued."""
        return await self._change(actor, lambda p: replace(p, enabled=enabled))

    async def choose_lead(self, actor: Actor, lead: Lead, chosen: bool) -> ReminderPrefs:
        """One lead ticked or unticked; none left means no reminder (the screen says so)."""

        def changed(p: ReminderPrefs) -> ReminderPrefs:
            leads = set(p.leads) | {lead} if chosen else set(p.leads) - {lead}
            return replace(p, leads=tuple(x for x in Lead if x in leads))

        return await self._change(actor, changed)

    async def set_quiet(self, actor: Actor, start: time, end: time) -> ReminderPrefs:
        """Quiet hours, local; equal times turn them off. What is held already waits for the
        new hours' end (off, or not quiet now: the next pass sends it)."""
        person = registered(actor)
        quiet = QuietHours(start, end)
        now = self.clock.now()
        async with self.db.write() as conn:
            repo = ReminderRepository(conn)
            prefs = replace((await repo.prefs([person.id], self.defaults))[person.id], quiet=quiet)
            await repo.save_prefs(person.id, prefs, now)
            await repo.reschedule(person.id, quiet.release(now, self.tz))
        return prefs

    async def mute_class(self, actor: Actor, class_id: int, muted: bool) -> MyClass:
        """One class's reminders off (those queued are cancelled) or back on."""
        person = registered(actor)
        async with self.db.write() as conn:
            training_class = await ClassRepository(conn).get(class_id)  # unknown: refused
            await ReminderRepository(conn).mute(person.id, class_id, muted, self.clock.now())
            if muted:
                await OutboxRepository(conn).cancel_pending(
                    session_reminders_prefix(class_id), person_id=person.id
                )
        return MyClass(class_id, training_class.code, training_class.name, muted)

    async def my_classes(self, actor: Actor) -> list[MyClass]:
        """The classes to come the person learns in or teaches, for muting one by one."""
        person = registered(actor)
        now = self.clock.now()
        async with self.db.read() as conn:
            classes = ClassRepository(conn)
            entries = await classes.timetable(person.id, now, None)
            entries += await classes.timetable(person.id, now, None, teaching=True)
            prefs = (await ReminderRepository(conn).prefs([person.id], self.defaults))[person.id]
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
            before = (await repo.prefs([person.id], self.defaults))[person.id]
            now = self.clock.now()
            after = replace(change(before), chosen_at=now)
            await repo.save_prefs(person.id, after, now)
            dropped = set(before.leads) - (set(after.leads) if after.enabled else set())
            if dropped:
                await OutboxRepository(conn).cancel_pending(
                    "reminder:", person_id=person.id, suffixes=[f":{d.value}" for d in dropped]
                )
            return after


@dataclass(frozen=True, slots=True)
class SessionChange:
    """One session over a run of changes: as it was before the first, as it is after the last."""

    old_start: datetime
    new_start: datetime
    new_end: datetime
    moved: bool
    cancelled: bool
    old_place: Place
    new_place: Place
    #: A session new to the class (its timetable imported): told with its time and place.
    added: bool = False

    @property
    def days(self) -> list[datetime]:
        """When the session was and is: a change touching today is urgent."""
        return [self.old_start] if self.cancelled else [self.old_start, self.new_start]


def session_changes(
    events: Sequence[ClassEvent], training_class: TrainingClass
) -> list[SessionChange]:
    """What changed, per session, from the first state to the last (moved twice: from the
    first time to the last); a session moved and moved back is left out."""
    was: dict[int, dict[str, Any]] = {}
    now: dict[int, dict[str, Any]] = {}
    added: set[int] = set()
    for event in events:
        if event.session_id is None:
            continue
        if event.kind is ClassEventKind.SESSION_ADDED:
            added.add(event.session_id)
        earliest = was.setdefault(event.session_id, {})
        for name, value in event.before.items():
            earliest.setdefault(name, value)
        latest = now.setdefault(event.session_id, {})
        latest.update(event.after)
        latest["cancelled"] = event.kind is ClassEventKind.SESSION_CANCELLED
    c = training_class
    found: list[SessionChange] = []
    for sid, before in was.items():
        after = {**before, **now[sid]}
        if sid in added:  # new: nothing to compare with, what it is now is told
            before = after
        old_place, new_place = (
            session_place(
                state.get("room"), state.get("link"), c.format, c.location, c.meeting_link
            )
            for state in (before, after)
        )
        # A session's end is recorded when its time changes, and only then is it told.
        moved = any(before.get(name) != after.get(name) for name in ("starts_at", "ends_at"))
        change = SessionChange(
            old_start=datetime.fromisoformat(before["starts_at"]),
            new_start=datetime.fromisoformat(after["starts_at"]),
            new_end=datetime.fromisoformat(after.get("ends_at", after["starts_at"])),
            moved=moved, cancelled=after["cancelled"], old_place=old_place, new_place=new_place,
            added=sid in added,
        )  # fmt: skip
        if change.added:
            if not change.cancelled:  # added and cancelled before anyone heard: nothing
                found.append(change)
        elif change.cancelled or change.moved or new_place != old_place:
            found.append(change)
    return found


#: New sessions a notice lists one by one; the others are counted (the timetable has them).
ADDED_LISTED = 10


def change_lines(changes: Sequence[SessionChange], *, shows_link: bool) -> list[Text]:
    """The changes as a notice tells them, each with the old and the new time or place."""
    lines: list[Text] = []
    added = [change for change in changes if change.added]
    for change in added[:ADDED_LISTED]:
        lines.append({"key": "change.added", "params": {
            "at": moment(change.new_start), "end": moment(change.new_end),
            "place": place_words(change.new_place, shows_link=shows_link),
        }})  # fmt: skip
    if len(added) > ADDED_LISTED:
        lines.append({"key": "change.added_more", "params": {"count": len(added) - ADDED_LISTED}})
    for change in changes:
        if change.added:
            continue
        if change.cancelled:
            lines.append({"key": "change.cancelled", "params": {"at": moment(change.old_start)}})
            continue
        if change.moved:
            lines.append({"key": "change.moved", "params": {
                "old": moment(change.old_start), "new": moment(change.new_start),
                "end": moment(change.new_end),
            }})  # fmt: skip
        old, new = change.old_place, change.new_place
        if new != old:
            online = new.format is ClassFormat.ONLINE and old.format is not ClassFormat.ONLINE
            lines.append({"key": "change.online" if online else "change.place", "params": {
                "at": moment(change.new_start),
                "old": place_words(old, shows_link=False),
                "new": place_words(new, shows_link=shows_link),
            }})  # fmt: skip
    return lines
