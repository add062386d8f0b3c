"""/announce: an announcement to an audience in reach (everyone, a class's learners or its
waitlist, a unit, a priority group), then a message that follows its delivery to the final
report; /delivery: a report, the recent batches, and (administrators) what the bot sent on
its own, kind by kind."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ChatMemberHandler

from bot.actions import DeliveryKindReport, DeliveryKinds, RefreshDeliveryReport
from bot.audience import AudienceKind, AudienceLabel, AudienceSize, Recipients
from bot.delivery.model import BatchReport, KindReport, Unreached
from bot.domain import MessageKind, NavOp, Role
from bot.errors import InvalidInput
from bot.i18n import Raw, Texts
from bot.services.access import staff_scope
from bot.services.delivery import ANNOUNCEMENT_MAX, KIND_REPORT_DAYS
from bot.text_search import fold
from bot.training import YOUNG_UNDER
from bot.validation import shorten, telegram_length
from handlers.admin_steps import onward
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Goto, Move, Step, Turn, begin, register
from handlers.profile_fields import unit_options
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import SEARCH_SHOWN, ChoiceStep, Option, TextStep
from handlers.ui import Button, answer, inline, kind_name, say, show

REPORT_NAMES_MAX = 3000  # characters of names listed: the report stays one message (4096)
MESSAGE_MAX = 4096
#: Room kept for the line that says how many more were left out.
MORE_LINE_MAX = 80
#: What may follow /delivery to ask for the report by kind.
BY_KIND = frozenset({"kinds", "loai"})
ID_DIGITS_MAX = 18  # a database id has no more: a longer "id" is forged
#: The audience buttons, row by row.
AUDIENCE_ROWS = (
    (AudienceKind.ALL,),
    (AudienceKind.CLASS, AudienceKind.WAITLIST),
    (AudienceKind.UNIT,),
    (AudienceKind.YOUNG, AudienceKind.WOMEN),
    (AudienceKind.MINORITY, AudienceKind.SOURCE_POOL),
)


@dataclass
class AnnouncementDraft:
    #: Whom it goes to; None until chosen.
    audience: Recipients | None = None
    #: A class or a unit is being chosen for this kind.
    picking: AudienceKind | None = None
    #: The audience in words, and how many it reaches (and how many blocked the bot), as
    #: counted when it was chosen or last previewed.
    label: AudienceLabel | None = None
    count: int = 0
    blocked: int = 0
    text: str | None = None


async def _checked(turn: Turn[Any], text: str) -> str:
    return turn.services.delivery.check_announcement(text)


def _kind_label(turn: Turn[Any], kind: AudienceKind) -> str:
    return turn.t(f"announce.pick_{kind.value}", age=YOUNG_UNDER)


async def _take(turn: Turn[AnnouncementDraft], size: AudienceSize) -> None:
    """The audience chosen, if anyone in it can be reached; the question gives way to it."""
    if not size.reachable:
        raise InvalidInput("announce.nobody")
    draft = turn.draft
    draft.audience, draft.picking, draft.label = size.recipients, None, size.label
    draft.count, draft.blocked = size.reachable, size.blocked
    words = audience_words(turn.texts, size.label)
    await turn.show(turn.t("announce.chosen", audience=Raw(words), count=size.reachable))


class AudiencePick(Step[AnnouncementDraft]):
    """Whom to: everyone in reach or a priority group at once; a class, its waitlist or a
    unit next, in the step of that name."""

    retry_text = "announce.audience_buttons"

    async def ask(self, turn: Turn[AnnouncementDraft]) -> None:
        actor = await turn.ctx.actor(turn.update)
        if staff_scope(actor).is_province:
            prompt = turn.t("announce.ask_audience")
        else:
            units = ", ".join(g.unit.label for g in actor.grants
                              if g.role is Role.UNIT_HEAD and g.unit)  # fmt: skip
            prompt = turn.t("announce.ask_audience_units", units=units)
        rows: list[list[Button]] = [
            [(_kind_label(turn, kind), turn.choice(kind.value)) for kind in row]
            for row in AUDIENCE_ROWS
        ]
        rows.append([(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))])
        await turn.show(prompt, inline(rows))

    async def typed_labels(self, turn: Turn[AnnouncementDraft]) -> Sequence[tuple[str, str]]:
        return [(_kind_label(turn, kind), kind.value) for row in AUDIENCE_ROWS for kind in row]

    async def on_choice(self, turn: Turn[AnnouncementDraft], value: str) -> Move:
        if value not in {kind.value for kind in AudienceKind}:
            raise InvalidInput("announce.audience_buttons")
        kind = AudienceKind(value)
        if kind.needs_ref:
            turn.draft.picking = kind
            return Goto("unit" if kind is AudienceKind.UNIT else "class")
        actor = await turn.ctx.actor(turn.update)
        await _take(turn, await turn.services.delivery.audience(actor, Recipients(kind)))
        return onward(turn, "text")


class Target(ChoiceStep[AnnouncementDraft]):
    """A class or a unit, found by typing a few words (or, for a unit, one of the sender's
    own as a button); the audience it makes is checked by the service."""

    retry_text = "announce.target_buttons"

    async def on_choice(self, turn: Turn[AnnouncementDraft], value: str) -> Move:
        await _take(turn, await self.resolve(turn, value))
        return onward(turn, "text")


async def _target(turn: Turn[AnnouncementDraft], value: str) -> AudienceSize:
    """The audience a tapped class or unit makes (a forged one is refused)."""
    kind = turn.draft.picking
    is_id = value.isascii() and value.isdigit() and len(value) <= ID_DIGITS_MAX
    if kind is None or not kind.needs_ref or not is_id:
        raise InvalidInput("announce.target_buttons")
    actor = await turn.ctx.actor(turn.update)
    return await turn.services.delivery.audience(actor, Recipients(kind, int(value)))


async def _classes(turn: Turn[Any], query: str) -> Sequence[Option]:
    actor = await turn.ctx.actor(turn.update)
    found = await turn.services.delivery.find_classes(actor, query, SEARCH_SHOWN + 1)
    return [Option(str(c.id), f"{c.code} · {c.name}") for c in found]


async def _own_units(turn: Turn[Any]) -> Sequence[Option]:
    """A unit head's own units, at hand; anyone else types a few words of one."""
    actor = await turn.ctx.actor(turn.update)
    return [
        Option(str(g.unit.id), g.unit.label)
        for g in actor.grants
        if g.role is Role.UNIT_HEAD and g.unit is not None
    ]


