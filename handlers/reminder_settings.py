"""/settings: a cadre's reminders, on one screen that each tap edits in place: on or off,
how long before a session, quiet hours (a typed dialogue), and one class at a time; and,
for a cadre on both Telegram and Zalo, which of the two their messages go to.

Unticking every lead is allowed, and the screen then says plainly that no reminder will
come: refusing to untick the last one would force an order of taps (tick the new lead
before unticking the old) that people do not think of, and whoever wants no reminders at
all has the switch above the leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.actions import (
    ChangeQuietHours,
    ChooseNotifyVia,
    MuteClass,
    ReminderClasses,
    ReminderSettings,
    SwitchReminders,
    ToggleLead,
)
from bot.channels import NotifyVia
from bot.domain import NavOp
from bot.reminders import Lead, QuietHours, ReminderPrefs, parse_quiet_hours
from bot.services.reminders import MyClass
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.routing import Handler, button, command
from handlers.ui import Button, answer, inline, say, show

CLASSES_PER_PAGE = 6
LEAD_LABELS = {
    Lead.EVENING: "reminder.lead_evening",
    Lead.DAY: "reminder.lead_day",
    Lead.HOURS_3: "reminder.lead_3_hours",
    Lead.HOUR: "reminder.lead_hour",
    Lead.MINUTES_15: "reminder.lead_15_minutes",
}
OFF, DEFAULT = "off", "default"  # the quiet-hours question's buttons
VIA_LABELS = {
    NotifyVia.BOTH: "notify_via.both",
    NotifyVia.TELEGRAM: "notify_via.telegram",
    NotifyVia.ZALO: "notify_via.zalo",
}


# --- the settings screen ----------------------------------------------------------------------


def _clock(at: time) -> str:
    return f"{at:%H:%M}"


def quiet_label(ctx: BotContext, quiet: QuietHours) -> str:
    if not quiet.active:
        return ctx.t("reminder.quiet_none")
    return ctx.t("reminder.quiet_span", start=_clock(quiet.start), end=_clock(quiet.end))


def _lead_button(ctx: BotContext, lead: Lead, prefs: ReminderPrefs) -> Button:
    label = ctx.t(LEAD_LABELS[lead], at=_clock(ctx.settings.reminder_evening))
    chosen = lead in prefs.leads
    mark = "reminder.chosen" if chosen else "reminder.not_chosen"
    return ctx.t(mark, label=label), ToggleLead(lead, chosen=not chosen)


def settings_screen(
    ctx: BotContext, prefs: ReminderPrefs, via: NotifyVia | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The whole screen from the settings alone, so a tap that changed nothing (a second
    tap) renders the same and is not edited (see handlers.ui.show). `via`: where the
    person's messages go, for one with a Zalo account joined (None: nothing to choose)."""
    status = "reminder.settings_on"
    if not prefs.enabled:
        status = "reminder.settings_off"
    elif not prefs.leads:
        status = "reminder.settings_no_leads"
    quiet = "reminder.quiet_line" if prefs.quiet.active else "reminder.quiet_line_none"
    lines = [
        ctx.t("reminder.settings_title"),
        ctx.t(status),
        ctx.t(quiet, hours=quiet_label(ctx, prefs.quiet)),
    ]
    if via is not None:
        lines.append(ctx.t("notify_via.line", via=ctx.t(VIA_LABELS[via])))
    switch = "reminder.switch_off" if prefs.enabled else "reminder.switch_on"
    rows: list[list[Button]] = [[(ctx.t(switch), SwitchReminders(not prefs.enabled))]]
    if prefs.enabled:  # leads matter only while reminders are on
        rows.append([_lead_button(ctx, Lead.EVENING, prefs)])
        timed = [_lead_button(ctx, lead, prefs) for lead in Lead if lead is not Lead.EVENING]
        rows += [timed[i : i + 2] for i in range(0, len(timed), 2)]
    rows.append(
        [(ctx.t("reminder.quiet_button", hours=quiet_label(ctx, prefs.quiet)), ChangeQuietHours())]
    )
    rows.append([(ctx.t("reminder.my_classes"), ReminderClasses())])
    if via is not None:
        rows += [[_via_button(ctx, choice, via)] for choice in NotifyVia]
    return "\n\n".join(lines), inline(rows)


def _via_button(ctx: BotContext, choice: NotifyVia, via: NotifyVia) -> Button:
    mark = "reminder.chosen" if choice is via else "reminder.not_chosen"
    return ctx.t(mark, label=ctx.t(VIA_LABELS[choice])), ChooseNotifyVia(choice)


