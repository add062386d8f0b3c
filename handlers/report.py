"""/report ("Báo cáo tiến độ"): progress against the plan for a period chosen by buttons,
each breakdown one tap away, the workbook and the charts as files. Administrators see the
province, unit heads their units; the service refuses anyone else on every tap."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Update

from bot import report_export, report_text
from bot.actions import (
    ReportChart,
    ReportClass,
    ReportPeriods,
    ReportPerson,
    ReportWorkbook,
    ShowReport,
    TypeReportDates,
)
from bot.domain import Actor
from bot.report import Coverage, Period, ReportView, Summary
from handlers import people_search
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Turn, register
from handlers.dialogue import begin as begin_dialogue
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import TextStep
from handlers.ui import Button, answer, inline, say, show

#: Classes of the attendance view with a button to open them: the lowest rates.
CLASS_BUTTONS = 6
#: The breakdowns, two to a row, in the order a superior asks for them.
VIEWS = (
    (ReportView.OVERVIEW, "report.view_overview"),
    (ReportView.KINDS, "report.view_kinds"),
    (ReportView.ATTENDANCE, "report.view_attendance"),
    (ReportView.RISK, "report.view_risk"),
    (ReportView.UNITS, "report.view_units"),
    (ReportView.GROUPS, "report.view_groups"),
    (ReportView.GRADES, "report.view_grades"),
)


async def start(update: Update, ctx: BotContext) -> None:
    """/report and the main keyboard's button: the periods to choose from; `/report 2025`
    or `/report 01/10/2026 - 31/12/2026` opens that period's summary straight away."""
    typed = argument_text(ctx).strip()
    if not typed:
        await _periods(update, ctx, fresh=True)
        return
    actor = await ctx.actor(update)
    reports = ctx.services.reports
    period = reports.typed_year(actor, typed) or reports.typed_period(actor, typed)
    text = await render(ctx, actor, period, ReportView.OVERVIEW)
    await say(update, ctx, text, _views(ctx, period, ReportView.OVERVIEW))


async def periods(update: Update, ctx: BotContext, tapped: ReportPeriods) -> None:
    await _periods(update, ctx, fresh=False)


async def _periods(update: Update, ctx: BotContext, *, fresh: bool) -> None:
    actor = await ctx.actor(update)
    choices = ctx.services.reports.periods(actor)
    buttons: list[Button] = [
        (report_text.period_name(ctx.texts, p), ShowReport(p.token)) for p in choices
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(ctx.t("report.typed_dates"), TypeReportDates())])
    key = "report.choose_period" if actor.is_admin else "report.choose_period_unit"
    send = say if fresh else show
    await send(update, ctx, ctx.t(key), inline(rows))


async def show_report(update: Update, ctx: BotContext, tapped: ShowReport) -> None:
    actor = await ctx.actor(update)
    period = Period.from_token(tapped.period)
    markup = _views(ctx, period, tapped.view)
    if tapped.view is ReportView.ATTENDANCE:  # with a button to each class it lists first
        summary = await ctx.services.reports.summary(actor, period)
        text = report_text.attendance(ctx.texts, summary)
        markup = _with_classes(ctx, period, summary, markup)
    else:
        text = await render(ctx, actor, period, tapped.view)
    await show(update, ctx, text, markup)