async def _units(turn: Turn[Any], query: str) -> Sequence[Option]:
    return await unit_options(turn, query, within=staff_scope(await turn.ctx.actor(turn.update)))


class Preview(Step[AnnouncementDraft]):
    """The announcement as cadres will read it, whom it goes to and how many, then send,
    change the text or the audience, or cancel.

    Typing here replaces the text: a new preview follows.
    """

    retry_text = "announce.use_buttons"

    async def ask(self, turn: Turn[AnnouncementDraft]) -> None:
        actor = await turn.ctx.actor(turn.update)
        draft = turn.draft
        assert draft.text is not None and draft.audience is not None
        size = await turn.services.delivery.audience(actor, draft.audience)  # as of now
        draft.label, draft.count, draft.blocked = size.label, size.reachable, size.blocked
        await turn.say(turn.t("announce.preview_intro"), await turn.resting_keyboard())
        key, params = turn.services.delivery.announcement(actor, draft.text)
        await turn.say(turn.t(key, **params))
        await self.remind(turn)

    async def remind(self, turn: Turn[AnnouncementDraft]) -> None:
        draft = turn.draft
        assert draft.label is not None
        words = audience_words(turn.texts, draft.label)
        lines = [turn.t("delivery.audience_line", audience=Raw(words))]
        if draft.blocked:
            lines.append(turn.t("announce.blocked", count=draft.blocked))
        rows: list[list[Button]] = [
            [(turn.t("announce.edit"), turn.nav(NavOp.EDIT, "text")),
             (turn.t("announce.change_audience"), turn.nav(NavOp.EDIT, "audience"))],
            [(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))],
        ]  # fmt: skip
        if draft.count:
            lines.append(turn.t("announce.confirm", count=draft.count))
            rows.insert(0, [(turn.t("announce.send"), turn.choice("send"))])
        else:  # everyone in it unlinked or gone meanwhile: nothing to send
            lines.append(turn.t("announce.nobody"))
        await turn.say("\n".join(lines), inline(rows))

    def edit_targets(self, turn: Turn[AnnouncementDraft]) -> Collection[str]:
        return ("text", "audience")

    async def on_text(self, turn: Turn[AnnouncementDraft], text: str) -> Move:
        turn.draft.text = turn.services.delivery.check_announcement(text)
        return Goto(self.name, back_here=False)  # a new preview; the old one's Send expires

    async def on_choice(self, turn: Turn[AnnouncementDraft], value: str) -> Move:
        return Flow.FINISH if value == "send" and turn.draft.count else Flow.RETRY


