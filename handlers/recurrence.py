"""Sessions by recurrence, asked the same way when a class is made and when sessions are
added: first and last day, weekdays, time slots, days skipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.dates import Slot, parse_day, parse_days, parse_slots
from bot.i18n import Raw, Texts
from bot.services.planning import check_not_past, check_span, check_starts_after, plan_sessions
from bot.training import NewSession
from handlers.admin_steps import Typed
from handlers.class_labels import WORKDAYS, parts_of_day, weekdays_label
from handlers.dialogue import Flow, Goto, Move, Step, Turn
from handlers.steps import SKIP
from handlers.ui import Button, inline

WORKWEEK = "workweek"
DONE = "done"


@dataclass
class Recurrence:
    """What a run of sessions is made of; `year` reads days typed without one."""

    year: int = 0
    first_day: date | None = None
    last_day: date | None = None
    weekdays: list[int] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)  # "07:30-11:00"
    skip_days: list[date] | None = None


def slots_of(draft: Recurrence) -> list[Slot]:
    return parse_slots(", ".join(draft.slots))


def sessions_of(draft: Recurrence, tz: tzinfo) -> list[NewSession]:
    assert draft.first_day is not None and draft.last_day is not None
    return plan_sessions(draft.first_day, draft.last_day, draft.weekdays, slots_of(draft), tz,
                         draft.skip_days or ())  # fmt: skip


def describe(texts: Texts, draft: Recurrence, tz: tzinfo) -> str:
    """ "10 buổi, sáng và chiều thứ 2–6 (07:30–11:00, 13:30–16:30), 03/03–14/03"."""
    assert draft.first_day is not None and draft.last_day is not None
    slots = slots_of(draft)
    text = texts(
        "class_admin.sessions_summary",
        count=len(sessions_of(draft, tz)),
        parts=parts_of_day(texts, [s.start for s in slots]),
        weekdays=weekdays_label(texts, draft.weekdays),
        slots=", ".join(f"{s.start:%H:%M}–{s.end:%H:%M}" for s in slots),
        first=draft.first_day,
        last=draft.last_day,
    )
    if draft.skip_days:
        days = ", ".join(texts.format("{day:short}", day=d) for d in draft.skip_days)
        text += texts("class_admin.sessions_except", days=days)
    return text


async def _first_day(turn: Turn[Any], raw: str) -> date:
    day = parse_day(raw, turn.draft.year)
    check_not_past(day, turn.services.clock.now(), turn.ctx.settings.tz)
    deadline = getattr(turn.draft, "deadline", None)  # a new class's: enrolment ends first
    if deadline is not None:
        check_starts_after(day, deadline, turn.ctx.settings.tz)
    return day


async def _last_day(turn: Turn[Any], raw: str) -> date:
    day = parse_day(raw, turn.draft.year)
    assert turn.draft.first_day is not None
    check_span(turn.draft.first_day, day)
    return day


async def _slots(turn: Turn[Any], raw: str) -> list[str]:
    return [f"{s.start:%H:%M}-{s.end:%H:%M}" for s in parse_slots(raw)]


async def _skip_days(turn: Turn[Any], raw: str) -> list[date]:
    days = sorted(set(parse_days(raw, turn.draft.year)))
    draft: Recurrence = turn.draft
    assert draft.first_day is not None and draft.last_day is not None
    plan_sessions(draft.first_day, draft.last_day, draft.weekdays, slots_of(draft),
                  turn.ctx.settings.tz, days)  # fmt: skip
    return days


def _echo_day(turn: Turn[Any], day: date) -> str:
    return turn.t("class_admin.saved", value=Raw(turn.t("schedule.day", day=day)))


class Weekdays(Step[Any]):
    """Toggle buttons T2…CN, with "Mon–Fri" at one tap, then Done."""

    async def ask(self, turn: Turn[Any]) -> None:
        await turn.say(turn.t("class_admin.ask_weekdays"), self._keyboard(turn))

    def _keyboard(self, turn: Turn[Any]) -> InlineKeyboardMarkup:
        chosen = set(turn.draft.weekdays)
        days: list[Button] = [
            (("✅ " if d in chosen else "") + weekdays_label(turn.texts, [d]), turn.choice(d))
            for d in range(7)
        ]
        return inline([
            days[:4], days[4:],
            [(turn.t("class_admin.mon_to_fri_button"), turn.choice(WORKWEEK)),
             (turn.t("class_admin.done"), turn.choice(DONE))],
            turn.nav_row(),
        ])  # fmt: skip

    async def typed_labels(self, turn: Turn[Any]) -> Sequence[tuple[str, str]]:
        return [
            *((weekdays_label(turn.texts, [d]), str(d)) for d in range(7)),
            (turn.t("class_admin.mon_to_fri_button"), WORKWEEK),
            (turn.t("class_admin.done"), DONE),
        ]

    async def on_choice(self, turn: Turn[Any], value: str) -> Move:
        draft: Recurrence = turn.draft
        if value == DONE:
            if not draft.weekdays:
                await turn.say(turn.t("planning.no_weekdays"), self._keyboard(turn))
                return Flow.STAY
            await turn.show(
                turn.t("class_admin.saved", value=weekdays_label(turn.texts, draft.weekdays))
            )
            return Goto("slots")
        if value == WORKWEEK:
            draft.weekdays = sorted(WORKDAYS)
        elif value.isdigit() and int(value) < 7:
            draft.weekdays = sorted(set(draft.weekdays) ^ {int(value)})
        else:
            return Flow.RETRY
        await turn.show(turn.t("class_admin.ask_weekdays"), self._keyboard(turn))
        return Flow.STAY


class SkipDays(Typed[Any]):
    """Days without sessions, or none; either way the run must hold a session."""

    async def on_choice(self, turn: Turn[Any], value: str) -> Move:
        if value == SKIP:
            draft: Recurrence = turn.draft
            assert draft.first_day is not None and draft.last_day is not None
            plan_sessions(draft.first_day, draft.last_day, draft.weekdays, slots_of(draft),
                          turn.ctx.settings.tz)  # fmt: skip
        return await super().on_choice(turn, value)


def recurrence_steps() -> list[Step[Any]]:
    """Each goes on to the next (also when changed from a summary: they belong together)."""
    return [
        Typed("first_day", "first_day", prompt="class_admin.ask_first_day", parse=_first_day,
              echo=_echo_day, then=lambda turn: Goto("last_day")),
        Typed("last_day", "last_day", prompt="class_admin.ask_last_day", parse=_last_day,
              echo=_echo_day, then=lambda turn: Goto("weekdays")),
        Weekdays("weekdays", "weekdays"),
        Typed("slots", "slots", prompt="class_admin.ask_slots", parse=_slots,
              then=lambda turn: Goto("skip_days")),
        SkipDays("skip_days", "skip_days", prompt="class_admin.ask_skip_days",
                 parse=_skip_days, skip="class_admin.no_skip_days"),
    ]  # fmt: skip
