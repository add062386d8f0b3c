"""What the training office should be reminded of on a day: pure rules, no database, no clock.

Administrators are reminded, at most once a day for each kind, of what needs them: enrolment
closing soon on a class with seats left, sessions of the week ahead without a lecturer or a
place, classes that ended but were never closed; and of the periodic reports of the seeds
(a six-month and a year-end report, seed 004; the annual report due before 22 February,
seed 003), on dates the operator may change (`REPORT_REMINDERS`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.training import ClassFormat

#: An enrolment deadline this many days ahead (or fewer) is near.
DEADLINE_DAYS = 3
#: Sessions this many days ahead (or fewer) should have their lecturer and their place.
SESSION_DAYS = 7
#: A digest names this many items, then says how many more there are.
LISTED = 10
#: A report reminder missed on its day (the bot was down) still goes out on the days after,
#: until the next reminder of that report, its deadline, or this long.
REPORT_GRACE = timedelta(days=7)
#: The seeds' reports: a six-month report early July, a year-end report early December, and
#: the annual report, first reminded on 1 February for its 22 February deadline.
DEFAULT_CALENDAR = "01/07 six_month; 01/12 year_end; 01/02-22/02 annual"
#: Before a deadline, reminders go out this many days ahead (and on the window's first day).
DEADLINE_REMINDERS = (7, 1)
REPORT_NAME_MAX = 100

_DAY_MONTH = r"(\d{1,2})/(\d{1,2})"
_ENTRY = re.compile(rf"{_DAY_MONTH}(?:\s*-\s*{_DAY_MONTH})?\s+(\S.*)", re.ASCII)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """The local hours in which the office is reminded (OFFICE_REMINDER_HOURS): the first
    pass after they begin makes the day's digests; none is made at night (tomorrow's lists
    the same things). Equal times: no office reminders at all."""

    start: time = time(8, 0)
    end: time = time(20, 0)

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """ "08:00-20:00"; ValueError unless that, within one day."""
        start, sep, end = text.replace(" ", "").partition("-")
        if not sep:
            raise ValueError("office reminder hours are written HH:MM-HH:MM")
        hours = cls(time.fromisoformat(start), time.fromisoformat(end))
        if hours.start > hours.end:
            raise ValueError("office reminder hours end after they start, within the day")
        return hours

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def day(self, now: datetime, tz: tzinfo) -> date | None:
        """The local day whose reminders may go out now, or None outside the hours."""
        local = now.astimezone(tz)
        return local.date() if self.start <= local.time() < self.end else None


DEFAULT_OFFICE_HOURS = OfficeHours()


class Gap(StrEnum):
    """What a session still lacks a week ahead."""

    LECTURER = "lecturer"
    ROOM = "room"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class DayMonth:
    """A day of every year (29 February is refused: it does not come every year)."""

    day: int
    month: int

    def of(self, year: int) -> date:
        return date(year, self.month, self.day)

    def __str__(self) -> str:
        return f"{self.day:02d}/{self.month:02d}"


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One periodic report: reminded on `first`; with a `deadline`, reminded again a week
    and a day before it."""

    first: DayMonth
    report: str
    deadline: DayMonth | None = None

    @property
    def tag(self) -> str:
        """A short stable name for outbox keys, whatever the report's name is written in."""
        return hashlib.blake2b(str(self).encode(), digest_size=4).hexdigest()

    def __str__(self) -> str:
        days = f"{self.first}-{self.deadline}" if self.deadline else str(self.first)
        return f"{days} {self.report}"

    def period(self, year: int) -> tuple[date, date | None]:
        """The first reminder day in `year` and the deadline after it (the next year's, for
        a window across the new year)."""
        first = self.first.of(year)
        if self.deadline is None:
            return first, None
        deadline = self.deadline.of(year)
        return first, deadline if deadline >= first else self.deadline.of(year + 1)

    def reminder_days(self, year: int) -> list[date]:
        """The days of the period starting in `year` on which the report is reminded."""
        first, deadline = self.period(year)
        days = {first}
        if deadline is not None:
            days |= {deadline - timedelta(days=n) for n in DEADLINE_REMINDERS}
        return sorted(d for d in days if d >= first)


