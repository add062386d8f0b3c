"""/profile, /mydata, /language and withdrawing consent."""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from typing import Any

from telegram import InputFile, ReplyKeyboardRemove, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.domain import Gender, PersonalData
from bot.errors import DomainError
from bot.i18n import LANGUAGES
from bot.validation import parse_birth_year
from handlers.context import BotContext
from handlers.ui import acknowledged, back_cancel_keyboard, inline, labels, person_card, say, show

EDIT_TEXT, EDIT_UNIT = range(2)
END = ConversationHandler.END


async def _require_profile(update: Update, ctx: BotContext) -> bool:
    actor = await ctx.actor(update)
    if actor.person is None:
        await show(update, ctx, ctx.t("profile.none"))
        return False
    return True


async def send_profile(update: Update, ctx: BotContext) -> None:
    if not await _require_profile(update, ctx):
        return
    person = (await ctx.actor(update)).person
    assert person is not None
    rows: list[list[tuple[str, str]]] = []
    if not person.from_roster:
        rows += [
            [
                (ctx.t("profile.edit_name"), "pf:edit:full_name"),
                (ctx.t("profile.edit_unit"), "pf:edit:unit_id"),
            ],
            [
                (ctx.t("profile.edit_year"), "pf:edit:birth_year"),
                (ctx.t("profile.edit_gender"), "pf:gender"),
            ],
        ]
    rows += [
        [(ctx.t("profile.language"), "pf:lang"), (ctx.t("profile.my_data"), "pf:mydata")],
        [(ctx.t("profile.withdraw"), "pf:withdraw")],
    ]
    note = "" if not person.from_roster else "\n\n" + ctx.t("profile.roster_note")
    await show(update, ctx, person_card(person, ctx.language) + note, inline(rows))


def _export(data: PersonalData) -> bytes:
    person = data.person

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    document = {
        "full_name": person.full_name,
        "source": person.source,
        "verified": person.verified,
        "unit": person.unit.name if person.unit else None,
        "title": person.title.name if person.title else None,
        "grade": person.grade.name if person.grade else None,
        "gender": person.gender.value if person.gender else None,
        "birth_year": person.birth_year,
        "ethnicity": person.ethnicity.name if person.ethnicity else None,
        "phone": person.phone,
        "telegram_id": person.telegram_id,
        "language": person.language,
        "source_pool": person.source_pool,
        "consent_at": plain(person.consent_at),
        "consents": [plain(c) for c in data.consents],
        "roles": [plain(r) for r in data.roles],
        "history": [plain(a) for a in data.audit],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


async def send_my_data(update: Update, ctx: BotContext) -> None:
    if not await _require_profile(update, ctx):
        return
    assert update.effective_user is not None and update.effective_chat is not None
    data = await ctx.services.people.export(update.effective_user.id)
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(_export(data), filename="du-lieu-ca-nhan.json"),
        caption=ctx.t("profile.my_data_caption"),
    )


async def ask_language(update: Update, ctx: BotContext) -> None:
    rows = [[(ctx.t(f"language.name_{lang}"), f"lang:{lang}") for lang in LANGUAGES]]
    await show(update, ctx, ctx.t("language.ask"), inline(rows))


