"""Programmes (what a class teaches, at what level) from the office's list: added by code, or
their name and validity brought up to date; the kind of one with classes stays, since its
classes were counted under it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import AuditAction
from bot.imports.cells import (
    PROGRESS_EVERY,
    Choice,
    RowReader,
    duplicates,
    note_changes,
)
from bot.imports.model import Column, ImportKind, Outcome, Progress, RowError, SourceRow
from bot.services.planning import clean_code, clean_name, parse_count
from bot.training import ClassKind, NewProgramme, Programme
from storage.repositories.audit import AuditRepository
from storage.repositories.plans import ProgrammeRepository
from storage.repositories.training_import import TrainingImportRepository

CLASS_KINDS: Choice[ClassKind] = Choice({f"training.kind_{k.value}": k for k in ClassKind})
#: The longest validity a refresher has: ten years.
VALIDITY_MAX = 120


def parse_validity(raw: str) -> int:
    return parse_count(raw, low=1, high=VALIDITY_MAX)


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    programme: NewProgramme


class ProgrammeImporter:
    kind: ImportKind = ImportKind.PROGRAMMES
    columns: Sequence[Column] = (
        Column("code", required=True, example="CT.CV"),
        Column("name", required=True, example="Bồi dưỡng ngạch chuyên viên"),
        Column("kind", required=True, example="Bồi dưỡng theo ngạch"),
        Column("validity_months", example=""),
    )

    async def run(
        self,
        conn: AsyncConnection,
        rows: Sequence[SourceRow],
        *,
        save: bool,
        actor_telegram_id: int | None,
        progress: Progress,
    ) -> Outcome:
        outcome = Outcome(self.kind, rows=len(rows))
        found: list[_Row] = []
        for done, source in enumerate(rows, 1):
            read = RowReader(source)
            code = read.read("code", clean_code, required=True)
            name = read.read("name", clean_name, required=True)
            kind = read.read("kind", CLASS_KINDS.parse, required=True)
            validity = read.read("validity_months", parse_validity)
            outcome.errors += read.errors
            if code and name and kind and not read.errors:
                found.append(_Row(source.number, NewProgramme(code, name, kind, validity)))
            if done % PROGRESS_EVERY == 0:
                await progress(done)
        repeated = duplicates([(r.number, r.programme.code) for r in found])
        for number, first in repeated.items():
            outcome.errors.append(
                RowError(number, "code", "import.error.cell.duplicate", {"first": first})
            )
        saved = {p.code: p for p in await ProgrammeRepository(conn).all()}
        in_use = await TrainingImportRepository(conn).programmes_in_use()
        writes: list[tuple[NewProgramme, Programme | None]] = []
        for row in found:
            if row.number in repeated:
                continue
            new, old = row.programme, saved.get(row.programme.code)
            if old is None:
                outcome.added += 1
                writes.append((new, None))
                continue
            if new.kind is not old.kind and old.id in in_use:
                outcome.errors.append(
                    RowError(row.number, "kind", "import.error.programme.kind_in_use",
                             {"code": old.code})
                )  # fmt: skip
                continue
            changes = [
                (column, before, after)
                for column, before, after in (
                    ("name", old.name, new.name),
                    ("kind", old.kind, new.kind),
                    ("validity_months", old.validity_months, new.validity_months),
                )
                if before != after
            ]
            if changes:
                outcome.changed += 1
                note_changes(outcome, row.number, changes, who=new.code)
                writes.append((new, old))
            else:
                outcome.unchanged += 1
        if save and outcome.clean:
            await self._save(conn, writes, actor_telegram_id)
            outcome.saved = True
        outcome.errors.sort(key=lambda e: e.row)
        return outcome

    async def _save(
        self,
        conn: AsyncConnection,
        writes: Sequence[tuple[NewProgramme, Programme | None]],
        actor: int | None,
    ) -> None:
        programmes, audit = ProgrammeRepository(conn), AuditRepository(conn)
        imports = TrainingImportRepository(conn)
        for new, old in writes:
            if old is None:
                programme_id = await programmes.add(new)
                await audit.record(
                    AuditAction.PROGRAMME_SAVED, actor=actor, programme_id=programme_id,
                    code=new.code, validity_months=new.validity_months, source="import",
                )  # fmt: skip
                continue
            await imports.update_programme(old.id, new.name, new.kind.value, new.validity_months)
            await audit.record(
                AuditAction.PROGRAMME_SAVED, actor=actor, programme_id=old.id, code=new.code,
                before={"name": old.name, "kind": old.kind.value,
                        "validity_months": old.validity_months},
                after={"name": new.name, "kind": new.kind.value,
                       "validity_months": new.validity_months},
                source="import",
            )  # fmt: skip
