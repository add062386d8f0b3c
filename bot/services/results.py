"""Results at the end of a class: each learner's outcome, recorded by administrators one by
one or from the workbook the office fills.

A completed result needs the class's attendance threshold; an administrator may complete a
learner below it, as an exception that is audited with the attendance it was decided on. A
completed result is the learner's completion of the programme, which the duplicated-training
rule of enrolment reads. A workbook is checked whole, every row, and saved in one transaction,
or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import results_workbook
from bot.attendance import Outcome, Standing
from bot.clock import Clock
from bot.domain import Actor, AuditAction, Role
from bot.errors import Conflict, InvalidInput, NotFound
from bot.i18n import Texts
from bot.results_workbook import Column, RowError, TemplateRow
from bot.services.access import require
from bot.training import ClassStatus, TrainingClass
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.results import Result, ResultRepository

#: Row errors listed at most in one answer: the first ones are enough to fix a workbook.
ERRORS_SHOWN = 20


class BelowThreshold(Conflict):
    """A completion asked for a learner below the attendance threshold, without an exception."""

    key = "results.below_threshold"


@dataclass(frozen=True, slots=True)
class SheetLine:
    """A learner of the class, their attendance and their result so far."""

    person_id: int
    name: str
    unit: str | None
    standing: Standing
    result: Result | None


@dataclass(frozen=True, slots=True)
class Sheet:
    training_class: TrainingClass
    lines: list[SheetLine]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a workbook did: saved and unchanged rows, or (nothing saved) what is wrong."""

    saved: int = 0
    unchanged: int = 0
    overrides: int = 0
    errors: tuple[RowError, ...] = ()
    error_count: int = 0

    @property
    def refused(self) -> bool:
        return self.error_count > 0


