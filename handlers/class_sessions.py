"""A class's sessions, for administrators: more added by recurrence, one moved to another day
and time (confirmed showing the old and the new), cancelled, or given another place
(handlers/session_place.py). The services record each change for the people of the class
and audit it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Update

from bot.actions import (
    AddSessions,
    CancelSession,
    ChangeSessionPlace,
    ClassAdminCard,
    ClassSessions,
    MoveSession,
    PickSession,
    SessionAttendance,
)
from bot.dates import parse_day_slot
from bot.services.planning import check_not_past
from bot.training import Session
from handlers.admin_steps import Confirm, Typed
from handlers.class_admin import card
from handlers.class_labels import moment
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Turn, begin, register
from handlers.recurrence import Recurrence, describe, recurrence_steps, sessions_of
from handlers.routing import Handler, button
from handlers.session_place import class_place, own_place, place_label
from handlers.ui import Button, answer, inline, show

SESSIONS_LISTED = 20


@dataclass
class MoreSessions(Recurrence):
    class_id: int = 0
    code: str = ""


async def _sessions_summary(turn: Turn[MoreSessions]) -> str:
    when = describe(turn.texts, turn.draft, turn.ctx.settings.tz)
    return turn.t("class_admin.add_sessions_summary", code=turn.draft.code, sessions=when)


async def _add_sessions(turn: Turn[MoreSessions]) -> None:
    draft = turn.draft
    actor = await turn.ctx.actor(turn.update)
    added = await turn.services.planning.add_sessions(
        actor, draft.class_id, sessions_of(draft, turn.ctx.settings.tz)
    )
    await turn.show(turn.t("class_admin.sessions_added", count=added, code=draft.code))
    await card(turn.update, turn.ctx, draft.class_id, new_message=True)


MORE_SESSIONS = register(
    Dialogue(
        name="class_sessions", draft=MoreSessions,
        steps=[*recurrence_steps(),
               Confirm("confirm", render=_sessions_summary, button="class_admin.save")],
        finish=_add_sessions, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=30),
    )
)  # fmt: skip


async def add_sessions(update: Update, ctx: BotContext, tapped: AddSessions) -> None:
    planning = ctx.services.planning
    c = await planning.admin_class(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    await begin(update, ctx, MORE_SESSIONS, MoreSessions(year=c.plan_year, class_id=c.id,
                                                         code=c.code))  # fmt: skip


def _session_label(ctx: BotContext, session: Session) -> str:
    return ctx.t(
        "class_admin.session_line",
        at=moment(ctx.texts, session.starts_at),
        end=session.ends_at,
    )


async def class_sessions(update: Update, ctx: BotContext, tapped: ClassSessions) -> None:
    """The sessions still to come, to pick one to move, cancel or change the place of."""
    actor = await ctx.actor(update)
    now = ctx.services.clock.now()
    coming = [s for s in await ctx.services.planning.sessions(actor, tapped.class_id)
              if not s.cancelled and s.ends_at > now]  # fmt: skip
    rows: list[list[Button]] = [
        [(_session_label(ctx, s), PickSession(s.id))] for s in coming[:SESSIONS_LISTED]
    ]
    text = ctx.t("class_admin.pick_session" if coming else "class_admin.no_coming_sessions")
    if len(coming) > SESSIONS_LISTED:
        text += "\n" + ctx.t("class_admin.more_sessions", count=len(coming) - SESSIONS_LISTED)
    rows.append([(ctx.t("button.back"), ClassAdminCard(tapped.class_id))])
    await show(update, ctx, text, inline(rows))


async def pick_session(update: Update, ctx: BotContext, tapped: PickSession) -> None:
    """One session: when and where it is, to move it, change its place, or cancel it, and its
    attendance (check-in and roll call)."""
    planning = ctx.services.planning
    actor = await ctx.actor(update)
    session = await planning.session(actor, tapped.session_id)
    of_class = class_place(await planning.admin_class(actor, session.class_id))
    rows: list[list[Button]] = [
        [(ctx.t("class_admin.move_session"), MoveSession(session.id)),
         (ctx.t("class_admin.cancel_session"), CancelSession(session.id))],
        [(ctx.t("class_admin.change_place"), ChangeSessionPlace(session.id)),
         (ctx.t("menu.attendance"), SessionAttendance(session.id))],
        [(ctx.t("button.back"), ClassSessions(session.class_id))],
    ]  # fmt: skip
    text = ctx.t("class_admin.session", when=_session_label(ctx, session),
                 place=place_label(ctx.texts, own_place(session), of_class))  # fmt: skip
    await show(update, ctx, text, inline(rows))


async def cancel_session(update: Update, ctx: BotContext, tapped: CancelSession) -> None:
    actor = await ctx.actor(update)
    planning = ctx.services.planning
    session = await planning.session(actor, tapped.session_id)
    if not tapped.confirmed:
        rows = [[(ctx.t("class_admin.confirm"), CancelSession(session.id, confirmed=True)),
                 (ctx.t("button.back"), PickSession(session.id))]]  # fmt: skip
        question = ctx.t("class_admin.confirm_cancel_session", when=_session_label(ctx, session))
        await show(update, ctx, question, inline(rows))
        return
    await planning.cancel_session(actor, session.id)
    await answer(update, ctx, ctx.t("class_admin.session_cancelled"))
    await class_sessions(update, ctx, ClassSessions(session.class_id))


@dataclass
class SessionMove:
    session_id: int = 0
    class_id: int = 0
    year: int = 0
    old_start: datetime | None = None
    old_end: datetime | None = None
    new_start: datetime | None = None
    new_end: datetime | None = None


async def _new_time(turn: Turn[SessionMove], raw: str) -> datetime:
    start, end = parse_day_slot(raw, turn.draft.year, turn.ctx.settings.tz)
    check_not_past(start, turn.services.clock.now(), turn.ctx.settings.tz)
    turn.draft.new_end = end
    return start


async def _move_summary(turn: Turn[SessionMove]) -> str:
    """The old time and the new, side by side."""
    draft = turn.draft
    assert draft.old_start and draft.old_end and draft.new_start and draft.new_end
    old, new = moment(turn.texts, draft.old_start), moment(turn.texts, draft.new_start)
    return turn.t("class_admin.confirm_move", old=old, old_end=draft.old_end, new=new,
                  new_end=draft.new_end)  # fmt: skip


async def _move(turn: Turn[SessionMove]) -> None:
    draft = turn.draft
    assert draft.new_start and draft.new_end
    actor = await turn.ctx.actor(turn.update)
    await turn.services.planning.move_session(actor, draft.session_id, draft.new_start,
                                              draft.new_end)  # fmt: skip
    await turn.show(
        turn.t(
            "class_admin.session_moved",
            when=moment(turn.texts, draft.new_start),
        )
    )
    await card(turn.update, turn.ctx, draft.class_id, new_message=True)


MOVE = register(
    Dialogue(
        name="session_move", draft=SessionMove,
        steps=[Typed("when", "new_start", prompt="class_admin.ask_new_time", parse=_new_time),
               Confirm("confirm", render=_move_summary, button="class_admin.confirm")],
        finish=_move, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def move_session(update: Update, ctx: BotContext, tapped: MoveSession) -> None:
    session = await ctx.services.planning.session(await ctx.actor(update), tapped.session_id)
    await answer(update, ctx)
    year = session.starts_at.astimezone(ctx.settings.tz).year
    draft = SessionMove(session.id, session.class_id, year, session.starts_at, session.ends_at)
    await begin(update, ctx, MOVE, draft)


def handlers() -> list[Handler]:
    return [
        button(AddSessions, add_sessions),
        button(ClassSessions, class_sessions),
        button(PickSession, pick_session),
        button(CancelSession, cancel_session),
        button(MoveSession, move_session),
    ]
