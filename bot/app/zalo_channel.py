"""The Zalo channel of a running bot: the bridge in front of Zalo and a second PTB
application polling it, sharing the leader's services; its messages go out through the
leader's outbox sender."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application

from bot.app import Endpoint, build_application, start_application, stop_application
from bot.app.rate_limiter import SharedRateLimiter
from bot.channels import Channel
from bot.config import Settings
from bot.delivery.pacing import INTERACTIVE
from bot.i18n import texts
from bot.services import Services
from bot.services.zalo_accounts import ZaloAccountService
from bot.zalo.bridge import ZaloBridge
from bot.zalo.client import ZaloClient
from bot.zalo.files import FileShelf


@dataclass
class ZaloChannel:
    bridge: ZaloBridge
    app: Application[Any, Any, Any, Any, Any, Any]


@asynccontextmanager
async def zalo_channel(
    settings: Settings,
    services: Services,
    client: ZaloClient,
    *,
    leader: Application[Any, Any, Any, Any, Any, Any] | None = None,
    poll_timeout: float = 30.0,
    app_poll_timeout: int = 10,
    poll: bool = True,
    files: FileShelf | None = None,
) -> AsyncIterator[ZaloChannel]:
    """Starts the bridge and the Zalo application; the `leader` (the Telegram application,
    already started) sends the outbox's Zalo messages through it while it runs. Without a
    leader the Zalo application leads itself: a Zalo-only deployment.

    `poll=False` in webhook mode: events then reach `bridge.receive` from the public server.
    `files`: the shelf behind the links files are sent as (None: they are only named)."""
    # The bridge listens on 127.0.0.1 only; its token just keeps other local programs out.
    token = f"zalo:{secrets.token_urlsafe(24)}"
    accounts = ZaloAccountService(services.db, services.clock)
    async with ZaloBridge(
        client,
        texts(settings.default_language, settings.tz, settings.office),
        token=token,
        accounts=accounts,
        poll_timeout=poll_timeout,
        poll=False,  # not before the application is ready for the first event
        files=files,
    ) as bridge:
        endpoint = Endpoint(Channel.ZALO, token, bridge.base_url, bridge.base_file_url)
        app = build_application(
            settings, endpoint=endpoint, services=services, leader=leader is None
        )
        limiter = app.bot.rate_limiter
        if isinstance(limiter, SharedRateLimiter):
            bridge.pace = _turns(limiter)
        await start_application(app, poll_timeout=app_poll_timeout)
        # Led by Telegram, its sender sends Zalo's messages too; alone, the Zalo application
        # attached its own bot as it started.
        if leader is not None:
            assert leader.bot_data.delivery is not None
            leader.bot_data.delivery.attach(Channel.ZALO, app.bot)
        if poll:
            bridge.start_polling()
        try:
            yield ZaloChannel(bridge, app)
        finally:
            if leader is not None:
                assert leader.bot_data.delivery is not None
                leader.bot_data.delivery.detach(Channel.ZALO)
            await stop_application(app)  # alone, its own sender sends what it has in hand


def _turns(limiter: SharedRateLimiter) -> Callable[[int], Awaitable[None]]:
    """A turn under the Zalo application's limits, overall and for the chat, for each Zalo
    call of a message after its first (which the limiter or the outbox sender paced)."""

    async def wait(chat_id: int) -> None:
        await limiter.pacer.acquire(INTERACTIVE)
        delay = limiter.spacing.free_at(chat_id) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        limiter.spacing.sent(chat_id)

    return wait
