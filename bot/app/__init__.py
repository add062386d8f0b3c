"""The one place that assembles the Telegram application from settings and services."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.app.approval_runtime import start_approvals, wake_approvals
from bot.app.broadcast_progress import start_broadcast_progress
from bot.app.checkin_runtime import start_checkin_rotation, wake_checkin
from bot.app.delivery_runtime import DeliveryRuntime
from bot.app.ordering import PerUserOrderedProcessor
from bot.app.rate_limiter import SharedRateLimiter
from bot.app.reminders_runtime import start_reminders, wake_reminders
from bot.app.updates_request import ReadableUpdatesRequest
from bot.channels import Channel
from bot.clock import Clock
from bot.config import Settings
from bot.delivery.pacing import ChatSpacing, PriorityPacer
from bot.services import Services
from bot.services.digests import DigestConfig
from handlers.context import AppData, Arrivals, BotContext
from handlers.menus import set_default_menus, sync_chat_menu
from handlers.registry import register_all
from storage.database import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)

DIALOGUE_PURGE_EVERY = timedelta(minutes=10)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where an application finds its Bot API: Telegram's, or the Zalo bridge (bot/zalo)
    that presents the same API in front of Zalo."""

    channel: Channel
    token: str
    base_url: str
    base_file_url: str

    @classmethod
    def telegram(cls, settings: Settings) -> Endpoint:
        if not settings.token:
            raise ValueError("BOT_TOKEN is not set")
        return cls(
            Channel.TELEGRAM,
            settings.token,
            settings.telegram_base_url,
            settings.telegram_base_file_url,
        )


def build_application(
    settings: Settings,
    *,
    db: Database | None = None,
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] | None = None,
    clock: Clock | None = None,
    endpoint: Endpoint | None = None,
    services: Services | None = None,
    leader: bool = True,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot, ready for `run_polling` or for `initialize/start` in tests and the sandbox.

    One process may run it on several channels (Telegram and Zalo), one application each,
    sharing `services`; only the `leader` migrates the database and runs the background
    work (the outbox sender, reminders, check-in codes, approvals): the others only answer.
    """
    endpoint = endpoint or Endpoint.telegram(settings)
    if services is None:
        services = build_services(settings, db or Database.from_url(settings.database_url), clock)
    pacer = PriorityPacer(settings.send_rate_per_s)
    spacing = ChatSpacing(settings.send_rate_per_chat_s, settings.send_group_per_min)
    if endpoint.channel is Channel.ZALO:
        pacer = PriorityPacer(settings.zalo_send_rate_per_s)
        spacing = ChatSpacing(settings.zalo_send_rate_per_chat_s, settings.send_group_per_min)
    builder = builder or ApplicationBuilder()
    arrivals = Arrivals()
    builder = (
        builder.token(endpoint.token)
        .base_url(endpoint.base_url)
        .base_file_url(endpoint.base_file_url)
        .context_types(ContextTypes(context=BotContext, bot_data=AppData))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(PerUserOrderedProcessor())
        .get_updates_request(ReadableUpdatesRequest(arrivals))
        .rate_limiter(SharedRateLimiter(pacer, spacing))
        .post_init(_post_init if leader else _post_init_follower)
        .post_stop(_post_stop if leader else _post_stop_follower)
    )
    if leader:  # the database is the leader's to close
        builder = builder.post_shutdown(_post_shutdown)
    app = builder.build()
    app.bot_data.services = services
    app.bot_data.arrivals = arrivals
    app.bot_data.settings = settings
    app.bot_data.channel = endpoint.channel
    app.bot_data.delivery = DeliveryRuntime(settings, pacer, spacing) if leader else None
    register_all(app)
    return app


def build_services(settings: Settings, database: Database, clock: Clock | None = None) -> Services:
    """The channel-agnostic services, once per process, whatever channels it runs."""
    return Services.build(
        database,
        superadmin_ids=settings.admin_ids,
        clock=clock,
        tz=settings.tz,
        evening=settings.reminder_evening,
        quiet=settings.quiet,
        reports=settings.report_calendar,
        office_hours=settings.office_hours,
        young_under=settings.young_cadre_under,
        approval_days=settings.approval_days,
        digests=DigestConfig(
            settings.digest_schedule,
            settings.digest_folder,
            settings.office,
            settings.default_language,
        ),
    )


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Migrate and resume dialogues before the first update is fetched; then menus and the
    sender, in the background."""
    services: Services = app.bot_data.services
    settings: Settings = app.bot_data.settings
    await upgrade(services.db)
    resumed = await services.dialogues.load()
    log.info("%d dialogues in progress resumed", resumed)
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        _purge_dialogues, interval=DIALOGUE_PURGE_EVERY, first=DIALOGUE_PURGE_EVERY
    )
    await set_default_menus(app.bot)
    app.bot_data.extra["menus"] = asyncio.create_task(_publish_staff_menus(app, services, settings))
    start_reminders(app)
    start_checkin_rotation(app)
    start_broadcast_progress(app)
    start_approvals(app)
    app.bot_data.delivery.on_active = lambda: _on_active(app)
    if app.bot_data.channel is not Channel.TELEGRAM:  # a Zalo-only office: its own bot
        app.bot_data.delivery.attach(app.bot_data.channel, app.bot)
    await app.bot_data.delivery.start(app.bot, services)
    log.info("bot ready")


async def _post_init_follower(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """A second channel's application: its command menus (the Zalo bridge answers "menu"
    with them); the leader does everything else, for every channel."""
    services: Services = app.bot_data.services
    settings: Settings = app.bot_data.settings
    await set_default_menus(app.bot)
    app.bot_data.extra["menus"] = asyncio.create_task(_publish_staff_menus(app, services, settings))


def _on_active(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """This process took the sender lock: what fell due meanwhile goes out now."""
    wake_reminders(app)
    wake_checkin(app)
    wake_approvals(app)


async def _publish_staff_menus(
    app: Application[Any, Any, Any, Any, Any, Any], services: Services, settings: Settings
) -> None:
    """Each staff member's menu; one failure (a chat never opened, a 429) stops nothing."""
    staff = await services.access.staff_menus()
    for telegram_id, (roles, language) in staff.items():
        await sync_chat_menu(app.bot, telegram_id, roles, language or settings.default_language)
    log.info("%d staff menus published", len(staff))


async def _purge_dialogues(ctx: BotContext) -> None:
    """Abandoned dialogues hold personal data in their drafts: forget them; and the catalog
    views whose buttons have expired."""
    purged = await ctx.services.dialogues.purge()
    if purged:
        log.info("%d abandoned dialogues purged", purged)
    views = await ctx.services.catalog.purge()
    if views:
        log.info("%d expired catalog views purged", views)


async def _post_stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Before the bot closes its connections: let the sender finish what is in flight."""
    _stop_menus(app)
    await app.bot_data.delivery.stop()


async def _post_stop_follower(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    _stop_menus(app)


def _stop_menus(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    menus = app.bot_data.extra.get("menus")
    if menus is not None and not menus.done():
        menus.cancel()


async def _post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.bot_data.services.db.dispose()


async def start_application(
    app: Application[Any, Any, Any, Any, Any, Any], *, poll_timeout: int = 10
) -> None:
    """What `run_polling` does, for callers that own the event loop (tests, sandbox, benches)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
    )


async def stop_application(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await halt_application(app)
    await close_application(app)


async def halt_application(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """No more updates, and the leader's sender settles; its connections stay open, so a
    process running several channels can stop the others before closing the leader's."""
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_stop is not None:
        await app.post_stop(app)


async def close_application(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """After `halt_application`: closes its connections (and the leader's database)."""
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
