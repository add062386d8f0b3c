"""Keyboards, cards and the small helpers every handler uses to answer."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest

from bot.actions import Action
from bot.channels import Channel, channel_of
from bot.domain import HeldRole, MessageKind, Person, Role, RoleGrant
from bot.errors import DomainError
from bot.i18n import LANGUAGES, Raw, Texts, t
from bot.menus import MAIN_KEYBOARD, keyboard_for
from bot.text_search import typed_choice
from bot.validation import shorten
from handlers.context import BotContext

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
Button = tuple[str, Action]
_TAG = re.compile(r"<[^>]*>")  # our texts escape "<" in values, so every "<" opens a tag
ALERT_MAX = 200  # Telegram shows at most 200 characters in a button's answer


LABEL_MAX = 60  # a longer button label is cut by phones anyway, mid-word


def inline(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    """Rows of (label, action) pairs; long labels are shortened between words."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(shorten(label, LABEL_MAX), callback_data=act.pack())
                for label, act in row
            ]
            for row in rows
        ]
    )


def labels(key: str) -> set[str]:
    """A button label in every language: a reply button typed back is matched in any of them."""
    return {t(lang, key) for lang in LANGUAGES}


def is_label(text: str | None, key: str) -> bool:
    """The label typed back, as a reply button sends it or as a person types it."""
    return text is not None and bool(typed_choice(text, ((label, True) for label in labels(key))))


def back_cancel_keyboard(ctx: BotContext) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(ctx.t("button.back")), KeyboardButton(ctx.t("button.cancel"))]],
        resize_keyboard=True,
        input_field_placeholder=ctx.t("dialogue.placeholder"),
    )


