"""Messages the bot keeps editing on its own (a projector's code, an announcement's progress):
what Telegram's answer to an edit means, and the texts of the chat it is in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram.error import BadRequest, Forbidden, TelegramError

from bot.i18n import Texts, texts
from handlers.context import BotContext

log = logging.getLogger(__name__)


async def try_edit(edit: Awaitable[object], what: str) -> bool | None:
    """True once edited (or already as asked); False if the message can no longer be edited
    (deleted, the chat blocked): leave it alone; None if Telegram failed for now."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" in str(exc):
            return True
        log.info("a %s message can no longer be edited: %s", what, exc)
        return False
    except Forbidden:
        return False
    except TelegramError as exc:
        log.info("a %s edit failed, retried next round: %s", what, exc.__class__.__name__)
        return None
    return True


async def chat_texts(ctx: BotContext, chat_id: int) -> Texts:
    """The texts of the person whose chat the message is in."""
    actor = await ctx.services.access.actor(chat_id)
    language = actor.person.language if actor.person else None
    settings = ctx.settings
    return texts(language or settings.default_language, settings.tz, settings.office)
