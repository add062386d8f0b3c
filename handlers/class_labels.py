"""How the training office's values read: kinds, formats, statuses, weekdays, moments and a
run of sessions in words. Each label is a literal catalog key, found by the catalog tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo

from bot.i18n import Texts
from bot.training import ALL_KINDS, ClassFormat, ClassKind, ClassStatus, PriorityGroup

KIND = {
    ALL_KINDS: "class_admin.kind_all",
    ClassKind.UPDATE: "class_admin.kind_update",
    ClassKind.TITLE: "class_admin.kind_title",
    ClassKind.GRADE: "class_admin.kind_grade",
    ClassKind.THEORY: "class_admin.kind_theory",
    ClassKind.THEMATIC: "class_admin.kind_thematic",
    ClassKind.PARTY: "class_admin.kind_party",
}
FORMAT = {
    ClassFormat.ON_SITE: "class_admin.format_on_site",
    ClassFormat.ONLINE: "class_admin.format_online",
    ClassFormat.BLENDED: "class_admin.format_blended",
}
STATUS = {
    ClassStatus.PLANNED: "class_admin.status_planned",
    ClassStatus.OPEN: "class_admin.status_open",
    ClassStatus.RUNNING: "class_admin.status_running",
    ClassStatus.FINISHED: "class_admin.status_finished",
    ClassStatus.CANCELLED: "class_admin.status_cancelled",
}
GROUP = {
    PriorityGroup.YOUNG: "class_admin.group_young",
    PriorityGroup.WOMEN: "class_admin.group_women",
    PriorityGroup.MINORITY: "class_admin.group_minority",
    PriorityGroup.SOURCE_POOL: "class_admin.group_source_pool",
}
#: Monday first, as `date.weekday()` counts.
WEEKDAY = (
    "class_admin.wd_mon", "class_admin.wd_tue", "class_admin.wd_wed", "class_admin.wd_thu",
    "class_admin.wd_fri", "class_admin.wd_sat", "class_admin.wd_sun",
)  # fmt: skip
WEEKDAY_SHORT = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
WORKDAYS = frozenset(range(5))


def moment(texts: Texts, at: datetime, tz: tzinfo) -> str:
    """A date confirmed back in full: "Thứ Năm, 05/03/2026 17:00"."""
    local = at.astimezone(tz)
    return texts("class_admin.moment", weekday=texts(WEEKDAY[local.weekday()]), day=at, at=at)


def day_label(texts: Texts, day: date) -> str:
    return texts("class_admin.day", weekday=texts(WEEKDAY[day.weekday()]), day=day)


def weekdays_label(texts: Texts, weekdays: Sequence[int]) -> str:
    """ "thứ 2–6" for the working week, else the days listed ("T2, T4, T6")."""
    days = sorted(set(weekdays))
    if set(days) == WORKDAYS:
        return texts("class_admin.mon_to_fri")
    if len(days) == 7:
        return texts("class_admin.every_day")
    return ", ".join(WEEKDAY_SHORT[d] for d in days)


def parts_of_day(texts: Texts, starts: Sequence[time]) -> str:
    """ "sáng và chiều": the parts of the day sessions start in."""
    keys: list[str] = []
    for start in sorted(starts):
        key = (
            "class_admin.morning" if start.hour < 12
            else "class_admin.afternoon" if start.hour < 18
            else "class_admin.evening"
        )  # fmt: skip
        if key not in keys:
            keys.append(key)
    return texts("class_admin.and").join(texts(key) for key in keys)


def short_day(day: date) -> str:
    """03/03: the year is the plan's, said elsewhere."""
    return f"{day.day:02d}/{day.month:02d}"
