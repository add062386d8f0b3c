"""/import for administrators: choose a kind, get its template, send the file, read the dry
run (what would be added and changed, every error by row and column), then save or cancel.

The dialogue keeps the file's Telegram id, not the file: it survives a restart, and the save
downloads the file again and checks it again before writing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from telegram import Document, InputFile, Message, Update
from telegram.error import BadRequest

from bot.domain import NavOp
from bot.errors import InvalidInput
from bot.i18n import Raw, Texts
from bot.imports.model import Change, ImportKind, Outcome, RowError, RowNote
from bot.imports.reading import MAX_BYTES, SPREADSHEETS, TEXT_TABLES
from bot.imports.workbooks import column_name
from bot.services.imports import ImportReport
from bot.validation import shorten, telegram_length
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Goto, Move, Step, Turn, begin, register
from handlers.routing import Handler, command
from handlers.ui import Button, Markup, inline

#: Errors listed in the chat; all of them go into a workbook when there are more.
ERRORS_SHOWN = 10
#: Rows left alone with a reason (a cancelled class), listed in the chat at most.
NOTES_SHOWN = 8
#: Seconds between two edits of the progress message.
PROGRESS_EVERY = 1.0
XLSX = ".xlsx"
CELL_SHOWN = 40


@dataclass
class ImportDraft:
    """The kind chosen and the file sent (its Telegram id: downloaded again to save)."""

    kind: ImportKind | None = None
    file_id: str = ""
    file_name: str = ""
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def _kind(turn: Turn[ImportDraft]) -> ImportKind:
    assert turn.draft.kind is not None
    return turn.draft.kind


# --- rendering --------------------------------------------------------------------------------


def _value(texts: Texts, text: str, keyed: bool) -> str:
    """A value before or after a change: a catalog word (already HTML) or a cell's text."""
    if not text:
        return Raw(texts("import.empty_value"))
    return Raw(texts(text)) if keyed else shorten(text, CELL_SHOWN)


def change_line(texts: Texts, kind: ImportKind, change: Change) -> str:
    if change.who:
        return texts("import.change_line_who", row=change.row, who=shorten(change.who, CELL_SHOWN),
                     column=column_name(texts, kind, change.column),
                     before=_value(texts, change.before, change.keyed),
                     after=_value(texts, change.after, change.keyed))  # fmt: skip
    return texts("import.change_line", row=change.row,
                 column=column_name(texts, kind, change.column),
                 before=_value(texts, change.before, change.keyed),
                 after=_value(texts, change.after, change.keyed))  # fmt: skip


def error_line(texts: Texts, kind: ImportKind, error: RowError) -> str:
    reason = Raw(texts(error.key, **error.params))
    if error.column is None:
        return texts("import.error_row", row=error.row, reason=reason)
    return texts("import.error_line", row=error.row,
                 column=column_name(texts, kind, error.column), reason=reason)  # fmt: skip


def note_line(texts: Texts, note: RowNote) -> str:
    return texts("import.note_line", row=note.row, note=Raw(texts(note.key, **note.params)))


def _counts(texts: Texts, outcome: Outcome) -> str:
    if outcome.failed:
        return texts("import.counts_failed", kind=texts(f"import.kind.{outcome.kind.value}"),
                     rows=outcome.rows, added=outcome.added, changed=outcome.changed,
                     unchanged=outcome.unchanged, failed=outcome.failed)  # fmt: skip
    return texts("import.counts", kind=texts(f"import.kind.{outcome.kind.value}"),
                 rows=outcome.rows, added=outcome.added, changed=outcome.changed,
                 unchanged=outcome.unchanged)  # fmt: skip


def report_text(texts: Texts, report: ImportReport) -> str:
    """The dry run: counts per sheet, a few changes, the first errors; within one message."""
    lines = [texts("import.dry_run", file=shorten(report.file_name, 60))]
    lines += [_counts(texts, outcome) for outcome in report.outcomes]
    if report.ignored:
        names = ", ".join(f"«{shorten(name, 30)}»" for name in report.ignored[:8])
        lines.append(texts("import.ignored", columns=names))
    if report.clean:
        changes = [(o.kind, c) for o in report.outcomes for c in o.changes]
        if changes:
            lines.append(texts("import.changes_head"))
            lines += [change_line(texts, kind, change) for kind, change in changes]
        notes = [note for o in report.outcomes for note in o.notes]
        lines += [note_line(texts, note) for note in notes[:NOTES_SHOWN]]
        return _within(lines)
    lines.append(texts("import.errors_head", count=report.error_count))
    errors = [(o.kind, e) for o in report.outcomes for e in o.errors]
    lines += [error_line(texts, kind, error) for kind, error in errors[:ERRORS_SHOWN]]
    if report.error_count > ERRORS_SHOWN:
        lines.append(texts("import.more_errors", count=report.error_count - ERRORS_SHOWN))
    lines.append(texts("import.fix_and_resend"))
    return _within(lines)


def _within(lines: Sequence[str], limit: int = 4000) -> str:
    """Whole lines up to Telegram's length (long cells are shortened already)."""
    kept, used = [], 0
    for line in lines:
        used += telegram_length(line) + 1
        if used > limit:
            break
        kept.append(line)
    return "\n".join(kept)


