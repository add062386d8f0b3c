"""Self check-in in the chat: a lecturer's /attendance list and a session's attendance card,
the projector photo (QR code and code), and a learner's check-in by code (/checkin, or six
digits sent as they are), by the QR code's deep link, or by an online session's button."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from telegram import Message, Update
from telegram.ext import filters

from bot.actions import (
    AttendanceList,
    CheckIn,
    OpenCheckin,
    PendingLeave,
    RollCall,
    SessionAttendance,
    ShowClassList,
    StopCheckin,
)
from bot.attendance import Mark, clean_code
from bot.deeplinks import DeepLink
from bot.errors import DomainError, InvalidInput, PermissionDenied
from bot.i18n import Texts
from bot.places import place_words
from bot.qr import qr_png
from bot.services.checkin import CheckedIn, CheckinStatus, Projector, TaughtSession, parse_link
from handlers.class_text import words
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.routing import Handler, argument_text, button, command, message
from handlers.ui import (
    Button,
    Markup,
    answer,
    back_cancel_keyboard,
    inline,
    refuse,
    resting_keyboard,
    say,
    show,
)

#: A message that is a check-in code and nothing else ("123456", "123 456"); clean_code
#: has the last word.
LOOKS_LIKE_CODE = re.compile(r"[\d\s.\-]{6,20}")


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


def done_text(texts: Texts, done: CheckedIn) -> str:
    return texts(f"checkin.done_{done.mark.value}", at=done.at, class_name=done.class_name,
                 code=done.class_code, start=done.starts_at)  # fmt: skip


def projector_caption(texts: Texts, p: Projector) -> str:
    if p.ended:
        return texts("checkin.projector_ended", class_name=p.class_name, code=p.class_code,
                     start=p.session.starts_at, end=p.session.ends_at)  # fmt: skip
    return texts(
        "checkin.projector", class_name=p.class_name, code=p.class_code,
        start=p.session.starts_at, end=p.session.ends_at,
        checkin_code=f"{p.code[:3]} {p.code[3:]}", changes=p.changes_at,
    )  # fmt: skip


# --- the lecturer's side ---------------------------------------------------------------------


async def attendance(update: Update, ctx: BotContext) -> None:
    """/attendance: today's sessions of the person (all of them, for administrators)."""
    await say(update, ctx, *await _session_list(update, ctx, past=False))


async def attendance_list(update: Update, ctx: BotContext, tapped: AttendanceList) -> None:
    await show(update, ctx, *await _session_list(update, ctx, past=tapped.past))


async def _session_list(update: Update, ctx: BotContext, *, past: bool) -> tuple[str, Markup]:
    """Today's sessions, or the past month's (a roll call forgotten, a mark to correct)."""
    actor = await ctx.actor(update)
    checkin = ctx.services.checkin
    sessions = await (checkin.taught_recently(actor) if past else checkin.teaching_today(actor))
    rows: list[list[Button]] = [
        [(ctx.t("checkin.session_label", start=s.session.starts_at, code=s.class_code,
                status=_list_status(ctx, s)),
          SessionAttendance(s.session.id))]
        for s in sessions
    ]  # fmt: skip
    rows.append([(ctx.t("checkin.list_today" if past else "checkin.list_past"),
                  AttendanceList(past=not past))])  # fmt: skip
    _, waiting = await ctx.services.leave.pending(actor)
    if waiting:
        rows.append([(ctx.t("leave.pending_button", count=waiting), PendingLeave())])
    kind = "past" if past else "today"
    text = ctx.t(f"checkin.list_heading_{kind}" if sessions else f"checkin.list_empty_{kind}")
    return text, inline(rows)


def _list_status(ctx: BotContext, s: TaughtSession) -> str:
    """Where the session's attendance stands, telling a closed one from one nobody took."""
    if s.closed:
        return ctx.t("checkin.list_closed")
    if s.untaken:
        return ctx.t("checkin.list_untaken")
    return ctx.t(f"checkin.status_{s.status.value}")


async def session_card(update: Update, ctx: BotContext, tapped: SessionAttendance) -> None:
    actor = await ctx.actor(update)
    card = await ctx.services.checkin.card(actor, tapped.session_id)
    s, c = card.session, card.training_class
    text = ctx.t(
        "checkin.card", class_name=c.name, code=c.code, start=s.starts_at, end=s.ends_at,
        place=words(ctx.texts, place_words(card.place, shows_link=True)),
        status=ctx.t(f"checkin.status_{card.status.value}"), marked=card.marked,
        expected=card.expected, **{m.value: card.counts[m] for m in Mark},
    )  # fmt: skip
    if card.closed:
        text += "\n" + ctx.t("checkin.card_closed")
    rows: list[list[Button]] = []
    if card.status is CheckinStatus.OPEN:
        rows.append([(ctx.t("checkin.button_show"), OpenCheckin(s.id)),
                     (ctx.t("checkin.button_stop"), StopCheckin(s.id))])  # fmt: skip
    elif card.status is not CheckinStatus.OVER:
        rows.append([(ctx.t("checkin.button_open"), OpenCheckin(s.id))])
    rows.append([(ctx.t("checkin.button_roll"), RollCall(s.id))])
    rows.append([(ctx.t("class_list.button"), ShowClassList(c.id))])
    rows.append([(ctx.t("checkin.button_refresh"), SessionAttendance(s.id))])
    await (say if tapped.fresh else show)(update, ctx, text, inline(rows))


