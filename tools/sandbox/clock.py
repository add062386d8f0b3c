"""The sandbox's clock: `:clock` shows it, `:clock +2h` or `:clock 19:00` moves it forward.

A person trying reminders should not wait for 19:00: they move the clock there and watch the
reminders arrive. The offset is kept in data/clock.json, so a restart keeps the moved time;
`--reset` removes it with the database. Parsing is pure, so tests need no terminal.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from bot.clock import OffsetClock
from bot.i18n import texts

#: How far ahead of the real time the clock may go: a year shows every reminder there is, and
#: a bound keeps a typo (`+99999d`) from leaving the calendar.
MAX_AHEAD = timedelta(days=366)
EXAMPLES = ":clock +2h · +30m · +1d · 19:00 · 18/03 19:00 · reset"

_UNITS = {
    "d": timedelta(days=1), "ngày": timedelta(days=1),
    "h": timedelta(hours=1), "giờ": timedelta(hours=1),
    "m": timedelta(minutes=1), "phút": timedelta(minutes=1),
}  # fmt: skip
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_PART = re.compile(rf"(\d{{1,6}})\s*({_UNIT})")
_AMOUNT = re.compile(rf"(?:\d{{1,6}}\s*(?:{_UNIT})\s*)+")
_DURATION = re.compile(rf"([+-])\s*({_AMOUNT.pattern})")
_TIME = re.compile(r"(\d{1,2})[:h](\d{2})")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")


class BadMove(ValueError):
    """What is wrong with a `:clock` argument, as the one line the person reads."""


@dataclass(frozen=True, slots=True)
class Show:
    """`:clock` alone: where the clock stands."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Back to the real time."""


@dataclass(frozen=True, slots=True)
class MoveTo:
    """Move the clock forward to `moment` (aware)."""

    moment: datetime


ClockMove = Show | Reset | MoveTo


def parse_clock(arg: str, now: datetime, tz: tzinfo) -> ClockMove:
    """What `:clock ARG` asks for, at sandbox time `now`; raises BadMove, naming the problem.

    `+2h`, `+30m`, `+1d`, `+1d2h30m` (also in Vietnamese: `+2 giờ`, `+30 phút`, `+1 ngày`)
    move by that much; `19:00` moves to the next 19:00 (today's, or tomorrow's once passed);
    `18/03 19:00` or `18/03/2026 19:00` to that moment, which must lie ahead.
    """
    typed = " ".join(arg.split())
    text = typed.lower()
    if not text:
        return Show()
    if text == "reset":
        return Reset()
    if m := _DURATION.fullmatch(text):
        if m[1] == "-":
            raise BadMove(_BACKWARDS)
        delta = sum((int(n) * _UNITS[unit] for n, unit in _PART.findall(m[2])), timedelta(0))
        if delta > MAX_AHEAD:
            raise BadMove(_TOO_FAR)
        return _ahead(now + delta, now)
    return _ahead(_moment(text, now, tz, typed), now)


def _moment(text: str, now: datetime, tz: tzinfo, typed: str) -> datetime:
    """The moment a `19:00` or `18/03 19:00` names, in sandbox time (`text` is what was
    `typed`, in lower case)."""
    words = text.split(" ")
    times = [m for w in words if (m := _TIME.fullmatch(w))]
    dates = [m for w in words if (m := _DATE.fullmatch(w))]
    if len(times) != 1 or len(dates) > 1 or len(times) + len(dates) != len(words):
        hint = f" (+{typed}?)" if _AMOUNT.fullmatch(text) else ""
        shown = "".join(c for c in typed[:40] if c.isprintable())
        raise BadMove(f"Không hiểu «{shown}»{hint} · not understood. Ví dụ · e.g. {EXAMPLES}")
    hour, minute = int(times[0][1]), int(times[0][2])
    if hour > 23 or minute > 59:
        raise BadMove(f"Không có giờ {times[0][0]} · no such time (00:00–23:59)")
    at = time(hour, minute)
    local = now.astimezone(tz)
    if not dates:
        moment = datetime.combine(local.date(), at, tz)
        return moment if moment > now else datetime.combine(local.date() + timedelta(1), at, tz)
    day, month, year = dates[0][1], dates[0][2], dates[0][3]
    try:
        on = date(int(year) if year else local.year, int(month), int(day))
    except ValueError:
        raise BadMove(f"Không có ngày {dates[0][0]} · no such date") from None
    moment = datetime.combine(on, at, tz)
    if moment <= now:
        raise BadMove(_BACKWARDS)
    return moment


def _ahead(moment: datetime, now: datetime) -> MoveTo:
    if moment <= now:
        raise BadMove(_BACKWARDS)
    return MoveTo(moment)


_BACKWARDS = (
    "Giờ sandbox chỉ tiến lên · the clock only moves forward "
    "(:clock reset để về giờ thật · back to the real time)"
)
_TOO_FAR = "Tối đa 366 ngày sau giờ thật · at most 366 days ahead of the real time"


def describe(now: datetime, offset: timedelta, tz: tzinfo) -> str:
    """`🕰 Giờ sandbox · sandbox time: 19:00 Thứ Tư, 18/03/2026 (giờ thật + 2 giờ 30 phút ·
    real time +2h 30m)`: local time, and how far ahead of the real time, to the minute."""
    when = texts("vi", tz).format("{at:time} {at:day}", at=now)
    minutes = round(offset.total_seconds() / 60)
    if minutes <= 0:
        return f"🕰 Giờ sandbox · sandbox time: {when} (giờ thật · real time)"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "ngày", "d"), (hours, "giờ", "h"), (mins, "phút", "m")]
    vi = " ".join(f"{n} {word}" for n, word, _ in parts if n)
    en = " ".join(f"{n}{unit}" for n, _, unit in parts if n)
    return f"🕰 Giờ sandbox · sandbox time: {when} (giờ thật + {vi} · real time +{en})"


class SandboxClock:
    """The sandbox's `OffsetClock` and the file that keeps its offset across restarts."""

    def __init__(self, path: Path, tz: tzinfo) -> None:
        self.path = path
        self.tz = tz
        self.clock = OffsetClock(load_offset(path))

    def now(self) -> datetime:
        return self.clock.now()

    def apply(self, move: Reset | MoveTo) -> None:
        """Move (or reset) the clock and save its offset at once."""
        if isinstance(move, Reset):
            self.clock.reset()
        else:
            ahead = move.moment - datetime.now(UTC)
            if ahead > MAX_AHEAD:
                raise BadMove(_TOO_FAR)
            self.clock.advance(move.moment - self.clock.now())
        save_offset(self.path, self.clock.offset)

    def describe(self) -> str:
        return describe(self.now(), self.clock.offset, self.tz)


def load_offset(path: Path) -> timedelta:
    """The saved offset; none (a first start, `--reset`, a damaged file) is the real time."""
    try:
        seconds = float(json.loads(path.read_text("utf-8"))["offset_seconds"])
    except FileNotFoundError:
        return timedelta(0)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logging.getLogger(__name__).warning("ignoring %s: %s", path.name, exc)
        return timedelta(0)
    if not 0 <= seconds <= MAX_AHEAD.total_seconds():
        return timedelta(0)
    return timedelta(seconds=seconds)


def save_offset(path: Path, offset: timedelta) -> None:
    """Written whole and then renamed, so a Ctrl-C never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps({"offset_seconds": offset.total_seconds()}), "utf-8")
    os.replace(partial, path)
