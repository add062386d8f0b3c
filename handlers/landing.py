"""Where a deep link lands once the person is registered.

The destinations are filled in by the registry, so sign-up (which lands people) does not
import the features it lands them in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.deeplinks import DESTINATIONS, DeepLink
from handlers.context import BotContext

Destination = Callable[[Update, BotContext], Awaitable[None]]
_TARGETS: dict[str, Destination] = {}


def route(**targets: Destination) -> None:
    """Called once by the registry: one callback for every destination a link may name."""
    if set(targets) != set(DESTINATIONS):
        raise ValueError(f"deep-link destinations {sorted(DESTINATIONS)} need a callback each")
    _TARGETS.update(targets)


async def land(update: Update, ctx: BotContext, link: DeepLink) -> None:
    await _TARGETS[link.destination](update, ctx)
