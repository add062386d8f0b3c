"""A class as administrators manage it (/classadmin): its card, the learners and waitlist,
opening enrolment, seats, cancelling or closing the class, and letting one person train again (its
sessions: handlers/class_sessions.py). Rights are checked by the services on every tap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update

from bot.actions import (
    AddSessions,
    AllowRepeat,
    CancelClass,
    ChangeCapacity,
    ClassAdminCard,
    ClassLinks,
    ClassRoster,
    ClassRules,
    ClassSessions,
    CloseClass,
    OpenEnrolment,
    PlanClasses,
    ResultsSheet,
    SetApprovalRequired,
    ShowClassList,
)
from bot.domain import Role
from bot.errors import Conflict, InvalidInput
from bot.services.access import require
from bot.services.enrolment import CAPACITY_MAX
from bot.services.planning import LATE_AFTER_MAX, parse_count
from bot.training import ClassFormat, ClassStatus, TrainingClass
from bot.validation import clean_note
from handlers.admin_steps import Confirm, Typed
from handlers.announce import unreached_lines
from handlers.class_labels import FORMAT, KIND, STATUS, moment
from handlers.class_lists import show_list
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Turn, begin, register
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import SEARCH_SHOWN, ChoiceStep, Option
from handlers.ui import Button, answer, inline, person_label, say, show

# --- the card ---------------------------------------------------------------------------------


def card_text(ctx: BotContext, c: TrainingClass) -> str:
    dash = "—"
    lines = [
        ctx.t("class_admin.card", code=c.code, name=c.name,
              programme=f"{c.programme.code} · {c.programme.name}", kind=ctx.t(KIND[c.kind]),
              format=ctx.t(FORMAT[c.format]), year=c.plan_year,
              plan=ctx.t("plan_admin.approved_short" if c.plan_approved
                         else "plan_admin.draft_short"),
              organiser=c.organiser or dash, lecturers=", ".join(c.lecturers) or dash,
              status=ctx.t(STATUS[c.stage(ctx.services.clock.now())]),
              capacity=c.capacity, enrolled=c.enrolled, waiting=c.waiting,
              seats=c.seats_left,
              pending=ctx.t("class_admin.card_pending", count=c.pending) if c.pending else ""),
    ]  # fmt: skip
    if c.format is not ClassFormat.ONLINE:
        lines.append(ctx.t("class_admin.card_place", place=c.location or dash))
    if c.format is not ClassFormat.ON_SITE:
        lines.append(ctx.t("class_admin.card_link", link=c.meeting_link or dash))
    if c.starts_at and c.ends_at:
        lines.append(ctx.t("class_admin.card_dates", first=c.starts_at, last=c.ends_at))
    opens = moment(ctx.texts, c.enrol_opens_at) if c.enrol_opens_at else dash
    deadline = moment(ctx.texts, c.enrol_deadline) if c.enrol_deadline else dash
    lines.append(ctx.t("class_admin.card_enrolment", opens=opens, deadline=deadline))
    lines.append(ctx.t("class_admin.card_rules", late=c.late_after, percent=c.completion_pct))
    lines.append(ctx.t("catalog.needs_approval" if c.requires_approval
                       else "class_admin.card_no_approval"))  # fmt: skip
    if c.cancelled_reason:
        lines.append(ctx.t("class_admin.card_reason", reason=c.cancelled_reason))
    return "\n".join(lines)


async def card(
    update: Update, ctx: BotContext, class_id: int, *, new_message: bool = False
) -> None:
    actor = await ctx.actor(update)
    c = await ctx.services.planning.admin_class(actor, class_id)
    rows: list[list[Button]] = [[(ctx.t("class_list.button"), ShowClassList(c.id))]]
    ended = c.ends_at is not None and c.ends_at <= ctx.services.clock.now()
    if ended and c.status is not ClassStatus.CANCELLED:
        rows.append([(ctx.t("results.card_button"), ResultsSheet(c.id))])
    if c.status is ClassStatus.PLANNED:
        rows.append([(ctx.t("class_admin.open"), OpenEnrolment(c.id))])
    if c.status not in (ClassStatus.CANCELLED, ClassStatus.FINISHED):
        if c.ends_at is not None and c.ends_at <= ctx.services.clock.now():
            rows.append([(ctx.t("class_admin.close"), CloseClass(c.id))])
        rows += [
            [(ctx.t("class_admin.capacity"), ChangeCapacity(c.id)),
             (ctx.t("class_admin.add_sessions"), AddSessions(c.id))],
            [(ctx.t("class_admin.sessions"), ClassSessions(c.id)),
             (ctx.t("class_admin.repeat"), AllowRepeat(c.id))],
            [(ctx.t("class_admin.rules"), ClassRules(c.id)),
             (ctx.t("class_admin.cancel_class"), CancelClass(c.id))],
            [(ctx.t("class_admin.approval_off" if c.requires_approval
                    else "class_admin.approval_on"),
              SetApprovalRequired(c.id, not c.requires_approval))],
        ]  # fmt: skip
    if c.status not in (ClassStatus.CANCELLED, ClassStatus.FINISHED):
        rows.append([(ctx.t("class_links.button"), ClassLinks(c.id))])
    rows.append([(ctx.t("class_admin.plan_classes", year=c.plan_year), PlanClasses(c.plan_id))])
    send = say if new_message else show
    await send(update, ctx, card_text(ctx, c), inline(rows))


async def open_card(update: Update, ctx: BotContext, tapped: ClassAdminCard) -> None:
    await card(update, ctx, tapped.class_id, new_message=tapped.fresh)


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
    """The button of cards sent before class lists existed opens the class list."""
    await show_list(update, ctx, ShowClassList(tapped.class_id))


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
    capacity = parse_count(raw, low=1, high=CAPACITY_MAX)
    actor = await turn.ctx.actor(turn.update)
    c = await turn.services.planning.admin_class(actor, turn.draft.class_id)
    if capacity < c.enrolled:  # asked again here; the service holds the rule when saving
        raise Conflict("planning.capacity_below", enrolled=c.enrolled)
    return capacity


async def _set_capacity(turn: Turn[ClassChange]) -> None:
    draft = turn.draft
    assert draft.capacity is not None
    actor = await turn.ctx.actor(turn.update)
    promoted = await turn.services.enrolment.set_capacity(actor, draft.class_id, draft.capacity)
    held = await turn.services.planning.admin_class(actor, draft.class_id)
    pending = (
        turn.t("class_admin.capacity_pending", count=len(promoted))
        if promoted and held.requires_approval
        else ""
    )
    lines = [turn.t("class_admin.capacity_saved", capacity=draft.capacity, count=len(promoted),
                    pending=pending)]  # fmt: skip
    lines += [
        turn.t("class_admin.promoted" if p.telegram_id else "class_admin.promoted_phone",
               name=p.full_name, phone=p.phone or "—")
        for p in promoted
    ]  # fmt: skip
    await turn.say("\n".join(lines))
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


# --- attendance rules -------------------------------------------------------------------------


@dataclass
class RulesChange:
    class_id: int = 0
    code: str = ""
    late_after: int | None = None
    completion_pct: int | None = None
    was_late: int = 0  # the rules in force, shown with each question
    was_pct: int = 0


async def _late_after(turn: Turn[Any], raw: str) -> int:
    return parse_count(raw, low=0, high=LATE_AFTER_MAX)


async def _completion(turn: Turn[Any], raw: str) -> int:
    return parse_count(raw.replace("%", ""), low=1, high=100)


async def _set_rules(turn: Turn[RulesChange]) -> None:
    draft = turn.draft
    assert draft.late_after is not None and draft.completion_pct is not None
    actor = await turn.ctx.actor(turn.update)
    c = await turn.services.planning.set_attendance_rules(
        actor, draft.class_id, draft.late_after, draft.completion_pct
    )
    await turn.say(turn.t("class_admin.rules_saved", code=c.code, late=c.late_after,
                          percent=c.completion_pct))  # fmt: skip
    await card(turn.update, turn.ctx, draft.class_id, new_message=True)


RULES = register(
    Dialogue(
        name="class_rules", draft=RulesChange,
        steps=[Typed("late", "late_after", prompt="class_admin.ask_late_after", parse=_late_after,
                     params=lambda turn: {"code": turn.draft.code, "now": turn.draft.was_late}),
               Typed("completion", "completion_pct", prompt="class_admin.ask_completion",
                     parse=_completion, params=lambda turn: {"now": turn.draft.was_pct})],
        finish=_set_rules, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def change_rules(update: Update, ctx: BotContext, tapped: ClassRules) -> None:
    c = await ctx.services.planning.admin_class(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    await begin(update, ctx, RULES, RulesChange(c.id, c.code, was_late=c.late_after,
                                                was_pct=c.completion_pct))  # fmt: skip


# --- cancelling the class ---------------------------------------------------------------------


async def _reason(turn: Turn[Any], raw: str) -> str:
    return clean_note(raw)


async def _cancel_class(turn: Turn[ClassChange]) -> None:
    draft = turn.draft
    actor = await turn.ctx.actor(turn.update)
    done = await turn.services.enrolment.cancel_class(actor, draft.class_id, draft.reason or "")
    lines = [turn.t("class_admin.class_cancelled", code=draft.code, count=done.told)]
    if done.unreached_by_unit:
        lines.append(turn.t("class_admin.to_phone"))
        lines += unreached_lines(turn.texts, done.unreached_by_unit)
    await turn.say("\n".join(lines))
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


# --- closing the class ------------------------------------------------------------------------


async def close_class(update: Update, ctx: BotContext, tapped: CloseClass) -> None:
    """Asked first; closed, the card shows it finished, without the buttons that change it."""
    actor = await ctx.actor(update)
    c = await ctx.services.planning.admin_class(actor, tapped.class_id)
    if not tapped.confirmed:
        rows = [[(ctx.t("class_admin.confirm"), CloseClass(c.id, confirmed=True)),
                 (ctx.t("button.back"), ClassAdminCard(c.id))]]  # fmt: skip
        question = ctx.t("class_admin.confirm_close", code=c.code, name=c.name,
                         enrolled=c.enrolled)  # fmt: skip
        await show(update, ctx, question, inline(rows))
        return
    await ctx.services.planning.close_class(actor, c.id)
    await answer(update, ctx, ctx.t("class_admin.closed", code=c.code))
    await card(update, ctx, c.id)


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


async def _repeat_summary(turn: Turn[Repeat]) -> str:
    return turn.t("class_admin.confirm_repeat", name=turn.draft.name, code=turn.draft.code)


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
               Confirm("confirm", render=_repeat_summary, button="class_admin.confirm")],
        finish=_allow, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def allow_repeat(update: Update, ctx: BotContext, tapped: AllowRepeat) -> None:
    c = await ctx.services.planning.admin_class(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    await begin(update, ctx, REPEAT, Repeat(c.id, c.code))


async def set_approval(update: Update, ctx: BotContext, tapped: SetApprovalRequired) -> None:
    """Turns the unit head's approval on or off; off, the enrolments still waiting are approved
    (the service says how many)."""
    actor = await ctx.actor(update)
    approved = await ctx.services.approval.set_required(actor, tapped.class_id, tapped.required)
    if tapped.required:
        text = ctx.t("class_admin.approval_set_on")
    elif approved:
        text = ctx.t("class_admin.approval_set_off_approved", count=approved)
    else:
        text = ctx.t("class_admin.approval_set_off")
    await answer(update, ctx, text)
    await card(update, ctx, tapped.class_id)


def handlers() -> list[Handler]:
    return [
        command("classadmin", class_admin),
        button(ClassAdminCard, open_card),
        button(ClassRoster, roster),
        button(OpenEnrolment, open_enrolment),
        button(ChangeCapacity, change_capacity),
        button(ClassRules, change_rules),
        button(CancelClass, cancel_class),
        button(CloseClass, close_class),
        button(AllowRepeat, allow_repeat),
        button(SetApprovalRequired, set_approval),
    ]
