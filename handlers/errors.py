"""The last resort: log the failure without personal data and apologise in one line."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.i18n import t
from handlers.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: BotContext) -> None:
    error = ctx.error
    update_id = update.update_id if isinstance(update, Update) else None
    # BadRequest is a NetworkError in PTB, but it is our own bug: it gets the full treatment.
    if isinstance(error, Forbidden) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    ):
        log.warning("update %s: %s", update_id, error.__class__.__name__)
        return
    # Tracebacks name code and exception types; SQL parameters are hidden by the engine and
    # the formatter masks the token. Update contents are never logged.
    log.error("update %s failed: %s", update_id, error.__class__.__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    lang = ctx.user_data.get("lang") if ctx.user_data else None
    try:
        if update.callback_query:
            await update.callback_query.answer()
        await ctx.bot.send_message(update.effective_chat.id, t(lang, "error.apology"))
    except Exception as exc:  # the apology is best effort
        log.warning("apology not sent: %s", exc.__class__.__name__)