class _Progress:
    """The "⏳ checking 20,000/50,000 rows" message, edited at most every second, never
    with the same text twice."""

    def __init__(self, turn: Turn[ImportDraft], message: Message) -> None:
        self.turn = turn
        self.message = message
        self.shown = message.text or ""
        self.at = time.monotonic()

    @classmethod
    async def start(cls, turn: Turn[ImportDraft], text: str) -> _Progress:
        """In place of the question whose button was tapped (its buttons go with it: no
        second save), else a new message."""
        query = turn.update.callback_query
        if query is not None and isinstance(query.message, Message) and not turn.ctx.replaced:
            try:
                edited = await query.edit_message_text(text)
            except BadRequest:  # deleted meanwhile: a new message instead
                edited = None
            if isinstance(edited, Message):
                turn.ctx.replaced = True
                return cls(turn, edited)
        chat = turn.update.effective_chat
        assert chat is not None
        return cls(turn, await turn.ctx.bot.send_message(chat.id, text))

    async def __call__(self, done: int, total: int) -> None:
        if time.monotonic() - self.at < PROGRESS_EVERY:
            return
        await self.edit(self.turn.t("import.checking", done=done, total=total))

    async def edit(self, text: str) -> None:
        if text == self.shown:
            return
        self.shown, self.at = text, time.monotonic()
        try:
            await self.message.edit_text(text)
        except BadRequest:  # the person deleted it meanwhile: the report follows anyway
            return

    async def remove(self) -> None:
        """Gone when the check stopped short: no "checked" above the reason why."""
        try:
            await self.message.delete()
        except BadRequest:  # deleted already, or too old to delete
            return


# --- the steps --------------------------------------------------------------------------------


class KindStep(Step[ImportDraft]):
    """Which kind of file: one button each."""

    async def ask(self, turn: Turn[ImportDraft]) -> None:
        kinds = turn.services.imports.kinds(await turn.ctx.actor(turn.update))
        rows: list[list[Button]] = [
            [(turn.t(f"import.kind.{kind.value}"), turn.choice(kind.value))] for kind in kinds
        ]
        rows.append([(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))])
        await turn.show(turn.t("import.choose_kind"), inline(rows))

    async def typed_labels(self, turn: Turn[ImportDraft]) -> Sequence[tuple[str, str]]:
        kinds = turn.services.imports.kinds(await turn.ctx.actor(turn.update))
        return [(turn.t(f"import.kind.{kind.value}"), kind.value) for kind in kinds]

    async def on_choice(self, turn: Turn[ImportDraft], value: str) -> Move:
        kinds = turn.services.imports.kinds(await turn.ctx.actor(turn.update))
        chosen = next((kind for kind in kinds if kind.value == value), None)
        if chosen is None:
            raise InvalidInput("import.kind_unknown")
        turn.draft.kind = chosen
        return Flow.NEXT


