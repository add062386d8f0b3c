"""Dates and times typed the Vietnamese way, and recurring sessions.

Offices write day first and the hour with an "h": `5/3`, `05/03/2026`, `5-3-26`,
`5/3 7h30`, `7h`, `07:30`, `13g30`. A day without a year falls in the year given (the
plan's), and every time is a wall-clock time in the province's zone, turned into an aware
datetime here, once, so nothing downstream handles naive times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from bot.errors import InvalidInput

_DAY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?")
_TIME = re.compile(
    r"(\d{1,2})(?:\s*(?:h|g|:|giờ|gio)\s*(\d{2})?)?(?:\s*(?:phút|p))?", re.IGNORECASE
)
_SLOT = re.compile(r"(.+?)\s*(?:-|–|—|đến|den|to)\s*(.+)", re.IGNORECASE)
SPAN_MAX = 40  # "21 giờ 30 phút đến 6 giờ 00 phút" is 32 characters

#: Monday is 0, as Python counts; Vietnamese calls it "thứ 2" (the second day), Sunday "CN".
WEEKDAYS = tuple(range(7))


@dataclass(frozen=True, slots=True)
class Slot:
    """A session's time of day: start and end, local wall-clock."""

    start: time
    end: time


def parse_day(raw: str, year: int) -> date:
    """`5/3`, `05/03/2026` or `5-3-26` → the date; without a year, in `year`."""
    found = _DAY.fullmatch(raw.strip())
    if not found:
        raise InvalidInput("error.date_format", typed=raw.strip()[:40])
    day, month, typed_year = int(found[1]), int(found[2]), found[3]
    if typed_year:
        year = int(typed_year) + (2000 if len(typed_year) == 2 else 0)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidInput("error.date_invalid", typed=raw.strip()[:40]) from exc


#: A typed day, "5/3", "05.03.2026"; two of them with a dash or a word between make a range.
TYPED_DAY = r"\d{1,2}\s*[/.]\s*\d{1,2}(?:\s*[/.]\s*\d{2,4})?"
_DAY_RANGE = re.compile(rf"({TYPED_DAY})\s*(?:-|–|—|đến|den|to)\s*({TYPED_DAY})", re.IGNORECASE)


def split_day_range(text: str) -> tuple[str, str] | None:
    """ "01/10/2026 - 31/12/2026", "1.10 đến 31.12" → the two days as typed; else None."""
    found = _DAY_RANGE.fullmatch(text.strip())
    return (found[1], found[2]) if found else None


def parse_time(raw: str) -> time:
    """`7h30`, `7h`, `07:30`, `13g30`, `7 giờ 30` → the time of day."""
    found = _TIME.fullmatch(raw.strip())
    if not found:
        raise InvalidInput("error.time_format", typed=raw.strip()[:40])
    hour, minute = int(found[1]), int(found[2] or 0)
    if hour > 23 or minute > 59:
        raise InvalidInput("error.time_format", typed=raw.strip()[:40])
    return time(hour, minute)


def parse_span(raw: str) -> tuple[time, time]:
    """`21h30-6h`, `22-6`, `21:30 – 06:00` → a start and an end; the end may come first on
    the clock (the span crosses midnight, as a night does)."""
    text = raw.strip()
    found = _SLOT.fullmatch(text) if len(text) <= SPAN_MAX else None
    if not found:  # a long text is no span: it is not searched (and not echoed whole)
        raise InvalidInput("error.span_format", typed=text[:40])
    return parse_time(found[1]), parse_time(found[2])


def parse_moment(raw: str, year: int, tz: tzinfo) -> datetime:
    """`5/3 7h30` (or `5/3/2026 07:30`) → an aware datetime; a day alone is at 00:00."""
    text = raw.strip()
    day_part, _, time_part = text.partition(" ")
    day = parse_day(day_part, year)
    at = parse_time(time_part) if time_part.strip() else time(0, 0)
    return datetime.combine(day, at, tz)


def end_of_day(day: date, tz: tzinfo) -> datetime:
    """23:59 of the day: a deadline typed as a day includes that whole day."""
    return datetime.combine(day, time(23, 59), tz)


def parse_when(raw: str, year: int, tz: tzinfo, *, day_end: bool = False) -> datetime:
    """`5/3 17h` → that moment; `5/3` alone → its start, or with `day_end` its end (a
    deadline typed as a day includes the whole day)."""
    text = raw.strip()
    if " " in text:
        return parse_moment(text, year, tz)
    day = parse_day(text, year)
    return end_of_day(day, tz) if day_end else datetime.combine(day, time(0, 0), tz)


def parse_day_slot(raw: str, year: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """`6/3 7h30-11h` → a session's new start and end, on that day."""
    day_part, _, slot_part = raw.strip().partition(" ")
    day = parse_day(day_part, year)
    if not slot_part.strip():
        raise InvalidInput("error.slot_format", typed=raw.strip()[:40])
    slots = parse_slots(slot_part)
    if len(slots) != 1:
        raise InvalidInput("error.slot_format", typed=slot_part.strip()[:40])
    return datetime.combine(day, slots[0].start, tz), datetime.combine(day, slots[0].end, tz)


def parse_slots(raw: str) -> list[Slot]:
    """`7h30-11h, 13h30-16h30` → the times of day sessions take, in order."""
    slots: list[Slot] = []
    for part in re.split(r"[,;]|\bvà\b|\bva\b|\band\b", raw):
        if not part.strip():
            continue
        found = _SLOT.fullmatch(part.strip())
        if not found:
            raise InvalidInput("error.slot_format", typed=part.strip()[:40])
        start, end = parse_time(found[1]), parse_time(found[2])
        if end <= start:
            raise InvalidInput("error.slot_order", typed=part.strip()[:40])
        slots.append(Slot(start, end))
    if not slots:
        raise InvalidInput("error.slot_format", typed=raw.strip()[:40])
    slots.sort(key=lambda s: s.start)
    for before, after in pairwise(slots):
        if after.start < before.end:
            raise InvalidInput("error.slot_overlap")
    return slots


def parse_days(raw: str, year: int) -> list[date]:
    """`8/3, 9/3` → the days listed (exceptions to a recurrence)."""
    return [parse_day(part, year) for part in re.split(r"[,;\s]+", raw.strip()) if part]


def recurring(
    first: date,
    last: date,
    weekdays: Iterable[int],
    slots: Sequence[Slot],
    tz: tzinfo,
    skip: Iterable[date] = (),
) -> list[tuple[datetime, datetime]]:
    """Every session from `first` to `last` on these weekdays at these times, but on the
    days skipped: "Mondays to Fridays, 07:30–11:00 and 13:30–16:30, from 03/03 to 14/03,
    except 08/03"."""
    days = set(weekdays)
    skipped = set(skip)
    sessions: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        if day.weekday() in days and day not in skipped:
            sessions += [
                (datetime.combine(day, s.start, tz), datetime.combine(day, s.end, tz))
                for s in slots
            ]
        day += timedelta(days=1)
    return sessions