def share_phone_keyboard(ctx: BotContext, *extra: str) -> ReplyKeyboardMarkup:
    """The one-tap button that shares one's own phone number, then `extra` labels, then
    Cancel (or Back and Cancel within a dialogue that has a step to go back to). Zalo
    cannot share a contact: there the number is typed, and the button is left out."""
    share = [KeyboardButton(ctx.t("onboarding.share_contact"), request_contact=True)]
    return ReplyKeyboardMarkup(
        [
            *([share] if ctx.bot_data.channel is not Channel.ZALO else []),
            *([KeyboardButton(ctx.t(key))] for key in extra),
            [KeyboardButton(ctx.t("button.back")), KeyboardButton(ctx.t("button.cancel"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def kind_name(texts: Texts, kind: str) -> str:
    """What a kind of message is called; a kind no longer known, as stored."""
    return texts(f"message_kind.{kind}") if kind in {k.value for k in MessageKind} else kind


def person_label(person: Person) -> str:
    """A name as lists show it: namesakes are common, the birth year tells them apart."""
    return f"{person.full_name} ({person.birth_year})" if person.birth_year else person.full_name


def main_keyboard_markup(labels: list[str]) -> ReplyKeyboardMarkup:
    """The keyboard that stays under the text box: a button for each thing the person does
    most, two to a row (a tap sends its label, which routes as the command)."""
    return ReplyKeyboardMarkup(
        [labels[i : i + 2] for i in range(0, len(labels), 2)],
        resize_keyboard=True,
        is_persistent=True,
    )


def main_menu(ctx: BotContext, roles: Iterable[Role]) -> ReplyKeyboardMarkup:
    """The main keyboard for these roles, in the person's language."""
    return main_keyboard_markup([ctx.t(f"menu.{name}") for name in keyboard_for(roles)])


def menu_command(text: str | None) -> str | None:
    """The command whose main-keyboard button sent this text (in any language), if any."""
    if text is None:
        return None
    typed = text.strip()
    return next((name for name in MAIN_KEYBOARD if typed in labels(f"menu.{name}")), None)


async def resting_keyboard(
    update: Update, ctx: BotContext
) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """What goes back under the text box when a question is done with: the main keyboard
    once the person is registered, none before."""
    actor = await ctx.actor(update)
    return main_menu(ctx, actor.roles) if actor.person else ReplyKeyboardRemove()


async def answer(
    update: Update, ctx: BotContext, text: str | None = None, *, alert: bool = False
) -> None:
    """Answers the button press of this update, once (Telegram refuses a second answer)."""
    query = update.callback_query
    if query is None or ctx.answered:
        return
    ctx.answered = True
    if ctx.bot_data.arrivals.too_late_to_answer(update.update_id):
        log.info("a button press waited past its answer window: not answered")
        return
    try:
        await query.answer(text[:ALERT_MAX] if text else None, show_alert=alert)
    except BadRequest as exc:
        # A tap that waited in a rush past Telegram's answer window (about 15 s): the work is
        # done and its message shows it; an apology on top would only mislead.
        if "query is too old" not in str(exc).lower():
            raise
        log.info("a button press was answered too late")


async def say(update: Update, ctx: BotContext, text: str, markup: Markup = None) -> None:
    """Sends a new message to the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    await ctx.bot.send_message(chat.id, text, reply_markup=markup)


async def show(update: Update, ctx: BotContext, text: str, markup: Markup = None) -> None:
    """Replaces the message whose button was tapped, or sends a new one.

    Replacing keeps the chat short on a phone. Only the first `show` of an update replaces
    the tapped message (later ones would overwrite it), and a reply keyboard cannot ride on
    an edit, so those go in a new message.
    """
    query = update.callback_query
    if (
        query is not None
        and query.message is not None
        and not ctx.replaced
        and not isinstance(markup, ReplyKeyboardMarkup | ReplyKeyboardRemove)
    ):
        ctx.replaced = True
        if isinstance(query.message, Message) and _reads_as(query.message, text, markup):
            return  # a second tap on a button whose work is done: nothing to edit
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc):
                return
    await say(update, ctx, text, markup)


def _reads_as(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether a message already shows this text (Telegram HTML) and these buttons: Telegram
    refuses an edit that changes nothing ("message is not modified")."""
    shown = html.unescape(_TAG.sub("", text)).strip()
    return message.text == shown and message.reply_markup == markup


async def refuse(update: Update, ctx: BotContext, exc: DomainError, markup: Markup = None) -> None:
    """The one place a refusal is put into words: an alert on a button, else a message."""
    text = ctx.t(exc.key, **exc.params)
    if update.callback_query is not None and not ctx.answered and len(text) <= ALERT_MAX:
        await answer(update, ctx, text, alert=True)
    else:  # an alert shows 200 characters at most: a longer reason is a message
        await answer(update, ctx)
        await say(update, ctx, text, markup)


def _title(texts: Texts, person: Person) -> str:
    if person.title:
        return person.title.name
    if person.title_other:
        return texts("profile.title_typed", title=person.title_other)
    return "—"


ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def rank_line(texts: Texts, person: Person) -> str:
    """A civil servant's grade, or a public employee's professional title and rank, after
    the kind of servant they are."""
    if person.professional_title or person.professional_rank:
        title = person.professional_title.name if person.professional_title else "—"
        rank = ROMAN.get(person.professional_rank or 0, "—")
        line = texts("profile.professional", title=title, rank=rank)
    else:
        line = texts("profile.grade", grade=person.grade.name if person.grade else "—")
    if person.employment is None:
        return line
    return texts(f"profile.employment_{person.employment.value}") + " · " + line


def person_card(
    texts: Texts,
    person: Person,
    *,
    staff_view: bool = False,
    roles: Sequence[HeldRole | RoleGrant] = (),
) -> Raw:
    """The profile as a person (or, with staff_view, an administrator) reads it, with the
    roles they hold."""
    dash = "—"
    gender = texts(f"gender.{person.gender.value}") if person.gender else dash
    status = "profile.unverified"
    if person.verified:
        status = "profile.verified"
    elif person.withdrawn:
        status = "profile.withdrawn_status"
    elif person.returned_reason is not None:
        status = "profile.returned"
    source = "profile.source_roster" if person.from_roster else "profile.source_self"
    lines = [
        texts("profile.card",
              name=person.full_name,
              unit=person.unit.label if person.unit else dash,
              title=_title(texts, person),
              rank=rank_line(texts, person),
              gender=gender,
              birth_year=str(person.birth_year) if person.birth_year else dash,
              ethnicity=person.ethnicity.name if person.ethnicity else dash,
              phone=person.phone or dash),
        texts(source) + " · " + texts(status),
    ]  # fmt: skip
    if roles:
        held = "; ".join(
            texts(f"role.{r.role.value}") + (f" ({r.unit.label})" if r.unit else "") for r in roles
        )
        lines.append(texts("profile.roles", roles=held))
    if person.returned_reason is not None:
        reason = texts(f"admin.reason_{person.returned_reason.value}")
        lines.append(texts("profile.returned_reason", reason=reason))
        if person.returned_note:
            lines.append(texts("profile.returned_note", note=person.returned_note))
    if person.source_pool:
        lines.append(texts("profile.source_pool"))
    if staff_view:
        lines.append(texts(_linked_key(person.telegram_id)))
        if person.typed_link:
            lines.append(texts("profile.typed_phone_link"))
    return Raw("\n".join(lines))


def _linked_key(account: int | None) -> str:
    """Which messenger the person's account is on, as staff read it on the card."""
    if account is None:
        return "profile.not_linked"
    return "profile.linked_zalo" if channel_of(account) is Channel.ZALO else "profile.linked"
