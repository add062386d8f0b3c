"""Nomination: from a class's card a unit head picks staff of their units (search, pages,
priority groups marked) and confirms; a nominee may decline with a reason; the head's list of
their staff in a class, or in every class (/nominated)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Update

from bot.actions import DeclineNomination, NominatedStaff, NominateStaff, OpenClass
from bot.domain import Role
from bot.errors import InvalidInput
from bot.i18n import Texts
from bot.leave import REASON_MAX, REASON_MIN
from bot.services.nomination import (
    CLASSES_PAGE,
    LIST_PAGE,
    NOMINEES_MAX,
    PICKER_PAGE,
    Candidate,
    Nominated,
    StaffList,
    clean_query,
)
from bot.training import EnrolmentStatus, PriorityGroup, TrainingClass
from bot.validation import shorten
from handlers.admin_steps import Typed
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.routing import Handler, button, command
from handlers.ui import Button, inline, show

#: The values of the picker's buttons besides a person's id ("t<id>" toggles them).
TOGGLE, PAGE, PRIORITY, ALL_SHOWN, CLEAR, DONE, CONFIRM = "t", "p", "f", "a", "c", "ok", "yes"
#: The most characters of a message's text (Telegram takes 4096, counted after the HTML tags,
#: so counting them too leaves room); a class name and a decline's reason in the head's list.
MESSAGE_BUDGET = 4000
NAME_SHOWN, REASON_SHOWN = 80, 120
#: How each priority group is marked beside a name, in the seeds' order.
GROUP_MARKS = {
    PriorityGroup.YOUNG: "nomination.group_young",
    PriorityGroup.WOMEN: "nomination.group_women",
    PriorityGroup.MINORITY: "nomination.group_minority",
    PriorityGroup.SOURCE_POOL: "nomination.group_source_pool",
}


@dataclass
class NominateDraft:
    class_id: int = 0
    chosen: list[int] = field(default_factory=list)
    query: str = ""
    priority: bool = False
    page: int = 0
    reason: str = ""


def compose(texts: Texts, head: list[str], lines: list[str], tail: Sequence[str] = ()) -> str:
    """A heading, lines and a closing part within Telegram's length: the lines that do not
    fit (very long names and units) are counted rather than shown."""
    top, bottom = "\n\n".join(head), "\n".join(tail)
    room = MESSAGE_BUDGET - len(top) - len(bottom) - 4
    kept: list[str] = []
    for i, line in enumerate(lines):
        if len(line) + 1 > room:
            kept.append(texts("nomination.more", count=len(lines) - i))
            break
        kept.append(line)
        room -= len(line) + 1
    return "\n\n".join(part for part in (top, "\n".join(kept), bottom) if part)


def _groups(texts: Texts, candidate: Candidate) -> str:
    marks = [texts(key) for group, key in GROUP_MARKS.items() if group in candidate.groups]
    return " · ".join(marks)


def _line(texts: Texts, number: int, candidate: Candidate, chosen: bool) -> str:
    if candidate.blocked is not None:
        reason = texts(candidate.blocked, **(candidate.params or {}))
        return texts("nomination.line_blocked", n=number, reason=reason)
    line = texts(
        "nomination.line_chosen" if chosen else "nomination.line",
        n=number, name=candidate.full_name, unit=candidate.unit or "—",
        groups=_groups(texts, candidate) or "—",
    )  # fmt: skip
    if candidate.declined is not None:
        line += texts("nomination.line_declined", reason=shorten(candidate.declined, REASON_SHOWN))
    return line


class StaffPick(Step[NominateDraft]):
    """The head's staff, a page at a time: tap to choose (✅), type to search by name."""

    async def ask(self, turn: Turn[NominateDraft]) -> None:
        draft = turn.draft
        actor = await turn.ctx.actor(turn.update)
        view = await turn.services.nomination.picker(
            actor, draft.class_id, query=draft.query, priority_only=draft.priority, page=draft.page
        )
        draft.page = view.page
        c = view.training_class
        head = [turn.t("nomination.pick_heading", name=c.name, code=c.code,
                       seats=c.seats_left, chosen=len(draft.chosen))]  # fmt: skip
        if draft.query or draft.priority:
            shown = [turn.t("nomination.searching", query=draft.query)] if draft.query else []
            shown += [turn.t("nomination.priority_only")] if draft.priority else []
            head.append(" · ".join(shown))
        if not view.candidates:
            head.append(turn.t("nomination.nobody"))
        else:
            head.append(turn.t("nomination.page", page=view.page + 1, pages=view.pages,
                               count=view.total))  # fmt: skip
            if view.blocked:
                head[-1] += turn.t("nomination.blocked_last", count=view.blocked)
        lines: list[str] = []
        rows: list[list[Button]] = []
        first = view.page * PICKER_PAGE + 1
        for number, candidate in enumerate(view.candidates, start=first):
            chosen = candidate.person_id in draft.chosen
            lines.append(_line(turn.texts, number, candidate, chosen))
            if candidate.blocked is None:
                label = turn.t("nomination.button_chosen" if chosen else "nomination.button",
                               n=number, name=candidate.full_name)  # fmt: skip
                rows.append([(label, turn.choice(f"{TOGGLE}{candidate.person_id}"))])
        turning: list[Button] = []
        if view.page > 0:
            turning.append((turn.t("nomination.previous"), turn.choice(f"{PAGE}{view.page - 1}")))
        if view.page + 1 < view.pages:
            turning.append((turn.t("nomination.next"), turn.choice(f"{PAGE}{view.page + 1}")))
        if turning:
            rows.append(turning)
        filters: list[Button] = [
            (turn.t("nomination.show_all"), turn.choice(ALL_SHOWN))
            if draft.priority
            else (turn.t("nomination.show_priority"), turn.choice(PRIORITY))
        ]
        if draft.query:
            filters.append((turn.t("nomination.clear_search"), turn.choice(CLEAR)))
        rows.append(filters)
        if draft.chosen:
            rows.append([(turn.t("nomination.go_on", count=len(draft.chosen)), turn.choice(DONE))])
        rows.append(turn.nav_row())
        text = compose(turn.texts, head, lines, [turn.t("nomination.pick_hint")])
        await turn.show(text, inline(rows))

    async def on_text(self, turn: Turn[NominateDraft], text: str) -> Move:
        turn.draft.query = clean_query(text)
        turn.draft.page = 0
        return Flow.REASK

    async def on_choice(self, turn: Turn[NominateDraft], value: str) -> Move:
        draft = turn.draft
        if value.startswith(TOGGLE) and value[1:].isdigit():
            person_id = int(value[1:])
            if person_id in draft.chosen:
                draft.chosen.remove(person_id)
                return Flow.REASK
            if len(draft.chosen) >= NOMINEES_MAX:
                raise InvalidInput("nomination.too_many", max=NOMINEES_MAX)
            actor = await turn.ctx.actor(turn.update)
            await turn.services.nomination.pick(actor, draft.class_id, person_id)  # forged: no
            draft.chosen.append(person_id)
            return Flow.REASK
        if value.startswith(PAGE) and value[1:].isdigit() and len(value) <= 6:
            draft.page = int(value[1:])
            return Flow.REASK
        if value in (PRIORITY, ALL_SHOWN):
            draft.priority, draft.page = value == PRIORITY, 0
            return Flow.REASK
        if value == CLEAR:
            draft.query, draft.page = "", 0
            return Flow.REASK
        if value == DONE:
            if not draft.chosen:
                raise InvalidInput("nomination.none_chosen")
            return Flow.NEXT
        return Flow.RETRY


