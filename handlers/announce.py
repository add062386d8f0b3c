"""/announce: an announcement to every linked cadre in reach; /delivery: its delivery report."""

from __future__ import annotations

import warnings
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.delivery.model import BatchReport
from bot.domain import Role
from bot.errors import DomainError, InvalidInput
from bot.services.access import require
from bot.services.delivery import ANNOUNCEMENT_MAX
from handlers.admin import refuse
from handlers.context import BotContext
from handlers.ui import back_cancel_keyboard, inline, labels, say, show

TEXT, CONFIRM = range(2)
END = ConversationHandler.END
REPORT_NAMES_MAX = 3000  # characters of names listed, to stay inside one message


async def start(update: Update, ctx: BotContext) -> int:
    actor = await ctx.actor(update)
    try:
        count = await ctx.services.delivery.audience(actor)
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return END
    await say(update, ctx, ctx.t("announce.ask", count=count, max=ANNOUNCEMENT_MAX),
              back_cancel_keyboard(ctx))  # fmt: skip
    return TEXT


async def on_text(update: Update, ctx: BotContext) -> int:
    assert update.effective_message is not None and ctx.user_data is not None
    text = (update.effective_message.text or "").strip()
    if not text or len(text) > ANNOUNCEMENT_MAX:
        exc = InvalidInput("error.announcement_length", max=ANNOUNCEMENT_MAX)
        await say(update, ctx, ctx.t(exc.key, **exc.params), back_cancel_keyboard(ctx))
        return TEXT
    ctx.user_data["announcement"] = text
    count = await ctx.services.delivery.audience(await ctx.actor(update))
    await say(update, ctx, ctx.t("announce.preview_intro"), ReplyKeyboardRemove())
    await say(update, ctx, ctx.t("notice.announcement", text=text))
    await say(update, ctx, ctx.t("announce.confirm", count=count), inline([
        [(ctx.t("announce.send"), "an:send"), (ctx.t("button.cancel"), "an:cancel")]]))  # fmt: skip
    return CONFIRM


async def on_confirm(update: Update, ctx: BotContext) -> int:
    query = update.callback_query
    assert query is not None and ctx.user_data is not None
    await query.answer()
    text = ctx.user_data.pop("announcement", None)
    if query.data != "an:send" or text is None:
        await show(update, ctx, ctx.t("announce.cancelled"))
        return END
    actor = await ctx.actor(update)
    try:
        batch = await ctx.services.delivery.announce(actor, text)
        report = await ctx.services.delivery.report(actor, batch)
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return END
    await show(update, ctx, ctx.t("announce.queued") + "\n\n" + render_report(ctx, report),
               _refresh(ctx, batch))  # fmt: skip
    return END


async def cancel(update: Update, ctx: BotContext) -> int:
    if ctx.user_data is not None:
        ctx.user_data.pop("announcement", None)
    await say(update, ctx, ctx.t("announce.cancelled"), ReplyKeyboardRemove())
    return END


async def stop_for_command(update: Update, ctx: BotContext) -> int:
    """Another command ends the announcement, so later text is never taken for it."""
    if ctx.user_data is not None:
        ctx.user_data.pop("announcement", None)
    command = (update.effective_message.text or "").split()[0] if update.effective_message else ""
    await say(update, ctx, ctx.t("announce.stopped", command=command), ReplyKeyboardRemove())
    return END


async def retry(update: Update, ctx: BotContext) -> None:
    await say(update, ctx, ctx.t("announce.text_only"), back_cancel_keyboard(ctx))


def _refresh(ctx: BotContext, batch: int) -> Any:
    return inline([[(ctx.t("announce.refresh"), f"dl:{batch}")]])


def render_report(ctx: BotContext, report: BatchReport) -> str:
    lines = [ctx.t("delivery.report", batch=report.batch_id, title=report.title, total=report.total,
                   delivered=report.delivered, pending=report.pending,
                   unreachable=report.unreachable, failed=report.failed)]  # fmt: skip
    if report.unreachable_by_unit:
        lines.append(ctx.t("delivery.unreachable_heading"))
        used = 0
        for unit, names in report.unreachable_by_unit.items():
            line = ctx.t("delivery.unreachable_unit", unit=unit, names=", ".join(names))
            used += len(line)
            if used > REPORT_NAMES_MAX:
                lines.append(ctx.t("delivery.more"))
                break
            lines.append(line)
    return "\n".join(lines)


async def delivery_report(update: Update, ctx: BotContext) -> None:
    """/delivery <batch number>, or the refresh button under a report."""
    actor = await ctx.actor(update)
    query = update.callback_query
    raw = query.data.split(":", 1)[1] if query and query.data else " ".join(ctx.args or [])
    try:
        require(actor, Role.ADMIN, Role.UNIT_HEAD)
        if not raw.isdigit() or len(raw) > 12:
            raise InvalidInput("error.delivery_usage")
        report = await ctx.services.delivery.report(actor, int(raw))
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return
    if query:
        await query.answer()
    await show(update, ctx, render_report(ctx, report), _refresh(ctx, report.batch_id))


async def member_changed(update: Update, ctx: BotContext) -> None:
    """Blocking the bot (or unblocking it) arrives as a my_chat_member update."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    status = change.new_chat_member.status
    if status in ("kicked", "left"):
        await ctx.services.delivery.chat_blocked(change.chat.id, f"my_chat_member: {status}")
    else:
        await ctx.services.delivery.chat_seen(change.chat.id)


def register(app: Any) -> None:
    stop = filters.Text(sorted(labels("button.back") | labels("button.cancel")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        app.add_handler(
            ConversationHandler(
                entry_points=[CommandHandler("announce", start)],
                states={
                    TEXT: [MessageHandler(filters.TEXT & ~filters.COMMAND & ~stop, on_text)],
                    CONFIRM: [CallbackQueryHandler(on_confirm, pattern=r"^an:(send|cancel)$")],
                },
                fallbacks=[
                    MessageHandler(stop, cancel),
                    CommandHandler("cancel", cancel),
                    MessageHandler(filters.COMMAND, stop_for_command),
                    MessageHandler(~filters.COMMAND, retry),
                ],
                conversation_timeout=15 * 60,
                name="announce",
            )
        )
    app.add_handler(CommandHandler("delivery", delivery_report))
    app.add_handler(CallbackQueryHandler(delivery_report, pattern=r"^dl:\d+$"))
    app.add_handler(ChatMemberHandler(member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
