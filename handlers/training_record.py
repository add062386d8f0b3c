"""/record: a cadre's training record by year, each class's attendance session by session,
and the record as a PDF or a workbook. Unit heads and administrators open a person's record
from the person's card; the service checks on every tap whose record the actor may see."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from telegram import InputFile, Update

from bot.actions import DownloadRecord, OpenPerson, RecordClass, ShowRecord
from bot.i18n import Texts
from bot.record_labels import dates, result, session_state, year_totals
from bot.record_xlsx import record_xlsx
from bot.services.training_record import ClassAttendance
from bot.training_record import RecordFormat, RecordYear, TrainingRecord, file_name
from handlers.context import BotContext
from handlers.routing import Handler, button, command
from handlers.ui import Button, answer, inline, show

BUDGET = 3500  # characters of a record's message (Telegram takes 4096)
CLASS_BUTTONS = 8  # the latest classes get a button to their attendance
SUMMARY_MAX = 300  # room kept for the line summing up earlier years
NOTE_MAX = 120  # room kept for the line saying how many were left out


async def send_record(update: Update, ctx: BotContext) -> None:
    """/record (and the main keyboard's button): one's own record."""
    await _record(update, ctx, ShowRecord())


async def show_record(update: Update, ctx: BotContext, tapped: ShowRecord) -> None:
    await _record(update, ctx, tapped)


async def _record(update: Update, ctx: BotContext, tapped: ShowRecord) -> None:
    actor = await ctx.actor(update)
    record = await ctx.services.records.record(actor, tapped.person_id or None)
    own = actor.person is not None and actor.person.id == record.person.id
    whose = 0 if own else record.person.id  # what this screen's buttons carry
    rows: list[list[Button]] = []
    latest = [c for year in reversed(record.years) for c in reversed(year.classes)]
    buttons: list[Button] = [
        (ctx.t("record.class_button", code=c.code), RecordClass(c.class_id, whose))
        for c in latest[:CLASS_BUTTONS]
    ]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(ctx.t("record.pdf"), DownloadRecord(RecordFormat.PDF, whose)),
                 (ctx.t("record.xlsx"), DownloadRecord(RecordFormat.XLSX, whose))])  # fmt: skip
    if not own:
        rows.append([(ctx.t("button.back"), OpenPerson(record.person.id))])
    await show(update, ctx, record_text(ctx.texts, record), inline(rows))


def record_text(texts: Texts, record: TrainingRecord) -> str:
    """The record by year, the latest first. The latest year is always shown (shortened to
    fit, saying how many classes are left out); earlier years that do not fit are summed up
    in one line."""
    person = record.person
    unit = person.unit.label if person.unit else "—"
    parts = [texts("record.heading", name=person.full_name, unit=unit)]
    if not record.years:
        return parts[0] + "\n\n" + texts("record.empty", name=person.full_name)
    ending = texts("record.pick_class")
    budget = BUDGET - len(parts[0]) - len(ending)
    years = list(reversed(record.years))
    for number, year in enumerate(years):
        lines = _year_lines(texts, record, year)
        reserve = SUMMARY_MAX if number + 1 < len(years) else 0
        if len("\n".join(lines)) + 2 <= budget - reserve:
            parts.append("\n".join(lines))
            budget -= len(parts[-1]) + 2
            continue
        if number == 0:
            kept = _fit(lines, budget - reserve - NOTE_MAX)
            more = texts("record.more_classes", count=len(lines) - len(kept))
            parts.append("\n".join([*kept, more]))
            number += 1
        if number < len(years):
            parts.append(_older(texts, years[number:]))
        break
    parts.append(ending)
    return "\n\n".join(parts)


def _year_lines(texts: Texts, record: TrainingRecord, year: RecordYear) -> list[str]:
    """A year's totals, then its classes (the latest first) and imported completions."""
    now = record.generated_at
    lines = [texts("record.year_line", year=year.year, totals=year_totals(texts, year))]
    lines += [
        texts("record.class_line", name=c.name, code=c.code, dates=dates(texts, c),
              attended=c.attended, held=c.held, hours=round(c.hours, 1),
              result=result(texts, c, now))
        if c.held else
        texts("record.class_line_ahead", name=c.name, code=c.code, dates=dates(texts, c),
              result=result(texts, c, now))
        for c in reversed(year.classes)
    ]  # fmt: skip
    lines += [
        texts("record.imported_line", name=i.class_name, on=i.completed_on) for i in year.imported
    ]
    return lines


def _older(texts: Texts, years: Sequence[RecordYear]) -> str:
    """Earlier years, newest first, summed up in one line."""
    together = RecordYear(
        0, tuple(c for y in years for c in y.classes), tuple(i for y in years for i in y.imported)
    )
    totals = year_totals(texts, together)
    return texts("record.older", first=years[-1].year, last=years[0].year, totals=totals)


def _fit(lines: list[str], budget: int) -> list[str]:
    """The first lines that fit in `budget` characters (the first is always kept)."""
    kept = lines[:1]
    used = len(lines[0])
    for line in lines[1:]:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    return kept


async def class_attendance(update: Update, ctx: BotContext, tapped: RecordClass) -> None:
    actor = await ctx.actor(update)
    found = await ctx.services.records.class_attendance(
        actor, tapped.class_id, tapped.person_id or None
    )
    back = [[(ctx.t("record.back"), ShowRecord(tapped.person_id))]]
    await show(update, ctx, attendance_text(ctx.texts, found), inline(back))


def attendance_text(texts: Texts, found: ClassAttendance) -> str:
    """The standing first, then each session with its mark; the latest sessions when they
    are too many for one message."""
    record, standing = found.record, found.standing
    head = [
        texts("record.class_heading", name=record.name, code=record.code,
              person=found.person.full_name),
        texts("record.standing", attended=standing.attended, total=standing.total,
              required=standing.required),
        texts("record.standing_detail", late=standing.late, excused=standing.excused,
              absent=standing.absent),
    ]  # fmt: skip
    if standing.met:
        head.append(texts("record.met"))
    elif standing.reachable < standing.required:
        head.append(texts("record.cannot"))
    if not record.sessions:
        return "\n".join(head) + "\n\n" + texts("record.no_sessions")
    lines = [
        texts("record.session_line", at=s.starts_at, state=session_state(texts, s))
        for s in record.sessions
    ]
    budget = BUDGET - len("\n".join(head)) - NOTE_MAX
    kept = list(reversed(_fit(list(reversed(lines)), budget)))  # the latest sessions
    if len(kept) < len(lines):
        kept.insert(0, texts("record.earlier_sessions", count=len(lines) - len(kept)))
    return "\n".join(head) + "\n\n" + "\n".join(kept)


async def download(update: Update, ctx: BotContext, tapped: DownloadRecord) -> None:
    """The record as a file; made in a worker thread (a long record takes a moment)."""
    actor = await ctx.actor(update)
    record = await ctx.services.records.record(actor, tapped.person_id or None)
    await answer(update, ctx)
    issuer = ctx.settings.office_name
    if tapped.fmt is RecordFormat.PDF:
        # fpdf is loaded on the first PDF: imported with the bot it holds ~45 MB in every process.
        from bot.record_pdf import record_pdf

        content = await asyncio.to_thread(record_pdf, ctx.texts, record, issuer)
    else:
        tz = ctx.settings.tz
        content = await asyncio.to_thread(record_xlsx, ctx.texts, record, issuer, tz)
    year = record.generated_at.astimezone(ctx.settings.tz).year
    name = file_name(ctx.t("record.file_name"), record.person.full_name, year, tapped.fmt)
    chat = update.effective_chat
    assert chat is not None
    caption = ctx.t("record.caption", name=record.person.full_name, at=record.generated_at)
    await ctx.bot.send_document(chat.id, InputFile(content, filename=name), caption=caption)


def handlers() -> list[Handler]:
    return [
        command("record", send_record),
        button(ShowRecord, show_record),
        button(RecordClass, class_attendance),
        button(DownloadRecord, download),
    ]
