"""/start: greeting, personal-data consent, roster match by contact or a self-declared profile.

Nothing is written before the last step: consent time and answers wait in the conversation,
so a cadre who refuses or abandons leaves no trace.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.deeplinks import parse_payload
from bot.domain import Gender, NewProfile
from bot.errors import DomainError
from bot.i18n import Raw
from bot.services.people import MatchOutcome
from bot.validation import clean_full_name, parse_birth_year
from handlers.context import BotContext
from handlers.landing import land
from handlers.ui import (
    back_cancel_keyboard,
    contact_keyboard,
    inline,
    is_label,
    labels,
    person_card,
    say,
    show,
)

(CONSENT, CONTACT, CONFIRM, NAME, UNIT, TITLE, GENDER, YEAR, ETHNICITY, REVIEW) = range(10)
END = ConversationHandler.END
PREVIOUS = {
    CONTACT: CONSENT,
    CONFIRM: CONTACT,
    NAME: CONTACT,
    UNIT: NAME,
    TITLE: UNIT,
    GENDER: TITLE,
    YEAR: GENDER,
    ETHNICITY: YEAR,
    REVIEW: ETHNICITY,
}
TIMEOUT_S = 30 * 60


def _draft(ctx: BotContext) -> dict[str, Any]:
    assert ctx.user_data is not None
    return ctx.user_data.setdefault("onboarding", {})


def _nav(ctx: BotContext) -> list[tuple[str, str]]:
    return [(ctx.t("button.back"), "ob:back"), (ctx.t("button.cancel"), "ob:cancel")]


async def start(update: Update, ctx: BotContext) -> int:
    actor = await ctx.actor(update)
    payload = ctx.args[0] if ctx.args else None
    link = parse_payload(payload)
    if payload and link is None:
        await say(update, ctx, ctx.t("deeplink.unknown"))
    if actor.person is not None:
        if link is not None:
            await land(update, ctx, link)
        else:
            await say(update, ctx, ctx.t("onboarding.welcome_back", name=actor.person.full_name))
        return END
    assert ctx.user_data is not None
    ctx.user_data["onboarding"] = {"landing": payload if link else None}
    return await ask(CONSENT, update, ctx)


async def ask(state: int, update: Update, ctx: BotContext) -> int:
    """Shows the prompt of `state`; Back and the retry prompts come through here too."""
    draft = _draft(ctx)
    if state == CONSENT:
        other = "en" if ctx.language == "vi" else "vi"
        markup = inline(
            [
                [(ctx.t("onboarding.agree"), "ob:yes"), (ctx.t("onboarding.refuse"), "ob:no")],
                [(ctx.t(f"language.switch_to_{other}"), f"ob:lang:{other}")],
            ]
        )
        await show(update, ctx, ctx.t("onboarding.notice"), markup)
    elif state == CONTACT:
        await say(update, ctx, ctx.t("onboarding.ask_contact"), contact_keyboard(ctx))
    elif state == CONFIRM:
        await say(
            update,
            ctx,
            ctx.t("onboarding.is_this_you", card=draft["match_card"]),
            inline(
                [
                    [
                        (ctx.t("onboarding.yes_me"), "ob:me"),
                        (ctx.t("onboarding.not_me"), "ob:notme"),
                    ],
                    _nav(ctx),
                ]
            ),
        )
    elif state == NAME:
        await say(update, ctx, ctx.t("onboarding.ask_name"), back_cancel_keyboard(ctx))
    elif state == UNIT:
        await say(update, ctx, ctx.t("onboarding.ask_unit"), back_cancel_keyboard(ctx))
    elif state == TITLE:
        titles = await ctx.services.directory.items("title")
        rows = [[(item.name, f"ob:title:{item.id}")] for item in titles]
        rows.append([(ctx.t("onboarding.skip"), "ob:title:0")])
        await show(update, ctx, ctx.t("onboarding.ask_title"), inline([*rows, _nav(ctx)]))
    elif state == GENDER:
        await show(
            update,
            ctx,
            ctx.t("onboarding.ask_gender"),
            inline(
                [
                    [
                        (ctx.t("gender.male"), "ob:gender:male"),
                        (ctx.t("gender.female"), "ob:gender:female"),
                    ],
                    _nav(ctx),
                ]
            ),
        )
    elif state == YEAR:
        await say(update, ctx, ctx.t("onboarding.ask_birth_year"), back_cancel_keyboard(ctx))
    elif state == ETHNICITY:
        common = await ctx.services.directory.common_ethnicities()
        rows = [[(e.name, f"ob:eth:{e.id}") for e in common[i : i + 3]] for i in (0, 3)]
        await say(update, ctx, ctx.t("onboarding.ask_ethnicity"), inline([*rows, _nav(ctx)]))
    elif state == REVIEW:
        await show(
            update,
            ctx,
            ctx.t("onboarding.review", summary=await _summary(ctx)),
            inline(
                [
                    [(ctx.t("onboarding.confirm"), "ob:confirm")],
                    [
                        (ctx.t("onboarding.restart"), "ob:restart"),
                        (ctx.t("button.cancel"), "ob:cancel"),
                    ],
                ]
            ),
        )
    return state


async def _summary(ctx: BotContext) -> Raw:
    draft = _draft(ctx)
    directory = ctx.services.directory
    unit = await directory.unit(draft["unit_id"])
    title = await directory.item("title", draft["title_id"]) if draft.get("title_id") else None
    ethnicity = await directory.item("ethnicity", draft["ethnicity_id"])
    return Raw(
        ctx.t(
            "onboarding.summary",
            name=draft["name"],
            unit=unit.name if unit else "—",
            title=title.name if title else "—",
            gender=ctx.t(f"gender.{draft['gender']}"),
            birth_year=str(draft["birth_year"]),
            ethnicity=ethnicity.name if ethnicity else "—",
            phone=draft.get("phone") or "—",
        )
    )


# --- consent --------------------------------------------------------------------------------


async def on_consent(update: Update, ctx: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if query.data == "ob:no":
        assert ctx.user_data is not None
        ctx.user_data.pop("onboarding", None)
        await show(update, ctx, ctx.t("onboarding.refused"))
        return END
    if query.data.startswith("ob:lang:"):
        assert ctx.user_data is not None
        ctx.user_data["lang"] = query.data.rsplit(":", 1)[1]
        return await ask(CONSENT, update, ctx)
    _draft(ctx)["consent_at"] = datetime.now(UTC)
    await show(update, ctx, ctx.t("onboarding.thanks_consent"))
    return await ask(CONTACT, update, ctx)


# --- contact and roster match ---------------------------------------------------------------


async def on_contact(update: Update, ctx: BotContext) -> int:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    if message.contact.user_id != user.id:
        await say(update, ctx, ctx.t("onboarding.own_contact_only"), contact_keyboard(ctx))
        return CONTACT
    match = await ctx.services.people.match_contact(message.contact.phone_number)
    draft = _draft(ctx)
    if match.outcome is MatchOutcome.FOUND:
        assert match.person is not None
        draft.update(
            match_id=match.person.id,
            phone=match.phone,
            match_card=person_card(match.person, ctx.language),
        )
        await say(update, ctx, ctx.t("onboarding.contact_received"), ReplyKeyboardRemove())
        return await ask(CONFIRM, update, ctx)
    if match.outcome is MatchOutcome.NONE:
        draft["phone"] = match.phone
        await say(update, ctx, ctx.t("onboarding.no_match"))
        return await ask(NAME, update, ctx)
    key = {
        MatchOutcome.TAKEN: "onboarding.phone_taken",
        MatchOutcome.AMBIGUOUS: "onboarding.phone_ambiguous",
    }.get(match.outcome, "onboarding.phone_invalid")
    await say(update, ctx, ctx.t(key), contact_keyboard(ctx))
    return CONTACT


async def on_contact_text(update: Update, ctx: BotContext) -> int:
    text = update.effective_message.text if update.effective_message else None
    if is_label(text, "onboarding.self_declare"):
        _draft(ctx).pop("phone", None)
        return await ask(NAME, update, ctx)
    await say(update, ctx, ctx.t("onboarding.retry_contact"), contact_keyboard(ctx))
    return CONTACT


async def on_confirm_match(update: Update, ctx: BotContext) -> int:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    draft = _draft(ctx)
    if query.data == "ob:notme":
        draft.pop("phone", None)
        await show(update, ctx, ctx.t("onboarding.not_me_note"))
        return await ask(NAME, update, ctx)
    try:
        person = await ctx.services.people.link(
            update.effective_user.id,
            draft["match_id"],
            draft["phone"],
            ctx.language,
            draft["consent_at"],
        )
    except DomainError as exc:
        await show(update, ctx, ctx.t(exc.key, **exc.params))
        return END
    await show(update, ctx, ctx.t("onboarding.linked", card=person_card(person, ctx.language)))
    return await _finish(update, ctx)


# --- self-declared profile ------------------------------------------------------------------


async def on_name(update: Update, ctx: BotContext) -> int:
    assert update.effective_message is not None
    try:
        _draft(ctx)["name"] = clean_full_name(update.effective_message.text or "")
    except DomainError as exc:
        await say(update, ctx, ctx.t(exc.key, **exc.params), back_cancel_keyboard(ctx))
        return NAME
    return await ask(UNIT, update, ctx)


async def on_unit_query(update: Update, ctx: BotContext) -> int:
    assert update.effective_message is not None
    query = (update.effective_message.text or "")[:100]
    found = await ctx.services.directory.search_units(query)
    if not found:
        await say(
            update, ctx, ctx.t("onboarding.unit_none", query=query), back_cancel_keyboard(ctx)
        )
        return UNIT
    rows = [[(unit.name, f"ob:unit:{unit.id}")] for unit in found]
    await say(update, ctx, ctx.t("onboarding.unit_pick"), inline([*rows, _nav(ctx)]))
    return UNIT


async def on_pick(update: Update, ctx: BotContext) -> int:
    """A tap on a unit, title, gender or ethnicity button: store it and go to the next step."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    _, kind, value = query.data.split(":", 2)
    draft = _draft(ctx)
    if kind == "unit":
        draft["unit_id"] = int(value)
        return await ask(TITLE, update, ctx)
    if kind == "title":
        draft["title_id"] = int(value) or None
        return await ask(GENDER, update, ctx)
    if kind == "gender":
        draft["gender"] = Gender(value).value
        await show(update, ctx, ctx.t("onboarding.gender_saved", gender=ctx.t(f"gender.{value}")))
        return await ask(YEAR, update, ctx)
    draft["ethnicity_id"] = int(value)
    return await ask(REVIEW, update, ctx)