async def _screen(
    update: Update, ctx: BotContext, prefs: ReminderPrefs
) -> tuple[str, InlineKeyboardMarkup]:
    via = await ctx.services.channels.choice(await ctx.actor(update))
    return settings_screen(ctx, prefs, via)


async def settings(update: Update, ctx: BotContext) -> None:
    """/settings: the screen, in a new message."""
    prefs = await ctx.services.reminders.settings(await ctx.actor(update))
    await say(update, ctx, *await _screen(update, ctx, prefs))


async def open_settings(update: Update, ctx: BotContext, _: ReminderSettings) -> None:
    prefs = await ctx.services.reminders.settings(await ctx.actor(update))
    await show(update, ctx, *await _screen(update, ctx, prefs))


async def switch(update: Update, ctx: BotContext, tapped: SwitchReminders) -> None:
    prefs = await ctx.services.reminders.set_enabled(await ctx.actor(update), tapped.enabled)
    await show(update, ctx, *await _screen(update, ctx, prefs))


async def toggle_lead(update: Update, ctx: BotContext, tapped: ToggleLead) -> None:
    prefs = await ctx.services.reminders.choose_lead(
        await ctx.actor(update), tapped.lead, tapped.chosen
    )
    await show(update, ctx, *await _screen(update, ctx, prefs))


async def choose_via(update: Update, ctx: BotContext, tapped: ChooseNotifyVia) -> None:
    """A tap on an old screen of someone whose Zalo account is no longer joined is told so."""
    actor = await ctx.actor(update)
    if await ctx.services.channels.choose(actor, tapped.via) is None:
        await answer(update, ctx, ctx.t("notify_via.not_joined"))
    prefs = await ctx.services.reminders.settings(actor)
    await show(update, ctx, *await _screen(update, ctx, prefs))


# --- one class at a time ----------------------------------------------------------------------


async def _classes_screen(
    update: Update, ctx: BotContext, page: int, *, showing: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of the person's classes to come; with `showing`, the page that class is on."""
    actor = await ctx.actor(update)
    reminders = ctx.services.reminders
    mine = await reminders.my_classes(actor)
    prefs = await reminders.settings(actor)
    ids = [c.class_id for c in mine]
    if showing in ids:
        page = ids.index(showing) // CLASSES_PER_PAGE
    pages = max(1, -(-len(mine) // CLASSES_PER_PAGE))
    page = min(max(page, 0), pages - 1)  # a page gone (classes ended, a forged button)
    shown = mine[page * CLASSES_PER_PAGE : (page + 1) * CLASSES_PER_PAGE]
    lines = [ctx.t("reminder.classes_title")]
    lines.append(ctx.t("reminder.classes_intro" if mine else "reminder.classes_none"))
    if not prefs.enabled:
        lines.append(ctx.t("reminder.classes_all_off"))
    if pages > 1:
        lines.append(ctx.t("reminder.classes_page", page=page + 1, pages=pages))
    rows: list[list[Button]] = [[_class_button(ctx, c)] for c in shown]
    nav: list[Button] = []
    if page > 0:
        nav.append((ctx.t("reminder.previous"), ReminderClasses(page - 1)))
    if page + 1 < pages:
        nav.append((ctx.t("reminder.next"), ReminderClasses(page + 1)))
    if nav:
        rows.append(nav)
    rows.append([(ctx.t("reminder.back_to_settings"), ReminderSettings())])
    return "\n\n".join(lines), inline(rows)


def _class_button(ctx: BotContext, c: MyClass) -> Button:
    key = "reminder.class_muted" if c.muted else "reminder.class_on"
    return ctx.t(key, code=c.code, name=c.name), MuteClass(c.class_id, not c.muted, listed=True)


async def classes(update: Update, ctx: BotContext, tapped: ReminderClasses) -> None:
    await show(update, ctx, *await _classes_screen(update, ctx, tapped.page))


async def mute(update: Update, ctx: BotContext, tapped: MuteClass) -> None:
    """From the list of classes, the list again (the page the class is on); under a
    reminder, only that reminder's button changes, to undo, so its text stays readable."""
    actor = await ctx.actor(update)
    changed = await ctx.services.reminders.mute_class(actor, tapped.class_id, tapped.muted)
    if tapped.listed:
        await show(update, ctx, *await _classes_screen(update, ctx, 0, showing=changed.class_id))
        return
    await _under_reminder(update, ctx, changed)


async def _under_reminder(update: Update, ctx: BotContext, changed: MyClass) -> None:
    query = update.callback_query
    assert query is not None
    done = ctx.t("reminder.muted" if changed.muted else "reminder.unmuted", code=changed.code)
    label = ctx.t("reminder.unmute_class" if changed.muted else "reminder.mute_class")
    undo = MuteClass(changed.class_id, muted=not changed.muted)
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        buttons = message.reply_markup
        swapped = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(label, callback_data=undo.pack())
                    if b.callback_data == query.data
                    else b
                    for b in row
                ]
                for row in buttons.inline_keyboard
            ]
        )
        if swapped != buttons:  # a second tap finds the button changed already
            await query.edit_message_reply_markup(swapped)
        await answer(update, ctx, done)
        return
    # The reminder is too old to change: the answer and its undo come in a new message.
    await answer(update, ctx)
    await say(update, ctx, done, inline([[(label, undo)]]))


