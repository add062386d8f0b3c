"""Telegram's command menu: learners see theirs, each staff member theirs (per-chat scope)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import BadRequest, Forbidden

from bot.domain import Role
from bot.i18n import LANGUAGES, t
from bot.menus import LEARNER_COMMANDS, commands_for, is_staff
from handlers.context import BotContext

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


async def sync_chat_menu(bot: Bot, chat_id: int, roles: Iterable[Role], lang: str) -> None:
    """Gives a staff member their menu, or takes it away when their last staff role goes."""
    roles = set(roles)
    scope = BotCommandScopeChat(chat_id)
    try:
        if is_staff(roles):
            await bot.set_my_commands(_commands(commands_for(roles), lang), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except (BadRequest, Forbidden) as exc:
        # The person never opened the bot (chat not found) or blocked it; they get the
        # right menu when they next write, from the post-start sync or a later change.
        log.info("menu for a chat not updated: %s", exc.__class__.__name__)


async def sync_on_first_contact(update: Update, ctx: BotContext) -> None:
    """Publishes a staff member's menu the first time they write after a start.

    Telegram refuses a chat-scoped menu for a chat the bot has never seen, so a
    super-administrator listed in ADMIN_IDS gets theirs here, with their first message.
    """
    user = update.effective_user
    if user is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    synced: set[int] = ctx.bot_data.extra.setdefault("menu_synced", set())
    if user.id in synced:
        return
    actor = await ctx.actor(update)
    synced.add(user.id)
    if is_staff(actor.roles):
        await sync_chat_menu(ctx.bot, user.id, actor.roles, ctx.language)