def waitlist_warning(texts: Texts, chosen: int, seats: int) -> list[str]:
    """Who of those chosen will wait for a seat, said plainly when it is all of them."""
    if chosen <= seats:
        return []
    if seats <= 0:
        return [texts("nomination.review_all_waitlist", count=chosen)]
    return [texts("nomination.review_waitlist", seats=seats, waiting=chosen - seats)]


class Review(Step[NominateDraft]):
    """Who is about to be sent, and what the seats left mean for them; then one button."""

    async def ask(self, turn: Turn[NominateDraft]) -> None:
        draft = turn.draft
        actor = await turn.ctx.actor(turn.update)
        view = await turn.services.nomination.chosen(actor, draft.class_id, draft.chosen)
        c = view.training_class
        head = [turn.t("nomination.review", name=c.name, code=c.code, count=len(draft.chosen))]
        lines = [_line(turn.texts, n, p, False) for n, p in enumerate(view.candidates, start=1)]
        tail = waitlist_warning(turn.texts, len(draft.chosen), c.seats_left)
        confirm = turn.t("nomination.confirm", count=len(draft.chosen))
        await turn.show(compose(turn.texts, head, lines, tail),
                        inline([[(confirm, turn.choice(CONFIRM))], turn.nav_row()]))  # fmt: skip

    async def on_choice(self, turn: Turn[NominateDraft], value: str) -> Move:
        return Flow.FINISH if value == CONFIRM else Flow.RETRY


