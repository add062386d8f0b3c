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

from bot.app.live_edits import chat_texts, try_edit
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
    shown = await chat_texts(ctx, message.chat_id)
    text, markup = progress_view(shown, progress.report, final=progress.final)
    return await try_edit(
        ctx.bot.edit_message_text(
            text, chat_id=message.chat_id, message_id=message.message_id, reply_markup=markup
        ),
        "progress",
    )
