"""Calendar files (.ics): a learner's timetable, or one class's, for their phone's calendar."""

from __future__ import annotations

import asyncio
import re
from functools import partial

from telegram import InputFile, Update

from bot.actions import ClassCalendarFile, MyCalendarFile
from bot.calendar_ics import calendar_file
from bot.record_labels import plain
from bot.services.calendar import LearnerCalendar
from handlers.context import BotContext
from handlers.routing import Handler, button
from handlers.ui import answer, say

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


async def my_calendar(update: Update, ctx: BotContext, tapped: MyCalendarFile) -> None:
    """From the timetable: every session of the learner's classes."""
    made = await ctx.services.calendar.mine(await ctx.actor(update))
    if not made.entries:
        await answer(update, ctx)
        await say(update, ctx, ctx.t("calendar.empty_mine"))
        return
    title = plain(ctx.texts, "calendar.title_mine", name=made.name)
    caption = ctx.t("calendar.caption_mine", count=len(made.entries))
    await _send(update, ctx, made, title, "lich-hoc.ics", caption)


async def class_calendar(update: Update, ctx: BotContext, tapped: ClassCalendarFile) -> None:
    """From a class's card: that class's sessions, for one of its learners only."""
    made = await ctx.services.calendar.of_class(await ctx.actor(update), tapped.class_id)
    if not made.entries:
        await answer(update, ctx)
        await say(update, ctx, ctx.t("calendar.empty_class", name=made.name))
        return
    title = plain(ctx.texts, "calendar.title_class", name=made.name, code=made.class_code)
    caption = ctx.t("calendar.caption_class", name=made.name, count=len(made.entries))
    code = _UNSAFE.sub("-", made.class_code or "").strip("-.") or str(tapped.class_id)
    await _send(update, ctx, made, title, f"lich-{code}.ics", caption)


async def _send(
    update: Update, ctx: BotContext, made: LearnerCalendar, title: str, name: str, caption: str
) -> None:
    await answer(update, ctx)
    # In a worker thread: a long course's file takes icalendar a fraction of a second.
    content = await asyncio.to_thread(
        partial(
            calendar_file,
            ctx.texts,
            title,
            made.entries,
            host=ctx.settings.calendar_host or ctx.bot.username,
            stamp=made.made_at,
            prefs=made.prefs,
            tz=ctx.settings.tz,
            evening=ctx.settings.reminder_evening,
        )
    )
    chat = update.effective_chat
    assert chat is not None
    await ctx.bot.send_document(chat.id, InputFile(content, filename=name), caption=caption)


def handlers() -> list[Handler]:
    return [button(MyCalendarFile, my_calendar), button(ClassCalendarFile, class_calendar)]
