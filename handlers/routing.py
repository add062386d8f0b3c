"""How handlers are registered: typed buttons, commands, and refusals handled in one place.

Every callback registered through here gets the same treatment: a `DomainError` it raises
(no right, not found, bad input) is put into words by `ui.refuse` in the person's language;
a button press is always answered exactly once, so the phone stops showing its clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
)
from telegram.ext.filters import BaseFilter

from bot.actions import Action
from bot.errors import DomainError
from handlers.context import BotContext
from handlers.errors import report_failure
from handlers.ui import answer, refuse

A = TypeVar("A", bound=Action)
Callback = Callable[[Update, BotContext], Awaitable[None]]
ActionCallback = Callable[[Update, BotContext, A], Awaitable[None]]
Handler = BaseHandler[Update, BotContext, None]


async def guarded(update: Update, ctx: BotContext, work: Callable[[], Awaitable[None]]) -> None:
    """Runs `work`: a refusal is shown to the person, a failure reported with an apology, and
    a button press is always answered, once."""
    try:
        await work()
    except DomainError as exc:
        await refuse(update, ctx, exc)
    except Exception as exc:
        await report_failure(update, ctx, exc)
    await answer(update, ctx)


def button(kind: type[A], callback: ActionCallback[A]) -> Handler:
    """Routes the taps of one kind of action, unpacked and typed, to `callback`."""

    async def run(update: Update, ctx: BotContext) -> None:
        query = update.callback_query
        assert query is not None and isinstance(query.data, str)
        tapped = kind.unpack(query.data)
        await guarded(update, ctx, lambda: callback(update, ctx, tapped))

    run.__name__ = getattr(callback, "__name__", "button")
    return CallbackQueryHandler(run, pattern=kind.matches)


def any_button(callback: Callback) -> Handler:
    """Every tap nobody else claimed (keep it last)."""

    async def run(update: Update, ctx: BotContext) -> None:
        await guarded(update, ctx, lambda: callback(update, ctx))

    run.__name__ = getattr(callback, "__name__", "any_button")
    return CallbackQueryHandler(run)


def command(name: str, callback: Callback) -> Handler:
    async def run(update: Update, ctx: BotContext) -> None:
        await guarded(update, ctx, lambda: callback(update, ctx))

    run.__name__ = getattr(callback, "__name__", name)
    return CommandHandler(name, run)


def message(accepted: BaseFilter, callback: Callback) -> Handler:
    async def run(update: Update, ctx: BotContext) -> None:
        await guarded(update, ctx, lambda: callback(update, ctx))

    run.__name__ = getattr(callback, "__name__", "message")
    return MessageHandler(accepted, run)


def argument_text(ctx: BotContext) -> str:
    """What was typed after a command, as one string."""
    return " ".join(ctx.args or [])