async def on_birth_year(update: Update, ctx: BotContext) -> int:
    assert update.effective_message is not None
    try:
        _draft(ctx)["birth_year"] = parse_birth_year(update.effective_message.text or "")
    except DomainError as exc:
        await say(update, ctx, ctx.t(exc.key, **exc.params), back_cancel_keyboard(ctx))
        return YEAR
    await say(update, ctx, ctx.t("onboarding.year_saved"), ReplyKeyboardRemove())
    return await ask(ETHNICITY, update, ctx)


async def on_ethnicity_query(update: Update, ctx: BotContext) -> int:
    assert update.effective_message is not None
    found = await ctx.services.directory.search_ethnicities(
        (update.effective_message.text or "")[:50]
    )
    if not found:
        await say(update, ctx, ctx.t("onboarding.ethnicity_none"))
        return await ask(ETHNICITY, update, ctx)
    rows = [[(e.name, f"ob:eth:{e.id}")] for e in found]
    await say(update, ctx, ctx.t("onboarding.ethnicity_pick"), inline([*rows, _nav(ctx)]))
    return ETHNICITY


async def on_review(update: Update, ctx: BotContext) -> int:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    if query.data == "ob:restart":
        return await ask(NAME, update, ctx)
    draft = _draft(ctx)
    profile = NewProfile(
        full_name=draft["name"],
        unit_id=draft["unit_id"],
        gender=Gender(draft["gender"]),
        birth_year=draft["birth_year"],
        ethnicity_id=draft["ethnicity_id"],
        title_id=draft.get("title_id"),
        phone=draft.get("phone"),
    )
    try:
        person = await ctx.services.people.register(
            update.effective_user.id, profile, ctx.language, draft["consent_at"]
        )
    except DomainError as exc:
        await show(update, ctx, ctx.t(exc.key, **exc.params))
        return END
    card = person_card(person, ctx.language)
    await show(update, ctx, ctx.t("onboarding.registered", card=card))
    return await _finish(update, ctx)


