"""Spreadsheet imports for administrators: a dry run first, then the save, all or nothing.

One code path for both (bot/imports/model.py): the dry run runs the importers without
saving in a transaction that is rolled back; the save runs them again in a write
transaction, rolled back when any row has an error, so a file with one bad row saves
nothing. A roster workbook may carry a units sheet, applied first in the same transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Actor, AuditAction, Role
from bot.errors import InvalidInput
from bot.i18n import LANGUAGES, Texts, t
from bot.imports import reading, workbooks
from bot.imports.model import Column, Importer, ImportKind, Outcome, RowError
from bot.imports.reading import Matched
from bot.services.access import require
from bot.text_search import fold
from storage.database import Database
from storage.repositories.audit import AuditRepository


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a file holds or did: an outcome per sheet applied (units before the roster) and
    the headers no column has."""

    kind: ImportKind
    file_name: str
    outcomes: list[Outcome]
    ignored: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(o.clean for o in self.outcomes)

    @property
    def error_count(self) -> int:
        return sum(len(o.errors) for o in self.outcomes)

    @property
    def changes(self) -> int:
        return sum(o.added + o.changed for o in self.outcomes)

    @property
    def saved(self) -> bool:
        return any(o.saved for o in self.outcomes)


#: Called now and then with the rows checked so far and the rows in the file.
Checked = Callable[[int, int], Awaitable[None]]


class _DryRun(Exception):  # not an error: the way out that rolls back
    """Carries the dry run's outcomes out of its transaction, rolling it back."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__()
        self.outcomes = outcomes


def _forms(key: str) -> set[str]:
    return {fold(t(lang, key)) for lang in LANGUAGES}


class ImportService:
    def __init__(self, db: Database, importers: Mapping[ImportKind, Importer]) -> None:
        self.db = db
        self.importers = importers

    def kinds(self, actor: Actor) -> list[ImportKind]:
        """The kinds offered, in the registry's order (bot/imports/kinds.py)."""
        require(actor, Role.ADMIN)
        return list(self.importers)

    def columns(self, actor: Actor, kind: ImportKind) -> Sequence[Column]:
        return self._importer(actor, kind).columns

    def template(self, actor: Actor, kind: ImportKind, texts: Texts) -> bytes:
        """The kind's template workbook, in the administrator's language."""
        return workbooks.template(texts, self._importer(actor, kind))

    def error_report(self, actor: Actor, report: ImportReport, texts: Texts) -> bytes:
        require(actor, Role.ADMIN)
        return workbooks.error_report(texts, report.outcomes)

    async def preview(
        self, actor: Actor, kind: ImportKind, data: bytes, file_name: str, progress: Checked
    ) -> ImportReport:
        """What the file would add and change, and what is wrong in it; nothing is saved."""
        self._importer(actor, kind)
        plan, ignored = await self._plan(kind, data, file_name)
        writes = len(plan) > 1  # the units sheet is applied so that the roster sees them
        try:
            async with self.db.write() if writes else self.db.read() as conn:
                outcomes = []
                for index in range(len(plan)):
                    outcome = await self._run(
                        conn, plan, index, save=writes and index < len(plan) - 1,
                        actor=actor, progress=progress,
                    )  # fmt: skip
                    outcome.saved = False
                    outcomes.append(outcome)
                raise _DryRun(outcomes)
        except _DryRun as done:
            return ImportReport(kind, file_name, done.outcomes, ignored)

    async def save(
        self, actor: Actor, kind: ImportKind, data: bytes, file_name: str, progress: Checked
    ) -> ImportReport:
        """Saves the file, every row, or (any error) nothing; audited."""
        self._importer(actor, kind)
        plan, ignored = await self._plan(kind, data, file_name)
        try:
            async with self.db.write() as conn:
                outcomes = [
                    await self._run(conn, plan, index, save=True, actor=actor, progress=progress)
                    for index in range(len(plan))
                ]
                if not all(o.clean for o in outcomes):
                    raise _DryRun(outcomes)
                if any(o.saved for o in outcomes):
                    await AuditRepository(conn).record(
                        AuditAction.IMPORT_SAVED, actor=actor.telegram_id,
                        import_kind=kind.value,
                        file=file_name[:100],
                        counts={o.kind.value: {"rows": o.rows, "added": o.added,
                                               "changed": o.changed} for o in outcomes},
                    )  # fmt: skip
        except _DryRun as refused:
            for outcome in refused.outcomes:
                outcome.saved = False
            return ImportReport(kind, file_name, refused.outcomes, ignored)
        return ImportReport(kind, file_name, outcomes, ignored)

    # --- shared ---------------------------------------------------------------------------------

    def _importer(self, actor: Actor, kind: ImportKind) -> Importer:
        require(actor, Role.ADMIN)
        importer = self.importers.get(kind)
        if importer is None:
            raise InvalidInput("import.kind_unknown")
        return importer

    async def _plan(
        self, kind: ImportKind, data: bytes, file_name: str
    ) -> tuple[list[tuple[Importer, Matched]], list[str]]:
        """The sheets to apply, in order, read in a worker thread (50,000 rows take a
        moment the bot's other users should not wait for)."""
        return await asyncio.to_thread(self._read, kind, data, file_name)

    def _read(
        self, kind: ImportKind, data: bytes, file_name: str
    ) -> tuple[list[tuple[Importer, Matched]], list[str]]:
        tables = reading.read_tables(data, file_name)
        guide, units_sheet = _forms("import.guide_sheet"), _forms("import.units_sheet")
        data_tables = [table for table in tables if fold(table.name) not in guide]
        plan: list[tuple[Importer, Matched]] = []
        units = self.importers.get(ImportKind.UNITS)
        if kind is ImportKind.ROSTER and units is not None:
            for table in data_tables:
                if fold(table.name) in units_sheet:
                    plan.append((units, reading.match(table, units.kind, units.columns)))
            data_tables = [table for table in data_tables if fold(table.name) not in units_sheet]
        importer = self.importers[kind]
        for table in data_tables:  # the first sheet with anything in it
            matched = reading.match(table, kind, importer.columns)
            if matched.header_row is not None:
                break
        else:
            raise InvalidInput("import.empty")
        if not matched.rows and not matched.missing:
            raise InvalidInput("import.empty")
        plan.append((importer, matched))
        ignored = list(dict.fromkeys(matched.ignored))
        return plan, ignored

    async def _run(
        self, conn: AsyncConnection, plan: Sequence[tuple[Importer, Matched]], index: int, *,
        save: bool, actor: Actor, progress: Checked,
    ) -> Outcome:  # fmt: skip
        """One sheet of the plan; progress counts the rows of every sheet."""
        importer, matched = plan[index]
        if matched.missing:
            errors = [RowError(matched.header_row or 1, key, "import.err.missing_column")
                      for key in matched.missing]  # fmt: skip
            return Outcome(importer.kind, rows=len(matched.rows), errors=errors)
        before = sum(len(m.rows) for _, m in plan[:index])
        total = sum(len(m.rows) for _, m in plan)

        async def checked(done: int) -> None:
            await progress(before + done, total)

        return await importer.run(
            conn, matched.rows, save=save, actor_telegram_id=actor.telegram_id, progress=checked
        )
