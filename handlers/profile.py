"""/profile, /mydata, /language, editing a self-declared profile and withdrawing consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram import InputFile, ReplyKeyboardRemove, Update
from telegram.ext import filters

from bot.actions import (
    AskPhone,
    AskWithdrawal,
    ChooseLanguage,
    ClaimRecord,
    ConfirmWithdrawal,
    EditProfile,
    KeepConsent,
    SendMyData,
    SetLanguage,
    ShowProfile,
)
from bot.channels import Channel, channel_of
from bot.domain import ProfileField
from bot.i18n import LANGUAGES
from bot.services.access import account_holder
from bot.services.people import editable_profile
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, ask_again, begin, register
from handlers.menus import sync_chat_menu
from handlers.personal_data import machine_json, workbook
from handlers.profile_fields import ProfileAnswers, chosen_title, profile_steps
from handlers.routing import Handler, button, command, message
from handlers.ui import (
    Button,
    Markup,
    answer,
    inline,
    person_card,
    resting_keyboard,
    say,
    share_phone_keyboard,
    show,
)


async def send_profile(update: Update, ctx: BotContext, _: object = None) -> None:
    person = account_holder(await ctx.actor(update))
    if person.typed_link:  # nothing of the record before its heads confirm it
        own: list[list[Button]] = [  # the account's own settings remain
            [(ctx.t("profile.language"), ChooseLanguage())],
            [(ctx.t("profile.withdraw"), AskWithdrawal())],
        ]
        await show(update, ctx, ctx.t("profile.awaits_head"), inline(own))
        return
    rows: list[list[Button]] = []
    if not person.from_roster:
        edits: list[Button] = [
            (ctx.t(f"fields.edit_{f.value}"), EditProfile(f)) for f in ProfileField
        ]
        edits.append((ctx.t("profile.edit_phone"), AskPhone()))
        rows += [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows += [
        [(ctx.t("profile.language"), ChooseLanguage()), (ctx.t("profile.my_data"), SendMyData())],
        [(ctx.t("profile.withdraw"), AskWithdrawal())],
    ]
    note = "" if not person.from_roster else "\n\n" + ctx.t("profile.roster_note")
    roles = (await ctx.actor(update)).grants
    await show(update, ctx, person_card(ctx.texts, person, roles=roles) + note, inline(rows))


async def send_my_data(update: Update, ctx: BotContext, _: object = None) -> None:
    assert update.effective_user is not None and update.effective_chat is not None
    data = await ctx.services.people.export(update.effective_user.id)
    await answer(update, ctx)
    chat = update.effective_chat.id
    book = workbook(ctx.texts, data, ctx.settings.tz)
    await ctx.bot.send_document(
        chat, InputFile(book, filename=ctx.t("mydata.file_name") + ".xlsx"),
        caption=ctx.t("profile.my_data_caption"),
    )  # fmt: skip
    await ctx.bot.send_document(
        chat, InputFile(machine_json(data), filename=ctx.t("mydata.file_name") + ".json"),
        caption=ctx.t("profile.my_data_json_caption"),
    )  # fmt: skip


async def ask_language(update: Update, ctx: BotContext, _: object = None) -> None:
    rows = [[(ctx.t(f"language.name_{lang}"), SetLanguage(lang)) for lang in LANGUAGES]]
    await show(update, ctx, ctx.t("language.ask"), inline(rows))


async def set_language(update: Update, ctx: BotContext, chosen: SetLanguage) -> None:
    assert update.effective_user is not None
    await ctx.services.people.set_language(update.effective_user.id, chosen.language)
    ctx.forget_actor()
    actor = await ctx.actor(update)  # the texts from here on are in the new language
    await sync_chat_menu(ctx.bot, actor.telegram_id, actor.roles, ctx.language)
    await show(update, ctx, ctx.t("language.saved"))
    if await ask_again(update, ctx):  # the open question, and its keyboard, in the new one
        return
    if actor.person is not None:
        # The main keyboard's labels are in the language it was sent in: send it again.
        await say(update, ctx, ctx.t("language.keyboard"), await resting_keyboard(update, ctx))


async def ask_withdrawal(update: Update, ctx: BotContext, _: object = None) -> None:
    account_holder(await ctx.actor(update))
    rows = [[(ctx.t("profile.withdraw_yes"), ConfirmWithdrawal()),
             (ctx.t("button.no"), KeepConsent())]]  # fmt: skip
    await show(update, ctx, ctx.t("profile.withdraw_confirm"), inline(rows))


async def withdraw(update: Update, ctx: BotContext, _: object = None) -> None:
    """Done in one step; then the main keyboard and any staff menu go, as the roles did."""
    assert update.effective_user is not None
    user_id = update.effective_user.id
    await ctx.services.people.withdraw_consent(user_id)
    await show(update, ctx, ctx.t("profile.withdrawn"))
    await sync_chat_menu(ctx.bot, user_id, (), ctx.language)
    await say(update, ctx, ctx.t("profile.start_again"), ReplyKeyboardRemove())


async def keep(update: Update, ctx: BotContext, _: object = None) -> None:
    await show(update, ctx, ctx.t("profile.kept"))


# --- editing a self-declared profile ----------------------------------------------------------


async def _save_edit(turn: Turn[ProfileAnswers]) -> None:
    """The one answer the edit was opened for goes to the service, which checks it again."""
    field = ProfileField(turn.state.step)
    assert turn.step.field is not None
    value = (
        chosen_title(turn.draft)
        if field is ProfileField.TITLE
        else getattr(turn.draft, turn.step.field)
    )
    before = editable_profile(await turn.ctx.actor(turn.update))
    person = await turn.services.people.edit_own(turn.telegram_id, field, value)
    await turn.say(turn.t("profile.saved"), await turn.resting_keyboard())
    card: str = person_card(turn.texts, person)
    if person.awaits_decision and before.decided:  # the heads were asked again
        card += "\n\n" + turn.t("profile.resubmitted")
    await turn.say(card)


PROFILE_EDIT = register(
    Dialogue(
        name="profile",
        draft=ProfileAnswers,
        steps=profile_steps(),
        finish=_save_edit,
        cancelled="profile.edit_cancelled",
        interrupted="profile.edit_stopped",
        single_answer=True,
        timeout=timedelta(minutes=15),
    )
)


async def edit(update: Update, ctx: BotContext, chosen: EditProfile) -> None:
    person = editable_profile(await ctx.actor(update))
    await answer(update, ctx)
    if person.verified:  # said before anything changes
        await say(update, ctx, ctx.t("profile.edit_needs_confirming"))
    await begin(update, ctx, PROFILE_EDIT, ProfileAnswers(), at=chosen.field.value)


# --- the phone of a self-declared profile: shared on Telegram, typed on Zalo -----------------


@dataclass
class _Nothing:
    """The phone dialogue keeps no draft: the shared contact is saved at once."""


class SharePhone(Step[_Nothing]):
    reply_keyboard = True

    async def ask(self, turn: Turn[_Nothing]) -> None:
        await turn.say(turn.t("profile.ask_phone"), share_phone_keyboard(turn.ctx))

    async def on_contact(self, turn: Turn[_Nothing], phone: str, user_id: int | None) -> Move:
        await _save_phone(turn.update, turn.ctx, phone, user_id)
        return Flow.END

    async def on_text(self, turn: Turn[_Nothing], text: str) -> Move:
        if channel_of(turn.telegram_id) is not Channel.ZALO:
            await turn.say(turn.t("profile.typed_phone"), share_phone_keyboard(turn.ctx))
            return Flow.STAY
        # Zalo cannot share a contact: the number is typed, and proves nothing, so the
        # profile goes back to its unit heads and no roster record is offered for it.
        before = editable_profile(await turn.ctx.actor(turn.update))
        person, changed = await turn.services.people.set_typed_phone(turn.telegram_id, text)
        key = "profile.phone_saved" if changed else "profile.phone_same"
        note = turn.t(key, phone=person.phone or "")
        if changed and person.awaits_decision and before.decided:
            note += "\n" + turn.t("profile.resubmitted")
        await turn.say(note, await turn.resting_keyboard())
        return Flow.END

    def retry_markup(self, turn: Turn[_Nothing]) -> Markup:
        return share_phone_keyboard(turn.ctx)


async def _never(turn: Turn[_Nothing]) -> None:
    raise AssertionError("the phone dialogue ends when the contact is saved")


PHONE = register(
    Dialogue(
        name="phone", draft=_Nothing, steps=[SharePhone("phone")], finish=_never,
        cancelled="profile.edit_cancelled", interrupted="profile.edit_stopped",
        timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def ask_phone(update: Update, ctx: BotContext, _: object = None) -> None:
    editable_profile(await ctx.actor(update))
    await answer(update, ctx)
    await begin(update, ctx, PHONE, _Nothing())


async def _save_phone(update: Update, ctx: BotContext, phone: str, shared_by: int | None) -> None:
    assert update.effective_user is not None
    people = ctx.services.people
    person, changed = await people.set_own_phone(update.effective_user.id, phone, shared_by)
    key = "profile.phone_saved" if changed else "profile.phone_same"
    await say(
        update, ctx, ctx.t(key, phone=person.phone or ""), await resting_keyboard(update, ctx)
    )
    record = await people.claimable(update.effective_user.id)
    if record is not None:  # the office has them: offer their record in place of this one
        rows = [[(ctx.t("profile.claim_yes"), ClaimRecord(record.id)),
                 (ctx.t("onboarding.not_me"), ShowProfile())]]  # fmt: skip
        question = ctx.t("profile.claim_ask", card=person_card(ctx.texts, record))
        await say(update, ctx, question, inline(rows))


async def claim(update: Update, ctx: BotContext, tapped: ClaimRecord) -> None:
    assert update.effective_user is not None
    person = await ctx.services.people.claim(update.effective_user.id, tapped.person_id)
    ctx.forget_actor()
    actor = await ctx.actor(update)
    await show(update, ctx, ctx.t("profile.claimed", card=person_card(ctx.texts, person)))
    await sync_chat_menu(ctx.bot, actor.telegram_id, actor.roles, ctx.language)


async def contact_shared(update: Update, ctx: BotContext) -> None:
    """A contact shared outside any dialogue: the number goes onto one's own profile."""
    message = update.effective_message
    assert message is not None and message.contact is not None
    await _save_phone(update, ctx, message.contact.phone_number, message.contact.user_id)


def handlers() -> list[Handler]:
    return [
        command("profile", send_profile),
        command("mydata", send_my_data),
        command("language", ask_language),
        message(filters.CONTACT, contact_shared),
        button(AskPhone, ask_phone),
        button(ShowProfile, send_profile),
        button(SendMyData, send_my_data),
        button(ChooseLanguage, ask_language),
        button(SetLanguage, set_language),
        button(AskWithdrawal, ask_withdrawal),
        button(ConfirmWithdrawal, withdraw),
        button(KeepConsent, keep),
        button(EditProfile, edit),
        button(ClaimRecord, claim),
    ]
