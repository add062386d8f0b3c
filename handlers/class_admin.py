"""A class as administrators manage it (/classadmin): its card, the learners and waitlist,
opening enrolment, seats, sessions added, moved or cancelled, cancelling the class, and
letting one person train again. Rights are checked by the services on every tap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.actions import (
    AddSessions,
    AllowRepeat,
    CancelClass,
    CancelSession,
    ChangeCapacity,
    ClassAdminCard,
    ClassRoster,
    ClassSessions,
    MoveSession,
    OpenEnrolment,
    PickSession,
    PlanClasses,
)
from bot.dates import parse_day_slot
from bot.domain import Role
from bot.errors import InvalidInput
from bot.services.access import require
from bot.services.planning import CAPACITY_MAX, parse_count
from bot.training import ClassFormat, ClassStatus, EnrolmentStatus, Session, TrainingClass
from bot.validation import clean_note, telegram_length
from handlers.admin_steps import Typed
from handlers.class_labels import FORMAT, KIND, STATUS, moment
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.recurrence import Recurrence, describe, recurrence_steps, sessions_of
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import SEARCH_SHOWN, ChoiceStep, Option
from handlers.ui import Button, answer, inline, person_label, say, show

ROSTER_BUDGET = 3000  # characters of names: the list stays one message
SESSIONS_LISTED = 20
CONFIRM = "yes"


# --- the card ---------------------------------------------------------------------------------


def card_text(ctx: BotContext, c: TrainingClass) -> str:
    tz, dash = ctx.settings.tz, "—"
    lines = [
        ctx.t("class_admin.card", code=c.code, name=c.name,
              programme=f"{c.programme.code} · {c.programme.name}", kind=ctx.t(KIND[c.kind]),
              format=ctx.t(FORMAT[c.format]), year=c.plan_year,
              plan=ctx.t("plan_admin.approved_short" if c.plan_approved
                         else "plan_admin.draft_short"),
              organiser=c.organiser or dash, lecturers=", ".join(c.lecturers) or dash,
              status=ctx.t(STATUS[c.stage(ctx.services.clock.now())]),
              capacity=c.capacity, enrolled=c.enrolled, waiting=c.waiting,
              seats=c.seats_left),
    ]  # fmt: skip
    if c.format is not ClassFormat.ONLINE:
        lines.append(ctx.t("class_admin.card_place", place=c.location or dash))
    if c.format is not ClassFormat.ON_SITE:
        lines.append(ctx.t("class_admin.card_link", link=c.meeting_link or dash))
    if c.starts_at and c.ends_at:
        lines.append(ctx.t("class_admin.card_dates", first=c.starts_at, last=c.ends_at))
    opens = moment(ctx.texts, c.enrol_opens_at, tz) if c.enrol_opens_at else dash
    deadline = moment(ctx.texts, c.enrol_deadline, tz) if c.enrol_deadline else dash
    lines.append(ctx.t("class_admin.card_enrolment", opens=opens, deadline=deadline))
    if c.cancelled_reason:
        lines.append(ctx.t("class_admin.card_reason", reason=c.cancelled_reason))
    return "\n".join(lines)


async def card(
    update: Update, ctx: BotContext, class_id: int, *, new_message: bool = False
) -> None:
    actor = await ctx.actor(update)
    c = await ctx.services.planning.admin_class(actor, class_id)
    rows: list[list[Button]] = [[(ctx.t("class_admin.roster"), ClassRoster(c.id))]]
    if c.status is ClassStatus.PLANNED:
        rows.append([(ctx.t("class_admin.open"), OpenEnrolment(c.id))])
    if c.status is not ClassStatus.CANCELLED:
        rows += [
            [(ctx.t("class_admin.capacity"), ChangeCapacity(c.id)),
             (ctx.t("class_admin.add_sessions"), AddSessions(c.id))],
            [(ctx.t("class_admin.sessions"), ClassSessions(c.id)),
             (ctx.t("class_admin.repeat"), AllowRepeat(c.id))],
            [(ctx.t("class_admin.cancel_class"), CancelClass(c.id))],
        ]  # fmt: skip
    rows.append([(ctx.t("class_admin.plan_classes", year=c.plan_year), PlanClasses(c.plan_id))])
    send = say if new_message else show
    await send(update, ctx, card_text(ctx, c), inline(rows))


async def open_card(update: Update, ctx: BotContext, tapped: ClassAdminCard) -> None:
    await card(update, ctx, tapped.class_id)


async def class_admin(update: Update, ctx: BotContext) -> None:
    """/classadmin CODE, or a few words of the name: the card, or the classes found."""
    actor = await ctx.actor(update)
    query = argument_text(ctx)
    if not query.strip():
        require(actor, Role.ADMIN)  # a learner is refused, not taught the usage
        await say(update, ctx, ctx.t("class_admin.usage"))
        return
    found = await ctx.services.planning.find_classes(actor, query)
    exact = [c for c in found if c.code == query.strip().upper()]
    if len(exact) == 1 or len(found) == 1:
        await card(update, ctx, (exact or found)[0].id)
        return
    if not found:
        await say(update, ctx, ctx.t("class_admin.none_found", query=query[:60]))
        return
    rows = [[(f"{c.code} · {c.name}", ClassAdminCard(c.id))] for c in found]
    await say(update, ctx, ctx.t("class_admin.found", query=query[:60]), inline(rows))


# --- learners ---------------------------------------------------------------------------------


async def roster(update: Update, ctx: BotContext, tapped: ClassRoster) -> None:
    actor = await ctx.actor(update)
    c, entries = await ctx.services.planning.roster(actor, tapped.class_id)
    lines = [ctx.t("class_admin.roster_head", code=c.code, enrolled=c.enrolled,
                   waiting=c.waiting, capacity=c.capacity)]  # fmt: skip
    budget, shown = ROSTER_BUDGET, 0
    seated = [e for e in entries if e.status is EnrolmentStatus.ENROLLED]
    waiting = [e for e in entries if e.status is EnrolmentStatus.WAITLISTED]
    for heading, group in (("class_admin.roster_enrolled", seated),
                           ("class_admin.roster_waiting", waiting)):  # fmt: skip
        if not group:
            continue
        lines.append(ctx.t(heading))
        for number, entry in enumerate(group, 1):
            line = ctx.t("class_admin.roster_line", n=number, name=entry.name,
                         unit=entry.unit or "—")  # fmt: skip
            budget -= telegram_length(line) + 1
            if budget < 0:
                break
            lines.append(line)
            shown += 1
    left = c.enrolled + c.waiting - shown
    if left > 0:
        lines.append(ctx.t("class_admin.roster_more", count=left))
    if not entries:
        lines.append(ctx.t("class_admin.roster_empty"))
    back = [[(ctx.t("button.back"), ClassAdminCard(c.id))]]
    await show(update, ctx, "\n".join(lines), inline(back))


# --- enrolment and seats ----------------------------------------------------------------------


async def open_enrolment(update: Update, ctx: BotContext, tapped: OpenEnrolment) -> None:
    await ctx.services.planning.open_class(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx, ctx.t("class_admin.opened"))
    await card(update, ctx, tapped.class_id)


@dataclass
class ClassChange:
    """The class a one-step change is about."""

    class_id: int = 0
    code: str = ""
    capacity: int | None = None
    reason: str | None = None


async def _capacity(turn: Turn[Any], raw: str) -> int:
    return parse_count(raw, low=1, high=CAPACITY_MAX)


async def _set_capacity(turn: Turn[ClassChange]) -> None:
    draft = turn.draft
    assert draft.capacity is not None
    actor = await turn.ctx.actor(turn.update)
    promoted = await turn.services.enrolment.set_capacity(actor, draft.class_id, draft.capacity)
    await turn.say(turn.t("class_admin.capacity_saved", capacity=draft.capacity, count=promoted))
    await card(turn.update, turn.ctx, draft.class_id, new_message=True)


CAPACITY = register(
    Dialogue(
        name="class_capacity", draft=ClassChange,
        steps=[Typed("capacity", "capacity", prompt="class_admin.ask_new_capacity",
                     parse=_capacity, params=lambda turn: {"code": turn.draft.code})],
        finish=_set_capacity, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def change_capacity(update: Update, ctx: BotContext, tapped: ChangeCapacity) -> None:
    c = await ctx.services.planning.admin_class(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    await begin(update, ctx, CAPACITY, ClassChange(c.id, c.code))


# --- cancelling the class ---------------------------------------------------------------------


async def _reason(turn: Turn[Any], raw: str) -> str:
    return clean_note(raw)


async def _cancel_class(turn: Turn[ClassChange]) -> None:
    draft = turn.draft
    actor = await turn.ctx.actor(turn.update)
    told = await turn.services.enrolment.cancel_class(actor, draft.class_id, draft.reason or "")
    await turn.say(turn.t("class_admin.class_cancelled", code=draft.code, count=told))
    await card(turn.update, turn.ctx, draft.class_id, new_message=True)


CANCEL = register(
    Dialogue(
        name="class_cancel", draft=ClassChange,
        steps=[Typed("reason", "reason", prompt="class_admin.ask_reason", parse=_reason,
                     skip="class_admin.no_reason", then=lambda turn: Flow.FINISH)],
        finish=_cancel_class, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def cancel_class(update: Update, ctx: BotContext, tapped: CancelClass) -> None:
    """Asked first, saying who will be told; then the reason, typed or skipped."""
    c = await ctx.services.planning.admin_class(await ctx.actor(update), tapped.class_id)
    if not tapped.confirmed:
        rows = [[(ctx.t("class_admin.confirm"), CancelClass(c.id, confirmed=True)),
                 (ctx.t("button.back"), ClassAdminCard(c.id))]]  # fmt: skip
        question = ctx.t("class_admin.confirm_cancel", code=c.code, name=c.name,
                         count=c.enrolled + c.waiting)  # fmt: skip
        await show(update, ctx, question, inline(rows))
        return
    await answer(update, ctx)
    await begin(update, ctx, CANCEL, ClassChange(c.id, c.code))


# --- sessions ---------------------------------------------------------------------------------


@dataclass
class MoreSessions(Recurrence):
    class_id: int = 0
    code: str = ""


async def _sessions_summary(turn: Turn[MoreSessions]) -> str:
    when = describe(turn.texts, turn.draft, turn.ctx.settings.tz)
    return turn.t("class_admin.add_sessions_summary", code=turn.draft.code, sessions=when)


class ConfirmSessions(Step[MoreSessions]):
    async def ask(self, turn: Turn[MoreSessions]) -> None:
        rows: list[list[Button]] = [[(turn.t("class_admin.save"), turn.choice(CONFIRM))]]
        rows.append(turn.nav_row())
        await turn.say(await _sessions_summary(turn), inline(rows))

    async def typed_labels(self, turn: Turn[MoreSessions]) -> Sequence[tuple[str, str]]:
        return [(turn.t("class_admin.save"), CONFIRM)]

    async def on_choice(self, turn: Turn[MoreSessions], value: str) -> Move:
        return Flow.FINISH if value == CONFIRM else Flow.RETRY


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
        steps=[*recurrence_steps(), ConfirmSessions("confirm")],
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
        at=moment(ctx.texts, session.starts_at, ctx.settings.tz),
        end=session.ends_at,
    )


async def class_sessions(update: Update, ctx: BotContext, tapped: ClassSessions) -> None:
    """The sessions still to come, to pick one to move or cancel."""
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
    session = await ctx.services.planning.session(await ctx.actor(update), tapped.session_id)
    rows: list[list[Button]] = [
            [(ctx.t("class_admin.move_session"), MoveSession(session.id)),
             (ctx.t("class_admin.cancel_session"), CancelSession(session.id))],
            [(ctx.t("button.back"), ClassSessions(session.class_id))]
    ]  # fmt: skip
    await show(update, ctx, ctx.t("class_admin.session", when=_session_label(ctx, session)),
               inline(rows))  # fmt: skip


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
    turn.draft.new_end = end
    return start


class ConfirmMove(Step[SessionMove]):
    async def ask(self, turn: Turn[SessionMove]) -> None:
        draft, tz = turn.draft, turn.ctx.settings.tz
        assert draft.old_start and draft.old_end and draft.new_start and draft.new_end
        old, new = moment(turn.texts, draft.old_start, tz), moment(turn.texts, draft.new_start, tz)
        text = turn.t("class_admin.confirm_move", old=old, old_end=draft.old_end, new=new,
                      new_end=draft.new_end)  # fmt: skip
        rows: list[list[Button]] = [[(turn.t("class_admin.confirm"), turn.choice(CONFIRM))]]
        rows.append(turn.nav_row())
        await turn.say(text, inline(rows))

    async def typed_labels(self, turn: Turn[SessionMove]) -> Sequence[tuple[str, str]]:
        return [(turn.t("class_admin.confirm"), CONFIRM)]

    async def on_choice(self, turn: Turn[SessionMove], value: str) -> Move:
        return Flow.FINISH if value == CONFIRM else Flow.RETRY


async def _move(turn: Turn[SessionMove]) -> None:
    draft = turn.draft
    assert draft.new_start and draft.new_end
    actor = await turn.ctx.actor(turn.update)
    await turn.services.planning.move_session(actor, draft.session_id, draft.new_start,
                                              draft.new_end)  # fmt: skip
    await turn.show(
        turn.t(
            "class_admin.session_moved",
            when=moment(turn.texts, draft.new_start, turn.ctx.settings.tz),
        )
    )
    await card(turn.update, turn.ctx, draft.class_id, new_message=True)


MOVE = register(
    Dialogue(
        name="session_move", draft=SessionMove,
        steps=[Typed("when", "new_start", prompt="class_admin.ask_new_time", parse=_new_time),
               ConfirmMove("confirm")],
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


# --- training again ---------------------------------------------------------------------------


@dataclass
class Repeat:
    class_id: int = 0
    code: str = ""
    person_id: int | None = None
    name: str = ""


async def _people(turn: Turn[Any], query: str) -> Sequence[Option]:
    actor = await turn.ctx.actor(turn.update)
    found = await turn.services.people.search(actor, query)
    return [
        Option(str(p.id), f"{person_label(p)} · {p.unit.label if p.unit else '—'}")
        for p in found.people[: SEARCH_SHOWN + 1]
    ]


async def _person(turn: Turn[Repeat], raw: str) -> int:
    if not raw.isdigit():
        raise InvalidInput()
    person = await turn.services.people.person_for(await turn.ctx.actor(turn.update), int(raw))
    turn.draft.name = person.full_name
    return person.id


class ConfirmRepeat(Step[Repeat]):
    async def ask(self, turn: Turn[Repeat]) -> None:
        text = turn.t("class_admin.confirm_repeat", name=turn.draft.name, code=turn.draft.code)
        rows: list[list[Button]] = [[(turn.t("class_admin.confirm"), turn.choice(CONFIRM))]]
        rows.append(turn.nav_row())
        await turn.say(text, inline(rows))

    async def typed_labels(self, turn: Turn[Repeat]) -> Sequence[tuple[str, str]]:
        return [(turn.t("class_admin.confirm"), CONFIRM)]

    async def on_choice(self, turn: Turn[Repeat], value: str) -> Move:
        return Flow.FINISH if value == CONFIRM else Flow.RETRY


async def _allow(turn: Turn[Repeat]) -> None:
    draft = turn.draft
    assert draft.person_id is not None
    actor = await turn.ctx.actor(turn.update)
    added = await turn.services.enrolment.allow_duplicate(actor, draft.class_id, draft.person_id)
    key = "class_admin.repeat_allowed" if added else "class_admin.repeat_already"
    await turn.show(turn.t(key, name=draft.name, code=draft.code))


REPEAT = register(
    Dialogue(
        name="class_repeat", draft=Repeat,
        steps=[ChoiceStep("person", "person_id", prompt="class_admin.ask_person",
                          resolve=_person, search=_people, found="class_admin.person_pick",
                          none_found="class_admin.person_none", keep_keyboard=True),
               ConfirmRepeat("confirm")],
        finish=_allow, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def allow_repeat(update: Update, ctx: BotContext, tapped: AllowRepeat) -> None:
    c = await ctx.services.planning.admin_class(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    await begin(update, ctx, REPEAT, Repeat(c.id, c.code))


def handlers() -> list[Handler]:
    return [
        command("classadmin", class_admin),
        button(ClassAdminCard, open_card),
        button(ClassRoster, roster),
        button(OpenEnrolment, open_enrolment),
        button(ChangeCapacity, change_capacity),
        button(CancelClass, cancel_class),
        button(AddSessions, add_sessions),
        button(ClassSessions, class_sessions),
        button(PickSession, pick_session),
        button(CancelSession, cancel_session),
        button(MoveSession, move_session),
        button(AllowRepeat, allow_repeat),
    ]