async def set_language(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    lang = query.data.split(":", 1)[1]
    assert ctx.user_data is not None
    ctx.user_data["lang"] = lang
    await ctx.services.people.set_language(update.effective_user.id, lang)
    ctx.forget_actor()
    await ctx.actor(update)
    await query.answer()
    await show(update, ctx, ctx.t("language.saved"))


async def ask_withdraw(update: Update, ctx: BotContext) -> None:
    if not await _require_profile(update, ctx):
        return
    rows = [[(ctx.t("profile.withdraw_yes"), "pf:withdraw:yes"), (ctx.t("button.no"), "pf:keep")]]
    await show(update, ctx, ctx.t("profile.withdraw_confirm"), inline(rows))


async def withdraw(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    await ctx.services.people.withdraw_consent(update.effective_user.id)
    if ctx.user_data is not None:
        ctx.user_data.clear()
    await show(update, ctx, ctx.t("profile.withdrawn"))


async def keep(update: Update, ctx: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await show(update, ctx, ctx.t("profile.kept"))


# --- editing a self-declared profile --------------------------------------------------------


async def start_edit(update: Update, ctx: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None and ctx.user_data is not None
    await query.answer()
    field = query.data.rsplit(":", 1)[1]
    ctx.user_data["editing"] = field
    prompt = {"full_name": "onboarding.ask_name", "unit_id": "onboarding.ask_unit"}.get(
        field, "onboarding.ask_birth_year"
    )
    await say(update, ctx, ctx.t(prompt), back_cancel_keyboard(ctx))
    return EDIT_UNIT if field == "unit_id" else EDIT_TEXT


async def _save(update: Update, ctx: BotContext, field: str, value: Any) -> int:
    assert update.effective_user is not None
    try:
        person = await ctx.services.people.edit_own(update.effective_user.id, field, value)
    except DomainError as exc:
        await say(update, ctx, ctx.t(exc.key, **exc.params), back_cancel_keyboard(ctx))
        return EDIT_UNIT if field == "unit_id" else EDIT_TEXT
    await say(update, ctx, ctx.t("profile.saved"), ReplyKeyboardRemove())
    await say(update, ctx, person_card(person, ctx.language))
    return END


async def on_edit_text(update: Update, ctx: BotContext) -> int:
    assert update.effective_message is not None and ctx.user_data is not None
    field = ctx.user_data.get("editing", "full_name")
    text = update.effective_message.text or ""
    if field == "birth_year":
        try:
            return await _save(update, ctx, field, parse_birth_year(text))
        except DomainError as exc:
            await say(update, ctx, ctx.t(exc.key, **exc.params), back_cancel_keyboard(ctx))
            return EDIT_TEXT
    return await _save(update, ctx, field, text)


async def on_edit_unit_query(update: Update, ctx: BotContext) -> int:
    assert update.effective_message is not None
    query = (update.effective_message.text or "")[:100]
    found = await ctx.services.directory.search_units(query)
    if not found:
        await say(update, ctx, ctx.t("onboarding.unit_none", query=query))
        return EDIT_UNIT
    rows = [[(unit.name, f"pf:unit:{unit.id}")] for unit in found]
    await say(update, ctx, ctx.t("onboarding.unit_pick"), inline(rows))
    return EDIT_UNIT


async def on_edit_unit_pick(update: Update, ctx: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    return await _save(update, ctx, "unit_id", int(query.data.rsplit(":", 1)[1]))


async def ask_gender(update: Update, ctx: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    rows = [[(ctx.t(f"gender.{g.value}"), f"pf:gender:{g.value}") for g in Gender]]
    await show(update, ctx, ctx.t("onboarding.ask_gender"), inline(rows))


async def on_gender(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    await _save(update, ctx, "gender", Gender(query.data.rsplit(":", 1)[1]))


async def stop_edit(update: Update, ctx: BotContext) -> int:
    await say(update, ctx, ctx.t("profile.edit_cancelled"), ReplyKeyboardRemove())
    return END


async def stop_for_command(update: Update, ctx: BotContext) -> int:
    """Another command ends the edit, so later free text is never taken for the answer."""
    command = (update.effective_message.text or "").split()[0] if update.effective_message else ""
    await say(update, ctx, ctx.t("profile.edit_stopped", command=command), ReplyKeyboardRemove())
    return END


async def edit_retry(update: Update, ctx: BotContext) -> int | None:
    await say(update, ctx, ctx.t("onboarding.retry"), back_cancel_keyboard(ctx))
    return None


def register(app: Any) -> None:
    stop_labels = filters.Text(sorted(labels("button.back") | labels("button.cancel")))
    text = filters.TEXT & ~filters.COMMAND & ~stop_labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        editing = ConversationHandler(
            entry_points=[
                CallbackQueryHandler(
                    start_edit, pattern=r"^pf:edit:(full_name|unit_id|birth_year)$"
                )
            ],
            states={
                EDIT_TEXT: [MessageHandler(text, on_edit_text)],
                EDIT_UNIT: [
                    CallbackQueryHandler(on_edit_unit_pick, pattern=r"^pf:unit:\d+$"),
                    MessageHandler(text, on_edit_unit_query),
                ],
            },
            fallbacks=[
                MessageHandler(stop_labels, stop_edit),
                CommandHandler("cancel", stop_edit),
                MessageHandler(filters.COMMAND, stop_for_command),
                MessageHandler(~filters.COMMAND, edit_retry),
            ],
            conversation_timeout=15 * 60,
            name="profile_edit",
        )
    app.add_handler(editing)
    app.add_handler(CommandHandler("profile", send_profile))
    app.add_handler(CommandHandler("mydata", send_my_data))
    app.add_handler(CommandHandler("language", ask_language))
    app.add_handler(CallbackQueryHandler(acknowledged(send_profile), pattern=r"^pf:show$"))
    app.add_handler(CallbackQueryHandler(acknowledged(send_my_data), pattern=r"^pf:mydata$"))
    app.add_handler(CallbackQueryHandler(acknowledged(ask_language), pattern=r"^pf:lang$"))
    app.add_handler(CallbackQueryHandler(set_language, pattern=r"^lang:(vi|en)$"))
    app.add_handler(CallbackQueryHandler(acknowledged(ask_withdraw), pattern=r"^pf:withdraw$"))
    app.add_handler(CallbackQueryHandler(withdraw, pattern=r"^pf:withdraw:yes$"))
    app.add_handler(CallbackQueryHandler(keep, pattern=r"^pf:keep$"))
    app.add_handler(CallbackQueryHandler(ask_gender, pattern=r"^pf:gender$"))
    app.add_handler(CallbackQueryHandler(on_gender, pattern=r"^pf:gender:(male|female)$"))
