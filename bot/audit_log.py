"""The audit log as the office reads it: a period picked or typed in local days, the entries
of a person or of one kind, each with the names it refers to, and the export's file name."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.dates import TYPED_DAY, parse_day, split_day_range
from bot.domain import AuditAction
from bot.errors import InvalidInput

#: Days outside these years are typing mistakes (and would overflow the clock's range).
FIRST_YEAR, LAST_YEAR = 2000, 2099
TYPED_MAX = 60  # "01/10/2026 - 31/10/2026" is 23 characters


class PeriodPreset(StrEnum):
    """The periods offered as buttons, counted from the day they are tapped."""

    TODAY = "today"
    WEEK = "week"  # the last 7 days, today included
    MONTH = "month"
    LAST_MONTH = "lmonth"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days, the first and the last included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if not all(FIRST_YEAR <= d.year <= LAST_YEAR for d in (self.first, self.last)):
            raise InvalidInput("audit_log.period_years", first=FIRST_YEAR, last=LAST_YEAR)
        if self.last < self.first:
            raise InvalidInput("audit_log.period_reversed", first=self.first, last=self.last)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """From the first day's midnight to the midnight after the last day, local time: the
        whole last day is in."""
        after = self.last + timedelta(days=1)
        return datetime.combine(self.first, time(0), tz), datetime.combine(after, time(0), tz)

    def key(self) -> tuple[int, int]:
        """The period as buttons carry it: 20261001, 20261031."""
        return _number(self.first), _number(self.last)

    @classmethod
    def from_key(cls, first: int, last: int) -> Period:
        """The period a button carries; a forged one is refused."""
        try:
            return cls(_day(first), _day(last))
        except ValueError as exc:
            raise InvalidInput("audit_log.period_invalid") from exc

    def file_stem(self) -> str:
        """2026-11 for a calendar month, 2026 for a year, 2026-11-05 for a day, else both days."""
        first, last = self.first, self.last
        if first == last:
            return first.isoformat()
        if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and (
            first.year == last.year
        ):
            return str(first.year)
        if first.day == 1 and last == _month_end(first):
            return first.strftime("%Y-%m")
        return f"{first.isoformat()}_{last.isoformat()}"


def preset(which: PeriodPreset, today: date) -> Period:
    """The period a button names, as of `today` (local)."""
    month_start = today.replace(day=1)
    match which:
        case PeriodPreset.TODAY:
            return Period(today, today)
        case PeriodPreset.WEEK:
            return Period(today - timedelta(days=6), today)
        case PeriodPreset.MONTH:
            return Period(month_start, _month_end(today))
        case PeriodPreset.LAST_MONTH:
            last = month_start - timedelta(days=1)
            return Period(last.replace(day=1), last)
        case PeriodPreset.YEAR:
            return Period(date(today.year, 1, 1), date(today.year, 12, 31))


def parse_period(raw: str, today: date) -> Period:
    """`01/10/2026-31/10/2026` (or `1/10 - 31/10`, `1.10.2026 đến 31.10.2026`, or a single
    day) → the days from the first to the last; a day without a year is in this year."""
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    shown = text[:40]
    if len(text) > TYPED_MAX:
        raise InvalidInput("audit_log.period_format", typed=shown)
    if (found := split_day_range(text)) is not None:
        first, last = found
    elif re.fullmatch(TYPED_DAY, text):
        first = last = text
    else:
        raise InvalidInput("audit_log.period_format", typed=shown)
    return Period(parse_day(first, today.year), parse_day(last, today.year))


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What the office asks of the log: a period, and optionally a person (the entries about
    them and those done from their account) and one kind of action."""

    period: Period
    person_id: int | None = None
    action: AuditAction | None = None

    @classmethod
    def from_key(cls, first: int, last: int, person_id: int = 0, action: str = "") -> AuditQuery:
        """The query a button carries (0 and "" for no filter); a forged one is refused."""
        if action and action not in {a.value for a in AuditAction}:
            raise InvalidInput("audit_log.action_unknown")
        return cls(
            Period.from_key(first, last), person_id or None, AuditAction(action) if action else None
        )


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One entry of the log, with the names of who did it and whom it is about (None for
    the system, or for an account no longer linked to a profile)."""

    id: int
    at: datetime
    action: str
    details: dict[str, object] = field(default_factory=dict)
    actor_telegram_id: int | None = None
    actor_name: str | None = None
    person_id: int | None = None
    person_name: str | None = None

    def unit_ids(self) -> list[int]:
        return [u] if isinstance(u := self.details.get("unit_id"), int) else []

    def class_ids(self) -> list[int]:
        return [c] if isinstance(c := self.details.get("class_id"), int) else []


def _number(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _day(number: int) -> date:
    return date(number // 10_000, number // 100 % 100, number % 100)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