def _with_classes(
    ctx: BotContext, period: Period, summary: Summary, markup: InlineKeyboardMarkup
) -> InlineKeyboardMarkup:
    """The classes with the lowest attendance first, a button each to open one in detail."""
    marked = sorted((c for c in summary.classes if c.marks.total),
                    key=lambda c: (c.marks.rate or 0.0, c.code))[:CLASS_BUTTONS]  # fmt: skip
    buttons: list[Button] = [
        (ctx.t("report.class_button", code=c.code), ReportClass(period.token, c.class_id))
        for c in marked
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup([*inline(rows).inline_keyboard, *markup.inline_keyboard])


async def show_class(update: Update, ctx: BotContext, tapped: ReportClass) -> None:
    actor = await ctx.actor(update)
    period = Period.from_token(tapped.period)
    report = await ctx.services.reports.class_report(actor, tapped.class_id)
    back = [[(ctx.t("report.back_to_attendance"), ShowReport(period.token,
                                                              ReportView.ATTENDANCE))]]  # fmt: skip
    await show(update, ctx, report_text.class_detail(ctx.texts, report), inline(back))


async def render(ctx: BotContext, actor: Actor, period: Period, view: ReportView) -> str:
    """One view of the report as the actor may see it, as of now."""
    reports, texts = ctx.services.reports, ctx.texts
    if view.of_coverage:
        coverage = await reports.coverage(actor, period)
        if view is ReportView.UNITS:
            return report_text.units(texts, coverage)
        if view is ReportView.GROUPS:
            return report_text.groups(texts, coverage)
        return report_text.grades(texts, coverage)
    summary = await reports.summary(actor, period)
    if view is ReportView.KINDS:
        return report_text.by_kind(texts, summary)
    if view is ReportView.RISK:
        return report_text.at_risk(texts, summary)
    units = None if actor.is_admin else _units(actor)
    return report_text.overview(texts, summary, units) + "\n\n" + ctx.t("report.pick_view")


def _units(actor: Actor) -> str:
    return ", ".join(g.unit.label for g in actor.grants if g.unit is not None)


def _views(ctx: BotContext, period: Period, current: ReportView) -> InlineKeyboardMarkup:
    token = period.token
    buttons: list[Button] = [
        (ctx.t(label), ShowReport(token, view)) for view, label in VIEWS if view is not current
    ]
    buttons.append((ctx.t("report.view_person"), ReportPerson()))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    files: list[Button] = [(ctx.t("report.xlsx"), ReportWorkbook(token))]
    if current is not ReportView.RISK:  # a list of people: nothing to draw
        files.append((ctx.t("report.chart"), ReportChart(token, current)))
    rows.append(files)
    rows.append([(ctx.t("report.other_period"), ReportPeriods())])
    return inline(rows)


# --- dates typed -------------------------------------------------------------------------------


@dataclass
class DatesDraft:
    period: str | None = None  # the period's token


async def _typed(turn: Turn[Any], text: str) -> str:
    actor = await turn.ctx.actor(turn.update)
    return turn.services.reports.typed_period(actor, text).token


async def _show_typed(turn: Turn[DatesDraft]) -> None:
    assert turn.draft.period is not None
    await turn.say(turn.t("report.dates_taken"), await turn.resting_keyboard())
    actor = await turn.ctx.actor(turn.update)
    period = Period.from_token(turn.draft.period)
    text = await render(turn.ctx, actor, period, ReportView.OVERVIEW)
    await turn.say(text, _views(turn.ctx, period, ReportView.OVERVIEW))


DATES = register(
    Dialogue(
        name="report_dates",
        draft=DatesDraft,
        steps=[TextStep("dates", "period", prompt="report.ask_dates", parse=_typed)],
        finish=_show_typed,
        cancelled="report.dates_cancelled",
        interrupted="report.dates_stopped",
        retry="report.dates_text_only",
    )
)


async def type_dates(update: Update, ctx: BotContext, tapped: TypeReportDates) -> None:
    ctx.services.reports.periods(await ctx.actor(update))  # refused before being asked
    await begin_dialogue(update, ctx, DATES, DatesDraft())


async def send_workbook(update: Update, ctx: BotContext, tapped: ReportWorkbook) -> None:
    """Every breakdown as one workbook; made in a worker thread, in a folder of its own that
    goes once the file is sent."""
    data, period = await _data(update, ctx, tapped.period)
    name = report_export.file_name(ctx.texts, period, ".xlsx")
    with tempfile.TemporaryDirectory() as folder:
        path = await asyncio.to_thread(
            report_export.workbook, Path(folder) / name, ctx.texts, data, ctx.settings.tz
        )
        caption = ctx.t("report.caption", period=report_text.period_name(ctx.texts, period),
                        at=data.summary.generated_at)  # fmt: skip
        chat = update.effective_chat
        assert chat is not None
        with path.open("rb") as content:
            await ctx.bot.send_document(chat.id, InputFile(content, filename=name), caption=caption)


async def send_chart(update: Update, ctx: BotContext, tapped: ReportChart) -> None:
    """The view's chart, from the figures it needs alone, drawn in a worker thread."""
    actor = await ctx.actor(update)
    period = Period.from_token(tapped.period)
    reports = ctx.services.reports
    figures: Summary | Coverage = await (
        reports.coverage(actor, period) if tapped.view.of_coverage
        else reports.summary(actor, period)
    )  # fmt: skip
    await answer(update, ctx, ctx.t("report.preparing"))
    png = await asyncio.to_thread(report_export.chart, ctx.texts, tapped.view, figures)
    chat = update.effective_chat
    assert chat is not None
    name = report_export.chart_name(ctx.texts, period, tapped.view)
    view = ctx.t(dict(VIEWS)[tapped.view])
    caption = ctx.t("report.chart_caption", view=view,
                    period=report_text.period_name(ctx.texts, period))  # fmt: skip
    await ctx.bot.send_photo(chat.id, InputFile(png, filename=name), caption=caption)


async def _data(
    update: Update, ctx: BotContext, token: str
) -> tuple[report_export.ReportData, Period]:
    """The report's figures for its files; the tap is answered first (files take a moment)."""
    actor = await ctx.actor(update)
    period = Period.from_token(token)
    reports = ctx.services.reports
    summary = await reports.summary(actor, period)
    await answer(update, ctx, ctx.t("report.preparing"))
    coverage = await reports.coverage(actor, period)
    sessions = await reports.sessions(actor, period)
    scope = ctx.t("report.province") if actor.is_admin else _units(actor)
    author = actor.person.full_name if actor.person else ctx.settings.office_name
    return report_export.ReportData(summary, coverage, sessions, scope, author), period


async def find_person(update: Update, ctx: BotContext, tapped: ReportPerson) -> None:
    """A person's record is on their card: the people search leads there."""
    ctx.services.reports.periods(await ctx.actor(update))
    await begin_dialogue(update, ctx, people_search.SEARCH, people_search.Search())


def handlers() -> list[Handler]:
    return [
        command("report", start),
        button(ReportPeriods, periods),
        button(ShowReport, show_report),
        button(TypeReportDates, type_dates),
        button(ReportPerson, find_person),
        button(ReportWorkbook, send_workbook),
        button(ReportChart, send_chart),
        button(ReportClass, show_class),
    ]
