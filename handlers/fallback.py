"""What is left when no feature claimed an update: help, unknown commands, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import filters

from bot.menus import commands_for
from handlers.context import BotContext
from handlers.routing import Handler, any_button, command, message
from handlers.ui import answer, resting_keyboard, say


async def send_help(update: Update, ctx: BotContext) -> None:
    actor = await ctx.actor(update)
    # Before sign-up none of the commands works yet: a newcomer is shown the way in only.
    names = commands_for(actor.roles) if actor.person else []
    lines = [f"/{name} — {ctx.t(f'command.{name}')}" for name in names]
    intro = "help.registered" if actor.person else "help.newcomer"
    if ctx.services.dialogues.current(actor.telegram_id) is not None:
        intro = "help.in_dialogue"  # the question is asked again right after this
    keyboard = await resting_keyboard(update, ctx)
    await say(update, ctx, "\n\n".join([ctx.t(intro), *(["\n".join(lines)] if lines else [])]),
              keyboard)  # fmt: skip


async def cancel_nothing(update: Update, ctx: BotContext) -> None:
    await say(update, ctx, ctx.t("help.nothing_to_cancel"), await resting_keyboard(update, ctx))


async def unknown_command(update: Update, ctx: BotContext) -> None:
    await say(update, ctx, ctx.t("help.unknown_command"))
    await send_help(update, ctx)


async def other_message(update: Update, ctx: BotContext) -> None:
    """Free text, stickers or files nobody asked for: point to the menu, change nothing."""
    actor = await ctx.actor(update)
    await say(update, ctx, ctx.t("help.use_menu" if actor.person else "help.newcomer"))


async def stale_button(update: Update, ctx: BotContext) -> None:
    """A button nobody handles any more (from an old message, a retired version, or forged):
    say so, and show where the person can go from here."""
    await answer(update, ctx, ctx.t("error.stale_button"), alert=True)
    await send_help(update, ctx)


def handlers() -> list[Handler]:
    return [
        command("help", send_help),
        command("cancel", cancel_nothing),
        message(filters.COMMAND, unknown_command),
        message(filters.ChatType.PRIVATE & ~filters.COMMAND, other_message),
        any_button(stale_button),
    ]
