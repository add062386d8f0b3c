"""Starts the outbox sender beside the bot, if this process wins the sender lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot

from bot.app.transport import TelegramTransport
from bot.config import Settings
from bot.delivery.model import OutboxMessage, Outcome, Unreachable
from bot.delivery.pacing import ChatSpacing, PriorityPacer
from bot.delivery.sender import OutboxSender, SenderSettings
from bot.services import Services
from storage.sender_lock import SenderLock, sender_lock

log = logging.getLogger(__name__)

STANDBY_RETRY_S = 10.0


class DeliveryRuntime:
    """Owns the sender task and its lock for the life of the application."""

    def __init__(self, settings: Settings, pacer: PriorityPacer, spacing: ChatSpacing) -> None:
        self.settings = settings
        self.pacer = pacer
        self.spacing = spacing
        self.sender: OutboxSender | None = None
        self._lock: SenderLock | None = None
        self._task: asyncio.Task[None] | None = None
        self.active = False

    async def start(self, bot: Bot, services: Services) -> None:
        await services.delivery.load_unreachable()
        transport = TelegramTransport(bot, self.settings.default_language)

        async def deliver(message: OutboxMessage) -> Outcome:
            outcome = await transport(message)
            if isinstance(outcome, Unreachable):
                services.delivery.note_unreachable(message.chat_id)
            return outcome

        self.sender = OutboxSender(
            services.db, deliver, self.pacer, self.spacing,
            SenderSettings(in_flight=self.settings.send_in_flight),
        )  # fmt: skip
        services.delivery.connect_sender(self.sender.wake)
        self._lock = sender_lock(services.db, self.settings.database_url)
        self._task = asyncio.create_task(self._run(self._lock, self.sender), name="outbox")

    async def _run(self, lock: SenderLock, sender: OutboxSender) -> None:
        announced = False
        while not await lock.try_acquire():
            if not announced:
                log.warning(
                    "outbox sender on standby: the lock is held by %s; this process will "
                    "not send until it is released", await lock.holder()
                )  # fmt: skip
                announced = True
            await asyncio.sleep(STANDBY_RETRY_S)
        self.active = True
        log.info("outbox sender active: %s", await lock.holder())
        await sender.run()

    async def stop(self) -> None:
        """Graceful: in-flight sends settle before the lock is released."""
        if self._task is None:
            return
        if self.active and self.sender is not None:
            await self.sender.stop()
        else:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self._lock is not None:
            await self._lock.release()
