"""Results at the end of a class, for administrators: from the class card, the learners with
their attendance (paged), a learner's outcome by buttons (an exception below the threshold
asked first), and the workbook: the template sent, the filled one received and imported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram import Document, InputFile, Update

from bot.actions import (
    ClassAdminCard,
    PickResult,
    ResultsSheet,
    ResultsTemplate,
    SendResultsFile,
    SetResult,
)
from bot.attendance import Outcome
from bot.domain import NavOp
from bot.errors import InvalidInput
from bot.i18n import Raw, Texts
from bot.results_workbook import MAX_BYTES
from bot.services.results import BelowThreshold, ImportReport, Sheet, SheetLine
from bot.validation import telegram_length
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.routing import Handler, button
from handlers.ui import Button, Markup, answer, inline, show

PAGE = 8
#: Characters of row errors in one answer: the rest are counted.
ERRORS_BUDGET = 3000
XLSX = ".xlsx"


def outcome_label(texts: Texts, line: SheetLine) -> str:
    if line.result is None:
        return texts("results.no_result")
    label = texts(f"results.outcome.{line.result.outcome.value}")
    return label + (texts("results.override_mark") if line.result.override else "")


# --- the sheet --------------------------------------------------------------------------------


def sheet_view(ctx: BotContext, sheet: Sheet, page: int) -> tuple[str, Markup]:
    c, lines = sheet.training_class, sheet.lines
    pages = max(1, -(-len(lines) // PAGE))
    page = min(max(page, 0), pages - 1)
    shown = lines[page * PAGE : (page + 1) * PAGE]
    recorded = sum(line.result is not None for line in lines)
    text = [ctx.t("results.sheet_head", code=c.code, name=c.name, pct=c.completion_pct,
                  recorded=recorded, count=len(lines))]  # fmt: skip
    rows: list[list[Button]] = []
    for number, line in enumerate(shown, page * PAGE + 1):
        s = line.standing
        text.append(ctx.t("results.sheet_line", n=number, name=line.name, unit=line.unit or "—",
                          attended=s.attended, total=s.total,
                          met=ctx.t("results.met_yes" if s.met else "results.met_no"),
                          result=outcome_label(ctx.texts, line)))  # fmt: skip
        label = f"{line.name} · {outcome_label(ctx.texts, line)}"
        rows.append([(label, PickResult(c.id, line.person_id, page))])
    if not lines:
        text.append(ctx.t("results.sheet_empty"))
    if pages > 1:
        text.append(ctx.t("results.page_of", page=page + 1, pages=pages))
        nav: list[Button] = []
        if page > 0:
            nav.append((ctx.t("results.previous"), ResultsSheet(c.id, page - 1)))
        if page < pages - 1:
            nav.append((ctx.t("results.next"), ResultsSheet(c.id, page + 1)))
        rows.append(nav)
    rows += [
        [(ctx.t("results.template_button"), ResultsTemplate(c.id)),
         (ctx.t("results.upload_button"), SendResultsFile(c.id))],
        [(ctx.t("button.back"), ClassAdminCard(c.id))],
    ]  # fmt: skip
    return "\n".join(text), inline(rows)


async def open_sheet(update: Update, ctx: BotContext, tapped: ResultsSheet) -> None:
    sheet = await ctx.services.results.sheet(await ctx.actor(update), tapped.class_id)
    await show(update, ctx, *sheet_view(ctx, sheet, tapped.page))


# --- one learner ------------------------------------------------------------------------------


async def pick(update: Update, ctx: BotContext, tapped: PickResult) -> None:
    actor = await ctx.actor(update)
    _, line = await ctx.services.results.line(actor, tapped.class_id, tapped.person_id)
    s = line.standing
    text = ctx.t("results.pick", name=line.name, unit=line.unit or "—", attended=s.attended,
                 total=s.total, required=s.required,
                 standing=ctx.t("results.standing_met" if s.met else "results.standing_not_met"),
                 result=outcome_label(ctx.texts, line))  # fmt: skip
    choices: list[Button] = [
        (ctx.t(f"results.outcome.{o.value}"),
         SetResult(tapped.class_id, line.person_id, o, page=tapped.page))
        for o in Outcome
    ]  # fmt: skip
    rows: list[list[Button]] = [choices[0:2], choices[2:4], choices[4:],
            [(ctx.t("button.back"), ResultsSheet(tapped.class_id, tapped.page))]]  # fmt: skip
    await show(update, ctx, text, inline(rows))


async def set_result(update: Update, ctx: BotContext, tapped: SetResult) -> None:
    """Records the outcome; a completion below the threshold is asked again as an exception."""
    actor = await ctx.actor(update)
    results = ctx.services.results
    outcome = ctx.t(f"results.outcome.{tapped.outcome.value}")
    try:
        await results.record(actor, tapped.class_id, tapped.person_id, tapped.outcome,
                             override=tapped.override)  # fmt: skip
    except BelowThreshold as refused:
        rows: list[list[Button]] = [[(ctx.t("results.confirm_exception_button"),
                  SetResult(tapped.class_id, tapped.person_id, tapped.outcome, override=True,
                            page=tapped.page))],
                [(ctx.t("button.back"), PickResult(tapped.class_id, tapped.person_id,
                                                   tapped.page))]]  # fmt: skip
        await show(update, ctx, ctx.t("results.confirm_exception", outcome=outcome,
                                      **refused.params), inline(rows))  # fmt: skip
        return
    sheet = await results.sheet(actor, tapped.class_id)
    name = next((line.name for line in sheet.lines if line.person_id == tapped.person_id), "")
    await answer(update, ctx, ctx.t("results.saved", name=name, outcome=outcome))
    await show(update, ctx, *sheet_view(ctx, sheet, tapped.page))


# --- the workbook -----------------------------------------------------------------------------


async def send_template(update: Update, ctx: BotContext, tapped: ResultsTemplate) -> None:
    actor = await ctx.actor(update)
    data = await ctx.services.results.template(actor, tapped.class_id, ctx.texts)
    c = await ctx.services.planning.admin_class(actor, tapped.class_id)
    await answer(update, ctx)
    assert update.effective_chat is not None
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename=ctx.t("results.file_name", code=c.code) + XLSX),
        caption=ctx.t("results.template_caption", code=c.code),
    )


@dataclass
class Upload:
    """The class a workbook is awaited for, and what the import saved."""

    class_id: int = 0
    code: str = ""
    saved: int = 0
    unchanged: int = 0
    overrides: int = 0


def report_text(texts: Texts, report: ImportReport) -> str:
    """Why a workbook was refused: each error with its row and column, within one message."""
    lines = [texts("results.import_refused", count=report.error_count)]
    budget, shown = ERRORS_BUDGET, 0
    for error in report.errors:
        line = texts("results.error_line", row=error.row,
                     column=texts(f"results.column.{error.column.value}"),
                     reason=Raw(texts(error.key, **error.params)))  # fmt: skip
        budget -= telegram_length(line) + 1
        if budget < 0:
            break
        lines.append(line)
        shown += 1
    if report.error_count > shown:
        lines.append(texts("results.more_errors", count=report.error_count - shown))
    return "\n".join(lines)


class WorkbookStep(Step[Upload]):
    """Waits for the filled workbook; a refused one is explained and another awaited."""

    retry_text = "results.upload_retry"

    async def ask(self, turn: Turn[Upload]) -> None:
        await turn.say(turn.t("results.upload_ask", code=turn.draft.code), self.retry_markup(turn))

    def retry_markup(self, turn: Turn[Upload]) -> Markup:
        return inline([[(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))]])

    async def on_document(self, turn: Turn[Upload], document: Document) -> Move:
        if not (document.file_name or "").lower().endswith(XLSX):
            raise InvalidInput("results.file_not_xlsx")
        if document.file_size is not None and document.file_size > MAX_BYTES:
            raise InvalidInput("results.file_too_large", mb=MAX_BYTES // (1024 * 1024))
        file = await turn.ctx.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
        actor = await turn.ctx.actor(turn.update)
        report = await turn.services.results.import_results(actor, turn.draft.class_id, data)
        if report.refused:
            await turn.say(report_text(turn.texts, report), self.retry_markup(turn))
            return Flow.STAY
        turn.draft.saved, turn.draft.unchanged = report.saved, report.unchanged
        turn.draft.overrides = report.overrides
        return Flow.FINISH


async def _imported(turn: Turn[Upload]) -> None:
    draft = turn.draft
    await turn.say(turn.t("results.imported", saved=draft.saved, unchanged=draft.unchanged,
                          overrides=draft.overrides))  # fmt: skip
    sheet = await turn.services.results.sheet(await turn.ctx.actor(turn.update), draft.class_id)
    await turn.say(*sheet_view(turn.ctx, sheet, 0))


UPLOAD = register(
    Dialogue(
        name="results_upload", draft=Upload, steps=[WorkbookStep("workbook")],
        finish=_imported, cancelled="results.upload_cancelled",
        interrupted="results.upload_cancelled", timeout=timedelta(minutes=30),
    )
)  # fmt: skip


async def upload(update: Update, ctx: BotContext, tapped: SendResultsFile) -> None:
    sheet = await ctx.services.results.sheet(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    await begin(update, ctx, UPLOAD, Upload(tapped.class_id, sheet.training_class.code))


def handlers() -> list[Handler]:
    return [
        button(ResultsSheet, open_sheet),
        button(PickResult, pick),
        button(SetResult, set_result),
        button(ResultsTemplate, send_template),
        button(SendResultsFile, upload),
    ]
