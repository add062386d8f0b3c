"""When a reminder is due, and what to do about it now: pure rules, no database, no clock.

Reminders are never stored ahead of time. Each pass of the notifier derives, from sessions,
enrolments and each person's settings, which reminders have come due; a ledger records each
one decided (sent, merged into a later one, skipped) under the session's start time, so a
pass repeated after a restart decides nothing twice and a moved session starts afresh.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.dates import parse_span
from bot.errors import InvalidInput


class Lead(StrEnum):
    """How long before a session a reminder goes out (the short list a cadre picks from)."""

    EVENING = "eve"  # the evening before, at the configured hour
    DAY = "1d"
    HOURS_3 = "3h"
    HOUR = "1h"
    MINUTES_15 = "15m"


LEAD_DELTAS = {
    Lead.DAY: timedelta(days=1),
    Lead.HOURS_3: timedelta(hours=3),
    Lead.HOUR: timedelta(hours=1),
    Lead.MINUTES_15: timedelta(minutes=15),
}
DEFAULT_LEADS: tuple[Lead, ...] = (Lead.EVENING, Lead.HOUR)
DEFAULT_EVENING = time(19, 0)
#: A reminder going out this late (held by quiet hours, the bot down)...
LATE = timedelta(minutes=10)
#: ...waits for the next one if that is due this soon: one message, not two.
HELD_MERGE = timedelta(hours=1)
#: The reminders the notifier looks ahead for: the evening before a session at 23:59 is
#: under 29 hours ahead, a day's lead 24 hours.
HORIZON = timedelta(hours=30)


class ReminderState(StrEnum):
    SENT = "sent"
    #: Folded into a later reminder sent with it, or due before the reminder existed (a late
    #: enrolment): not sent late.
    MERGED = "merged"
    #: Its session had begun when it could have gone out (the bot was down, quiet hours).
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local times between which a person is not disturbed; equal times mean never quiet."""

    start: time = time(21, 30)
    end: time = time(6, 0)

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """ "21:30-06:00" (the QUIET_HOURS setting); ValueError if it is not that."""
        start, sep, end = text.replace(" ", "").partition("-")
        if not sep:
            raise ValueError("quiet hours are written HH:MM-HH:MM")
        return cls(time.fromisoformat(start), time.fromisoformat(end))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def active(self) -> bool:
        return self.start != self.end

    def holds(self, moment: datetime, tz: tzinfo) -> bool:
        if not self.active:
            return False
        local = moment.astimezone(tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, moment: datetime, tz: tzinfo) -> datetime:
        """The end of the quiet spell `moment` falls in (UTC); `moment` itself if none."""
        if not self.holds(moment, tz):
            return moment
        local = moment.astimezone(tz)
        end = datetime.combine(local.date(), self.end, tzinfo=tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=tz)
        return end.astimezone(UTC)


#: Quiet hours longer than this would hold the day's reminders too: "06:00-21:30" is taken
#: for a slip of "21:30-06:00", not for a wish to hear nothing all day.
QUIET_MAX = timedelta(hours=12)


