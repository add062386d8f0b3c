"""/start: greeting, personal-data consent, roster match by contact or a self-declared profile.

On Zalo, which cannot share a contact, the number is typed and then the full name: only a
roster record bearing both is linked (unconfirmed) or joined, and nothing of a record is
shown before, so a typed number reveals nobody.

Nothing about the person is stored until the last step: consent time and answers wait in
the sign-up draft (kept so a restart does not lose them, and purged once abandoned), so a
cadre who refuses or gives up leaves no record.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
)

from bot.channels import Channel, channel_of
from bot.deeplinks import parse_payload
from bot.domain import NavOp, NewProfile, ProfileField
from bot.errors import InvalidInput
from bot.i18n import LANGUAGES, Raw
from bot.phones import looks_like_phone, normalize_phone
from bot.services.people import ContactMatch, MatchOutcome
from bot.validation import lacks_diacritics
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Goto, Move, Step, Turn, begin, register
from handlers.landing import land, newcomer_note
from handlers.menus import needs_own_menu, sync_chat_menu
from handlers.profile_fields import ProfileAnswers, chosen_title, profile_steps
from handlers.routing import Handler, command
from handlers.ui import (
    back_cancel_keyboard,
    inline,
    is_label,
    person_card,
    resting_keyboard,
    say,
    share_phone_keyboard,
)

#: Full names a Zalo user may type after a number in one sign-up before numbers are no
#: longer looked up: a stranger holding a cadre's number cannot try name after name.
NAME_TRIES = 3


@dataclass
class SignUp(ProfileAnswers):
    """Everything sign-up gathers before it stores anything."""

    landing: str | None = None  # the deep link to follow once registered
    language: str | None = None  # chosen before there is a profile to keep it in
    consent_at: datetime | None = None
    phone: str | None = None
    match_id: int | None = None  # the roster record the shared phone number points to
    match_confirmed: bool = False
    join_id: int | None = None  # on Zalo: the person on Telegram the typed number and name are
    code_sent: bool = False
    name_tries: int = 0  # on Zalo: full names typed that matched no record, in this sign-up


def _on_telegram(account: int | None) -> bool:
    return account is not None and channel_of(account) is Channel.TELEGRAM


def _on_zalo(turn: Turn[Any]) -> bool:
    """A Zalo account cannot share a contact: its phone number is typed, and proves nothing."""
    return channel_of(turn.telegram_id) is Channel.ZALO


def contact_keyboard(turn: Turn[Any]) -> ReplyKeyboardMarkup:
    return share_phone_keyboard(turn.ctx, "onboarding.self_declare")


class Consent(Step[SignUp]):
    """The personal-data notice: agree, refuse, or read it in another language."""

    async def ask(self, turn: Turn[SignUp]) -> None:
        await turn.show(turn.t("onboarding.notice"), self._buttons(turn))

    async def remind(self, turn: Turn[SignUp]) -> None:
        """Only the question: the notice itself is a long read on a phone."""
        await turn.say(turn.t("onboarding.consent_question"), self._buttons(turn))

    async def typed_labels(self, turn: Turn[SignUp]) -> Sequence[tuple[str, str]]:
        return [(turn.t("onboarding.agree"), "yes"), (turn.t("onboarding.refuse"), "no")]

    def _buttons(self, turn: Turn[SignUp]) -> InlineKeyboardMarkup:
        others = [lang for lang in LANGUAGES if lang != turn.texts.language]
        return inline(
            [
                [(turn.t("onboarding.agree"), turn.choice("yes")),
                 (turn.t("onboarding.refuse"), turn.choice("no"))],
                [(turn.t(f"language.name_{lang}"), turn.choice(lang)) for lang in others],
            ]
        )  # fmt: skip

    async def on_choice(self, turn: Turn[SignUp], value: str) -> Move:
        if value in LANGUAGES:
            turn.draft.language = value
            await turn.services.people.set_language(turn.telegram_id, value)
            return Flow.REASK
        if value == "no":
            await turn.show(turn.t("onboarding.refused"))
            return Flow.END
        if value != "yes":
            raise InvalidInput()
        turn.draft.consent_at = turn.services.clock.now()
        await turn.show(turn.t("onboarding.thanks_consent"))
        return Flow.NEXT


class Contact(Step[SignUp]):
    """One tap shares the phone number, which finds the person's roster record."""

    reply_keyboard = True

    async def ask(self, turn: Turn[SignUp]) -> None:
        await turn.say(turn.t("onboarding.ask_contact"), contact_keyboard(turn))

    async def on_contact(self, turn: Turn[SignUp], phone: str, user_id: int | None) -> Move:
        if user_id != turn.telegram_id:
            await turn.say(turn.t("onboarding.own_contact_only"), contact_keyboard(turn))
            return Flow.STAY
        match = await turn.services.people.match_contact(phone)
        if match.outcome is MatchOutcome.FOUND:
            return await _found(turn, match)
        if match.outcome is MatchOutcome.NONE:
            turn.draft.match_id, turn.draft.phone = None, match.phone
            await turn.say(turn.t("onboarding.no_match"))
            return Goto(ProfileField.FULL_NAME.value)
        await turn.say(turn.t(_unmatched(match)), contact_keyboard(turn))
        return Flow.STAY

    async def on_text(self, turn: Turn[SignUp], text: str) -> Move:
        if is_label(text, "onboarding.self_declare"):
            turn.draft.match_id = turn.draft.phone = None
            return Goto(ProfileField.FULL_NAME.value)
        typed_phone = normalize_phone(text) is not None
        if typed_phone and _on_zalo(turn):
            return await _typed_on_zalo(turn, text)
        if _on_zalo(turn) and looks_like_phone(text):  # "12345": not a number, with an example
            key = "onboarding.phone_invalid"
        else:
            key = "onboarding.typed_phone" if typed_phone else "onboarding.retry_contact"
        await turn.say(turn.t(key), contact_keyboard(turn))
        return Flow.STAY

    def retry_markup(self, turn: Turn[Any]) -> ReplyKeyboardMarkup:
        return contact_keyboard(turn)


