"""When the progress digests are due: pure rules, no database, no clock.

Administrators get the year's summary once a week (DIGEST_WEEKLY, a weekday), unit heads the
previous month's report of their units once a month (DIGEST_MONTHLY, a day 1–28), both at
DIGEST_AT local time. A digest the bot could not send at its time (it was down) still goes
out at the first pass within its grace (3 days for the weekly, 7 for the monthly): later it
would be news of another week, so it is left to the next one. Each digest is named by the
week of its day (ISO, "2026-W49") or by the month it reports ("2026-11"): that name is in
its outbox keys, so it goes to each recipient once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from bot.report import Period
from bot.validation import telegram_length

OFF = "off"
#: The weekday names DIGEST_WEEKLY accepts: English, and the Vietnamese "thứ 2" … "chủ nhật".
WEEKDAYS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6,
}  # fmt: skip
#: Every month has it (29, 30 and 31 do not).
MONTH_DAY_MAX = 28
WEEKLY_GRACE = timedelta(days=3)
MONTHLY_GRACE = timedelta(days=7)
DEFAULT_AT = time(7, 30)
#: Telegram's limit for a document's caption.
CAPTION_MAX = 1024


class DigestKind(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def parse_weekday(raw: str) -> int | None:
    """ "mon" … "sun" or "t2" … "t7", "cn" (any case) → 0–6; "off" → None; else ValueError."""
    text = raw.strip().lower()
    if text == OFF:
        return None
    if text not in WEEKDAYS:
        raise ValueError("write a weekday (mon … sun, t2 … t7, cn) or off")
    return WEEKDAYS[text]


def parse_month_day(raw: str) -> int | None:
    """ "1" … "28" → that day; "off" → None; else ValueError."""
    text = raw.strip().lower()
    if text == OFF:
        return None
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MONTH_DAY_MAX):
        raise ValueError(f"write a day of the month from 1 to {MONTH_DAY_MAX}, or off")
    return int(text)


@dataclass(frozen=True, slots=True)
class DueDigest:
    """A digest whose time has come: which one, the day it belongs to, what it reports."""

    kind: DigestKind
    day: date
    period: Period
    label: str  # "2026-W49" (the week of its day) or "2026-11" (the month it reports)

    def key(self, recipient: int) -> str:
        """The outbox key: a chat for the weekly one, a person for the monthly one."""
        return f"digest:{self.kind.value}:{self.label}:{recipient}"


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """DIGEST_WEEKLY, DIGEST_MONTHLY and DIGEST_AT; None turns a digest off (the default
    here, so that only the settings turn digests on)."""

    weekday: int | None = None
    month_day: int | None = None
    at: time = DEFAULT_AT

    @property
    def off(self) -> bool:
        return self.weekday is None and self.month_day is None

    def due(self, now: datetime, tz: tzinfo) -> list[DueDigest]:
        """The digests due at `now`: the latest of each kind whose time has passed, within
        its grace."""
        today = now.astimezone(tz).date()
        found: list[DueDigest] = []
        if self.weekday is not None:
            day = today - timedelta(days=(today.weekday() - self.weekday) % 7)
            if self._within(day, WEEKLY_GRACE, now, tz):
                found.append(weekly(day))
        if self.month_day is not None:
            day = today.replace(day=self.month_day)
            if day > today:
                day = _month_before(day).replace(day=self.month_day)
            if self._within(day, MONTHLY_GRACE, now, tz):
                found.append(monthly(day))
        return found

    def _within(self, day: date, grace: timedelta, now: datetime, tz: tzinfo) -> bool:
        start = datetime.combine(day, self.at, tz)
        return start <= now < start + grace


def weekly(day: date) -> DueDigest:
    """The weekly digest of `day`: the year to date; the year before on 1 January, which
    would have nothing to say yet."""
    iso = day.isocalendar()
    year = (day - timedelta(days=1)).year
    return DueDigest(DigestKind.WEEKLY, day, Period.of_year(year), f"{iso.year}-W{iso.week:02d}")


def monthly(day: date) -> DueDigest:
    """The monthly digest of `day`: the calendar month before it."""
    month = _month_before(day)
    period = Period.month(month.year, month.month)
    return DueDigest(DigestKind.MONTHLY, day, period, f"{month.year}-{month.month:02d}")


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def payloads(text: str, document: dict[str, str] | None, caption: str) -> list[dict[str, Any]]:
    """The digest as outbox payloads, in the order they are to be read: the text with the
    workbook under it when it fits a caption, else the text and then the workbook with a
    short `caption`; the text alone when there is no workbook."""
    if document is None:
        return [{"text": text}]
    if telegram_length(text) <= CAPTION_MAX:
        return [{"text": text, "document": document}]
    return [{"text": text}, {"text": caption, "document": document}]