async def open_checkin(update: Update, ctx: BotContext, tapped: OpenCheckin) -> None:
    """Opens check-in and sends the projector photo, which the rotation job edits each minute."""
    actor = await ctx.actor(update)
    projector = await ctx.services.checkin.open(actor, tapped.session_id)
    await answer(update, ctx, ctx.t("checkin.opened"))
    chat = update.effective_chat
    assert chat is not None
    sent = await ctx.bot.send_photo(
        chat.id,
        qr_png(deep_link(ctx.bot.username, projector.payload)),
        caption=projector_caption(ctx.texts, projector),
    )
    await ctx.services.checkin.set_projector(projector.session.id, chat.id, sent.message_id)


async def stop_checkin(update: Update, ctx: BotContext, tapped: StopCheckin) -> None:
    actor = await ctx.actor(update)
    await ctx.services.checkin.stop(actor, tapped.session_id)
    await answer(update, ctx, ctx.t("checkin.stopped_done"))
    await session_card(update, ctx, SessionAttendance(tapped.session_id))


# --- the learner's side ----------------------------------------------------------------------


@dataclass
class CodeEntry:
    """The /checkin dialogue's draft: the check-in, once recorded."""

    done: CheckedIn | None = None


class TypedCode(Step[CodeEntry]):
    """The code typed. A typo or an expired code asks again; any other refusal ends it."""

    reply_keyboard = True

    async def ask(self, turn: Turn[CodeEntry]) -> None:
        await turn.say(turn.t("checkin.ask_code"), back_cancel_keyboard(turn.ctx))

    async def on_text(self, turn: Turn[CodeEntry], text: str) -> Move:
        actor = await turn.ctx.actor(turn.update)
        try:
            turn.draft.done = await turn.services.checkin.by_code(actor, text)
        except DomainError as exc:
            if isinstance(exc, InvalidInput):
                raise  # said by the dialogue, which asks again
            await refuse(turn.update, turn.ctx, exc, await turn.resting_keyboard())
            return Flow.END
        return Flow.FINISH

    def retry_markup(self, turn: Turn[CodeEntry]) -> Markup:
        return back_cancel_keyboard(turn.ctx)


async def _checked_in(turn: Turn[CodeEntry]) -> None:
    assert turn.draft.done is not None
    await turn.say(done_text(turn.texts, turn.draft.done), await turn.resting_keyboard())


CHECKIN = register(
    Dialogue(
        name="checkin", draft=CodeEntry, steps=[TypedCode("code", "done")],
        finish=_checked_in, cancelled="checkin.ask_cancelled",
        interrupted="checkin.ask_cancelled", entry_command="checkin",
        timeout=timedelta(minutes=10),
    )
)  # fmt: skip


async def checkin_command(update: Update, ctx: BotContext) -> None:
    """/checkin 123456 checks in at once; /checkin alone asks for the code."""
    actor = await ctx.actor(update)
    if actor.person is None:
        raise PermissionDenied("checkin.not_registered")
    typed = argument_text(ctx)
    if typed:
        await _by_code(update, ctx, typed)
        return
    await begin(update, ctx, CHECKIN, CodeEntry())


async def typed_code(update: Update, ctx: BotContext) -> None:
    """Six digits sent as they are, outside any dialogue: a check-in code."""
    msg = update.effective_message
    assert msg is not None and msg.text is not None
    await _by_code(update, ctx, msg.text)


async def _by_code(update: Update, ctx: BotContext, typed: str) -> None:
    actor = await ctx.actor(update)
    done = await ctx.services.checkin.by_code(actor, typed)
    await say(update, ctx, done_text(ctx.texts, done), await resting_keyboard(update, ctx))


async def scanned(update: Update, ctx: BotContext, link: DeepLink) -> None:
    """The QR code's deep link (/start ci-<session>_<code>), once the person is registered."""
    actor = await ctx.actor(update)
    session_id, code = parse_link(link.argument)
    done = await ctx.services.checkin.by_link(actor, session_id, code)
    await say(update, ctx, done_text(ctx.texts, done))


async def online_button(update: Update, ctx: BotContext, tapped: CheckIn) -> None:
    """The check-in button of an online session's reminder."""
    actor = await ctx.actor(update)
    done = await ctx.services.checkin.by_button(actor, tapped.session_id)
    await answer(update, ctx)
    await say(update, ctx, done_text(ctx.texts, done))


def is_code(text: str | None) -> bool:
    """A message that is a check-in code and nothing else."""
    return text is not None and bool(LOOKS_LIKE_CODE.fullmatch(text)) and bool(clean_code(text))


class _CodeFilter(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return is_code(message.text)


def handlers() -> list[Handler]:
    return [
        command("attendance", attendance),
        command("checkin", checkin_command),
        button(SessionAttendance, session_card),
        button(AttendanceList, attendance_list),
        button(OpenCheckin, open_checkin),
        button(StopCheckin, stop_checkin),
        button(CheckIn, online_button),
        message(filters.ChatType.PRIVATE & _CodeFilter(), typed_code),
    ]
