"""Failures nobody expected (a bug, the database down): logged without personal data, and
the person gets a one-line apology. Refusals the person should read (`DomainError`) are not
failures: handlers.routing and the dialogue engine put them into words."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotContext
from handlers.ui import answer

log = logging.getLogger(__name__)


async def report_failure(update: object, ctx: BotContext, error: BaseException) -> None:
    """Logs the failure and apologises to the person, answering their button if need be."""
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
    if update.effective_user is not None:
        with contextlib.suppress(Exception):  # their language, unless that is what failed
            await ctx.actor(update)
    try:
        await answer(update, ctx)
        await ctx.bot.send_message(update.effective_chat.id, ctx.t("error.apology"))
    except Exception as exc:  # the apology is best effort
        log.warning("apology not sent: %s", exc.__class__.__name__)


async def on_error(update: object, ctx: BotContext) -> None:
    """PTB's error handler, for failures outside handlers.routing: reported, and the update
    goes to no other handler (it would answer a failed button press a second time)."""
    assert ctx.error is not None
    await report_failure(update, ctx, ctx.error)
    raise ApplicationHandlerStop
