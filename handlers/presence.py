"""Runs before routing, for every update: what the bot learns from someone writing at all."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotContext
from handlers.menus import needs_own_menu, sync_chat_menu
from handlers.ui import say


async def on_any_update(update: Update, ctx: BotContext) -> None:
    """A person who writes can be reached again, and gets their own command menu.

    Telegram refuses a chat-scoped menu for a chat the bot has never seen, so a
    super-administrator listed in ADMIN_IDS gets theirs here, with their first message.
    """
    if not ctx.bot_data.recent_updates.first_time(update.update_id):
        raise ApplicationHandlerStop  # delivered twice (a webhook retry): acted on once
    user = update.effective_user
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        # Profiles, personal data and staff tools are for private chats only: in a group
        # they would be read by everyone in it.
        raise ApplicationHandlerStop
    if user is None or chat is None or update.my_chat_member:
        return
    await ctx.services.delivery.chat_seen(chat.id, ctx.bot_data.channel)
    actor = await ctx.actor(update)  # loaded once per update; also fixes the reply language
    if update.edited_message is not None:
        # An edit of an earlier message is never an answer or a command (it may be an old
        # question's answer, or a typo fixed in passing): say so, so nobody waits on it.
        await say(update, ctx, ctx.t("help.edit_not_read"))
        raise ApplicationHandlerStop
    synced: set[int] = ctx.bot_data.extra.setdefault("menu_synced", set())
    if user.id in synced:
        return
    synced.add(user.id)
    if needs_own_menu(actor.roles, ctx.language):
        await sync_chat_menu(ctx.bot, user.id, actor.roles, ctx.language)
