"""Turns the projectors' codes: just after each minute boundary, every open check-in's projector
photo is edited to the new QR code and code, and once check-in is over it says so and is left
alone.

Everything it needs is in the database (the secret, the projector message), so a restart
loses nothing; it runs only in the process holding the sender lock, as the reminder pass does,
so two processes never edit the same message. Its edits go through the app's rate limiter.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from telegram import InputMediaPhoto

from bot.app.live_edits import chat_texts, try_edit
from bot.qr import qr_png
from bot.services import Services
from bot.services.checkin import Projector
from handlers.checkin import deep_link, projector_caption
from handlers.context import BotContext

log = logging.getLogger(__name__)

#: After the boundary, so that the new minute has begun on every clock that reads the code.
AFTER_BOUNDARY_S = 1.0
_NEXT = "checkin-rotation"
App = Any  # telegram.ext.Application, as the other runtimes take it


def start_checkin_rotation(app: App) -> None:
    services: Services = app.bot_data.services
    app.bot_data.extra["checkin_lock"] = asyncio.Lock()
    app.bot_data.extra["checkin_shown"] = {}
    services.checkin.on_stop = lambda: wake_checkin(app)
    _schedule(app, services.clock.now())


def wake_checkin(app: App) -> None:
    """A rotation now (a check-in stopped, the sandbox's or a test's clock moved)."""
    assert app.job_queue is not None
    app.job_queue.run_once(_run, 0)


def _schedule(app: App, now: datetime) -> None:
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(_NEXT):
        job.schedule_removal()
    delay = 60 - now.second - now.microsecond / 1e6 + AFTER_BOUNDARY_S
    app.job_queue.run_once(_run, delay, name=_NEXT, data=True)


async def _run(ctx: BotContext) -> None:
    app = ctx.application
    services: Services = ctx.services
    if ctx.job is not None and ctx.job.data:
        _schedule(app, services.clock.now())  # the next boundary, whatever happens here
    delivery = app.bot_data.delivery
    if delivery is None or not delivery.active:
        return  # the process holding the sender lock turns them
    lock: asyncio.Lock = app.bot_data.extra["checkin_lock"]
    async with lock:
        try:
            await _rotate(ctx, services, app.bot_data.extra["checkin_shown"])
        except Exception:
            log.exception("projector rotation failed; the next minute retries")


async def _rotate(ctx: BotContext, services: Services, shown: dict[int, int]) -> None:
    """Edits each projector whose code changed; a finished one once, then forgets it."""
    for projector in await services.checkin.projectors(services.clock.now()):
        session_id = projector.session.id
        if not projector.ended and shown.get(session_id) == projector.minute:
            continue
        edited = await _edit(ctx, projector)
        if projector.ended or not edited:
            shown.pop(session_id, None)
            await services.checkin.set_projector(session_id, None, None)
        else:
            shown[session_id] = projector.minute


async def _edit(ctx: BotContext, projector: Projector) -> bool:
    """The new code and QR, or, once over, the caption saying so (the photo stays); False if
    the message can no longer be edited (deleted, the chat gone)."""
    assert projector.chat_id is not None and projector.message_id is not None
    texts = await chat_texts(ctx, projector.chat_id)
    caption = projector_caption(texts, projector)
    chat_id, message_id = projector.chat_id, projector.message_id
    if projector.ended:
        edit = ctx.bot.edit_message_caption(chat_id, message_id, caption=caption)
    else:
        png = qr_png(deep_link(ctx.bot.username, projector.payload))
        edit = ctx.bot.edit_message_media(InputMediaPhoto(png, caption=caption), chat_id,
                                          message_id)  # fmt: skip
    return await try_edit(edit, "projector") is not False  # a failure: next minute retries
