"""What is left when no feature claimed an update: help, unknown commands, stale buttons."""

from __future__ import annotations

from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.menus import commands_for
from handlers.context import BotContext
from handlers.ui import say


async def send_help(update: Update, ctx: BotContext) -> None:
    actor = await ctx.actor(update)
    lines = [f"/{name} — {ctx.t(f'command.{name}')}" for name in commands_for(actor.roles)]
    intro = "help.registered" if actor.person else "help.newcomer"
    await say(update, ctx, ctx.t(intro) + "\n\n" + "\n".join(lines))


async def cancel_nothing(update: Update, ctx: BotContext) -> None:
    await say(update, ctx, ctx.t("help.nothing_to_cancel"), ReplyKeyboardRemove())


async def unknown_command(update: Update, ctx: BotContext) -> None:
    await say(update, ctx, ctx.t("help.unknown_command"))
    await send_help(update, ctx)


async def other_message(update: Update, ctx: BotContext) -> None:
    """Free text, stickers or files nobody asked for: point to the menu, change nothing."""
    actor = await ctx.actor(update)
    await say(update, ctx, ctx.t("help.use_menu" if actor.person else "help.newcomer"))


async def stale_button(update: Update, ctx: BotContext) -> None:
    """A button from an old message (e.g. before a restart) still gets an answer."""
    query = update.callback_query
    assert query is not None
    await query.answer(ctx.t("error.stale_button"), show_alert=True)


def register(app: Any) -> None:
    app.add_handler(CommandHandler("help", send_help))
    app.add_handler(CommandHandler("cancel", cancel_nothing))
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, other_message))
    app.add_handler(CallbackQueryHandler(stale_button))