async def _typed_on_zalo(turn: Turn[SignUp], text: str) -> Move:
    """A number typed on Zalo proves nothing: whatever it is, the full name is asked next,
    and nothing of a record is shown before both match it. Once the tries are spent, a
    number is taken as one not on the roster."""
    phone = normalize_phone(text)
    assert phone is not None
    turn.draft.match_id, turn.draft.phone = None, phone
    if turn.draft.name_tries >= NAME_TRIES:
        await _declared_with(turn, phone)
        return Goto(ProfileField.FULL_NAME.value)
    return Goto("who")


async def _declared_with(turn: Turn[SignUp], phone: str) -> None:
    """A typed number that found no record: the profile is declared, and the number (kept
    in the draft) goes into it, as a shared one does on Telegram; the same words whatever
    the number is, so they tell nothing of the roster."""
    await turn.say(turn.t("onboarding.no_match"))
    await turn.say(turn.t("onboarding.phone_noted", phone=phone))


class TypedName(Step[SignUp]):
    """On Zalo, after a typed number: the full name. Only a roster record bearing both is
    linked (unconfirmed), or, if already on Telegram, joined by a code sent there; any
    other name is answered as a number not on the roster is, and the profile is declared."""

    reply_keyboard = True  # Back and Cancel

    async def ask(self, turn: Turn[SignUp]) -> None:
        await turn.say(turn.t("onboarding.ask_full_name"), back_cancel_keyboard(turn.ctx))

    async def on_text(self, turn: Turn[SignUp], text: str) -> Move:
        draft = turn.draft
        assert draft.phone is not None
        name: str = await turn.services.people.parse_field(ProfileField.FULL_NAME, text)
        match = await turn.services.people.match_typed(draft.phone, name)
        person = match.person
        if match.outcome is MatchOutcome.FOUND and person is not None:
            draft.match_id, draft.match_confirmed = person.id, True
            return Flow.FINISH
        if match.outcome is MatchOutcome.TAKEN and person and _on_telegram(person.telegram_id):
            draft.join_id, draft.code_sent = person.id, False
            return Goto("join", back_here=False)
        if match.outcome in (MatchOutcome.TAKEN, MatchOutcome.AMBIGUOUS):
            await turn.say(turn.t(_unmatched(match)))
            return Goto("contact", back_here=False)
        draft.name_tries += 1
        await _declared_with(turn, draft.phone)
        if lacks_diacritics(name):  # the profile's name is asked again, with its marks
            return Goto(ProfileField.FULL_NAME.value, back_here=False)
        draft.full_name = name
        await turn.say(turn.t("fields.name_kept", name=name))
        return Goto(ProfileField.UNIT.value, back_here=False)

    def retry_markup(self, turn: Turn[Any]) -> ReplyKeyboardMarkup:
        return back_cancel_keyboard(turn.ctx)


