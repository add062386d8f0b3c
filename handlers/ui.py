"""Keyboards, cards and the small helpers every handler uses to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest

from bot.domain import Person
from bot.i18n import LANGUAGES, Raw, t
from handlers.context import BotContext

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def inline(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Rows of (label, callback_data) pairs."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def labels(key: str) -> set[str]:
    """A button label in every language: a reply button typed back is matched in any of them."""
    return {t(lang, key) for lang in LANGUAGES}


def is_label(text: str | None, key: str) -> bool:
    return text is not None and text.strip() in labels(key)


def back_cancel_keyboard(ctx: BotContext) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(ctx.t("button.back")), KeyboardButton(ctx.t("button.cancel"))]],
        resize_keyboard=True,
        input_field_placeholder=ctx.t("onboarding.placeholder"),
    )


def contact_keyboard(ctx: BotContext) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(ctx.t("onboarding.share_contact"), request_contact=True)],
            [KeyboardButton(ctx.t("onboarding.self_declare"))],
            [KeyboardButton(ctx.t("button.back")), KeyboardButton(ctx.t("button.cancel"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def acknowledged(
    callback: Callable[[Update, BotContext], Awaitable[None]],
) -> Callable[[Update, BotContext], Awaitable[None]]:
    """Answers the button press first (no spinning clock), then does the work."""

    async def wrapper(update: Update, ctx: BotContext) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
        await callback(update, ctx)

    return wrapper


async def say(update: Update, ctx: BotContext, text: str, markup: Markup = None) -> None:
    """Sends a new message to the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    await ctx.bot.send_message(chat.id, text, reply_markup=markup)


async def show(update: Update, ctx: BotContext, text: str, markup: Markup = None) -> None:
    """Edits the message whose button was tapped, or sends a new one for a typed command.

    Editing keeps the chat short on a phone; a reply keyboard cannot ride on an edit, so
    those always go in a new message.
    """
    query = update.callback_query
    if (
        query is not None
        and query.message is not None
        and not isinstance(markup, ReplyKeyboardMarkup | ReplyKeyboardRemove)
    ):
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc):
                return
    await say(update, ctx, text, markup)


def person_card(person: Person, lang: str, *, staff_view: bool = False) -> Raw:
    """The profile as a person (or, with staff_view, an administrator) reads it."""
    dash = "—"
    gender = t(lang, f"gender.{person.gender.value}") if person.gender else dash
    status = "profile.verified" if person.verified else "profile.unverified"
    source = "profile.source_roster" if person.from_roster else "profile.source_self"
    lines = [
        t(lang, "profile.card",
          name=person.full_name,
          unit=person.unit.name if person.unit else dash,
          title=person.title.name if person.title else dash,
          grade=person.grade.name if person.grade else dash,
          gender=gender,
          birth_year=str(person.birth_year) if person.birth_year else dash,
          ethnicity=person.ethnicity.name if person.ethnicity else dash,
          phone=person.phone or dash),
        t(lang, source) + " · " + t(lang, status),
    ]  # fmt: skip
    if staff_view:
        linked = "profile.linked" if person.telegram_id else "profile.not_linked"
        lines.append(t(lang, linked))
        if person.source_pool:
            lines.append(t(lang, "profile.source_pool"))
    return Raw("\n".join(lines))