class FileStep(Step[ImportDraft]):
    """The kind's columns and template; then the file, checked without saving."""

    async def ask(self, turn: Turn[ImportDraft]) -> None:
        kind = _kind(turn)
        columns = turn.services.imports.columns(await turn.ctx.actor(turn.update), kind)
        listed = "\n".join(
            turn.t("import.column_required" if c.required else "import.column_optional",
                   name=column_name(turn.texts, kind, c.key))
            for c in columns
        )  # fmt: skip
        text = turn.t("import.ask_file", kind=turn.t(f"import.kind.{kind.value}"),
                      columns=Raw(listed), mb=MAX_BYTES // (1024 * 1024))  # fmt: skip
        await turn.show(text, self.retry_markup(turn))

    async def remind(self, turn: Turn[ImportDraft]) -> None:
        """What to send, with the template: the column card is just above."""
        await turn.say(turn.t("import.upload_retry"), self.retry_markup(turn))

    async def on_text(self, turn: Turn[ImportDraft], text: str) -> Move:
        return Flow.REMIND

    def retry_markup(self, turn: Turn[ImportDraft]) -> Markup:
        return inline([[(turn.t("import.template_button"), turn.choice("template"))],
                       turn.nav_row()])  # fmt: skip

    async def typed_labels(self, turn: Turn[ImportDraft]) -> Sequence[tuple[str, str]]:
        return [(turn.t("import.template_button"), "template")]

    async def on_choice(self, turn: Turn[ImportDraft], value: str) -> Move:
        if value != "template":
            return Flow.RETRY
        kind = _kind(turn)
        data = turn.services.imports.template(await turn.ctx.actor(turn.update), kind, turn.texts)
        chat = turn.update.effective_chat
        assert chat is not None
        await turn.ctx.bot.send_document(
            chat.id, InputFile(data, filename=turn.t(f"import.file_name.{kind.value}") + XLSX),
            caption=turn.t("import.template_caption", kind=turn.t(f"import.kind.{kind.value}")),
        )  # fmt: skip
        return Flow.STAY

    async def on_document(self, turn: Turn[ImportDraft], document: Document) -> Move:
        if document.file_size is not None and document.file_size > MAX_BYTES:
            raise InvalidInput("import.file_too_large", mb=MAX_BYTES // (1024 * 1024))
        name = document.file_name or ""
        if name.lower().endswith(".xls"):  # refused before download
            raise InvalidInput("import.file_xls")
        if not name.lower().endswith(SPREADSHEETS + TEXT_TABLES):
            raise InvalidInput("import.file_kind")
        data = await _download(turn, document.file_id)
        progress = await _Progress.start(turn, turn.t("import.checking_start"))
        actor = await turn.ctx.actor(turn.update)
        try:
            report = await turn.services.imports.preview(actor, _kind(turn), data, name, progress)
        except Exception:
            await progress.remove()  # a file that cannot be read: its answer says only that
            raise
        await progress.edit(turn.t("import.checked"))
        await turn.say(report_text(turn.texts, report))
        if not report.clean:
            await _send_errors(turn, report)
            await turn.say(turn.t("import.ask_corrected"), self.retry_markup(turn))
            return Flow.STAY
        if report.changes == 0:
            await turn.say(turn.t("import.nothing_to_change"), await turn.resting_keyboard())
            return Flow.END
        draft = turn.draft
        draft.file_id, draft.file_name = document.file_id, name
        draft.added = sum(o.added for o in report.outcomes)
        draft.changed = sum(o.changed for o in report.outcomes)
        draft.unchanged = sum(o.unchanged for o in report.outcomes)
        return Goto("confirm")


class ConfirmStep(Step[ImportDraft]):
    """Save or cancel; the save checks the file again and writes all of it or nothing."""

    async def ask(self, turn: Turn[ImportDraft]) -> None:
        d = turn.draft
        text = turn.t("import.confirm", file=shorten(d.file_name, 60), added=d.added,
                      changed=d.changed, unchanged=d.unchanged)  # fmt: skip
        await turn.say(text, inline([
            [(turn.t("import.save_button"), turn.choice("save"))],
            [(turn.t("import.cancel_button"), turn.nav(NavOp.CANCEL))],
        ]))  # fmt: skip

    async def typed_labels(self, turn: Turn[ImportDraft]) -> Sequence[tuple[str, str]]:
        return [(turn.t("import.save_button"), "save")]

    async def on_choice(self, turn: Turn[ImportDraft], value: str) -> Move:
        return Flow.FINISH if value == "save" else Flow.RETRY


async def _download(turn: Turn[ImportDraft], file_id: str) -> bytes:
    try:
        file = await turn.ctx.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())
    except BadRequest as exc:  # a file too large for getFile, or one gone
        raise InvalidInput("import.download_failed") from exc


async def _send_errors(turn: Turn[ImportDraft], report: ImportReport) -> None:
    """Every error in a workbook, when the chat shows only the first ones."""
    if report.error_count <= ERRORS_SHOWN:
        return
    actor = await turn.ctx.actor(turn.update)
    data = turn.services.imports.error_report(actor, report, turn.texts)
    chat = turn.update.effective_chat
    assert chat is not None
    await turn.ctx.bot.send_document(
        chat.id, InputFile(data, filename=turn.t("import.errors_file_name") + XLSX),
        caption=turn.t("import.errors_caption", count=report.error_count),
    )  # fmt: skip


async def _save(turn: Turn[ImportDraft]) -> None:
    """Downloads the file again and saves it, checked again: all of it, or nothing. One
    message says so and counts the rows, in place of the question."""
    draft = turn.draft
    progress = await _Progress.start(turn, turn.t("import.saving",
                                                  file=shorten(draft.file_name, 60)))  # fmt: skip
    data = await _download(turn, draft.file_id)
    actor = await turn.ctx.actor(turn.update)
    try:
        report = await turn.services.imports.save(actor, _kind(turn), data, draft.file_name,
                                                  progress)  # fmt: skip
    except Exception:
        await progress.remove()
        raise
    await progress.edit(turn.t("import.checked"))
    if not report.clean:  # what is saved changed since the dry run
        await turn.say(report_text(turn.texts, report))
        await _send_errors(turn, report)
        await turn.say(turn.t("import.not_saved"), await turn.resting_keyboard())
        return
    lines = [turn.t("import.saved", file=shorten(draft.file_name, 60))]
    lines += [_counts(turn.texts, outcome) for outcome in report.outcomes]
    await turn.say("\n".join(lines), await turn.resting_keyboard())


IMPORT = register(
    Dialogue(
        name="import", draft=ImportDraft,
        steps=[KindStep("kind", "kind"), FileStep("file"), ConfirmStep("confirm")],
        finish=_save, cancelled="import.cancelled", interrupted="import.cancelled",
        timeout=timedelta(hours=2), restart_command="import",
    )
)  # fmt: skip


async def start(update: Update, ctx: BotContext) -> None:
    """/import: refused to anyone but administrators before anything is asked."""
    ctx.services.imports.kinds(await ctx.actor(update))
    await begin(update, ctx, IMPORT, ImportDraft())


def handlers() -> list[Handler]:
    return [command("import", start)]
