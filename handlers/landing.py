"""Where a deep link lands once the person is registered."""

from __future__ import annotations

from telegram import Update

from bot.deeplinks import DeepLink
from handlers.context import BotContext
from handlers.fallback import send_help
from handlers.profile import send_my_data, send_profile

TARGETS = {"profile": send_profile, "mydata": send_my_data, "help": send_help}


async def land(update: Update, ctx: BotContext, link: DeepLink) -> None:
    await TARGETS[link.destination](update, ctx)