async def _found(turn: Turn[SignUp], match: ContactMatch) -> Move:
    assert match.person is not None
    turn.draft.match_id, turn.draft.phone = match.person.id, match.phone
    await turn.say(turn.t("onboarding.contact_received"), await turn.resting_keyboard())
    return Goto("match")


def _unmatched(match: ContactMatch) -> str:
    return {
        MatchOutcome.TAKEN: "onboarding.phone_taken",
        MatchOutcome.AMBIGUOUS: "onboarding.phone_ambiguous",
    }.get(match.outcome, "onboarding.phone_invalid")


async def _contact_later(turn: Turn[SignUp], phone: str, user_id: int | None) -> Move:
    """A contact shared while declaring a profile: it may still find the roster record
    (the cadre chose to declare, or came back after withdrawing); else the number goes
    into the profile being declared. Before consent, nothing is taken."""
    if turn.draft.consent_at is None:
        await turn.say(turn.t("dialogue.contact_not_now"))
        return Flow.REMIND
    if user_id != turn.telegram_id:
        await turn.say(turn.t("onboarding.own_contact_only"))
        return Flow.REMIND
    match = await turn.services.people.match_contact(phone)
    if match.outcome is MatchOutcome.FOUND:
        return await _found(turn, match)
    if match.outcome is MatchOutcome.NONE:
        turn.draft.phone = match.phone
        await turn.say(turn.t("onboarding.phone_noted", phone=match.phone or ""))
        return Flow.REMIND
    await turn.say(turn.t(_unmatched(match)))
    return Flow.REMIND


class RosterMatch(Step[SignUp]):
    """Is this you? Under the roster record the phone number found."""

    async def ask(self, turn: Turn[SignUp]) -> None:
        draft = turn.draft
        assert draft.match_id is not None and draft.phone is not None
        person = await turn.services.people.roster_match(draft.match_id, draft.phone)
        card = person_card(turn.texts, person)
        await turn.say(turn.t("onboarding.is_this_you", card=card), self._buttons(turn))

    async def remind(self, turn: Turn[SignUp]) -> None:
        """The question only: the card is just above."""
        await turn.say(turn.t("onboarding.is_this_you_short"), self._buttons(turn))

    def _buttons(self, turn: Turn[SignUp]) -> InlineKeyboardMarkup:
        return inline(
            [
                [(turn.t("onboarding.yes_me"), turn.choice("me")),
                 (turn.t("onboarding.not_me"), turn.choice("notme"))],
                turn.nav_row(),
            ]
        )  # fmt: skip

    async def typed_labels(self, turn: Turn[SignUp]) -> Sequence[tuple[str, str]]:
        return [(turn.t("onboarding.yes_me"), "me"), (turn.t("onboarding.not_me"), "notme")]

    async def on_choice(self, turn: Turn[SignUp], value: str) -> Move:
        if value == "me":
            turn.draft.match_confirmed = True
            return Flow.FINISH
        turn.draft.match_id = turn.draft.phone = None
        await turn.show(turn.t("onboarding.not_me_note"))
        return Goto(ProfileField.FULL_NAME.value, back_here=False)


