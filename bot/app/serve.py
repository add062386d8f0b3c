"""`python -m bot` with a token: every configured channel in one process, until SIGINT/SIGTERM.

One database and one set of services serve both channels. Telegram (BOT_TOKEN) leads: it
migrates the database and runs the background work, the outbox sender included; Zalo
(ZALO_BOT_TOKEN) follows it through its bridge, or leads itself in a Zalo-only office. With
PUBLIC_BASE_URL the bot's own web server (bot/zalo/public.py) serves the files sent to Zalo
users, and with ZALO_WEBHOOK_SECRET too, Zalo's webhook; otherwise Zalo is long-polled.

Stopping reverses the start, except that the leader first stops taking updates and lets its
sender settle while the Zalo bridge can still carry what is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Final

from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.app import (
    build_application,
    build_services,
    close_application,
    halt_application,
    start_application,
)
from bot.app.zalo_channel import zalo_channel
from bot.clock import Clock
from bot.config import Settings
from bot.services import Services
from bot.zalo.client import ZaloClient, ZaloError
from bot.zalo.files import FileShelf
from bot.zalo.public import WEBHOOK_PATH, PublicServer, Webhook
from storage.database import Database

log = logging.getLogger(__name__)

#: Zalo's answer to a token it does not know: 401 Unauthorized, as the emulator (and Telegram)
#: answer; the docs do not say.
ZALO_REJECTED: Final = frozenset({401})


class StartFailed(Exception):
    """Why the bot could not start, in one line for the operator, and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    db: Database | None = None,
    clock: Clock | None = None,
    poll_timeout: int = 10,
) -> int:
    """Runs the configured channels until `stop` is set (by SIGINT or SIGTERM when none is
    given); the exit code: 0, 1 (a service unreachable) or 2 (a setting refused)."""
    if stop is None:
        stop = asyncio.Event()
        forget_signals = _stop_on_signals(stop)
    else:
        forget_signals = _nothing
    services = build_services(settings, db or Database.from_url(settings.database_url), clock)
    try:
        async with _channels(settings, services, poll_timeout):
            await stop.wait()
            log.info("stopping")
    except StartFailed as exc:
        print(exc.message, file=sys.stderr)
        return exc.code
    finally:
        forget_signals()
        await services.db.dispose()  # already done by the leader, unless it never started
    return 0


@asynccontextmanager
async def _channels(
    settings: Settings, services: Services, poll_timeout: int
) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        zalo = await _zalo_client(settings, stack) if settings.zalo_token else None
        telegram = await _telegram(settings, services, poll_timeout) if settings.token else None
        if telegram is not None:
            leader = telegram
            halted: list[bool] = []

            async def halt() -> None:
                if not halted:
                    halted.append(True)
                    await halt_application(leader)

            async def close() -> None:  # halts first if Zalo failed to start
                await halt()
                await close_application(leader)

            stack.push_async_callback(close)
        if zalo is not None:
            await _zalo(settings, services, zalo, telegram, stack, poll_timeout)
        if telegram is not None:
            stack.push_async_callback(halt)
        log.info(
            "running: %s",
            ", ".join(name for name, on in (("Telegram", telegram), ("Zalo", zalo)) if on),
        )
        yield


async def _telegram(
    settings: Settings, services: Services, poll_timeout: int
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Telegram application, started; it leads. Pending updates are kept, as
    `run_polling(drop_pending_updates=False)` keeps them."""
    app = build_application(settings, services=services)
    try:
        await start_application(app, poll_timeout=poll_timeout)
    except InvalidToken:
        await _abandon(app)
        raise StartFailed(f"BOT_TOKEN was rejected by {settings.telegram_base_url}", 2) from None
    except NetworkError as exc:  # the message names the problem, never the token
        await _abandon(app)
        raise StartFailed(
            f"Cannot reach {settings.telegram_base_url}: {exc.__class__.__name__}", 1
        ) from None
    return app


async def _abandon(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    with contextlib.suppress(Exception):
        await halt_application(app)
        await close_application(app)


async def _zalo_client(settings: Settings, stack: AsyncExitStack) -> ZaloClient:
    """A client whose token Zalo accepted; in polling mode any webhook left is removed
    first (Zalo refuses getUpdates while one is set)."""
    assert settings.zalo_token
    base = settings.zalo_base_url
    try:
        client = ZaloClient(settings.zalo_token, base)
    except ValueError as exc:
        raise StartFailed(f"Invalid setting ZALO_BOT_TOKEN: {exc}", 2) from None
    stack.push_async_callback(client.aclose)
    try:
        await client.get_me()
        if not _webhook_mode(settings):
            await client.delete_webhook()
    except ZaloError as exc:  # its words never hold the token
        if exc.error_code is None:
            raise StartFailed(f"Cannot reach {base}: {exc.description}", 1) from None
        if exc.error_code in ZALO_REJECTED:
            raise StartFailed(f"ZALO_BOT_TOKEN was rejected by {base}", 2) from None
        raise StartFailed(str(exc), 1) from None
    return client


def _webhook_mode(settings: Settings) -> bool:
    return bool(settings.public_base_url and settings.webhook_secret)


async def _zalo(
    settings: Settings,
    services: Services,
    client: ZaloClient,
    leader: Application[Any, Any, Any, Any, Any, Any] | None,
    stack: AsyncExitStack,
    poll_timeout: int,
) -> None:
    """The Zalo channel, then the public server, then (webhook mode) the webhook set."""
    public = settings.public_base_url.rstrip("/")
    webhook_mode = _webhook_mode(settings)
    files = FileShelf(public) if public else None
    running = zalo_channel(
        settings, services, client, leader=leader, poll=not webhook_mode, files=files,
        app_poll_timeout=poll_timeout,
    )  # fmt: skip
    channel = await stack.enter_async_context(running)
    if not public:
        return
    secret = settings.webhook_secret
    webhook = Webhook(secret, channel.bridge.receive) if secret else None
    server = PublicServer(settings.public_port, webhook=webhook, files=files)
    try:
        await server.start()
    except OSError as exc:
        raise StartFailed(
            f"Cannot listen on 127.0.0.1:{settings.public_port} (PUBLIC_PORT): {exc.strerror}", 1
        ) from None
    stack.push_async_callback(server.stop)
    if secret:
        try:
            await client.set_webhook(public + WEBHOOK_PATH, secret)
        except ZaloError as exc:
            raise StartFailed(str(exc), 1) from None
        log.info("Zalo webhook set to %s%s", public, WEBHOOK_PATH)


def _stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set `stop`; the returned function puts the defaults back."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)

    def forget() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return forget


def _nothing() -> None:
    return None
