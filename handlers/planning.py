"""/plan and /programmes: the yearly plans with their targets and approval, and the
programmes classes are made of. Dialogues create a plan, approve it, change its targets and
add a programme; the services check rights and audit every change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.actions import (
    ApprovePlan,
    ChangeTargets,
    ClassAdminCard,
    NewPlanDialogue,
    NewProgrammeDialogue,
    PlanClasses,
    ShowPlans,
)
from bot.dates import parse_day
from bot.errors import InvalidInput
from bot.i18n import Texts
from bot.services.planning import check_approval, clean_name, parse_target, parse_year
from bot.training import (
    ALL_KINDS,
    ClassKind,
    NewPlan,
    NewProgramme,
    Plan,
    PlanProgress,
    Programme,
    Target,
)
from handlers.admin_steps import Summary, Typed, onward
from handlers.class_labels import KIND, STATUS, kind_of, kind_options
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Goto, Move, Step, Turn, begin, register
from handlers.routing import Handler, button, command
from handlers.steps import SKIP, ChoiceStep, Option
from handlers.ui import Button, answer, inline, say, show

#: The overall target first, then one per kind, in the order the plan is asked.
TARGET_KINDS: tuple[str, ...] = (ALL_KINDS, *(k.value for k in ClassKind))
CLASSES_LISTED = 40
#: Months a completion stays valid, offered as buttons (None: for good).
VALIDITY = (12, 24, 36, 60)


def targets_text(texts: Texts, targets: dict[str, Target]) -> str:
    parts = [
        texts("plan_admin.target", kind=texts(KIND[kind]), classes=t.classes, learners=t.learners)
        for kind in TARGET_KINDS
        if (t := targets.get(kind)) is not None
    ]
    return "; ".join(parts) or texts("plan_admin.no_targets")


def progress_text(texts: Texts, plan: Plan, progress: PlanProgress) -> str:
    """ "Đã mở 15/24 lớp (62,5%), 3 lớp chuyển tiếp; 1.351/2.668 học viên (50,6%)": the
    classes managed (opened and carried over, as seed 004 counts them) and the learners
    enrolled, against the overall target."""
    target = plan.targets.get(ALL_KINDS)
    if target is None or not (target.classes and target.learners):
        return texts("plan_admin.progress_bare", classes=progress.managed,
                     carried=progress.carried_over, learners=progress.learners)  # fmt: skip
    return texts(
        "plan_admin.progress", classes=progress.managed, target=target.classes,
        share=progress.managed / target.classes, carried=progress.carried_over,
        learners=progress.learners, learners_target=target.learners,
        learners_share=progress.learners / target.learners,
    )  # fmt: skip


def _plan_block(ctx: BotContext, plan: Plan, progress: PlanProgress) -> str:
    if plan.approved:
        status = ctx.t("plan_admin.approved", on=plan.approved_on, by=plan.approved_by or "—")
    else:
        status = ctx.t("plan_admin.draft")
    return ctx.t("plan_admin.plan", year=plan.year, name=plan.name, status=status,
                 targets=targets_text(ctx.texts, plan.targets), count=progress.classes,
                 progress=progress_text(ctx.texts, plan, progress))  # fmt: skip


async def plans(update: Update, ctx: BotContext, *, new_message: bool = False) -> None:
    """/plan: every plan by year, with buttons for each."""
    actor = await ctx.actor(update)
    planning = ctx.services.planning
    found = await planning.plans(actor)
    progress = await planning.progress(actor, found)
    blocks = [_plan_block(ctx, plan, progress[plan.id]) for plan in found]
    rows: list[list[Button]] = []
    for plan in found:
        row: list[Button] = [
            (ctx.t("plan_admin.classes_button", year=plan.year), PlanClasses(plan.id)),
            (ctx.t("plan_admin.targets_button", year=plan.year), ChangeTargets(plan.id)),
        ]
        if not plan.approved:
            row.append((ctx.t("plan_admin.approve_button", year=plan.year), ApprovePlan(plan.id)))
        rows.append(row)
    rows.append([(ctx.t("plan_admin.new_button"), NewPlanDialogue())])
    text = (
        "\n\n".join([ctx.t("plan_admin.heading"), *blocks]) if found else ctx.t("plan_admin.none")
    )
    send = say if new_message else show
    await send(update, ctx, text, inline(rows))


async def show_plans(update: Update, ctx: BotContext, tapped: ShowPlans) -> None:
    await plans(update, ctx, new_message=tapped.fresh)


async def plan_classes(update: Update, ctx: BotContext, tapped: PlanClasses) -> None:
    actor = await ctx.actor(update)
    planning = ctx.services.planning
    plan = await planning.plan(actor, tapped.plan_id)
    found = await planning.classes_of(actor, plan.id)
    now = ctx.services.clock.now()
    rows: list[list[Button]] = [
        [(f"{c.code} · {c.name} · {ctx.t(STATUS[c.stage(now)])}", ClassAdminCard(c.id))]
        for c in found[:CLASSES_LISTED]
    ]
    text = ctx.t("plan_admin.classes", year=plan.year, count=len(found))
    if len(found) > CLASSES_LISTED:
        text += "\n" + ctx.t("plan_admin.classes_more", count=len(found) - CLASSES_LISTED)
    rows.append([(ctx.t("button.back"), ShowPlans())])
    await show(update, ctx, text, inline(rows))


# --- targets, asked kind by kind in one step --------------------------------------------------


@dataclass
class Targets:
    #: kind → [classes, learners]
    targets: dict[str, list[int]] = field(default_factory=dict)
    target_index: int = 0
    #: The plan's targets before the change, shown beside each question.
    before: dict[str, list[int]] = field(default_factory=dict)


class TargetsStep(Step[Any]):
    """The overall target, then each kind's (which may be skipped); Back within the step
    returns to the kind before."""

    def _kind(self, turn: Turn[Any]) -> str:
        index: int = turn.draft.target_index
        return TARGET_KINDS[min(index, len(TARGET_KINDS) - 1)]

    async def ask(self, turn: Turn[Any]) -> None:
        kind = self._kind(turn)
        rows: list[list[Button]] = []
        if self._skippable(turn):
            rows.append([(turn.t(self._skip_label(turn)), turn.choice(SKIP))])
        text = turn.t("plan_admin.ask_target", kind=turn.t(KIND[kind]),
                      step=turn.draft.target_index + 1, total=len(TARGET_KINDS))  # fmt: skip
        if (now := turn.draft.before.get(kind)) is not None:
            text += "\n" + turn.t("plan_admin.target_now", classes=now[0], learners=now[1])
        await turn.say(text, inline([*rows, turn.nav_row()]))

    def retry_markup(self, turn: Turn[Any]) -> InlineKeyboardMarkup:
        return inline([turn.nav_row()])

    def _skippable(self, turn: Turn[Any]) -> bool:
        """Any kind may be left without a target of its own; the overall one only kept."""
        kind = self._kind(turn)
        return kind != ALL_KINDS or kind in turn.draft.before

    def _skip_label(self, turn: Turn[Any]) -> str:
        """Skipping a kind that has a target keeps it; one that has none sets none."""
        return (
            "plan_admin.keep_kind"
            if self._kind(turn) in turn.draft.before
            else "plan_admin.skip_kind"
        )

    async def typed_labels(self, turn: Turn[Any]) -> Sequence[tuple[str, str]]:
        return [(turn.t(self._skip_label(turn)), SKIP)] if self._skippable(turn) else []

    async def on_text(self, turn: Turn[Any], text: str) -> Move:
        target = parse_target(text)
        turn.draft.targets[self._kind(turn)] = [target.classes, target.learners]
        return self._next(turn)

    async def on_choice(self, turn: Turn[Any], value: str) -> Move:
        if value != SKIP or not self._skippable(turn):
            return Flow.RETRY
        kind = self._kind(turn)
        if (kept := turn.draft.before.get(kind)) is not None:
            turn.draft.targets[kind] = kept
            await turn.show(turn.t("plan_admin.kind_kept", kind=turn.t(KIND[kind]),
                                   classes=kept[0], learners=kept[1]))  # fmt: skip
        else:
            turn.draft.targets.pop(kind, None)
            await turn.show(turn.t("plan_admin.kind_skipped", kind=turn.t(KIND[kind])))
        return self._next(turn)

    def _next(self, turn: Turn[Any]) -> Move:
        if turn.draft.target_index + 1 < len(TARGET_KINDS):
            turn.draft.target_index += 1
            return Goto(self.name, back_here=False)  # new buttons for the next kind
        turn.draft.target_index = 0  # asked again from the start, if changed from a summary
        return Flow.NEXT

    async def on_back(self, turn: Turn[Any]) -> bool:
        if turn.draft.target_index == 0:
            return False
        turn.draft.target_index -= 1
        return True


def _targets(draft: Targets) -> dict[str, Target]:
    return {kind: Target(*pair) for kind, pair in draft.targets.items()}


# --- a new plan -------------------------------------------------------------------------------


@dataclass
class PlanDraft(Targets):
    year: int | None = None
    name: str | None = None
    approved: bool | None = None
    approved_on: date | None = None
    approved_by: str | None = None


async def _year(turn: Turn[Any], raw: str) -> int:
    return parse_year(raw, turn.services.planning.today())


async def _name(turn: Turn[Any], raw: str) -> str:
    return clean_name(raw)


async def _approved_on(turn: Turn[Any], raw: str) -> date:
    today = turn.services.planning.today()
    day = parse_day(raw, today.year)
    check_approval(day, today)
    return day


async def _approvals(turn: Turn[Any]) -> Sequence[Option]:
    return [Option("draft", turn.t("plan_admin.still_draft")),
            Option("approved", turn.t("plan_admin.is_approved"))]  # fmt: skip


async def _as_is(turn: Turn[Any], raw: str) -> str:
    return raw


class Approval(ChoiceStep[PlanDraft]):
    """Still a draft (on to the summary), or approved: then the date and the body."""

    async def on_choice(self, turn: Turn[PlanDraft], value: str) -> Move:
        if value not in ("draft", "approved"):
            raise InvalidInput()
        await super().on_choice(turn, value)
        turn.draft.approved = value == "approved"
        if not turn.draft.approved:
            turn.draft.approved_on = turn.draft.approved_by = None
            return onward(turn, "summary")
        return Goto("approved_on")  # and the body after it, even when changed from the summary

    def store(self, turn: Turn[PlanDraft], value: Any) -> None:
        """The choice itself is read in on_choice."""


async def _plan_summary(turn: Turn[PlanDraft]) -> str:
    draft = turn.draft
    if draft.approved and draft.approved_on:
        status = turn.t("plan_admin.approved", on=draft.approved_on, by=draft.approved_by or "—")
    else:
        status = turn.t("plan_admin.draft")
    return turn.t("plan_admin.summary", year=draft.year or 0, name=draft.name or "—",
                  targets=targets_text(turn.texts, _targets(draft)), status=status)  # fmt: skip


def _plan_edits(turn: Turn[PlanDraft]) -> Sequence[tuple[str, str]]:
    return [
        ("plan_admin.edit_year", "year"),
        ("plan_admin.edit_name", "name"),
        ("plan_admin.edit_targets", "targets"),
        ("plan_admin.edit_approval", "approval"),
    ]


async def _save_plan(turn: Turn[PlanDraft]) -> None:
    draft = turn.draft
    assert draft.year and draft.name
    new = NewPlan(draft.year, draft.name, draft.approved_on if draft.approved else None,
                  draft.approved_by if draft.approved else None, _targets(draft))  # fmt: skip
    plan = await turn.services.planning.add_plan(await turn.ctx.actor(turn.update), new)
    await turn.show(turn.t("plan_admin.saved", year=plan.year))
    await plans(turn.update, turn.ctx)


NEW_PLAN = register(
    Dialogue(
        name="plan_new", draft=PlanDraft,
        steps=[
            Typed("year", "year", prompt="plan_admin.ask_year", parse=_year),
            Typed("name", "name", prompt="plan_admin.ask_name", parse=_name),
            TargetsStep("targets", "targets"),
            Approval("approval", "approved", prompt="plan_admin.ask_approval",
                     options=_approvals, resolve=_as_is, echo="class_admin.chosen"),
            Typed("approved_on", "approved_on", prompt="plan_admin.ask_approved_on",
                  parse=_approved_on, then=lambda turn: Goto("approved_by")),
            Typed("approved_by", "approved_by", prompt="plan_admin.ask_approved_by",
                  parse=_name),
            Summary("summary", render=_plan_summary, edits=_plan_edits, save="plan_admin.save"),
        ],
        finish=_save_plan, cancelled="plan_admin.cancelled", interrupted="plan_admin.cancelled",
        timeout=timedelta(hours=1),
    )
)  # fmt: skip


async def new_plan(update: Update, ctx: BotContext, tapped: NewPlanDialogue) -> None:
    await ctx.services.planning.plans(await ctx.actor(update))  # refused unless administrator
    await answer(update, ctx)
    await begin(update, ctx, NEW_PLAN, PlanDraft())


# --- approving a draft, changing targets ------------------------------------------------------


@dataclass
class PlanChange(Targets):
    plan_id: int = 0
    year: int = 0
    approved_on: date | None = None
    approved_by: str | None = None


async def _approve(turn: Turn[PlanChange]) -> None:
    draft = turn.draft
    assert draft.approved_on and draft.approved_by
    actor = await turn.ctx.actor(turn.update)
    await turn.services.planning.approve_plan(actor, draft.plan_id, draft.approved_on,
                                              draft.approved_by)  # fmt: skip
    await turn.say(turn.t("plan_admin.approved_done", year=draft.year))
    await plans(turn.update, turn.ctx)


APPROVE = register(
    Dialogue(
        name="plan_approve", draft=PlanChange,
        steps=[
            Typed("approved_on", "approved_on", prompt="plan_admin.ask_approved_on",
                  parse=_approved_on),
            Typed("approved_by", "approved_by", prompt="plan_admin.ask_approved_by",
                  parse=_name, then=lambda turn: Flow.FINISH),
        ],
        finish=_approve, cancelled="plan_admin.cancelled", interrupted="plan_admin.cancelled",
        timeout=timedelta(minutes=30),
    )
)  # fmt: skip


async def approve_plan(update: Update, ctx: BotContext, tapped: ApprovePlan) -> None:
    plan = await ctx.services.planning.plan(await ctx.actor(update), tapped.plan_id)
    await answer(update, ctx)
    if plan.approved:
        await say(update, ctx, ctx.t("planning.already_approved"))
        return
    await begin(update, ctx, APPROVE, PlanChange(plan_id=plan.id, year=plan.year))


async def _set_targets(turn: Turn[PlanChange]) -> None:
    actor = await turn.ctx.actor(turn.update)
    plan = await turn.services.planning.set_targets(actor, turn.draft.plan_id,
                                                    _targets(turn.draft))  # fmt: skip
    await turn.say(turn.t("plan_admin.targets_saved", year=plan.year,
                          targets=targets_text(turn.texts, plan.targets)))  # fmt: skip
    await plans(turn.update, turn.ctx)


TARGETS = register(
    Dialogue(
        name="plan_targets", draft=PlanChange, steps=[TargetsStep("targets", "targets")],
        finish=_set_targets, cancelled="plan_admin.cancelled",
        interrupted="plan_admin.cancelled", timeout=timedelta(minutes=30),
    )
)  # fmt: skip


async def change_targets(update: Update, ctx: BotContext, tapped: ChangeTargets) -> None:
    plan = await ctx.services.planning.plan(await ctx.actor(update), tapped.plan_id)
    await answer(update, ctx)
    before = {kind: [t.classes, t.learners] for kind, t in plan.targets.items()}
    await begin(update, ctx, TARGETS, PlanChange(plan_id=plan.id, year=plan.year, before=before))


# --- programmes -------------------------------------------------------------------------------


def _validity(texts: Texts, months: int | None) -> str:
    if months is None:
        return texts("plan_admin.validity_forever")
    return texts("plan_admin.validity_years", count=months // 12)


def _programme_line(texts: Texts, p: Programme) -> str:
    return texts("plan_admin.programme", code=p.code, name=p.name, kind=texts(KIND[p.kind]),
                 validity=_validity(texts, p.validity_months))  # fmt: skip


async def programmes(update: Update, ctx: BotContext) -> None:
    found = await ctx.services.planning.programmes(await ctx.actor(update))
    lines = [ctx.t("plan_admin.programmes" if found else "plan_admin.no_programmes")]
    lines += [_programme_line(ctx.texts, p) for p in found[:60]]
    rows = [[(ctx.t("plan_admin.new_programme"), NewProgrammeDialogue())]]
    await say(update, ctx, "\n".join(lines), inline(rows))


@dataclass
class ProgrammeDraft:
    code: str | None = None
    name: str | None = None
    kind: ClassKind | None = None
    validity: str | None = None  # months, or "none"


async def _code(turn: Turn[Any], raw: str) -> str:
    return await turn.services.planning.new_programme_code(await turn.ctx.actor(turn.update), raw)


async def _kinds(turn: Turn[Any]) -> Sequence[Option]:
    return [Option(value, label) for value, label in kind_options(turn.texts)]


async def _kind(turn: Turn[Any], raw: str) -> ClassKind:
    return kind_of(raw)


async def _validities(turn: Turn[Any]) -> Sequence[Option]:
    return [
        *(Option(str(m), _validity(turn.texts, m)) for m in VALIDITY),
        Option("none", _validity(turn.texts, None)),
    ]


async def _validity_of(turn: Turn[Any], raw: str) -> str:
    if raw != "none" and not (raw.isdigit() and int(raw) in VALIDITY):
        raise InvalidInput()
    return raw


def _months(draft: ProgrammeDraft) -> int | None:
    return int(draft.validity) if draft.validity and draft.validity.isdigit() else None


async def _programme_summary(turn: Turn[ProgrammeDraft]) -> str:
    draft = turn.draft
    return turn.t("plan_admin.programme_summary", code=draft.code or "—", name=draft.name or "—",
                  kind=turn.t(KIND[draft.kind]) if draft.kind else "—",
                  validity=_validity(turn.texts, _months(draft)))  # fmt: skip


def _programme_edits(turn: Turn[ProgrammeDraft]) -> Sequence[tuple[str, str]]:
    return [("plan_admin.edit_code", "code"), ("plan_admin.edit_name", "name"),
            ("plan_admin.edit_kind", "kind"), ("plan_admin.edit_validity", "validity")]  # fmt: skip


async def _save_programme(turn: Turn[ProgrammeDraft]) -> None:
    draft = turn.draft
    assert draft.code and draft.name and draft.kind
    new = NewProgramme(draft.code, draft.name, draft.kind, _months(draft))
    saved = await turn.services.planning.add_programme(await turn.ctx.actor(turn.update), new)
    await turn.show(turn.t("plan_admin.programme_saved", code=saved.code))


NEW_PROGRAMME = register(
    Dialogue(
        name="programme_new", draft=ProgrammeDraft,
        steps=[
            Typed("code", "code", prompt="plan_admin.ask_programme_code", parse=_code),
            Typed("name", "name", prompt="plan_admin.ask_programme_name", parse=_name),
            ChoiceStep("kind", "kind", prompt="plan_admin.ask_kind", options=_kinds,
                       resolve=_kind, echo="class_admin.chosen"),
            ChoiceStep("validity", "validity", prompt="plan_admin.ask_validity",
                       options=_validities, resolve=_validity_of, echo="class_admin.chosen",
                       columns=2),
            Summary("summary", render=_programme_summary, edits=_programme_edits,
                    save="plan_admin.save"),
        ],
        finish=_save_programme, cancelled="plan_admin.cancelled",
        interrupted="plan_admin.cancelled", timeout=timedelta(minutes=30),
    )
)  # fmt: skip


async def new_programme(update: Update, ctx: BotContext, tapped: NewProgrammeDialogue) -> None:
    await ctx.services.planning.programmes(await ctx.actor(update))  # refused unless admin
    await answer(update, ctx)
    await begin(update, ctx, NEW_PROGRAMME, ProgrammeDraft())


def handlers() -> list[Handler]:
    return [
        command("plan", plans),
        command("programmes", programmes),
        button(ShowPlans, show_plans),
        button(PlanClasses, plan_classes),
        button(NewPlanDialogue, new_plan),
        button(ApprovePlan, approve_plan),
        button(ChangeTargets, change_targets),
        button(NewProgrammeDialogue, new_programme),
    ]