async def _send(turn: Turn[AnnouncementDraft]) -> None:
    """Queues the batch, then a message of its own that follows the delivery (the preview's
    buttons go): bot/app/broadcast_progress.py keeps it up to date to the final report."""
    draft = turn.draft
    assert draft.text is not None and draft.audience is not None
    actor = await turn.ctx.actor(turn.update)
    delivery = turn.services.delivery
    # Keyed by this run of the dialogue: after a crash, Send again queues nothing new.
    request = f"announce:{actor.telegram_id}:{turn.state.run}"
    batch = await delivery.announce(actor, draft.text, request, draft.audience)
    await turn.show(turn.t("announce.queued"))
    report = await delivery.report(actor, batch)
    final = report.pending == 0
    text, markup = progress_view(turn.texts, report, final=final)
    chat = turn.update.effective_chat
    assert chat is not None
    sent = await turn.ctx.bot.send_message(chat.id, text, reply_markup=markup)
    if not final:
        await delivery.follow(actor, batch, chat.id, sent.message_id, report.digest)


ANNOUNCE = register(
    Dialogue(
        name="announce",
        draft=AnnouncementDraft,
        steps=[
            AudiencePick("audience"),
            Target("class", "audience", prompt="announce.ask_class", resolve=_target,
                   search=_classes, found="announce.class_pick", none_found="announce.class_none",
                   keep_keyboard=True),
            Target("unit", "audience", prompt="announce.ask_unit", options=_own_units,
                   resolve=_target, search=_units, found="announce.unit_pick",
                   none_found="fields.unit_none", keep_keyboard=True),
            TextStep(
                "text", "text", prompt="announce.ask", parse=_checked,
                params=lambda turn: {"count": turn.draft.count, "max": ANNOUNCEMENT_MAX},
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
    staff_scope(await ctx.actor(update))  # a learner is refused before being asked
    await begin(update, ctx, ANNOUNCE, AnnouncementDraft())


def audience_words(texts: Texts, label: AudienceLabel) -> str:
    """Whom an announcement goes to, as a report or a preview says it ("học viên lớp …",
    "cán bộ nữ, chỉ gồm cán bộ thuộc Xã …")."""
    if label.kind is AudienceKind.ALL:
        if label.within:
            return texts("delivery.to_all_within", units=label.within)
        return texts("delivery.to_all")
    words = texts(f"delivery.to_{label.kind.value}", name=label.name or "—", age=YOUNG_UNDER)
    if label.within:
        return texts("delivery.to_within", audience=Raw(words), units=label.within)
    return words


def render_report(texts: Texts, report: BatchReport, room: int = MESSAGE_MAX) -> str:
    """A batch's report, with whom to phone by unit, in at most `room` characters as
    Telegram counts them (the names listed are cut to fit)."""
    sent = (
        texts("delivery.sent_by", at=report.created_at, who=report.created_by_name or "—")
        if report.created_by is not None
        else texts("delivery.sent_auto", at=report.created_at)
    )
    lines = [
        texts("delivery.report", batch=report.batch_id, kind=kind_name(texts, report.kind),
              title=report.title, total=report.total, delivered=report.delivered,
              pending=report.pending, unreachable=report.unreachable, failed=report.failed),
        sent,
    ]  # fmt: skip
    if report.audience is not None:
        words = audience_words(texts, report.audience)
        lines.insert(1, texts("delivery.audience_line", audience=Raw(words)))
    if report.unreachable_by_unit:
        lines.append(texts("delivery.unreachable_heading"))
        left = room - telegram_length("\n".join(lines)) - MORE_LINE_MAX
        lines += unreached_lines(texts, report.unreachable_by_unit, min(REPORT_NAMES_MAX, left))
    return "\n".join(lines)


def progress_view(
    texts: Texts, report: BatchReport, *, final: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The sender's message about a delivery: "Đang gửi: x/y" while it goes, then the
    report with whom to phone (and, if it was followed long enough without finishing, the
    report as it stands), with its refresh button."""
    if final:
        key = "delivery.progress_done" if not report.pending else "delivery.progress_stopped"
        heading = texts(key, batch=report.batch_id) + "\n\n"
        room = MESSAGE_MAX - telegram_length(heading)
        return heading + render_report(texts, report, room), _refresh(texts, report)
    done = report.delivered + report.unreachable + report.failed
    text = texts("delivery.progress", done=done, total=report.total, batch=report.batch_id,
                 title=report.title, delivered=report.delivered, unreachable=report.unreachable,
                 failed=report.failed)  # fmt: skip
    if report.audience is not None:
        words = audience_words(texts, report.audience)
        text += "\n" + texts("delivery.audience_line", audience=Raw(words))
    return text, None


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


def _refresh(texts: Texts, report: BatchReport) -> InlineKeyboardMarkup:
    button = RefreshDeliveryReport(report.batch_id, report.digest)
    return inline([[(texts("announce.refresh"), button)]])


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
        await show(update, ctx, render_report(ctx.texts, report), _refresh(ctx.texts, report))
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
    await send(update, ctx, render_report(ctx.texts, report), _refresh(ctx.texts, report))


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