async def _finish(update: Update, ctx: BotContext) -> int:
    assert ctx.user_data is not None
    landing = ctx.user_data.pop("onboarding", {}).get("landing")
    ctx.forget_actor()
    await say(update, ctx, ctx.t("onboarding.next_steps"), ReplyKeyboardRemove())
    link = parse_payload(landing)
    if link is not None:
        await land(update, ctx, link)
    return END


# --- navigation and bad input ---------------------------------------------------------------


async def back(update: Update, ctx: BotContext) -> int:
    if update.callback_query:
        await update.callback_query.answer()
    state = ctx.user_data.get("onboarding_state") if ctx.user_data else None
    return await ask(PREVIOUS.get(state, CONSENT), update, ctx)


async def cancel(update: Update, ctx: BotContext) -> int:
    if update.callback_query:
        await update.callback_query.answer()
    assert ctx.user_data is not None
    ctx.user_data.pop("onboarding", None)
    await say(update, ctx, ctx.t("onboarding.cancelled"), ReplyKeyboardRemove())
    return END


async def retry(update: Update, ctx: BotContext) -> int:
    """Anything unexpected at a step: say what is expected and ask again; nothing changes."""
    if update.callback_query:
        await update.callback_query.answer(ctx.t("error.stale_button"))
    state = ctx.user_data.get("onboarding_state", CONSENT) if ctx.user_data else CONSENT
    await say(update, ctx, ctx.t("onboarding.retry"))
    return await ask(state, update, ctx)


