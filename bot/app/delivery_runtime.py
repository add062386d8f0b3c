"""Runs the outbox sender beside the bot while this process holds the sender lock.

The sender is supervised: if it fails, it is logged and started again; if the lock is lost
(PostgreSQL dropped the connection holding it), sending stops and the process goes back to
standby, so two senders never run at once for long.

It sends every channel's messages: each goes out through the bot of the channel its route
names (bot.delivery.routing), paced on that channel's own limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from telegram.ext import ExtBot

from bot.app.channel_router import ChannelRouter, send_routed
from bot.app.rate_limiter import SharedRateLimiter
from bot.app.transport import TelegramTransport
from bot.channels import Channel, channel_of
from bot.config import Settings
from bot.delivery.model import OutboxMessage, Outcome, Unreachable
from bot.delivery.pacing import ChatSpacing, Lane, PriorityPacer
from bot.delivery.sender import OutboxSender, SenderSettings, Transport
from bot.services import Services
from storage.sender_lock import SenderLock, sender_lock

log = logging.getLogger(__name__)

STANDBY_RETRY_S = 10.0
LOCK_CHECK_S = 5.0
RESTART_AFTER_S = 5.0


class DeliveryRuntime:
    """Owns the sender, its lock and their task for the life of the application."""

    def __init__(self, settings: Settings, pacer: PriorityPacer, spacing: ChatSpacing) -> None:
        self.settings = settings
        self.pacer = pacer
        self.spacing = spacing
        self.sender: OutboxSender | None = None
        self._services: Services | None = None
        self._router: ChannelRouter | None = None
        self._transport: Transport | None = None
        self._lock: SenderLock | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._lock_lost = False
        self._active = False
        #: Called when this process becomes the one that sends (the reminder pass runs there).
        self.on_active: Callable[[], None] = lambda: None
        #: The bots of the other channels this process runs (Zalo, through its bridge).
        self.channel_bots: dict[Channel, ExtBot[Any]] = {}
        self._transports: dict[Channel, TelegramTransport] = {}
        self._lanes: dict[Channel, Lane] = {Channel.TELEGRAM: Lane(pacer, spacing)}

    def attach(self, channel: Channel, bot: ExtBot[Any]) -> None:
        """Messages for people on `channel` go through `bot` from now on, under the limits
        of its own rate limiter (the one its replies share)."""
        self.channel_bots[channel] = bot
        self._transports[channel] = self._transport_for(bot, channel)
        limiter = bot.rate_limiter
        if isinstance(limiter, SharedRateLimiter):
            self._lanes[channel] = Lane(limiter.pacer, limiter.spacing)
        else:  # a bot built elsewhere: paced here on the channel's configured limits
            self._lanes[channel] = Lane(
                PriorityPacer(self.settings.zalo_send_rate_per_s),
                ChatSpacing(self.settings.zalo_send_rate_per_chat_s),
            )

    def detach(self, channel: Channel) -> None:
        self.channel_bots.pop(channel, None)
        self._transports.pop(channel, None)

    def lane_of(self, chat_id: int) -> Lane:
        """The limits a chat is sent under: its channel's, kept after a detach so that a
        429 still being waited out is honoured."""
        lanes = self._lanes
        return lanes.get(channel_of(chat_id), lanes[Channel.TELEGRAM])

    def _transport_for(
        self, bot: ExtBot[Any], channel: Channel = Channel.TELEGRAM
    ) -> TelegramTransport:
        settings = self.settings
        return TelegramTransport(
            bot, settings.default_language, settings.tz, settings.office, channel
        )

    @property
    def active(self) -> bool:
        """Whether this process holds the sender lock now."""
        return self._active and not self._lock_lost

    async def start(self, bot: ExtBot[Any], services: Services) -> None:
        await services.delivery.load_unreachable()
        self._transports.setdefault(Channel.TELEGRAM, self._transport_for(bot))
        router = self._router = ChannelRouter(
            services.channels, services.delivery, lambda: Channel.ZALO in self._transports
        )

        async def deliver(message: OutboxMessage) -> Outcome:
            outcome = await send_routed(router, self._transports, message)
            if isinstance(outcome, Unreachable):
                services.delivery.note_unreachable(message.chat_id)
            return outcome

        self._services, self._transport = services, deliver
        self._lock = sender_lock(services.db, self.settings.database_url)
        self._task = asyncio.create_task(self._run(self._lock), name="outbox")

    async def stop(self) -> None:
        """Graceful: in-flight sends settle before the lock is released."""
        self._stop.set()
        if self.sender is not None:
            await self.sender.stop()
        if self._task is not None:
            await self._task

    async def _run(self, lock: SenderLock) -> None:
        try:
            while not self._stop.is_set():
                if not await self._acquire(lock):
                    return
                log.info("outbox sender active: %s", await lock.holder())
                self._active = True
                self.on_active()
                try:
                    await self._serve(lock)
                finally:
                    self._active = False
                with contextlib.suppress(Exception):
                    await lock.release()
        finally:
            with contextlib.suppress(Exception):
                await lock.release()

    async def _acquire(self, lock: SenderLock) -> bool:
        """Waits on standby until the lock is free; False if the bot stops first."""
        announced = False
        while not await lock.try_acquire():
            if not announced:
                log.warning(
                    "outbox sender on standby: the lock is held by %s; this process will "
                    "not send until it is released", await lock.holder()
                )  # fmt: skip
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), STANDBY_RETRY_S)
            if self._stop.is_set():
                return False
        self._lock_lost = False
        return True

    async def _serve(self, lock: SenderLock) -> None:
        assert self._services is not None and self._transport is not None
        assert self._router is not None
        watchdog = asyncio.create_task(self._watch(lock), name="outbox-lock-watch")
        try:
            while not self._stop.is_set() and not self._lock_lost:
                self.sender = OutboxSender(
                    self._services.db, self._transport, self.pacer, self.spacing,
                    SenderSettings(in_flight=self.settings.send_in_flight),
                    lane_of=self.lane_of, prepare=self._router.prepare,
                )  # fmt: skip
                self._services.delivery.connect_sender(self.sender.wake)
                try:
                    await self.sender.run()
                except Exception:
                    log.exception("outbox sender failed; starting again in %.0fs", RESTART_AFTER_S)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), RESTART_AFTER_S)
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _watch(self, lock: SenderLock) -> None:
        while True:
            await asyncio.sleep(LOCK_CHECK_S)
            if not await lock.alive():
                log.error("outbox sender lost its lock: stopping, back to standby")
                self._lock_lost = True
                if self.sender is not None:
                    await self.sender.stop()
                return
