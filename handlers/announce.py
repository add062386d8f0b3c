"""/announce: an announcement to every confirmed cadre in reach; /delivery: its report, the
recent batches, and (administrators) what the bot sent on its own, kind by kind."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ChatMemberHandler

from bot.actions import DeliveryKindReport, DeliveryKinds, RefreshDeliveryReport
from bot.delivery.model import BatchReport, KindReport, Unreached
from bot.domain import MessageKind, NavOp
from bot.i18n import Raw, Texts
from bot.services.delivery import ANNOUNCEMENT_MAX, KIND_REPORT_DAYS
from bot.text_search import fold
from bot.validation import shorten, telegram_length
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Goto, Move, Step, Turn, begin, register
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import TextStep
from handlers.ui import Button, answer, inline, kind_name, say, show

REPORT_NAMES_MAX = 3000  # characters of names listed: the report stays one message (4096)
#: What may follow /delivery to ask for the report by kind.
BY_KIND = frozenset({"kinds", "loai"})


@dataclass
class AnnouncementDraft:
    audience: int = 0  # how many it would reach, as counted when the dialogue began
    text: str | None = None


async def _checked(turn: Turn[Any], text: str) -> str:
    return turn.services.delivery.check_announcement(text)


class Preview(Step[AnnouncementDraft]):
    """The announcement as cadres will read it, then send, change the text, or cancel.

    Typing here replaces the text: a new preview follows.
    """

    retry_text = "announce.use_buttons"

    async def ask(self, turn: Turn[AnnouncementDraft]) -> None:
        actor = await turn.ctx.actor(turn.update)
        turn.draft.audience = await turn.services.delivery.audience(actor)  # as of now
        await turn.say(turn.t("announce.preview_intro"), await turn.resting_keyboard())
        assert turn.draft.text is not None
        key, params = turn.services.delivery.announcement(actor, turn.draft.text)
        await turn.say(turn.t(key, **params))
        await self.remind(turn)

    async def remind(self, turn: Turn[AnnouncementDraft]) -> None:
        await turn.say(
            turn.t("announce.confirm", count=turn.draft.audience),
            inline(
                [
                    [(turn.t("announce.send"), turn.choice("send")),
                     (turn.t("announce.edit"), turn.nav(NavOp.EDIT, "text"))],
                    [(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))],
                ]
            ),
        )  # fmt: skip

    def edit_targets(self, turn: Turn[AnnouncementDraft]) -> Collection[str]:
        return ("text",)

    async def on_text(self, turn: Turn[AnnouncementDraft], text: str) -> Move:
        turn.draft.text = turn.services.delivery.check_announcement(text)
        return Goto(self.name, back_here=False)  # a new preview; the old one's Send expires

    async def on_choice(self, turn: Turn[AnnouncementDraft], value: str) -> Move:
        return Flow.FINISH if value == "send" else Flow.RETRY


async def _send(turn: Turn[AnnouncementDraft]) -> None:
    assert turn.draft.text is not None
    actor = await turn.ctx.actor(turn.update)
    delivery = turn.services.delivery
    # Keyed by this run of the dialogue: after a crash, Send again queues nothing new.
    request = f"announce:{actor.telegram_id}:{turn.state.run}"
    batch = await delivery.announce(actor, turn.draft.text, request)
    report = await delivery.report(actor, batch)
    await turn.show(
        turn.t("announce.queued") + "\n\n" + render_report(turn.ctx, report),
        _refresh(turn.ctx, report),
    )


ANNOUNCE = register(
    Dialogue(
        name="announce",
        draft=AnnouncementDraft,
        steps=[
            TextStep(
                "text", "text", prompt="announce.ask", parse=_checked,
                params=lambda turn: {"count": turn.draft.audience, "max": ANNOUNCEMENT_MAX},
            ),
            Preview("preview"),
        ],
        finish=_send,
        cancelled="announce.cancelled",
        interrupted="announce.stopped",
        entry_command="announce",
        retry="announce.text_only",
        timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def start(update: Update, ctx: BotContext) -> None:
    audience = await ctx.services.delivery.audience(await ctx.actor(update))
    await begin(update, ctx, ANNOUNCE, AnnouncementDraft(audience=audience))


def render_report(ctx: BotContext, report: BatchReport) -> str:
    sent = (
        ctx.t("delivery.sent_by", at=report.created_at, who=report.created_by_name or "—")
        if report.created_by is not None
        else ctx.t("delivery.sent_auto", at=report.created_at)
    )
    lines = [
        ctx.t("delivery.report", batch=report.batch_id, kind=kind_name(ctx.texts, report.kind),
              title=report.title, total=report.total, delivered=report.delivered,
              pending=report.pending, unreachable=report.unreachable, failed=report.failed),
        sent,
    ]  # fmt: skip
    if report.unreachable_by_unit:
        lines.append(ctx.t("delivery.unreachable_heading"))
        lines += unreached_lines(ctx.texts, report.unreachable_by_unit)
    return "\n".join(lines)


def unreached_lines(
    texts: Texts, by_unit: Mapping[str, Sequence[Unreached]], budget: int = REPORT_NAMES_MAX
) -> list[str]:
    """One line per unit of the people to phone, as many as fit in `budget` characters as
    Telegram counts them; then how many more there are, so the message stays one message."""
    lines: list[str] = []
    left_out = 0
    for unit, unreached in by_unit.items():
        names: list[str] = []
        for person in unreached:
            name = texts("delivery.unreachable_person", name=person.name, phone=person.phone or "—")
            cost = telegram_length(name) + 2 + (0 if names else telegram_length(unit) + 4)
            if left_out or cost > budget:
                left_out += 1
                continue
            budget -= cost
            names.append(name)
        if names:
            lines.append(texts("delivery.unreachable_unit", unit=unit, names=Raw(", ".join(names))))
    if left_out:
        lines.append(texts("delivery.more", count=left_out))
    return lines


def _refresh(ctx: BotContext, report: BatchReport) -> InlineKeyboardMarkup:
    button = RefreshDeliveryReport(report.batch_id, report.digest)
    return inline([[(ctx.t("announce.refresh"), button)]])


async def delivery_report(update: Update, ctx: BotContext) -> None:
    """/delivery <batch number>, or /delivery kinds; alone, the recent batches to choose
    from (and, for administrators, the report by kind)."""
    actor = await ctx.actor(update)
    typed = argument_text(ctx)
    if fold(typed).strip() in BY_KIND:
        await _kinds(update, ctx)
        return
    if typed:
        report = await ctx.services.delivery.report(actor, typed)
        await show(update, ctx, render_report(ctx, report), _refresh(ctx, report))
        return
    recent = await ctx.services.delivery.recent(actor)
    rows: list[list[Button]] = [
        [(ctx.t("delivery.recent_item", batch=b.batch_id, at=b.created_at,
                kind=kind_name(ctx.texts, b.kind), title=shorten(b.title, 32)),
          RefreshDeliveryReport(b.batch_id))]
        for b in recent
    ]  # fmt: skip
    if actor.is_admin:
        rows.append([(ctx.t("delivery.kinds_button", days=KIND_REPORT_DAYS), DeliveryKinds())])
    text = ctx.t("delivery.recent" if recent else "delivery.recent_none")
    await say(update, ctx, text, inline(rows) if rows else None)


async def _kinds(update: Update, ctx: BotContext) -> None:
    """What the bot sent on its own in the last days, a line a kind; a kind's button opens
    its report below, with whom to phone."""
    found = await ctx.services.delivery.kinds(await ctx.actor(update))
    if not found:
        await say(update, ctx, ctx.t("delivery.kinds_none", days=KIND_REPORT_DAYS))
        return
    lines = [ctx.t("delivery.kinds", days=KIND_REPORT_DAYS)]
    lines += [
        ctx.t("delivery.kind_line", kind=kind_name(ctx.texts, k.kind), delivered=k.delivered,
              pending=k.pending, unreachable=k.unreachable, failed=k.failed)
        for k in found
    ]  # fmt: skip
    lines.append(ctx.t("delivery.kinds_pick"))
    rows = [
        [(kind_name(ctx.texts, k.kind), DeliveryKindReport(MessageKind(k.kind)))] for k in found
    ]
    await say(update, ctx, "\n".join(lines), inline(rows))


async def show_kinds(update: Update, ctx: BotContext, tapped: DeliveryKinds) -> None:
    await _kinds(update, ctx)


def render_kind(ctx: BotContext, report: KindReport) -> str:
    lines = [
        ctx.t("delivery.kind_report", kind=kind_name(ctx.texts, report.kind),
              days=KIND_REPORT_DAYS, total=report.total, delivered=report.delivered,
              pending=report.pending, unreachable=report.unreachable, failed=report.failed,
              cancelled=report.cancelled),
    ]  # fmt: skip
    if report.unreachable_by_unit:
        lines.append(ctx.t("delivery.unreachable_heading"))
        lines += unreached_lines(ctx.texts, report.unreachable_by_unit)
    return "\n".join(lines)


async def show_kind(update: Update, ctx: BotContext, tapped: DeliveryKindReport) -> None:
    """Opens below the list of kinds, which stays to pick another."""
    report = await ctx.services.delivery.kind_report(await ctx.actor(update), tapped.kind)
    await say(update, ctx, render_kind(ctx, report))


async def refresh_report(update: Update, ctx: BotContext, tapped: RefreshDeliveryReport) -> None:
    """A report's refresh button updates it in place; a batch picked from the list of
    recent ones opens below the list, which stays."""
    report = await ctx.services.delivery.report(await ctx.actor(update), tapped.batch_id)
    if tapped.shown == report.digest:
        await answer(update, ctx, ctx.t("delivery.no_news"))
        return
    send = show if tapped.shown else say
    await send(update, ctx, render_report(ctx, report), _refresh(ctx, report))


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


def handlers() -> list[Handler]:
    return [
        command("announce", start),
        command("delivery", delivery_report),
        button(RefreshDeliveryReport, refresh_report),
        button(DeliveryKinds, show_kinds),
        button(DeliveryKindReport, show_kind),
        ChatMemberHandler(member_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
