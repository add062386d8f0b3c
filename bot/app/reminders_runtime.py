"""Wakes the reminder pass: at start, every half minute, and exactly when something falls due.
The same pass closes the attendance of sessions ended CLOSE_AFTER ago (bot/services/roll_call),
and then queues the progress digests that are due (bot/services/digests.py).

The JobQueue (APScheduler) holds no reminder: it only decides when `ReminderService.run_pass`
runs next. Everything the pass needs is in the database, so a restart loses nothing; a pass
runs at start to send what fell due while the bot was down.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from telegram.ext import Application, Job

from bot.services import Services
from handlers.context import BotContext

log = logging.getLogger(__name__)

PASS_EVERY = timedelta(seconds=30)
_NEXT = "reminders-next"


def start_reminders(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.job_queue is not None
    app.bot_data.extra["reminder_lock"] = asyncio.Lock()
    app.job_queue.run_repeating(_run, interval=PASS_EVERY, first=0, name="reminders")


def wake_reminders(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """A pass now (the sandbox's clock moved, a test advanced its clock)."""
    assert app.job_queue is not None
    app.job_queue.run_once(_run, 0, name=_NEXT)


async def _run(ctx: BotContext) -> None:
    app = ctx.application
    delivery = app.bot_data.delivery
    if delivery is None or not delivery.active:
        return  # another process sends, and passes: one pass at a time in the deployment
    lock: asyncio.Lock = app.bot_data.extra["reminder_lock"]
    services: Services = ctx.services
    async with lock:
        await _close_sessions(services)
        try:
            report = await services.reminders.run_pass()
        except Exception:
            log.exception("reminder pass failed; the next one retries")
            return
        await _queue_digests(services)
    if report.queued or report.skipped:
        log.info(
            "reminder pass: %d reminders, %d merged, %d skipped, %d change notices, %d released, "
            "%d office reminders",
            report.sent, report.merged, report.skipped, report.changes, report.released,
            report.office,
        )  # fmt: skip
    if report.next_at is None:
        return
    delay = (report.next_at - services.clock.now()).total_seconds()
    if delay < PASS_EVERY.total_seconds():
        assert app.job_queue is not None
        job: Job[Any]
        for job in app.job_queue.get_jobs_by_name(_NEXT):
            job.schedule_removal()
        app.job_queue.run_once(_run, max(0.0, delay), name=_NEXT)  # type: ignore[arg-type]


async def _close_sessions(services: Services) -> None:
    """Sessions ended long enough ago close (their unmarked learners become absent) in the
    same pass, before the reminders: the warnings it queues go out with them."""
    try:
        closed = await services.roll_call.close_due()
    except Exception:
        log.exception("closing sessions failed; the next pass retries")
        return
    if closed:
        log.info("attendance: %d sessions closed", closed)


async def _queue_digests(services: Services) -> None:
    """The progress digests due, after the reminders (bot/services/digests.py): most passes
    find none due, or all queued, in a query or two."""
    try:
        queued = await services.digests.queue_due()
    except Exception:
        log.exception("progress digests failed; the next pass retries")
        return
    if queued:
        log.info("progress digests: %d messages queued", queued)
