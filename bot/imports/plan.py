"""The yearly plan from the office's spreadsheet: a row per year and kind of class ("Tổng" for
the whole plan) with its targets, and the approval once given. Targets of an approved plan
may still be revised (audited, as in the chat); its approval itself is not rewritten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.dates import parse_day
from bot.domain import AuditAction
from bot.imports.cells import PROGRESS_EVERY, Choice, RowReader, duplicates, note_changes
from bot.imports.model import Column, ImportKind, Outcome, Progress, RowError, SourceRow
from bot.services.planning import check_approval, clean_name, parse_count, parse_year
from bot.training import ALL_KINDS, ClassKind, NewPlan, Plan, Target
from storage.repositories.audit import AuditRepository
from storage.repositories.plans import PlanRepository

KINDS: Choice[str] = Choice(
    {f"training.kind_{k}": k for k in (ALL_KINDS, *(kind.value for kind in ClassKind))}
)


@dataclass(frozen=True, slots=True)
class _TargetRow:
    number: int
    year: int
    kind: str
    target: Target


@dataclass(slots=True)
class _PlanRows:
    """What the rows of one year say of the plan as a whole (the same on each row)."""

    name: str
    approved_on: date | None
    approved_by: str | None
    first: int
    targets: list[_TargetRow] = field(default_factory=list)


class PlanImporter:
    kind: ImportKind = ImportKind.PLAN
    columns: Sequence[Column] = (
        Column("year", required=True, example="2026"),
        Column("name", required=True, example="Kế hoạch đào tạo, bồi dưỡng CBCCVC năm 2026"),
        Column("kind", required=True, example="Tổng"),
        Column("classes", required=True, example="24"),
        Column("learners", required=True, example="2668"),
        Column("approved_on", example="15/01/2026"),
        Column("approved_by", example="Ban Thường vụ Tỉnh ủy"),
    )

    def __init__(self, clock: Clock, tz: tzinfo) -> None:
        self.clock = clock
        self.tz = tz

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
        today = self.clock.now().astimezone(self.tz).date()
        years: dict[int, _PlanRows] = {}
        keys: list[tuple[int, tuple[int, str]]] = []
        for done, source in enumerate(rows, 1):
            read = RowReader(source)
            found = self._read(read, today, years)
            outcome.errors += read.errors
            if found is not None:
                keys.append((source.number, (found.year, found.kind)))
            if done % PROGRESS_EVERY == 0:
                await progress(done)
        for number, first in duplicates(keys).items():
            outcome.errors.append(
                RowError(number, "kind", "import.error.cell.duplicate", {"first": first})
            )
        saved = {plan.year: plan for plan in await PlanRepository(conn).all()}
        for year, plan_rows in sorted(years.items()):
            self._compare(outcome, plan_rows, saved.get(year))
        if save and outcome.clean:
            for year, plan_rows in sorted(years.items()):
                await self._save(conn, plan_rows, year, saved.get(year), actor_telegram_id)
            outcome.saved = True
        outcome.errors.sort(key=lambda e: e.row)
        return outcome

    def _read(self, read: RowReader, today: date, years: dict[int, _PlanRows]) -> _TargetRow | None:
        number = read.row.number
        year = read.read("year", lambda raw: parse_year(raw, today), required=True)
        name = read.read("name", clean_name, required=True)
        kind = read.read("kind", KINDS.parse, required=True)
        classes = read.read("classes", parse_count, required=True)
        learners = read.read("learners", parse_count, required=True)
        on = read.read("approved_on", lambda raw: _approval_day(raw, today))
        by = read.read("approved_by", clean_name)
        if bool(read.text("approved_on")) != bool(read.text("approved_by")):
            empty = "approved_by" if read.text("approved_on") else "approved_on"
            read.fail(empty, "import.error.plan.approval_pair")
        if year is None or name is None:
            return None
        plan_rows = years.setdefault(year, _PlanRows(name, on, by, number))
        if name != plan_rows.name:
            read.fail("name", "import.error.plan.name_differs", year=year, first=plan_rows.first)
        if (on, by) != (plan_rows.approved_on, plan_rows.approved_by) and not read.errors:
            read.fail("approved_on", "import.error.plan.approval_differs", year=year,
                      first=plan_rows.first)  # fmt: skip
        if kind is None or classes is None or learners is None or read.errors:
            return None
        found = _TargetRow(number, year, kind, Target(classes, learners))
        plan_rows.targets.append(found)
        return found

    def _compare(self, outcome: Outcome, plan_rows: _PlanRows, plan: Plan | None) -> None:
        """Counts each target row added, changed or as it was; a change to the plan itself
        (its name, its approval) counts on the year's first row."""
        plan_changes: list[tuple[str, object, object]] = []
        if plan is not None:
            if plan.name != plan_rows.name:
                plan_changes.append(("name", plan.name, plan_rows.name))
            if plan_rows.approved_on is not None:
                if not plan.approved:
                    plan_changes.append(("approved_on", None, plan_rows.approved_on))
                elif (plan.approved_on, plan.approved_by) != (
                    plan_rows.approved_on,
                    plan_rows.approved_by,
                ):
                    outcome.errors.append(
                        RowError(
                            plan_rows.first,
                            "approved_on",
                            "import.error.plan.approved_already",
                            {"year": plan.year, "day": plan.approved_on, "by": plan.approved_by},
                        )
                    )
        for index, row in enumerate(plan_rows.targets):
            before = plan.targets.get(row.kind) if plan is not None else None
            changes = list(plan_changes) if index == 0 else []
            if before is not None:
                changes += [
                    (column, old, new)
                    for column, old, new in (
                        ("classes", before.classes, row.target.classes),
                        ("learners", before.learners, row.target.learners),
                    )
                    if old != new
                ]
            if plan is None or before is None:
                outcome.added += 1
            elif changes:
                outcome.changed += 1
                note_changes(outcome, row.number, changes)
            else:
                outcome.unchanged += 1

    async def _save(
        self,
        conn: AsyncConnection,
        plan_rows: _PlanRows,
        year: int,
        plan: Plan | None,
        actor: int | None,
    ) -> None:
        repo, audit = PlanRepository(conn), AuditRepository(conn)
        targets = {row.kind: row.target for row in plan_rows.targets}
        if plan is None:
            plan_id = await repo.add(
                NewPlan(year, plan_rows.name, plan_rows.approved_on, plan_rows.approved_by,
                        targets)
            )  # fmt: skip
            await audit.record(
                AuditAction.PLAN_SAVED, actor=actor, plan_id=plan_id, year=year,
                targets=_targets_json(targets), approved=plan_rows.approved_on is not None,
                source="import",
            )  # fmt: skip
            return
        if plan.name != plan_rows.name:
            await repo.update(plan.id, name=plan_rows.name)
            await audit.record(AuditAction.PLAN_SAVED, actor=actor, plan_id=plan.id, year=year,
                               name={"before": plan.name, "after": plan_rows.name},
                               source="import")  # fmt: skip
        revised = {k: t for k, t in targets.items() if plan.targets.get(k) != t}
        if revised:
            await repo.set_targets(plan.id, revised)
            await audit.record(
                AuditAction.PLAN_TARGETS_SET, actor=actor, plan_id=plan.id,
                before=_targets_json({k: plan.targets[k] for k in revised if k in plan.targets}),
                after=_targets_json(revised), source="import",
            )  # fmt: skip
        if not plan.approved and plan_rows.approved_on and plan_rows.approved_by:
            await repo.approve(plan.id, plan_rows.approved_on, plan_rows.approved_by)
            await audit.record(
                AuditAction.PLAN_APPROVED, actor=actor, plan_id=plan.id,
                on=plan_rows.approved_on.isoformat(), by=plan_rows.approved_by, source="import",
            )  # fmt: skip


def _approval_day(raw: str, today: date) -> date:
    day = parse_day(raw, today.year)
    check_approval(day, today)
    return day


def _targets_json(targets: dict[str, Target]) -> dict[str, list[int]]:
    return {kind: [t.classes, t.learners] for kind, t in targets.items()}