# --- quiet hours ------------------------------------------------------------------------------


@dataclass
class QuietDraft:
    start: time | None = None
    end: time | None = None


class QuietHoursStep(Step[QuietDraft]):
    """The hours typed ("21:30-06:00"), or a button: none at all, or the default back."""

    def __init__(self) -> None:
        super().__init__("hours")

    def _buttons(self, turn: Turn[QuietDraft]) -> InlineKeyboardMarkup:
        default = quiet_label(turn.ctx, QuietHours())
        return inline(
            [
                [(turn.t("reminder.quiet_off_button"), turn.choice(OFF))],
                [(turn.t("reminder.quiet_default_button", hours=default), turn.choice(DEFAULT))],
                [(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))],
            ]
        )

    async def ask(self, turn: Turn[QuietDraft]) -> None:
        prefs = await turn.services.reminders.settings(await turn.ctx.actor(turn.update))
        prompt = turn.t("reminder.quiet_ask", hours=quiet_label(turn.ctx, prefs.quiet))
        await turn.say(prompt, self._buttons(turn))

    def retry_markup(self, turn: Turn[QuietDraft]) -> InlineKeyboardMarkup:
        return self._buttons(turn)

    async def typed_labels(self, turn: Turn[QuietDraft]) -> list[tuple[str, str]]:
        default = quiet_label(turn.ctx, QuietHours())
        return [
            (turn.t("reminder.quiet_off_button"), OFF),
            (turn.t("reminder.quiet_default_button", hours=default), DEFAULT),
        ]

    async def on_text(self, turn: Turn[QuietDraft], text: str) -> Move:
        return self._take(turn, parse_quiet_hours(text))  # a refusal says what is wrong

    async def on_choice(self, turn: Turn[QuietDraft], value: str) -> Move:
        if value == OFF:
            return self._take(turn, QuietHours(time(0, 0), time(0, 0)))
        if value == DEFAULT:
            return self._take(turn, QuietHours())
        return Flow.RETRY

    def _take(self, turn: Turn[QuietDraft], quiet: QuietHours) -> Move:
        turn.draft.start, turn.draft.end = quiet.start, quiet.end
        return Flow.FINISH


async def _save_quiet(turn: Turn[QuietDraft]) -> None:
    start, end = turn.draft.start, turn.draft.end
    assert start is not None and end is not None
    actor = await turn.ctx.actor(turn.update)
    prefs = await turn.services.reminders.set_quiet(actor, start, end)
    saved = turn.t(
        "reminder.quiet_saved" if prefs.quiet.active else "reminder.quiet_removed",
        hours=quiet_label(turn.ctx, prefs.quiet),
    )
    text, markup = await _screen(turn.update, turn.ctx, prefs)
    await turn.show(saved + "\n\n" + text, markup)


QUIET_HOURS = register(
    Dialogue(
        name="reminder_quiet",
        draft=QuietDraft,
        steps=[QuietHoursStep()],
        finish=_save_quiet,
        cancelled="reminder.quiet_cancelled",
        interrupted="reminder.quiet_cancelled",
        timeout=timedelta(minutes=15),
    )
)


async def change_quiet_hours(update: Update, ctx: BotContext, _: ChangeQuietHours) -> None:
    await ctx.services.reminders.settings(await ctx.actor(update))  # refuses a newcomer
    await answer(update, ctx)
    await begin(update, ctx, QUIET_HOURS, QuietDraft())


def handlers() -> list[Handler]:
    return [
        command("settings", settings),
        button(ReminderSettings, open_settings),
        button(SwitchReminders, switch),
        button(ToggleLead, toggle_lead),
        button(ReminderClasses, classes),
        button(MuteClass, mute),
        button(ChangeQuietHours, change_quiet_hours),
        button(ChooseNotifyVia, choose_via),
    ]
