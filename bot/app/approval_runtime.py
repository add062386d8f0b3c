"""Runs the approval pass every minute: pending enrolments past their time give their seat
back (bot/services/approval.py `expire_due`), and once a day within the office's hours each
decider with enrolments waiting is reminded (`remind_due`).

Everything the pass needs is in the database: a restart loses nothing, and a pass runs at
start for what fell due meanwhile. It runs only in the process holding the sender lock, as
the reminder pass does; were two to run, the conditional UPDATE of each enrolment and the
reminders' outbox keys would still let each change happen once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from bot.services import Services
from handlers.context import BotContext

log = logging.getLogger(__name__)

PASS_EVERY = timedelta(minutes=1)
App = Any  # telegram.ext.Application, as the other runtimes take it


def start_approvals(app: App) -> None:
    assert app.job_queue is not None
    app.bot_data.extra["approval_lock"] = asyncio.Lock()
    app.job_queue.run_repeating(_run, interval=PASS_EVERY, first=0, name="approvals")


def wake_approvals(app: App) -> None:
    """A pass now (the sandbox's clock moved, a test advanced its clock)."""
    assert app.job_queue is not None
    app.job_queue.run_once(_run, 0)


async def _run(ctx: BotContext) -> None:
    app = ctx.application
    delivery = app.bot_data.delivery
    if delivery is None or not delivery.active:
        return  # another process holds the sender lock and runs the pass
    services: Services = ctx.services
    async with app.bot_data.extra["approval_lock"]:
        try:
            expired = await services.approval.expire_due()
            reminded = await services.approval.remind_due()
        except Exception:
            log.exception("approval pass failed; the next one retries")
            return
    if expired or reminded:
        log.info("approvals: %d expired, %d reminders", expired, reminded)
