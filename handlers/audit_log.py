"""/audit: the audit log for administrators (who changed what, and when), a page at a time,
for a period picked or typed, narrowed to a person or a kind of action; and the same entries
as a workbook. The buttons carry the whole view, so a page survives a restart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from telegram import InlineKeyboardMarkup, InputFile, Update

from bot.actions import (
    AuditKinds,
    AuditPeriods,
    AuditPreset,
    ExportAuditLog,
    PickAuditPerson,
    ShowAuditLog,
    TypeAuditPeriod,
)
from bot.audit_log import AuditLine, AuditQuery, Period, PeriodPreset
from bot.audit_words import DetailNames, action_name, details_text, who
from bot.errors import NotFound
from bot.i18n import Texts
from bot.record_labels import plain
from bot.services.audit_log import AuditPage
from bot.validation import shorten, telegram_length
from handlers.admin_steps import Typed
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Turn, begin, register
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import ChoiceStep, Option
from handlers.ui import Button, answer, inline, person_label, show

#: What a line may take of each part, as Telegram counts (an emoji counts two): with the
#: date and the action, a line takes at most 275, and a page of 12 stays within 4096.
WHO_MAX = 50
ABOUT_MAX = 50
DETAILS_MAX = 100
PERSON_MAX = 80  # the person the view is narrowed to, in its heading
PRESETS = (
    (PeriodPreset.TODAY, PeriodPreset.WEEK),
    (PeriodPreset.MONTH, PeriodPreset.LAST_MONTH),
    (PeriodPreset.YEAR,),
)
XLSX = ".xlsx"


async def audit(update: Update, ctx: BotContext) -> None:
    """/audit: the last 7 days; /audit 01/10/2026-31/10/2026: those days."""
    actor = await ctx.actor(update)
    service = ctx.services.audit_log
    typed = argument_text(ctx)
    if typed.strip():
        period = service.parse_period(actor, typed)
    else:
        period = service.preset(actor, PeriodPreset.WEEK)
    await _show(update, ctx, AuditQuery(period))


async def show_log(update: Update, ctx: BotContext, tapped: ShowAuditLog) -> None:
    query = AuditQuery.from_key(tapped.first, tapped.last, tapped.person_id, tapped.kind)
    await _show(update, ctx, query, tapped.page)


async def _show(update: Update, ctx: BotContext, query: AuditQuery, number: int = 0) -> None:
    found = await ctx.services.audit_log.page(await ctx.actor(update), query, number)
    await show(update, ctx, view_text(ctx.texts, found), _view_buttons(ctx, found))


def view_text(texts: Texts, found: AuditPage) -> str:
    """What the view shows, then how many entries there are, then a line per entry."""
    query = found.query
    lines = [
        texts("audit_log.heading"),
        texts("audit_log.period", first=query.period.first, last=query.period.last),
    ]
    if found.person is not None:
        lines.append(texts("audit_log.person", name=clip(person_label(found.person), PERSON_MAX)))
    if query.action is not None:
        lines.append(texts("audit_log.kind", kind=action_name(texts, query.action.value)))
    if not found.total:
        return "\n".join(lines) + "\n\n" + texts("audit_log.empty")
    counted = texts("audit_log.count", count=found.total)
    if found.pages > 1:
        counted += " " + texts("audit_log.page", page=found.number + 1, pages=found.pages)
    lines.append(counted)
    entries = [line_text(texts, line, found.names) for line in found.lines]
    return "\n".join(lines) + "\n\n" + "\n".join(entries)


def line_text(texts: Texts, line: AuditLine, names: DetailNames) -> str:
    """`dd/mm/yyyy HH:MM — who — what — about whom — details`; the last two when known."""
    text = texts("audit_log.line", at=line.at, who=clip(who(texts, line), WHO_MAX),
                 action=action_name(texts, line.action))  # fmt: skip
    if line.person_name:
        text += texts("audit_log.line_part", part=clip(line.person_name, ABOUT_MAX))
    details = details_text(texts, line.details, names)
    if details:
        text += texts("audit_log.line_part", part=clip(details, DETAILS_MAX))
    return text


def clip(text: str, units: int) -> str:
    """At most `units` as Telegram counts them, cut between words."""
    limit = units
    clipped = shorten(text, limit)
    while telegram_length(clipped) > units:
        limit -= 1
        clipped = shorten(text, limit)
    return clipped


def _keys(query: AuditQuery) -> tuple[int, int, int, str]:
    """The query as buttons carry it."""
    first, last = query.period.key()
    return first, last, query.person_id or 0, query.action.value if query.action else ""


def _view_buttons(ctx: BotContext, found: AuditPage) -> InlineKeyboardMarkup:
    first, last, person, kind = _keys(found.query)
    rows: list[list[Button]] = []
    turning: list[Button] = []
    if found.number > 0:
        turning.append((ctx.t("audit_log.previous"),
                        ShowAuditLog(first, last, person, kind, found.number - 1)))  # fmt: skip
    if found.number + 1 < found.pages:
        turning.append((ctx.t("audit_log.next"),
                        ShowAuditLog(first, last, person, kind, found.number + 1)))  # fmt: skip
    rows += [turning] if turning else []
    rows.append([
        (ctx.t("audit_log.period_button"), AuditPeriods(first, last, person, kind)),
        (ctx.t("audit_log.person_button"), PickAuditPerson(first, last, kind)),
        (ctx.t("audit_log.kind_button"), AuditKinds(first, last, person)),
    ])  # fmt: skip
    clear: list[Button] = []
    if person:
        clear.append((ctx.t("audit_log.person_off"), ShowAuditLog(first, last, 0, kind)))
    if kind:
        clear.append((ctx.t("audit_log.kind_off"), ShowAuditLog(first, last, person)))
    rows += [clear] if clear else []
    if found.total:
        rows.append([(ctx.t("audit_log.export"), ExportAuditLog(first, last, person, kind))])
    return inline(rows)


# --- the period -------------------------------------------------------------------------------


async def periods(update: Update, ctx: BotContext, tapped: AuditPeriods) -> None:
    """The periods offered, and typing one; Back returns to the view as it was."""
    ctx.services.audit_log.require_reader(await ctx.actor(update))
    query = AuditQuery.from_key(tapped.first, tapped.last, tapped.person_id, tapped.kind)
    first, last, person, kind = _keys(query)
    rows: list[list[Button]] = [
        [(ctx.t(f"audit_log.preset_{p.value}"), AuditPreset(p, person, kind)) for p in row]
        for row in PRESETS
    ]
    rows[-1].append((ctx.t("audit_log.type_period"), TypeAuditPeriod(person, kind)))
    rows.append([(ctx.t("button.back"), ShowAuditLog(first, last, person, kind))])
    text = ctx.t("audit_log.periods", first=query.period.first, last=query.period.last)
    await show(update, ctx, text, inline(rows))


async def pick_preset(update: Update, ctx: BotContext, tapped: AuditPreset) -> None:
    period = ctx.services.audit_log.preset(await ctx.actor(update), tapped.preset)
    await _show(update, ctx, AuditQuery.from_key(*period.key(), tapped.person_id, tapped.kind))


@dataclass
class PeriodDraft:
    person_id: int = 0
    kind: str = ""
    period: Period | None = None


async def _period(turn: Turn[PeriodDraft], raw: str) -> Period:
    actor = await turn.ctx.actor(turn.update)
    return turn.services.audit_log.parse_period(actor, raw)


async def _period_typed(turn: Turn[PeriodDraft]) -> None:
    draft = turn.draft
    assert draft.period is not None
    query = AuditQuery.from_key(*draft.period.key(), draft.person_id, draft.kind)
    await _show(turn.update, turn.ctx, query)


AUDIT_PERIOD = register(
    Dialogue(
        name="audit_period", draft=PeriodDraft,
        steps=[Typed("period", "period", prompt="audit_log.ask_period", parse=_period)],
        finish=_period_typed, cancelled="audit_log.cancelled",
        interrupted="audit_log.cancelled", timeout=timedelta(minutes=10),
    )
)  # fmt: skip


async def type_period(update: Update, ctx: BotContext, tapped: TypeAuditPeriod) -> None:
    ctx.services.audit_log.require_reader(await ctx.actor(update))
    await answer(update, ctx)
    await begin(update, ctx, AUDIT_PERIOD, PeriodDraft(tapped.person_id, tapped.kind))


# --- the person -------------------------------------------------------------------------------


@dataclass
class PersonDraft:
    first: int = 0
    last: int = 0
    kind: str = ""
    person_id: int | None = None


async def _people(turn: Turn[PersonDraft], query: str) -> Sequence[Option]:
    """People whose name has the words typed, diacritics or not (the people search)."""
    found = await turn.services.people.search(await turn.ctx.actor(turn.update), query)
    return [
        Option(str(p.id), person_label(p) + (f" · {p.unit.label}" if p.unit else ""))
        for p in found.people
    ]


async def _person(turn: Turn[PersonDraft], value: str) -> int:
    if not value.isdigit():
        raise NotFound("audit_log.person_unknown")
    actor = await turn.ctx.actor(turn.update)
    return (await turn.services.audit_log.person(actor, int(value))).id


async def _person_picked(turn: Turn[PersonDraft]) -> None:
    draft = turn.draft
    query = AuditQuery.from_key(draft.first, draft.last, draft.person_id or 0, draft.kind)
    await _show(turn.update, turn.ctx, query)


AUDIT_PERSON = register(
    Dialogue(
        name="audit_person", draft=PersonDraft,
        steps=[ChoiceStep("person", "person_id", prompt="audit_log.ask_person", resolve=_person,
                          search=_people, found="audit_log.person_found",
                          none_found="audit_log.person_none", keep_keyboard=True)],
        finish=_person_picked, cancelled="audit_log.cancelled",
        interrupted="audit_log.cancelled", timeout=timedelta(minutes=10),
    )
)  # fmt: skip


async def pick_person(update: Update, ctx: BotContext, tapped: PickAuditPerson) -> None:
    ctx.services.audit_log.require_reader(await ctx.actor(update))
    AuditQuery.from_key(tapped.first, tapped.last, 0, tapped.kind)  # a forged one is refused
    await answer(update, ctx)
    draft = PersonDraft(tapped.first, tapped.last, tapped.kind)
    await begin(update, ctx, AUDIT_PERSON, draft)


# --- the kind of action -----------------------------------------------------------------------


async def kinds(update: Update, ctx: BotContext, tapped: AuditKinds) -> None:
    """The kinds of action in the period, with how many of each, two to a row."""
    query = AuditQuery.from_key(tapped.first, tapped.last, tapped.person_id)
    found = await ctx.services.audit_log.actions(await ctx.actor(update), query)
    first, last, person, _kind = _keys(query)
    buttons: list[Button] = [
        (plain(ctx.texts, "audit_log.kind_option", kind=action_name(ctx.texts, a.value), count=n),
         ShowAuditLog(first, last, person, a.value))
        for a, n in found
    ]  # fmt: skip
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(ctx.t("audit_log.kind_all"), ShowAuditLog(first, last, person))])
    key = "audit_log.kinds" if found else "audit_log.kinds_none"
    text = ctx.t(key, first=query.period.first, last=query.period.last)
    await show(update, ctx, text, inline(rows))


# --- the workbook -----------------------------------------------------------------------------


async def export(update: Update, ctx: BotContext, tapped: ExportAuditLog) -> None:
    """The view's entries as a workbook (a year of them takes a few seconds: the tap is
    answered first)."""
    actor = await ctx.actor(update)
    service = ctx.services.audit_log
    service.require_reader(actor)
    query = AuditQuery.from_key(tapped.first, tapped.last, tapped.person_id, tapped.kind)
    await answer(update, ctx, ctx.t("audit_log.preparing"))
    made = await service.export(actor, query, ctx.texts)
    period = query.period
    stem = plain(ctx.texts, "audit_log.file_name")
    name = f"{stem}-{period.file_stem()}{XLSX}"
    caption = ctx.t("audit_log.caption", first=period.first, last=period.last, count=made.entries)
    chat = update.effective_chat
    assert chat is not None
    await ctx.bot.send_document(chat.id, InputFile(made.content, filename=name), caption=caption)


def handlers() -> list[Handler]:
    return [
        command("audit", audit),
        button(ShowAuditLog, show_log),
        button(AuditPeriods, periods),
        button(AuditPreset, pick_preset),
        button(TypeAuditPeriod, type_period),
        button(PickAuditPerson, pick_person),
        button(AuditKinds, kinds),
        button(ExportAuditLog, export),
    ]
