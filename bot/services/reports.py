"""Progress summaries against the plan: what the training office reports upward.

Administrators see the province; unit heads their units and sub-units (their staff's
learning, without the province's targets); anyone else is refused, on every call.
"""

from __future__ import annotations

from datetime import date, tzinfo

from bot.clock import Clock
from bot.dates import parse_day, split_day_range
from bot.domain import Actor
from bot.errors import InvalidInput, NotFound
from bot.report import (
    ClassReport,
    Coverage,
    Covered,
    NamedCoverage,
    Period,
    SessionFigures,
    Summary,
    choices,
    plan_progress,
    unit_coverage,
)
from bot.services.access import staff_scope
from bot.training import YOUNG_UNDER, PriorityGroup
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.plans import PlanRepository
from storage.repositories.reports import ReportRepository

#: "01/10/2026 - 31/12/2026", "1/10 đến 31/12": two days (with / or .) and a dash or word.
DATES_MAX = 40


class ReportService:
    def __init__(
        self, db: Database, clock: Clock, tz: tzinfo, young_under: int = YOUNG_UNDER
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.young_under = young_under

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def periods(self, actor: Actor) -> list[Period]:
        staff_scope(actor)
        return choices(self.today())

    def typed_year(self, actor: Actor, raw: str) -> Period | None:
        """A year typed alone ("2025"), or None when it is something else."""
        staff_scope(actor)
        text = raw.strip()
        if text.isascii() and text.isdigit() and len(text) == 4:
            return Period.from_token(f"y{text}")
        return None

    def typed_period(self, actor: Actor, raw: str) -> Period:
        """Dates typed as "01/10/2026 - 31/12/2026" (a year left out is this year's)."""
        staff_scope(actor)
        found = split_day_range(raw) if len(raw) <= DATES_MAX else None
        if found is None:
            raise InvalidInput("report.dates_usage")
        year = self.today().year
        return Period.dates(parse_day(found[0], year), parse_day(found[1], year))

    # --- plan against actual and attendance -------------------------------------------------

    async def summary(self, actor: Actor, period: Period) -> Summary:
        scope = staff_scope(actor)
        now = self.clock.now()
        start, end = period.bounds(self.tz)
        year_start = period.year_start(self.tz)
        async with self.db.read() as conn:
            plan = await PlanRepository(conn).of_year(period.year)
            repo = ReportRepository(conn)
            facts = await repo.class_facts(year_start, end, scope)
            classes = await repo.class_marks(start, end, now, scope)
            current = start <= now < end
            at_risk = await repo.at_risk(scope, now) if current else []
        kinds, months = plan_progress(
            facts, plan, scoped=not scope.is_province, start=start, end=end,
            year_start=year_start, months=period.months(), tz=self.tz,
        )  # fmt: skip
        return Summary(
            period=period, plan=plan, scoped=not scope.is_province, generated_at=now,
            kinds=kinds, months=months, classes=classes, at_risk=at_risk, current=current,
        )  # fmt: skip

    async def sessions(self, actor: Actor, period: Period) -> list[SessionFigures]:
        """Every session held in the period with its marks (the workbook's longest sheet)."""
        scope = staff_scope(actor)
        start, end = period.bounds(self.tz)
        async with self.db.read() as conn:
            return await ReportRepository(conn).session_marks(start, end, self.clock.now(), scope)

    async def class_report(self, actor: Actor, class_id: int) -> ClassReport:
        """One class in detail. A unit head sees a class their staff learn in, and only
        their staff's figures; any other class is unknown to them."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            training = await ClassRepository(conn).get(class_id)
            statuses, sessions, standings, outcomes = await ReportRepository(conn).class_detail(
                class_id, scope
            )
        if not scope.is_province and not (statuses or outcomes):
            raise NotFound("error.class_unknown")
        return ClassReport(training, not scope.is_province, self.clock.now(), statuses,
                           sessions, standings, outcomes)  # fmt: skip

    # --- coverage ---------------------------------------------------------------------------

    async def coverage(self, actor: Actor, period: Period) -> Coverage:
        scope = staff_scope(actor)
        now = self.clock.now()
        start, end = period.bounds(self.tz)
        async with self.db.read() as conn:
            plan = await PlanRepository(conn).of_year(period.year)
            repo = ReportRepository(conn)
            rows = await repo.coverage(
                plan.id if plan else None, start, end, scope,
                year=period.year, young_under=self.young_under,
            )  # fmt: skip
            tree = await repo.units_in(scope)
            grade_names = await repo.grade_names([k for k in rows.grades if k is not None])
            title_names = await repo.title_names([k for k in rows.titles if k is not None])
        groups = {
            group: sum((g.get(group, Covered()) for g in rows.unit_groups.values()), Covered())
            for group in PriorityGroup
        }
        return Coverage(
            period=period,
            scoped=not scope.is_province,
            generated_at=now,
            young_under=self.young_under,
            total=sum(rows.units.values(), Covered()),
            units=unit_coverage(tree, rows.units, rows.unit_groups),
            groups=[NamedCoverage(g.value, None, c) for g, c in groups.items()],
            grades=_named(rows.grades, grade_names),
            titles=_named(rows.titles, title_names),
        )


def _named(rows: dict[int | None, Covered], names: dict[int, str]) -> list[NamedCoverage]:
    """Named rows in the code list's order (grades from the highest, positions as listed),
    those without one last."""
    known = [NamedCoverage(str(k), names.get(k, str(k)), rows[k])
             for k in sorted(k for k in rows if k is not None)]  # fmt: skip
    blank = [NamedCoverage(None, None, rows[None])] if None in rows else []
    return known + blank