@dataclass(frozen=True, slots=True)
class DueReport:
    """A report to remind of today: which reminder day it is, and by when it is due."""

    entry: ReportEntry
    reminded_on: date
    deadline: date | None


def parse_calendar(raw: str) -> tuple[ReportEntry, ...]:
    """The `REPORT_REMINDERS` setting: entries separated by ";", each "DD/MM name" or
    "DD/MM-DD/MM name" (first reminder, deadline). Empty: no report reminders. Raises
    ValueError naming the entry at fault."""
    entries: list[ReportEntry] = []
    for part in raw.split(";"):
        text = " ".join(part.split())
        if not text:
            continue
        found = _ENTRY.fullmatch(text)
        if found is None:
            raise ValueError(f"{text!r}: write 'DD/MM name' or 'DD/MM-DD/MM name'")
        first = _day_month(found[1], found[2], text)
        deadline = _day_month(found[3], found[4], text) if found[3] else None
        name = found[5].strip()
        if len(name) > REPORT_NAME_MAX or not name.isprintable():
            raise ValueError(f"{text!r}: the report's name is too long or unprintable")
        entries.append(ReportEntry(first, name, deadline))
    return tuple(entries)


def _day_month(day: str, month: str, entry: str) -> DayMonth:
    try:
        date(2001, int(month), int(day))  # not a leap year: 29/02 is refused
    except ValueError:
        raise ValueError(f"{entry!r}: {day}/{month} is not a day of every year") from None
    return DayMonth(int(day), int(month))


DEFAULT_REPORTS = parse_calendar(DEFAULT_CALENDAR)


def reports_due(calendar: Sequence[ReportEntry], today: date) -> list[DueReport]:
    """The report reminders due on `today`: each on its day, or on the days after it if it
    was missed, until the report's next reminder, its deadline, or REPORT_GRACE."""
    due: list[DueReport] = []
    for entry in calendar:
        for year in (today.year - 1, today.year):
            _, deadline = entry.period(year)
            days = entry.reminder_days(year)
            for day, following in zip(days, [*days[1:], None], strict=True):
                until = day + REPORT_GRACE
                if following is not None:
                    until = min(until, following)
                if deadline is not None:
                    until = min(until, deadline + timedelta(days=1))
                if day <= today < until:
                    due.append(DueReport(entry, day, deadline))
    return due


def days_ahead(moment: datetime, now: datetime, tz: tzinfo) -> int:
    """How many local days from today `moment` falls: 0 today, 1 tomorrow."""
    return (moment.astimezone(tz).date() - now.astimezone(tz).date()).days


def deadline_near(deadline: datetime, now: datetime, tz: tzinfo) -> bool:
    """Enrolment closes within DEADLINE_DAYS local days and has not closed yet."""
    return deadline > now and days_ahead(deadline, now, tz) <= DEADLINE_DAYS


def session_near(starts_at: datetime, now: datetime, tz: tzinfo) -> bool:
    """The session is within SESSION_DAYS local days and has not begun."""
    return starts_at > now and days_ahead(starts_at, now, tz) <= SESSION_DAYS


def gaps(
    fmt: ClassFormat, *, has_lecturer: bool, room: str | None, link: str | None
) -> tuple[Gap, ...]:
    """What a session lacks: its lecturer (on it or on the class), a room where learners
    come (on site, blended), a meeting link where they join online (online, blended)."""
    missing: list[Gap] = []
    if not has_lecturer:
        missing.append(Gap.LECTURER)
    if fmt is not ClassFormat.ONLINE and not room:
        missing.append(Gap.ROOM)
    if fmt is not ClassFormat.ON_SITE and not link:
        missing.append(Gap.LINK)
    return tuple(missing)