class JoinCode(Step[SignUp]):
    """On Zalo, the typed number is a record already on Telegram: a one-time code sent to
    that Telegram chat, typed back here, joins this Zalo account to the person."""

    async def ask(self, turn: Turn[SignUp]) -> None:
        draft = turn.draft
        assert draft.join_id is not None and draft.phone is not None
        if not draft.code_sent:  # asked again (/start, a stray message): the same code stands
            await turn.services.zalo_link.send_code(turn.telegram_id, draft.join_id, draft.phone)
            draft.code_sent = True
        await turn.say(turn.t("zalo_link.code_sent"), self._buttons(turn))

    async def remind(self, turn: Turn[SignUp]) -> None:
        await turn.say(turn.t("zalo_link.type_code"), self._buttons(turn))

    def _buttons(self, turn: Turn[SignUp]) -> InlineKeyboardMarkup:
        return inline(
            [
                [(turn.t("zalo_link.resend"), turn.choice("resend"))],
                [(turn.t("onboarding.self_declare"), turn.choice("declare"))],
                turn.nav_row(),
            ]
        )

    async def typed_labels(self, turn: Turn[SignUp]) -> Sequence[tuple[str, str]]:
        return [
            (turn.t("zalo_link.resend"), "resend"),
            (turn.t("onboarding.self_declare"), "declare"),
        ]

    async def on_choice(self, turn: Turn[SignUp], value: str) -> Move:
        if value == "resend":
            turn.draft.code_sent = False
            return Flow.REASK
        if value != "declare":
            raise InvalidInput()
        turn.draft.join_id = turn.draft.phone = None
        return Goto(ProfileField.FULL_NAME.value, back_here=False)

    async def on_text(self, turn: Turn[SignUp], text: str) -> Move:
        person = await turn.services.zalo_link.join(turn.telegram_id, text)
        await turn.say(turn.t("zalo_link.joined", card=person_card(turn.texts, person)))
        return Flow.END

    def retry_markup(self, turn: Turn[Any]) -> InlineKeyboardMarkup:
        return self._buttons(turn)


class Review(Step[SignUp]):
    """The answers at a glance: confirm, change one of them, or start the profile again."""

    async def ask(self, turn: Turn[SignUp]) -> None:
        edits = [
            (turn.t(f"fields.edit_{field.value}"), turn.nav(NavOp.EDIT, field.value))
            for field in ProfileField
        ]
        await turn.show(
            turn.t("onboarding.review", summary=await _summary(turn)),
            inline(
                [
                    [(turn.t("onboarding.confirm"), turn.choice("confirm"))],
                    *(edits[i : i + 3] for i in range(0, len(edits), 3)),
                    [(turn.t("onboarding.restart"), turn.choice("restart")),
                     (turn.t("button.cancel"), turn.nav(NavOp.CANCEL))],
                ]
            ),
        )  # fmt: skip

    def edit_targets(self, turn: Turn[SignUp]) -> Collection[str]:
        return {field.value for field in ProfileField}

    async def typed_labels(self, turn: Turn[SignUp]) -> Sequence[tuple[str, str]]:
        return [
            (turn.t("onboarding.confirm"), "confirm"),
            (turn.t("onboarding.restart"), "restart"),
        ]

    async def on_choice(self, turn: Turn[SignUp], value: str) -> Move:
        if value == "restart":
            return Goto(ProfileField.FULL_NAME.value)
        return Flow.FINISH if value == "confirm" else Flow.RETRY


async def _summary(turn: Turn[SignUp]) -> Raw:
    draft, directory = turn.draft, turn.services.directory
    assert draft.unit_id is not None
    title = await directory.item("title", draft.title_id) if draft.title_id else None
    ethnicity = (
        await directory.item("ethnicity", draft.ethnicity_id) if draft.ethnicity_id else None
    )
    return Raw(
        turn.t(
            "onboarding.summary",
            name=draft.full_name,
            unit=(await directory.unit(draft.unit_id)).label,
            title=title.name if title else draft.title_other or "—",
            gender=turn.t(f"gender.{draft.gender}") if draft.gender else "—",
            birth_year=str(draft.birth_year),
            ethnicity=ethnicity.name if ethnicity else "—",
            phone=draft.phone or "—",
        )
    )


