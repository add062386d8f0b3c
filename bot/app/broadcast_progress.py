"""Keeps each announcement's progress message up to date: every few seconds, the message in
the sender's chat is edited to the new figures ("Đang gửi: x/y"), only when they changed,
and once nothing is pending to the final report, after which it is left alone.

Where each message is, and what it shows, is in the database, so a restart resumes the
updates; it runs only in the process holding the sender lock, as the reminder pass does, so
two processes never edit one message. Its edits go through the app's rate limiter.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import BadRequest, Forbidden, TelegramError

from bot.i18n import Texts, texts
from bot.services import Services
from bot.services.delivery import Progress
from handlers.announce import progress_view
from handlers.context import BotContext

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 2.0
App = Any  # telegram.ext.Application, as the other runtimes take it


def start_broadcast_progress(app: App) -> None:
    assert app.job_queue is not None
    app.bot_data.extra["progress_lock"] = asyncio.Lock()
    app.job_queue.run_repeating(
        _run, interval=PROGRESS_EVERY_S, first=PROGRESS_EVERY_S, name="broadcast-progress"
    )


async def _run(ctx: BotContext) -> None:
    delivery = ctx.application.bot_data.delivery
    if delivery is None or not delivery.active:
        return  # the process holding the sender lock updates them
    lock: asyncio.Lock = ctx.application.bot_data.extra["progress_lock"]
    if lock.locked():
        return  # the previous round is still editing
    async with lock:
        try:
            await _update(ctx, ctx.services)
        except Exception:
            log.exception("progress messages not updated; the next round retries")


async def _update(ctx: BotContext, services: Services) -> None:
    for progress in await services.delivery.progress():
        edited = await _edit(ctx, progress)
        if edited is not None:
            await services.delivery.progress_shown(progress, stop=not edited)


async def _edit(ctx: BotContext, progress: Progress) -> bool | None:
    """True once edited; False if the message can no longer be edited (deleted, the chat
    blocked): it is left alone; None if Telegram failed for now (the next round retries)."""
    message = progress.message
    shown = await _texts(ctx, message.chat_id)
    text, markup = progress_view(shown, progress.report, final=progress.final)
    try:
        await ctx.bot.edit_message_text(
            text, chat_id=message.chat_id, message_id=message.message_id, reply_markup=markup
        )
    except BadRequest as exc:
        if "not modified" in str(exc):
            return True
        log.info("a progress message can no longer be edited: %s", exc)
        return False
    except Forbidden:
        return False
    except TelegramError as exc:
        log.info("a progress edit failed, retried next round: %s", exc.__class__.__name__)
        return None
    return True


async def _texts(ctx: BotContext, chat_id: int) -> Texts:
    """The texts of the sender, in whose chat the progress message is."""
    actor = await ctx.services.access.actor(chat_id)
    language = actor.person.language if actor.person else None
    settings = ctx.settings
    return texts(language or settings.default_language, settings.tz, settings.office)
