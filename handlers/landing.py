"""Where a deep link lands once the person is registered.

The destinations are filled in by the registry, so sign-up (which lands people) does not
import the features it lands them in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.deeplinks import DESTINATIONS, DeepLink
from handlers.context import BotContext

Destination = Callable[[Update, BotContext, DeepLink], Awaitable[None]]
Callback = Callable[[Update, BotContext], Awaitable[None]]
_TARGETS: dict[str, Destination] = {}
#: What a newcomer is told when a link brought them, before sign-up begins (key by destination).
_NEWCOMER_NOTES: dict[str, str] = {}


def route(**targets: Destination) -> None:
    """Called once by the registry: one callback for every destination a link may name."""
    if set(targets) != set(DESTINATIONS):
        raise ValueError(f"deep-link destinations {sorted(DESTINATIONS)} need a callback each")
    _TARGETS.update(targets)


def tell_newcomers(**notes: str) -> None:
    """Called once by the registry: the catalog key a newcomer reads first, per destination
    (a check-in link is not followed after sign-up: its code has expired by then)."""
    _NEWCOMER_NOTES.update(notes)


def newcomer_note(link: DeepLink) -> str | None:
    return _NEWCOMER_NOTES.get(link.destination)


def ignoring_link(callback: Callback) -> Destination:
    """A destination that needs nothing from the link but where it points."""

    async def land_there(update: Update, ctx: BotContext, _link: DeepLink) -> None:
        await callback(update, ctx)

    return land_there


async def land(update: Update, ctx: BotContext, link: DeepLink) -> None:
    await _TARGETS[link.destination](update, ctx, link)
