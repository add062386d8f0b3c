"""Telegram's command menu: learners see theirs, each staff member theirs (per-chat scope)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.domain import Role
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from bot.menus import LEARNER_COMMANDS, commands_for, is_staff

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