class ResultsService:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    async def sheet(self, actor: Actor, class_id: int) -> Sheet:
        """Every learner enrolled in the class, with their attendance and result."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            training_class = await ClassRepository(conn).get(class_id)
            return Sheet(training_class, await self._lines(conn, training_class))

    async def line(self, actor: Actor, class_id: int, person_id: int) -> tuple[Sheet, SheetLine]:
        """One learner of the class (the sheet carries only them)."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            training_class = await ClassRepository(conn).get(class_id)
            lines = await self._lines(conn, training_class, person_id)
        if not lines:
            raise NotFound("results.not_enrolled")
        return Sheet(training_class, lines), lines[0]

    async def record(
        self, actor: Actor, class_id: int, person_id: int, outcome: Outcome, *,
        override: bool = False,
    ) -> Result:  # fmt: skip
        """Records one learner's result; a completion below the threshold only as an
        exception (`override`). The same result again changes nothing."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            training_class = await ClassRepository(conn).lock(class_id)
            self._check_ended(training_class)
            lines = await self._lines(conn, training_class, person_id)
            if not lines:
                raise NotFound("results.not_enrolled")
            line = lines[0]
            standing = line.standing
            if outcome.completed and not standing.met and not override:
                raise BelowThreshold(name=line.name, attended=standing.attended,
                                     total=standing.total, required=standing.required)  # fmt: skip
            return await self._save(conn, actor, training_class, line, outcome, override)

    async def template(self, actor: Actor, class_id: int, texts: Texts) -> bytes:
        """The workbook of the class to fill in, in the administrator's language."""
        sheet = await self.sheet(actor, class_id)
        c = sheet.training_class
        rows = [
            TemplateRow(
                line.person_id, line.name, line.unit, line.standing.attended,
                line.standing.total, line.standing.met,
                line.result.outcome if line.result else None,
                line.result.override if line.result else False,
            )
            for line in sheet.lines
        ]  # fmt: skip
        return results_workbook.template(texts, c.code, c.name, c.completion_pct, rows)

    async def import_results(self, actor: Actor, class_id: int, data: bytes) -> ImportReport:
        """Saves the results of a filled workbook, every row or (any error) none."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            code = (await ClassRepository(conn).get(class_id)).code
        filled = results_workbook.read(data, code)
        if not filled.rows and not filled.errors:
            raise InvalidInput("results.nothing_filled")
        errors = list(filled.errors)
        async with self.db.write() as conn:
            training_class = await ClassRepository(conn).lock(class_id)
            self._check_ended(training_class)
            lines = {line.person_id: line for line in await self._lines(conn, training_class)}
            known = await ResultRepository(conn).existing(r.person_id for r in filled.rows)
            for row in filled.rows:
                line = lines.get(row.person_id)
                if line is None:
                    key = "results.err_not_enrolled" if row.person_id in known else (
                        "results.err_unknown_person")  # fmt: skip
                    errors.append(RowError(row.row, Column.PERSON, key, {"id": row.person_id}))
                elif row.outcome.completed and not line.standing.met and not row.override:
                    errors.append(RowError(row.row, Column.OUTCOME, "results.err_below", {
                        "name": line.name, "attended": line.standing.attended,
                        "total": line.standing.total, "required": line.standing.required,
                    }))  # fmt: skip
            if errors:
                errors.sort(key=lambda e: (e.row, e.column.position))
                return ImportReport(errors=tuple(errors[:ERRORS_SHOWN]), error_count=len(errors))
            saved = unchanged = overrides = 0
            for row in filled.rows:
                line = lines[row.person_id]
                override = row.override and row.outcome.completed and not line.standing.met
                if line.result is not None and (line.result.outcome, line.result.override) == (
                    row.outcome,
                    override,
                ):
                    unchanged += 1
                    continue
                await self._save(conn, actor, training_class, line, row.outcome, row.override)
                saved += 1
                overrides += override
        return ImportReport(saved=saved, unchanged=unchanged, overrides=overrides)

    # --- shared ---------------------------------------------------------------------------------

    def _check_ended(self, training_class: TrainingClass) -> None:
        if training_class.status is ClassStatus.CANCELLED:
            raise Conflict("results.class_cancelled")
        ends = training_class.ends_at
        if ends is None or ends > self.clock.now():
            raise Conflict("results.not_ended", ends=ends or "—")

    async def _lines(
        self, conn: AsyncConnection, training_class: TrainingClass, person_id: int | None = None
    ) -> list[SheetLine]:
        learners = await ResultRepository(conn).learners(training_class.id)
        if person_id is not None:
            learners = [learner for learner in learners if learner.person_id == person_id]
        standings = await AttendanceRepository(conn).standings(
            training_class.id, training_class.completion_pct, [p.person_id for p in learners]
        )
        recorded = await ResultRepository(conn).of_class(training_class.id)
        return [
            SheetLine(p.person_id, p.name, p.unit, standings[p.person_id],
                      recorded.get(p.person_id))
            for p in learners
        ]  # fmt: skip

    async def _save(
        self, conn: AsyncConnection, actor: Actor, training_class: TrainingClass,
        line: SheetLine, outcome: Outcome, override: bool,
    ) -> Result:  # fmt: skip
        """Writes a result the rules allow, audited; an exception only where one is needed."""
        standing = line.standing
        override = override and outcome.completed and not standing.met
        if line.result is not None and (line.result.outcome, line.result.override) == (
            outcome,
            override,
        ):
            return line.result
        now = self.clock.now()
        result = Result(training_class.id, line.person_id, outcome, standing.attended,
                        standing.total, override, actor.telegram_id, now)  # fmt: skip
        assert training_class.ends_at is not None
        completed_on = training_class.ends_at.astimezone(self.tz).date()
        await ResultRepository(conn).put(result, training_class.programme.id, completed_on)
        audit = AuditRepository(conn)
        before = line.result.outcome.value if line.result else None
        await audit.record(
            AuditAction.RESULT_RECORDED, actor=actor.telegram_id, person_id=line.person_id,
            class_id=training_class.id, outcome={"before": before, "after": outcome.value},
            attended=standing.attended, total=standing.total,
        )  # fmt: skip
        if override:
            await audit.record(
                AuditAction.RESULT_OVERRIDE, actor=actor.telegram_id, person_id=line.person_id,
                class_id=training_class.id, outcome=outcome.value, attended=standing.attended,
                total=standing.total, required=standing.required,
            )  # fmt: skip
        return result
