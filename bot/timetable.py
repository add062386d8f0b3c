"""A class's timetable in a few words ("10 buổi, sáng thứ 2–6, 03/03–14/03"): the facts,
computed here; the words, in the catalogs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from enum import StrEnum

from bot.training import Session


class DayPart(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


@dataclass(frozen=True, slots=True)
class TimetableSummary:
    sessions: int
    parts: tuple[DayPart, ...]
    weekdays: tuple[int, ...]  # Monday is 0
    first: date
    last: date


def day_part(hour: int) -> DayPart:
    if hour < 12:
        return DayPart.MORNING
    return DayPart.AFTERNOON if hour < 18 else DayPart.EVENING


def summarise(sessions: Iterable[Session], tz: tzinfo) -> TimetableSummary | None:
    """The scheduled sessions in short; None when there are none."""
    starts = [s.starts_at.astimezone(tz) for s in sessions if not s.cancelled]
    if not starts:
        return None
    return TimetableSummary(
        sessions=len(starts),
        parts=tuple(sorted({day_part(s.hour) for s in starts}, key=list(DayPart).index)),
        weekdays=tuple(sorted({s.weekday() for s in starts})),
        first=min(starts).date(),
        last=max(starts).date(),
    )


def weekday_runs(weekdays: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive weekdays as (first, last) runs: Mon–Fri and Sun → [(0, 4), (6, 6)]."""
    runs: list[tuple[int, int]] = []
    for day in sorted(weekdays):
        if runs and day == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
