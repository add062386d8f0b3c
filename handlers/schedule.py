"""/schedule: a cadre's timetable (today, the coming week, all to come), what a lecturer
teaches, and which of a unit head's staff are enrolled in what."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.actions import (
    AskLeave,
    BrowseCatalog,
    MyCalendarFile,
    ReminderSettings,
    ShowClassList,
    ShowSchedule,
)
from bot.domain import Role
from bot.validation import telegram_length
from handlers.class_text import by_day, entry_line
from handlers.context import BotContext
from handlers.routing import Handler, button, command
from handlers.ui import Button, inline, say, show

BUDGET = 3300  # characters of sessions in one message (Telegram takes 4096)
SPANS = ("today", "week", "all")
STAFF_LISTS = 8  # classes whose list the staff view offers


async def schedule(update: Update, ctx: BotContext) -> None:
    """/schedule (and the main keyboard's button): the coming seven days; a lecturer with
    no session to attend sees what they teach."""
    text, markup = await _render(update, ctx, ShowSchedule("week"))
    actor = await ctx.actor(update)
    if Role.LECTURER in actor.roles and ctx.t("schedule.empty_mine") in text:
        text, markup = await _render(update, ctx, ShowSchedule("week", teaching=True))
    await say(update, ctx, text, markup)


async def show_schedule(update: Update, ctx: BotContext, tapped: ShowSchedule) -> None:
    text, markup = await _render(update, ctx, tapped)
    await show(update, ctx, text, markup)


async def _render(
    update: Update, ctx: BotContext, tapped: ShowSchedule
) -> tuple[str, InlineKeyboardMarkup]:
    actor = await ctx.actor(update)
    if tapped.span == "staff":
        text, shown = await _staff(update, ctx)
        return text, _buttons(ctx, tapped, actor.roles, lists=shown)
    entries = await ctx.services.catalog.timetable(actor, tapped.span, teaching=tapped.teaching)
    kind = "teaching" if tapped.teaching else "mine"
    heading = ctx.t(f"schedule.heading_{kind}_{tapped.span}")
    if entries:
        lines = [(e.session, entry_line(ctx.texts, e)) for e in entries]
        body = by_day(ctx.texts, lines, ctx.settings.tz, BUDGET)
    else:
        body = ctx.t(f"schedule.empty_{kind}")
    return heading + "\n\n" + body, _buttons(ctx, tapped, actor.roles, empty=not entries)


async def _staff(update: Update, ctx: BotContext) -> tuple[str, dict[str, int]]:
    """A head's staff in classes not yet over, by class; and the classes shown (code → id),
    whose lists the view offers."""
    rows = await ctx.services.catalog.staff_enrolments(await ctx.actor(update))
    shown: dict[str, int] = {}
    if not rows:
        return ctx.t("schedule.staff_none"), shown
    lines = [ctx.t("schedule.staff_heading")]
    budget = BUDGET
    current = None
    for row in rows:
        block = []
        if row.class_code != current:
            if row.starts_at is None:
                block.append(
                    ctx.t("schedule.staff_class_undated", name=row.class_name, code=row.class_code)
                )
            else:
                block.append(
                    ctx.t(
                        "schedule.staff_class",
                        name=row.class_name,
                        code=row.class_code,
                        starts=row.starts_at,
                    )
                )
            current = row.class_code
        block.append(
            ctx.t(f"schedule.staff_{row.status.value}", name=row.person_name, unit=row.unit_name)
        )
        cost = sum(telegram_length(b) + 1 for b in block)
        if cost > budget:
            break
        budget -= cost
        lines += block
        if row.class_id is not None:
            shown.setdefault(row.class_code, row.class_id)
    return "\n".join(lines), shown


def _buttons(
    ctx: BotContext,
    tapped: ShowSchedule,
    roles: frozenset[Role],
    *,
    empty: bool = False,
    lists: dict[str, int] | None = None,
) -> InlineKeyboardMarkup:
    """The other spans (the one shown is left out, so a tap always changes the message);
    under a head's staff, the lists of their classes."""
    spans: list[Button] = [
        (ctx.t(f"schedule.span_{span}"), ShowSchedule(span, tapped.teaching))
        for span in SPANS
        if span != tapped.span
    ]
    rows = [spans]
    listed: list[Button] = [
        (ctx.t("class_list.of_class", code=code), ShowClassList(class_id))
        for code, class_id in list((lists or {}).items())[:STAFF_LISTS]
    ]
    rows += [listed[i : i + 2] for i in range(0, len(listed), 2)]
    other: list[Button] = []
    if Role.LECTURER in roles or Role.ADMIN in roles:
        if tapped.teaching or tapped.span == "staff":
            other.append((ctx.t("schedule.mine"), ShowSchedule("week")))
        else:
            other.append((ctx.t("schedule.teaching"), ShowSchedule("week", teaching=True)))
    if (Role.UNIT_HEAD in roles or Role.ADMIN in roles) and tapped.span != "staff":
        other.append((ctx.t("schedule.staff"), ShowSchedule("staff")))
    if other:
        rows.append(other)
    if empty and not tapped.teaching:
        rows.append([(ctx.t("schedule.find_classes"), BrowseCatalog(""))])
    if not empty and not tapped.teaching and tapped.span != "staff":
        rows.append([(ctx.t("leave.button"), AskLeave())])
        rows.append([(ctx.t("calendar.button_mine"), MyCalendarFile())])
    rows.append([(ctx.t("schedule.reminders"), ReminderSettings())])
    return inline(rows)


def handlers() -> list[Handler]:
    return [command("schedule", schedule), button(ShowSchedule, show_schedule)]
