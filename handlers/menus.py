"""Telegram's command menu (learners see theirs, each staff member theirs, per chat) and the
main keyboard under the text box, whose buttons run the same commands."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import filters

from bot.domain import Role
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from bot.menus import LEARNER_COMMANDS, MAIN_KEYBOARD, commands_for, is_staff
from handlers.context import BotContext
from handlers.routing import Callback, Handler, message
from handlers.ui import labels, menu_command

log = logging.getLogger(__name__)


def _commands(names: Iterable[str], lang: str) -> list[BotCommand]:
    return [BotCommand(name, t(lang, f"command.{name}")) for name in names]


async def set_default_menus(bot: Bot) -> None:
    """The learner menu for everyone, in Vietnamese and, for English clients, in English."""
    await bot.set_my_commands(_commands(LEARNER_COMMANDS, "vi"), scope=BotCommandScopeDefault())
    for lang in LANGUAGES:
        if lang != "vi":
            await bot.set_my_commands(
                _commands(LEARNER_COMMANDS, lang),
                scope=BotCommandScopeDefault(),
                language_code=lang,
            )


def needs_own_menu(roles: Iterable[Role], lang: str) -> bool:
    """Staff see more commands; anyone who chose another language reads them in it (the
    default menus follow the phone's language, not the one chosen in the bot)."""
    return is_staff(roles) or lang != DEFAULT_LANGUAGE


async def sync_chat_menu(bot: Bot, chat_id: int, roles: Iterable[Role], lang: str) -> None:
    """The person's own menu (their commands, in their language), or the default one back."""
    roles = set(roles)
    scope = BotCommandScopeChat(chat_id)
    try:
        if needs_own_menu(roles, lang):
            await bot.set_my_commands(_commands(commands_for(roles), lang), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        # The person never opened the bot (chat not found), blocked it, or the server is
        # busy; they get the right menu with their next message (handlers/presence.py).
        log.info("menu for a chat not updated: %s", exc.__class__.__name__)


def main_keyboard(**commands: Callback) -> Handler:
    """Routes a tap on the main keyboard (its label, in any language) to its command."""
    if set(commands) != set(MAIN_KEYBOARD):
        raise ValueError(f"the main keyboard needs a callback for each of {MAIN_KEYBOARD}")

    async def pressed(update: Update, ctx: BotContext) -> None:
        message = update.effective_message
        name = menu_command(message.text if message else None)
        assert name is not None
        await commands[name](update, ctx)

    every_label = sorted(label for name in MAIN_KEYBOARD for label in labels(f"menu.{name}"))
    return message(filters.Text(every_label), pressed)