async def _register(turn: Turn[SignUp]) -> None:
    """Links the roster record, or creates the self-declared profile; then welcomes."""
    draft, people = turn.draft, turn.services.people
    assert draft.consent_at is not None
    if draft.match_confirmed:
        assert draft.match_id is not None and draft.phone is not None
        person = await people.link(
            turn.telegram_id, draft.match_id, draft.phone, turn.texts.language, draft.consent_at,
            typed=_on_zalo(turn),
        )  # fmt: skip
        # A typed number proves nothing: nothing of the record is shown before its unit
        # heads confirm it (the cadre typed its name, and knows the rest).
        done = "onboarding.linked_typed" if person.typed_link else "onboarding.linked"
    else:
        assert draft.full_name and draft.unit_id and draft.gender and draft.birth_year
        profile = NewProfile(
            full_name=draft.full_name, unit_id=draft.unit_id, gender=draft.gender,
            birth_year=draft.birth_year, ethnicity_id=draft.ethnicity_id,
            title=chosen_title(draft), phone=draft.phone,
        )  # fmt: skip
        person = await people.register(
            turn.telegram_id, profile, turn.texts.language, draft.consent_at
        )
        done = "onboarding.registered"
    turn.ctx.forget_actor()
    roles = (await turn.ctx.actor(turn.update)).roles
    if needs_own_menu(roles, turn.texts.language):  # the commands, in the language chosen
        await sync_chat_menu(turn.ctx.bot, turn.telegram_id, roles, turn.texts.language)
    await turn.show(turn.t(done, card=person_card(turn.texts, person), name=person.full_name))
    await turn.say(turn.t("onboarding.next_steps"), await turn.resting_keyboard())
    link = parse_payload(draft.landing)
    if link is not None:
        await land(turn.update, turn.ctx, link)


async def _resumed(turn: Turn[SignUp], payload: str) -> None:
    """/start again during sign-up: a deep link in it is followed once registered."""
    if not payload:
        return
    link = parse_payload(payload)
    if link is None:
        await turn.say(turn.t("deeplink.unknown"))
        return
    turn.draft.landing = payload
    if (note := newcomer_note(link)) is not None:  # where the link will lead, once registered
        await turn.say(turn.t(note))


SIGN_UP = register(
    Dialogue(
        name="onboarding",
        draft=SignUp,
        steps=[Consent("consent"), Contact("contact"), TypedName("who"), RosterMatch("match"),
               JoinCode("join"), *profile_steps(), Review("review")],
        finish=_register,
        cancelled="onboarding.cancelled",
        timeout=timedelta(minutes=30),
        interrupted="onboarding.stopped",
        resumed=_resumed,
        contact=_contact_later,
        numbered=tuple(field.value for field in ProfileField),
    )
)  # fmt: skip


async def start(update: Update, ctx: BotContext) -> None:
    """A registered person lands where their link points; anyone else begins sign-up."""
    actor = await ctx.actor(update)
    payload = ctx.args[0] if ctx.args else None
    link = parse_payload(payload)
    if payload and link is None:
        await say(update, ctx, ctx.t("deeplink.unknown"))
    if actor.person is not None:
        if link is not None:
            await land(update, ctx, link)
        else:
            welcome = ctx.t("onboarding.welcome_back", name=actor.person.full_name)
            await say(update, ctx, welcome, await resting_keyboard(update, ctx))
        return
    if link is not None and (note := newcomer_note(link)) is not None:
        await say(update, ctx, ctx.t(note))
    chosen = ctx.language if ctx.language != ctx.settings.default_language else None
    await begin(update, ctx, SIGN_UP, SignUp(landing=payload if link else None, language=chosen))


def handlers() -> list[Handler]:
    return [command("start", start)]