async def timed_out(update: Update, ctx: BotContext) -> None:
    if ctx.user_data is not None:
        ctx.user_data.pop("onboarding", None)


def _tracked(callback: Any) -> Any:
    """Remembers the current step so Back and retry know where the person is."""

    async def wrapper(update: Update, ctx: BotContext) -> int:
        result = await callback(update, ctx)
        if ctx.user_data is not None and isinstance(result, int) and result != END:
            ctx.user_data["onboarding_state"] = result
        return result

    wrapper.__name__ = getattr(callback, "__name__", "step")
    return wrapper


def build() -> ConversationHandler[BotContext]:
    text = filters.TEXT & ~filters.COMMAND
    back_text = filters.Text(sorted(labels("button.back")))
    cancel_text = filters.Text(sorted(labels("button.cancel")))
    nav = [
        CallbackQueryHandler(back, pattern=r"^ob:back$"),
        CallbackQueryHandler(cancel, pattern=r"^ob:cancel$"),
        MessageHandler(back_text, back),
        MessageHandler(cancel_text, cancel),
    ]
    states: dict[object, list[Any]] = {
        CONSENT: [CallbackQueryHandler(on_consent, pattern=r"^ob:(yes|no|lang:(vi|en))$")],
        CONTACT: [
            MessageHandler(filters.CONTACT, on_contact),
            MessageHandler(text, on_contact_text),
        ],
        CONFIRM: [CallbackQueryHandler(on_confirm_match, pattern=r"^ob:(me|notme)$")],
        NAME: [MessageHandler(text, on_name)],
        UNIT: [
            CallbackQueryHandler(on_pick, pattern=r"^ob:unit:\d+$"),
            MessageHandler(text, on_unit_query),
        ],
        TITLE: [CallbackQueryHandler(on_pick, pattern=r"^ob:title:\d+$")],
        GENDER: [CallbackQueryHandler(on_pick, pattern=r"^ob:gender:(male|female)$")],
        YEAR: [MessageHandler(text, on_birth_year)],
        ETHNICITY: [
            CallbackQueryHandler(on_pick, pattern=r"^ob:eth:\d+$"),
            MessageHandler(text, on_ethnicity_query),
        ],
        REVIEW: [CallbackQueryHandler(on_review, pattern=r"^ob:(confirm|restart)$")],
        ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
    }
    tracked = {
        state: [*nav, *handlers] if state != ConversationHandler.TIMEOUT else handlers
        for state, handlers in states.items()
    }
    for handlers in tracked.values():
        for handler in handlers:
            handler.callback = _tracked(handler.callback)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        # Callback buttons in a per-chat conversation are intended: a tap on an old
        # message falls through to the stale-button handler instead.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("start", _tracked(start))],
            states=tracked,
            fallbacks=[
                CommandHandler("start", _tracked(start)),
                CommandHandler("cancel", cancel),
                MessageHandler(filters.ALL, _tracked(retry)),
                CallbackQueryHandler(_tracked(retry)),
            ],
            allow_reentry=True,
            conversation_timeout=TIMEOUT_S,
            name="onboarding",
        )
