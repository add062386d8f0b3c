"""How the training values read, for cadres and the office alike: kinds, formats, statuses,
priority groups, weekdays, parts of the day and moments. Each label is a literal catalog key
(found by the catalog tests); the one place they are named."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time

from bot.errors import InvalidInput
from bot.i18n import Texts
from bot.timetable import DayPart, day_part, weekday_runs
from bot.training import ALL_KINDS, ClassFormat, ClassKind, ClassStatus, PriorityGroup

KIND = {
    ALL_KINDS: "training.kind_all",
    ClassKind.UPDATE: "training.kind_update",
    ClassKind.TITLE: "training.kind_title",
    ClassKind.GRADE: "training.kind_grade",
    ClassKind.THEORY: "training.kind_theory",
    ClassKind.THEMATIC: "training.kind_thematic",
    ClassKind.PARTY: "training.kind_party",
}
FORMAT = {
    ClassFormat.ON_SITE: "training.format_on_site",
    ClassFormat.ONLINE: "training.format_online",
    ClassFormat.BLENDED: "training.format_blended",
}
STATUS = {
    ClassStatus.PLANNED: "training.status_planned",
    ClassStatus.OPEN: "training.status_open",
    ClassStatus.RUNNING: "training.status_running",
    ClassStatus.FINISHED: "training.status_finished",
    ClassStatus.CANCELLED: "training.status_cancelled",
}
GROUP = {
    PriorityGroup.YOUNG: "training.group_young",
    PriorityGroup.WOMEN: "training.group_women",
    PriorityGroup.MINORITY: "training.group_minority",
    PriorityGroup.SOURCE_POOL: "training.group_source_pool",
}
PART = {
    DayPart.MORNING: "training.part_morning",
    DayPart.AFTERNOON: "training.part_afternoon",
    DayPart.EVENING: "training.part_evening",
}
#: Monday first, as `date.weekday()` counts: "2" … "CN" in Vietnamese ("thứ 2–6").
WEEKDAY = (
    "training.weekday_0", "training.weekday_1", "training.weekday_2", "training.weekday_3",
    "training.weekday_4", "training.weekday_5", "training.weekday_6",
)  # fmt: skip
WORKDAYS = frozenset(range(5))
SUNDAY = 6


def moment(texts: Texts, at: datetime) -> str:
    """A date confirmed back in full: "Thứ Năm, 05/03/2026 17:00"."""
    return texts("training.moment", at=at)


def weekdays_label(texts: Texts, days: Iterable[int]) -> str:
    """ "thứ 2–6", "thứ 2, 4, CN", "CN", "hằng ngày" · "Mon–Fri", "Mon, Wed, Sun"."""
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return texts("training.every_day")
    parts: list[str] = []
    for first, last in weekday_runs(chosen):
        names = [texts(WEEKDAY[d]) for d in range(first, last + 1)]
        parts.append(f"{names[0]}–{names[-1]}" if len(names) > 2 else ", ".join(names))
    joined = ", ".join(parts)
    return texts("training.weekdays", days=joined) if chosen and chosen[0] != SUNDAY else joined


def parts_label(texts: Texts, parts: Sequence[DayPart]) -> str:
    """ "sáng và chiều"."""
    ordered = sorted(set(parts), key=list(DayPart).index)
    return texts("training.parts_joiner").join(texts(PART[p]) for p in ordered)


def parts_of_day(texts: Texts, starts: Sequence[time]) -> str:
    """The parts of the day sessions starting at these times fall in."""
    return parts_label(texts, [day_part(start.hour) for start in starts])


def kind_options(texts: Texts) -> list[tuple[str, str]]:
    """(value, label) of every kind of class, for a choice of buttons."""
    return [(kind.value, texts(KIND[kind])) for kind in ClassKind]


def kind_of(raw: str) -> ClassKind:
    """The kind a button stands for; a forged one is refused."""
    try:
        return ClassKind(raw)
    except ValueError:
        raise InvalidInput() from None