def parse_quiet_hours(raw: str) -> QuietHours:
    """Quiet hours as a cadre types them: `21:30-06:00`, `21h30-6h`, `22-6`; refused, with
    the reason, when both times are the same or the span is longer than QUIET_MAX."""
    start, end = parse_span(raw)
    if start == end:
        raise InvalidInput("error.quiet_same", at=f"{start:%H:%M}")
    minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % (24 * 60)
    if timedelta(minutes=minutes) > QUIET_MAX:
        hours = int(QUIET_MAX.total_seconds() // 3600)
        raise InvalidInput(
            "error.quiet_long", start=f"{start:%H:%M}", end=f"{end:%H:%M}", hours=hours
        )
    return QuietHours(start, end)


@dataclass(frozen=True, slots=True)
class ReminderPrefs:
    """A person's reminder settings; the defaults are what a person who never chose gets."""

    enabled: bool = True
    leads: tuple[Lead, ...] = DEFAULT_LEADS
    quiet: QuietHours = field(default_factory=QuietHours)
    muted_classes: frozenset[int] = frozenset()
    #: When the leads or the switch last changed: a lead due before then is merged into the
    #: next one (ticking "3 hours before" at 19:02 does not remind at once of 19:30).
    chosen_at: datetime | None = None

    def wants(self, class_id: int) -> bool:
        return self.enabled and bool(self.leads) and class_id not in self.muted_classes


def due_at(
    lead: Lead, starts_at: datetime, tz: tzinfo, evening: time = DEFAULT_EVENING
) -> datetime:
    """When the reminder falls due, in UTC: computed in local time, so the evening before is
    19:00 where the cadre lives whatever the server's own zone."""
    if lead is Lead.EVENING:
        eve = starts_at.astimezone(tz).date() - timedelta(days=1)
        return datetime.combine(eve, evening, tzinfo=tz).astimezone(UTC)
    return starts_at - LEAD_DELTAS[lead]


def session_reminders_prefix(class_id: int, session_id: int | None = None) -> str:
    """The start of the outbox keys of a class's (a session's) reminders, to cancel them."""
    return f"reminder:{class_id}:" + (f"{session_id}:" if session_id is not None else "")


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do now with one person's reminders for one session."""

    send: Lead | None = None
    merged: tuple[Lead, ...] = ()
    skipped: tuple[Lead, ...] = ()
    #: When to look again (the next reminder due, or the end of quiet hours), if ever.
    wake_at: datetime | None = None

    @property
    def decided(self) -> dict[Lead, ReminderState]:
        states = {lead: ReminderState.MERGED for lead in self.merged}
        states |= {lead: ReminderState.SKIPPED for lead in self.skipped}
        if self.send is not None:
            states[self.send] = ReminderState.SENT
        return states


def decide(
    leads: Iterable[Lead],
    *,
    starts_at: datetime,
    since: datetime,
    now: datetime,
    handled: Collection[Lead],
    quiet: QuietHours,
    tz: tzinfo,
    evening: time = DEFAULT_EVENING,
) -> Decision:
    """One person, one session. `since` is when the reminder came to exist (the enrolment,
    the session added or moved); `handled` the leads already in the ledger.

    - A lead due before `since` (or at it: a session moved at 19:00 is told by its change
      notice) is merged into the next one, not sent late.
    - Of the leads due now, only the latest is sent; the earlier ones are merged into it
      (after downtime or quiet hours, one message, not three).
    - Nothing is sent once the session has begun: those leads are skipped.
    - During quiet hours nothing is sent; the pass looks again when they end, and what was
      held goes out then, or with the next reminder if that is due within HELD_MERGE (so
      does any reminder going out LATE).
    """
    open_leads = sorted(
        ((due_at(lead, starts_at, tz, evening), lead) for lead in set(leads) - set(handled)),
        key=lambda pair: pair[0],
    )
    late = tuple(lead for due, lead in open_leads if due <= since)
    ripe = [(due, lead) for due, lead in open_leads if since < due <= now]
    ahead = [due for due, _ in open_leads if due > now and due > since]
    if now >= starts_at:
        return Decision(merged=late, skipped=tuple(lead for _, lead in ripe))
    wake_at = min(ahead) if ahead else None
    if not ripe:
        return Decision(merged=late, wake_at=wake_at)
    if quiet.holds(now, tz):
        release = quiet.release(now, tz)
        wake_at = min(release, wake_at) if wake_at else release
        return Decision(merged=late, wake_at=min(wake_at, starts_at))
    *earlier, (latest_due, latest) = ripe
    if now - latest_due > LATE and ahead and min(ahead) - now <= HELD_MERGE:
        # Held all night (or the bot was down), and the next one is near: one message, not two.
        return Decision(merged=late, wake_at=wake_at)
    return Decision(send=latest, merged=late + tuple(lead for _, lead in earlier), wake_at=wake_at)