def done_text(texts: Texts, done: Nominated) -> str:
    c = done.training_class
    lines = []
    for n in done.nominees:
        key = "nomination.done_enrolled"
        if n.status is EnrolmentStatus.WAITLISTED:
            key = "nomination.done_waiting"
        line = texts(key, name=n.full_name, unit=n.unit or "—", position=n.position or 0)
        if not n.on_telegram:
            line += "\n" + texts("nomination.done_not_on_telegram")
        lines.append(line)
    return compose(
        texts,
        [texts("nomination.done", name=c.name, code=c.code, count=len(done.nominees))],
        lines,
        [texts("nomination.done_seats", seats=c.seats_left)],
    )


async def _nominate(turn: Turn[NominateDraft]) -> None:
    actor = await turn.ctx.actor(turn.update)
    done = await turn.services.nomination.nominate(actor, turn.draft.class_id, turn.draft.chosen)
    markup = inline([[(turn.t("nomination.staff_button"), NominatedStaff(turn.draft.class_id))],
                     [(turn.t("catalog.open_card"), OpenClass(turn.draft.class_id))]])  # fmt: skip
    await turn.show(done_text(turn.texts, done), markup)


NOMINATE = register(
    Dialogue(
        name="nominate", draft=NominateDraft,
        steps=[StaffPick("pick"), Review("review")],
        finish=_nominate, cancelled="nomination.cancelled", interrupted="nomination.cancelled",
        timeout=timedelta(hours=2),
    )
)  # fmt: skip


async def start(update: Update, ctx: BotContext, tapped: NominateStaff) -> None:
    """The card's button: the picker, after the rights and the class are checked; without a
    class (from /nominated), the classes open to choose one from."""
    actor = await ctx.actor(update)
    if not tapped.class_id:
        await _choose_class(update, ctx, tapped.page)
        return
    await ctx.services.nomination.picker(actor, tapped.class_id)
    await begin(update, ctx, NOMINATE, NominateDraft(class_id=tapped.class_id))


async def _choose_class(update: Update, ctx: BotContext, page: int) -> None:
    found = await ctx.services.nomination.open_classes(await ctx.actor(update), max(page, 0))
    if not found.classes:
        back = inline([[(ctx.t("button.back"), NominatedStaff())]])
        await show(update, ctx, ctx.t("nomination.classes_none"), back)
        return
    lines = []
    rows: list[list[Button]] = []
    for n, c in enumerate(found.classes, start=found.page * CLASSES_PAGE + 1):
        lines.append(ctx.t("nomination.class_line", n=n, name=c.name, code=c.code,
                           seats=c.seats_left, capacity=c.capacity))  # fmt: skip
        rows.append([(ctx.t("nomination.button", n=n, name=c.name), NominateStaff(c.id))])
    turning: list[Button] = []
    if found.page > 0:
        turning.append((ctx.t("nomination.previous"), NominateStaff(0, found.page - 1)))
    if found.page + 1 < found.pages:
        turning.append((ctx.t("nomination.next"), NominateStaff(0, found.page + 1)))
    if turning:
        rows.append(turning)
    rows.append([(ctx.t("button.back"), NominatedStaff())])
    text = compose(ctx.texts, [ctx.t("nomination.classes_heading", count=found.total)], lines)
    await show(update, ctx, text, inline(rows))


def card_rows(ctx: BotContext, roles: frozenset[Role], training_class: TrainingClass,
              *, open_now: bool) -> list[list[Button]]:  # fmt: skip
    """A unit head's buttons on a class's card: nominate (while enrolment is open), and
    their staff in the class."""
    if Role.UNIT_HEAD not in roles:
        return []
    rows: list[list[Button]] = []
    if open_now:
        rows.append([(ctx.t("nomination.start_button"), NominateStaff(training_class.id))])
    rows.append([(ctx.t("nomination.staff_button"), NominatedStaff(training_class.id))])
    return rows


