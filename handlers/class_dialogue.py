"""/newclass: a class made in the chat, one answer a step, with its sessions by recurrence;
a summary offers to change any answer before `PlanningService.add_class` saves it all in one
transaction. The draft is plain data, so a restart resumes the dialogue where it was."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from telegram import InlineKeyboardMarkup, Update

from bot.dates import parse_when
from bot.errors import InvalidInput
from bot.i18n import Raw
from bot.services.enrolment import CAPACITY_MAX
from bot.services.planning import (
    check_not_past,
    check_window,
    clean_link,
    clean_name,
    clean_place,
    parse_count,
)
from bot.training import Audience, ClassFormat, ClassKind, ClassStatus, NewClass, PriorityGroup
from handlers.admin_steps import Summary, Typed, onward
from handlers.class_admin import card
from handlers.class_labels import FORMAT, GROUP, KIND, kind_of, kind_options, moment
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Goto, Move, Step, Turn, begin, register
from handlers.profile_fields import unit_options
from handlers.recurrence import Recurrence, describe, recurrence_steps, sessions_of
from handlers.routing import Handler, command
from handlers.steps import SEARCH_SHOWN, SKIP, ChoiceStep, Option
from handlers.ui import Button, inline, person_label, say

EVERYONE = "all"
DONE = "done"


@dataclass
class ClassDraft(Recurrence):
    programme_id: int | None = None
    kind: ClassKind | None = None
    plan_id: int | None = None
    plan_approved: bool = False
    code: str | None = None
    name: str | None = None
    format: ClassFormat | None = None
    location: str | None = None
    meeting_link: str | None = None
    organiser: str | None = None
    lecturer_ids: list[int] = field(default_factory=list)
    capacity: int | None = None
    opens_at: datetime | None = None
    deadline: datetime | None = None
    unit_ids: list[int] = field(default_factory=list)
    groups: list[PriorityGroup] = field(default_factory=list)
    grade_ids: list[int] = field(default_factory=list)
    title_ids: list[int] = field(default_factory=list)
    open_now: bool | None = None
    requires_approval: bool = False


# --- answers read through the service layer ---------------------------------------------------


async def _programmes(turn: Turn[Any]) -> Sequence[Option]:
    found = await turn.services.planning.programmes(await turn.ctx.actor(turn.update))
    return [Option(str(p.id), f"{p.code} · {p.name}") for p in found]


async def _programme(turn: Turn[ClassDraft], raw: str) -> int:
    actor = await turn.ctx.actor(turn.update)
    programme = await turn.services.planning.programme(actor, _as_id(raw))
    turn.draft.kind = programme.kind
    return programme.id


async def _plans(turn: Turn[Any]) -> Sequence[Option]:
    found = await turn.services.planning.plans(await turn.ctx.actor(turn.update))
    return [
        Option(str(p.id), turn.t("class_admin.plan_option", year=p.year, name=p.name,
                                 status=turn.t("plan_admin.approved_short" if p.approved
                                               else "plan_admin.draft_short")))
        for p in found
    ]  # fmt: skip


async def _plan(turn: Turn[ClassDraft], raw: str) -> int:
    plan = await turn.services.planning.plan(await turn.ctx.actor(turn.update), _as_id(raw))
    turn.draft.year, turn.draft.plan_approved = plan.year, plan.approved
    if not plan.approved:
        turn.draft.open_now = False  # the service would refuse it
    return plan.id


def _as_id(raw: str) -> int:
    if not raw.isdigit():
        raise InvalidInput()
    return int(raw)


async def _code(turn: Turn[Any], raw: str) -> str:
    return await turn.services.planning.new_class_code(await turn.ctx.actor(turn.update), raw)


async def _name(turn: Turn[Any], raw: str) -> str:
    return clean_name(raw)


async def _suggested_name(turn: Turn[ClassDraft]) -> str | None:
    if turn.draft.programme_id is None:
        return None
    actor = await turn.ctx.actor(turn.update)
    return (await turn.services.planning.programme(actor, turn.draft.programme_id)).name


async def _place(turn: Turn[Any], raw: str) -> str:
    return clean_place(raw)


async def _link(turn: Turn[Any], raw: str) -> str:
    return clean_link(raw)


async def _capacity(turn: Turn[Any], raw: str) -> int:
    return parse_count(raw, low=1, high=CAPACITY_MAX)


async def _opens(turn: Turn[ClassDraft], raw: str) -> datetime:
    return parse_when(raw, turn.draft.year, turn.ctx.settings.tz)


async def _deadline(turn: Turn[ClassDraft], raw: str) -> datetime:
    deadline = parse_when(raw, turn.draft.year, turn.ctx.settings.tz, day_end=True)
    check_not_past(deadline, turn.services.clock.now(), turn.ctx.settings.tz)
    check_window(turn.draft.opens_at, deadline)
    return deadline


def _echo_moment(turn: Turn[Any], at: datetime) -> str:
    return turn.t("class_admin.saved", value=moment(turn.texts, at))


def _after_location(turn: Turn[ClassDraft]) -> Move:
    if turn.draft.format is ClassFormat.BLENDED and (
        turn.state.return_to is None or turn.draft.meeting_link is None
    ):
        return Goto("link")
    return onward(turn, "organiser")


def _after_audience(turn: Turn[ClassDraft]) -> Move:
    return onward(turn, "open_now" if turn.draft.plan_approved else "first_day")


# --- steps of their own -----------------------------------------------------------------------


class ProgrammeStep(ChoiceStep[ClassDraft]):
    """The programme, which gives the class its kind: the kind step after it is asked only
    when changed from the summary."""

    async def on_choice(self, turn: Turn[ClassDraft], value: str) -> Move:
        await super().on_choice(turn, value)
        return onward(turn, "plan")


async def _kinds(turn: Turn[Any]) -> Sequence[Option]:
    return [Option(value, label) for value, label in kind_options(turn.texts)]


async def _kind(turn: Turn[Any], raw: str) -> ClassKind:
    return kind_of(raw)


class FormatStep(ChoiceStep[ClassDraft]):
    """On site, online or blended: the place, the link, or both are asked next."""

    async def on_choice(self, turn: Turn[ClassDraft], value: str) -> Move:
        await super().on_choice(turn, value)
        draft = turn.draft
        if draft.format is ClassFormat.ONLINE:
            draft.location = None
            return Goto("link")
        if draft.format is ClassFormat.ON_SITE:
            draft.meeting_link = None
        return Goto("location")


async def _formats(turn: Turn[Any]) -> Sequence[Option]:
    return [Option(f.value, turn.t(FORMAT[f])) for f in ClassFormat]


async def _format(turn: Turn[Any], raw: str) -> ClassFormat:
    try:
        return ClassFormat(raw)
    except ValueError:
        raise InvalidInput() from None


class Lecturers(Step[ClassDraft]):
    """Any of the people who hold the lecturer role, ticked on and off; or none."""

    async def _offered(self, turn: Turn[ClassDraft]) -> list[tuple[int, str]]:
        found = await turn.services.planning.lecturers(await turn.ctx.actor(turn.update))
        return [(p.id, person_label(p)) for p in found]

    async def ask(self, turn: Turn[ClassDraft]) -> None:
        await turn.say(turn.t("class_admin.ask_lecturers"), await self._keyboard(turn))

    async def _keyboard(self, turn: Turn[ClassDraft]) -> InlineKeyboardMarkup:
        chosen = set(turn.draft.lecturer_ids)
        rows: list[list[Button]] = [
            [(("✅ " if pid in chosen else "▫️ ") + label, turn.choice(pid))]
            for pid, label in (await self._offered(turn))[:30]
        ]
        rows.append([(turn.t("class_admin.done"), turn.choice(DONE)),
                     (turn.t("class_admin.no_lecturers"), turn.choice(SKIP))])  # fmt: skip
        return inline([*rows, turn.nav_row()])

    async def typed_labels(self, turn: Turn[ClassDraft]) -> Sequence[tuple[str, str]]:
        return [(turn.t("class_admin.done"), DONE), (turn.t("class_admin.no_lecturers"), SKIP)]

    async def on_choice(self, turn: Turn[ClassDraft], value: str) -> Move:
        if value in (DONE, SKIP):
            if value == SKIP:
                turn.draft.lecturer_ids = []
            names = [label for pid, label in await self._offered(turn)
                     if pid in turn.draft.lecturer_ids]  # fmt: skip
            chosen = ", ".join(names) or turn.t("class_admin.none")
            await turn.show(turn.t("class_admin.saved_lecturers", names=chosen))
            return Flow.NEXT
        offered = {pid for pid, _ in await self._offered(turn)}
        if not value.isdigit() or int(value) not in offered:
            raise InvalidInput()
        turn.draft.lecturer_ids = sorted(set(turn.draft.lecturer_ids) ^ {int(value)})
        await turn.show(turn.t("class_admin.ask_lecturers"), await self._keyboard(turn))
        return Flow.STAY


#: The audience's code lists, by the prefix their buttons carry.
AUDIENCE_LISTS: dict[str, Literal["grade", "title"]] = {"gr": "grade", "ti": "title"}
AUDIENCE_LABELS = {"grade": "class_admin.audience_grade", "title": "class_admin.audience_title"}


class AudienceStep(Step[ClassDraft]):
    """Everyone, or any of: priority groups (buttons), units with their sub-units, grades
    and positions (typed to search)."""

    async def ask(self, turn: Turn[ClassDraft]) -> None:
        await turn.say(await self._text(turn), await self._keyboard(turn))

    async def _text(self, turn: Turn[ClassDraft]) -> str:
        return turn.t("class_admin.ask_audience", chosen=Raw(await audience_text(turn)))

    async def _keyboard(self, turn: Turn[ClassDraft]) -> InlineKeyboardMarkup:
        draft = turn.draft
        groups: list[Button] = [
            (("✅ " if g in draft.groups else "▫️ ") + turn.t(GROUP[g]), turn.choice(f"g-{g.value}"))
            for g in PriorityGroup
        ]
        units: list[list[Button]] = []
        for unit_id in draft.unit_ids:
            unit = await turn.services.directory.unit(unit_id)
            units.append([(f"✖️ {unit.label}", turn.choice(f"x-{unit_id}"))])
        for prefix, ids in (("gr", draft.grade_ids), ("ti", draft.title_ids)):
            for item_id in ids:
                item = await turn.services.directory.item(AUDIENCE_LISTS[prefix], item_id)
                units.append([(f"✖️ {item.name}", turn.choice(f"{prefix}x-{item_id}"))])
        return inline([
            groups[:2], groups[2:], *units,
            [(turn.t("class_admin.everyone"), turn.choice(EVERYONE)),
             (turn.t("class_admin.done"), turn.choice(DONE))],
            turn.nav_row(),
        ])  # fmt: skip

    async def typed_labels(self, turn: Turn[ClassDraft]) -> Sequence[tuple[str, str]]:
        return [(turn.t("class_admin.everyone"), EVERYONE), (turn.t("class_admin.done"), DONE)]

    async def on_text(self, turn: Turn[ClassDraft], text: str) -> Move:
        query = text.strip()[:100]
        found = [Option(f"u-{o.value}", o.label) for o in await unit_options(turn, query)]
        for prefix, kind in AUDIENCE_LISTS.items():
            items = await turn.services.directory.search_items(kind, query)
            label = AUDIENCE_LABELS[kind]
            found += [Option(f"{prefix}-{i.id}", turn.t(label, name=i.name)) for i in items]
        if not found:
            await turn.say(turn.t("class_admin.unit_none", query=text.strip()[:100]),
                           await self._keyboard(turn))  # fmt: skip
            return Flow.STAY
        rows = [[(o.label, turn.choice(o.value))] for o in found[:SEARCH_SHOWN]]
        await turn.say(turn.t("class_admin.unit_pick"), inline([*rows, turn.nav_row()]))
        return Flow.STAY

    async def on_choice(self, turn: Turn[ClassDraft], value: str) -> Move:
        draft = turn.draft
        kind, _, rest = value.partition("-")
        if value in (EVERYONE, DONE):
            if value == EVERYONE:
                draft.unit_ids, draft.groups, draft.grade_ids, draft.title_ids = [], [], [], []
            await turn.show(turn.t("class_admin.saved", value=Raw(await audience_text(turn))))
            return _after_audience(turn)
        if kind == "g":
            try:
                group = PriorityGroup(rest)
            except ValueError:
                raise InvalidInput() from None
            chosen = set(draft.groups) ^ {group}
            draft.groups = [g for g in PriorityGroup if g in chosen]
        elif kind in ("u", "x") and rest.isdigit():
            unit = await turn.services.directory.unit(int(rest))  # NotFound if forged
            units = [u for u in draft.unit_ids if u != unit.id]
            draft.unit_ids = [*units, unit.id] if kind == "u" else units
        elif kind[:2] in AUDIENCE_LISTS and kind[2:] in ("", "x") and rest.isdigit():
            item = await turn.services.directory.item(AUDIENCE_LISTS[kind[:2]], int(rest))
            picked = draft.grade_ids if kind[:2] == "gr" else draft.title_ids
            kept = [i for i in picked if i != item.id] + ([item.id] if kind[2:] == "" else [])
            if kind[:2] == "gr":
                draft.grade_ids = kept
            else:
                draft.title_ids = kept
        else:
            raise InvalidInput()
        await turn.show(await self._text(turn), await self._keyboard(turn))
        return Flow.STAY


async def audience_text(turn: Turn[ClassDraft]) -> str:
    draft = turn.draft
    if not (draft.unit_ids or draft.groups or draft.grade_ids or draft.title_ids):
        return turn.t("class_admin.everyone")
    directory = turn.services.directory
    names = [(await directory.unit(u)).label for u in draft.unit_ids]
    names += [(await directory.item("grade", i)).name for i in draft.grade_ids]
    names += [(await directory.item("title", i)).name for i in draft.title_ids]
    names += [turn.t(GROUP[g]) for g in draft.groups]
    return turn.t("class_admin.audience_list", names="; ".join(names))


async def _yes_no(turn: Turn[Any]) -> Sequence[Option]:
    return [
        Option("yes", turn.t("class_admin.open_yes")),
        Option("no", turn.t("class_admin.open_no")),
    ]


async def _open_now(turn: Turn[ClassDraft], raw: str) -> bool:
    if raw not in ("yes", "no"):
        raise InvalidInput()
    return raw == "yes" and turn.draft.plan_approved


async def _approval_options(turn: Turn[Any]) -> Sequence[Option]:
    return [
        Option("yes", turn.t("class_admin.approval_yes")),
        Option("no", turn.t("class_admin.approval_no")),
    ]


async def _approval(turn: Turn[ClassDraft], raw: str) -> bool:
    if raw not in ("yes", "no"):
        raise InvalidInput()
    return raw == "yes"


# --- the summary and saving -------------------------------------------------------------------


async def _summary(turn: Turn[ClassDraft]) -> str:
    draft, planning = turn.draft, turn.services.planning
    actor = await turn.ctx.actor(turn.update)
    assert draft.programme_id and draft.plan_id and draft.format and draft.kind
    programme = await planning.programme(actor, draft.programme_id)
    plan = await planning.plan(actor, draft.plan_id)
    lecturers = {p.id: person_label(p) for p in await planning.lecturers(actor)}
    tz, dash = turn.ctx.settings.tz, "—"
    return turn.t(
        "class_admin.summary",
        code=draft.code or dash, name=draft.name or dash,
        programme=f"{programme.code} · {programme.name}", kind=turn.t(KIND[draft.kind]),
        year=plan.year, format=turn.t(FORMAT[draft.format]),
        location=draft.location or dash, link=draft.meeting_link or dash,
        organiser=draft.organiser or dash,
        lecturers=", ".join(lecturers.get(i, "?") for i in draft.lecturer_ids) or dash,
        capacity=draft.capacity or 0,
        opens=moment(turn.texts, draft.opens_at) if draft.opens_at
        else turn.t("class_admin.opens_now"),
        deadline=moment(turn.texts, draft.deadline) if draft.deadline else dash,
        audience=Raw(await audience_text(turn)),
        open_now=turn.t("class_admin.open_yes" if draft.open_now else "class_admin.open_no"),
        sessions=describe(turn.texts, draft, tz),
    ) + "\n" + turn.t(
        "class_admin.summary_approval",
        answer=turn.t("class_admin.approval_yes" if draft.requires_approval
                      else "class_admin.approval_no"),
    )  # fmt: skip


def _edits(turn: Turn[ClassDraft]) -> Sequence[tuple[str, str]]:
    edits = [("class_admin.edit_programme", "programme"), ("class_admin.edit_kind", "kind"),
             ("class_admin.edit_plan", "plan"),
             ("class_admin.edit_code", "code"), ("class_admin.edit_name", "name"),
             ("class_admin.edit_format", "format")]  # fmt: skip
    if turn.draft.format is not ClassFormat.ONLINE:
        edits.append(("class_admin.edit_location", "location"))
    if turn.draft.format is not ClassFormat.ON_SITE:
        edits.append(("class_admin.edit_link", "link"))
    edits += [
        ("class_admin.edit_organiser", "organiser"),
        ("class_admin.edit_lecturers", "lecturers"),
        ("class_admin.edit_capacity", "capacity"),
        ("class_admin.edit_opens", "opens"),
        ("class_admin.edit_deadline", "deadline"),
        ("class_admin.edit_audience", "audience"),
    ]
    if turn.draft.plan_approved:
        edits.append(("class_admin.edit_open_now", "open_now"))
    edits.append(("class_admin.edit_sessions", "first_day"))
    edits.append(("class_admin.edit_approval", "approval"))
    return edits  # fmt: skip


async def _save(turn: Turn[ClassDraft]) -> None:
    draft = turn.draft
    assert draft.code and draft.name and draft.programme_id and draft.plan_id and draft.kind
    assert draft.format and draft.capacity and draft.deadline
    new = NewClass(
        code=draft.code, name=draft.name, programme_id=draft.programme_id,
        plan_id=draft.plan_id, kind=draft.kind, format=draft.format, capacity=draft.capacity,
        audience=Audience(
            unit_ids=tuple(draft.unit_ids), grade_ids=tuple(draft.grade_ids),
            title_ids=tuple(draft.title_ids), groups=tuple(draft.groups),
        ),
        location=draft.location, meeting_link=draft.meeting_link, organiser=draft.organiser,
        lecturer_ids=tuple(draft.lecturer_ids), enrol_opens_at=draft.opens_at,
        enrol_deadline=draft.deadline,
        status=ClassStatus.OPEN if draft.open_now else ClassStatus.PLANNED,
        requires_approval=draft.requires_approval,
    )  # fmt: skip
    sessions = sessions_of(draft, turn.ctx.settings.tz)
    actor = await turn.ctx.actor(turn.update)
    saved = await turn.services.planning.add_class(actor, new, sessions)
    await turn.show(turn.t("class_admin.created", code=saved.code, sessions=len(sessions)))
    await card(turn.update, turn.ctx, saved.id, new_message=True)


NEW_CLASS = register(
    Dialogue(
        name="class_new",
        draft=ClassDraft,
        steps=[
            ProgrammeStep("programme", "programme_id", prompt="class_admin.ask_programme",
                          options=_programmes, resolve=_programme, echo="class_admin.chosen"),
            ChoiceStep("kind", "kind", prompt="class_admin.ask_kind", options=_kinds,
                       resolve=_kind, echo="class_admin.chosen"),
            ChoiceStep("plan", "plan_id", prompt="class_admin.ask_plan", options=_plans,
                       resolve=_plan, echo="class_admin.chosen"),
            Typed("code", "code", prompt="class_admin.ask_code", parse=_code),
            Typed("name", "name", prompt="class_admin.ask_name", parse=_name,
                  suggest=_suggested_name),
            FormatStep("format", "format", prompt="class_admin.ask_format", options=_formats,
                       resolve=_format, echo="class_admin.chosen"),
            Typed("location", "location", prompt="class_admin.ask_location", parse=_place,
                  then=_after_location),
            Typed("link", "meeting_link", prompt="class_admin.ask_link", parse=_link,
                  then=lambda turn: onward(turn, "organiser")),
            Typed("organiser", "organiser", prompt="class_admin.ask_organiser", parse=_place,
                  skip="class_admin.skip"),
            Lecturers("lecturers", "lecturer_ids"),
            Typed("capacity", "capacity", prompt="class_admin.ask_capacity", parse=_capacity),
            Typed("opens", "opens_at", prompt="class_admin.ask_opens", parse=_opens,
                  skip="class_admin.opens_now", echo=_echo_moment),
            Typed("deadline", "deadline", prompt="class_admin.ask_deadline", parse=_deadline,
                  echo=_echo_moment),
            AudienceStep("audience"),
            ChoiceStep("open_now", "open_now", prompt="class_admin.ask_open_now",
                       options=_yes_no, resolve=_open_now),
            *recurrence_steps(),
            Summary("summary", render=_summary, edits=_edits, save="class_admin.save"),
            # Reached from the summary only: most classes need no approval.
            ChoiceStep("approval", "requires_approval", prompt="class_admin.ask_approval",
                       options=_approval_options, resolve=_approval, echo="class_admin.chosen"),
        ],
        finish=_save,
        cancelled="class_admin.cancelled",
        interrupted="class_admin.interrupted",
        entry_command="newclass",
        timeout=timedelta(hours=2),
    )
)  # fmt: skip


async def start(update: Update, ctx: BotContext) -> None:
    """/newclass: needs a programme and a plan to put the class in."""
    actor = await ctx.actor(update)
    planning = ctx.services.planning
    if not await planning.programmes(actor):
        await say(update, ctx, ctx.t("class_admin.no_programmes"))
        return
    plans = await planning.plans(actor)
    if not plans:
        await say(update, ctx, ctx.t("class_admin.no_plans"))
        return
    year = planning.today().year
    await begin(update, ctx, NEW_CLASS, ClassDraft(year=year))


def handlers() -> list[Handler]:
    return [command("newclass", start)]