# --- the nominee declines ---------------------------------------------------------------------


@dataclass
class DeclineDraft:
    class_id: int = 0
    name: str = ""
    code: str = ""
    reason: str = ""


async def _reason(turn: Turn[DeclineDraft], raw: str) -> str:
    return turn.services.nomination.clean_reason(raw)


async def _decline(turn: Turn[DeclineDraft]) -> None:
    actor = await turn.ctx.actor(turn.update)
    c = await turn.services.nomination.decline(actor, turn.draft.class_id, turn.draft.reason)
    await turn.say(turn.t("nomination.declined", name=c.name, code=c.code),
                   await turn.resting_keyboard())  # fmt: skip


DECLINE = register(
    Dialogue(
        name="nomination_decline", draft=DeclineDraft,
        steps=[Typed("reason", "reason", prompt="nomination.ask_reason", parse=_reason,
                     params=lambda turn: {"name": turn.draft.name, "code": turn.draft.code,
                                          "min": REASON_MIN, "max": REASON_MAX})],
        finish=_decline, cancelled="nomination.decline_cancelled",
        interrupted="nomination.decline_cancelled", timeout=timedelta(minutes=30),
    )
)  # fmt: skip


async def decline(update: Update, ctx: BotContext, tapped: DeclineNomination) -> None:
    actor = await ctx.actor(update)
    c = await ctx.services.nomination.declinable(actor, tapped.class_id)
    await begin(update, ctx, DECLINE, DeclineDraft(class_id=c.id, name=c.name, code=c.code))


# --- the head's list --------------------------------------------------------------------------


def staff_text(texts: Texts, found: StaffList) -> str:
    c = found.training_class
    if c is not None:
        head = [texts("nomination.staff_heading_class", name=c.name, code=c.code,
                      count=found.total)]  # fmt: skip
    else:
        head = [texts("nomination.staff_heading", count=found.total)]
    if not found.entries:
        head.append(texts("nomination.staff_none"))
    lines = []
    for n, e in enumerate(found.entries, start=found.page * LIST_PAGE + 1):
        status = (
            "nominated"
            if e.nominated and e.status is EnrolmentStatus.ENROLLED
            else (e.status.value)
        )
        line = texts("nomination.staff_line", n=n, name=e.full_name, unit=e.unit or "—",
                     status=texts(f"nomination.status_{status}"))  # fmt: skip
        if c is None:
            line += texts("nomination.staff_class", code=e.class_code,
                          name=shorten(e.class_name, NAME_SHOWN))  # fmt: skip
        if e.status is EnrolmentStatus.DECLINED and e.reason:
            line += texts("nomination.staff_reason", reason=shorten(e.reason, REASON_SHOWN))
        lines.append(line)
    tail = []
    if found.pages > 1:
        tail.append(texts("nomination.page", page=found.page + 1, pages=found.pages,
                          count=found.total))  # fmt: skip
    return compose(texts, head, lines, tail)


async def staff(update: Update, ctx: BotContext, tapped: NominatedStaff) -> None:
    found = await ctx.services.nomination.staff(
        await ctx.actor(update), tapped.class_id, max(tapped.page, 0)
    )
    rows: list[list[Button]] = []
    turning: list[Button] = []
    if found.page > 0:
        turning.append((ctx.t("nomination.previous"),
                        NominatedStaff(tapped.class_id, found.page - 1)))  # fmt: skip
    if found.page + 1 < found.pages:
        turning.append((ctx.t("nomination.next"), NominatedStaff(tapped.class_id, found.page + 1)))
    if turning:
        rows.append(turning)
    if tapped.class_id:
        rows.append([(ctx.t("catalog.back_to_class"), OpenClass(tapped.class_id))])
    else:  # a class to send staff to, even one whose audience leaves out the head
        rows.append([(ctx.t("nomination.start_button"), NominateStaff(0))])
    await show(update, ctx, staff_text(ctx.texts, found), inline(rows))


async def nominated(update: Update, ctx: BotContext) -> None:
    """/nominated: the head's staff in every class not over."""
    await staff(update, ctx, NominatedStaff())


def handlers() -> list[Handler]:
    return [
        command("nominated", nominated),
        button(NominateStaff, start),
        button(DeclineNomination, decline),
        button(NominatedStaff, staff),
    ]
