"""A progress report as files: one workbook with a sheet per breakdown, and a chart per view.

The figures come from bot.services.reports (Summary, Coverage, the sessions); the texts from
the catalogs, in the reader's language; the drawing and the writing from bot.report_charts
and bot.report_workbook. Both run in a worker thread: nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from bot.i18n import Texts
from bot.report import (
    Coverage,
    Covered,
    NamedCoverage,
    Period,
    ReportView,
    SessionFigures,
    Summary,
    share,
)
from bot.report_text import group_label, kind_label, period_name
from bot.report_workbook import Column, Cover, Kind, Sheet, Value, write_workbook
from bot.text_search import fold
from bot.training import ALL_KINDS

#: The classes a chart of attendance shows: the lowest rates, where the office should look.
CHART_CLASSES = 15
#: The units a coverage chart shows: those with the lowest share of their staff trained.
CHART_UNITS = 15
#: Completion needs this share of sessions by default: the line drawn on attendance charts.
CHART_THRESHOLD = 0.8


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one report's files are made of."""

    summary: Summary
    coverage: Coverage
    sessions: Sequence[SessionFigures]
    scope: str  # the province, or the unit head's units
    author: str


def file_name(texts: Texts, period: Period, extension: str) -> str:
    """ "bao-cao-tien-do-nam-2026.xlsx": folded, no spaces."""
    words = fold(f"{texts('report.file_name')} {period_name(texts, period)}")
    return "-".join("".join(c if c.isalnum() else " " for c in words).split()) + extension


def chart_name(texts: Texts, period: Period, view: ReportView) -> str:
    return file_name(texts, period, f"-{view.name.lower()}.png")


# --- the workbook -------------------------------------------------------------------------------


def workbook(path: Path, texts: Texts, data: ReportData, tz: tzinfo) -> Path:
    summary, coverage = data.summary, data.coverage
    period = summary.period
    c = _columns(texts)
    cover = Cover(
        name=texts("report.sheet_cover"),
        title=texts("report.workbook_title"),
        lines=[
            (texts("report.cover_scope"), data.scope),
            (texts("report.cover_period"), period_name(texts, period)),
            (texts("report.cover_first"), period.first),
            (texts("report.cover_last"), period.last),
            (texts("report.cover_plan"), summary.plan.name if summary.plan else "—"),
            (texts("report.cover_generated"), summary.generated_at),
            (texts("report.cover_author"), data.author),
            (texts("report.cover_definitions"), texts("report.definitions")),
        ],
    )
    sheets = [
        Sheet(texts("report.sheet_kinds"), c.kinds, _kinds(texts, summary),
              notes=[texts("report.note_kinds", last=period.last)]),
        Sheet(texts("report.sheet_months"), c.months, _months(summary),
              notes=[texts("report.note_months", carried=_carried(summary))]),
        Sheet(texts("report.sheet_classes"), c.classes, _classes(texts, summary),
              totals=_marks_total(texts, summary)),
        Sheet(texts("report.sheet_sessions"), c.sessions, _sessions(data.sessions),
              totals=_sessions_total(texts, data.sessions)),
        Sheet(texts("report.sheet_risk"), c.risk, _risk(texts, summary)),
        Sheet(texts("report.sheet_units"), c.units, _units(coverage),
              totals=[texts("report.total"), None, coverage.total.staff, coverage.total.trained,
                      coverage.total.rate, coverage.total.staff, coverage.total.trained]),
        Sheet(texts("report.sheet_untrained"), c.untrained,
              ([u.name, u.own.staff] for u in coverage.untrained_units)),
        Sheet(texts("report.sheet_groups"), c.covered,
              (_covered_row(group_label(texts, g.key or "", coverage.young_under), g.covered)
               for g in coverage.groups)),
        Sheet(texts("report.sheet_grades"), c.covered,
              _named(texts, coverage.grades, "report.no_grade"),
              totals=_covered_row(texts("report.total"), coverage.total)),
        Sheet(texts("report.sheet_titles"), c.covered,
              _named(texts, coverage.titles, "report.no_title"),
              totals=_covered_row(texts("report.total"), coverage.total)),
    ]  # fmt: skip
    return write_workbook(path, cover, sheets, tz)


@dataclass(frozen=True, slots=True)
class _Columns:
    kinds: list[Column]
    months: list[Column]
    classes: list[Column]
    sessions: list[Column]
    risk: list[Column]
    units: list[Column]
    untrained: list[Column]
    covered: list[Column]


def _columns(texts: Texts) -> _Columns:
    def col(key: str, width: float = 12, kind: Kind = Kind.INT) -> Column:
        return Column(texts(key), width, kind)

    text, pct = Kind.TEXT, Kind.PERCENT
    marks = [
        col("report.column.present"),
        col("report.column.late"),
        col("report.column.excused"),
        col("report.column.absent"),
        col("report.column.rate", 11, pct),
    ]
    covered = [
        col("report.column.staff"),
        col("report.column.trained"),
        col("report.column.coverage", 11, pct),
    ]
    return _Columns(
        kinds=[
            col("report.column.kind", 40, text),
            col("report.column.target_classes"),
            col("report.column.managed"),
            col("report.column.classes_share", 11, pct),
            col("report.column.new"),
            col("report.column.carried"),
            col("report.column.target_learners"),
            col("report.column.learners_to_date"),
            col("report.column.learners_share", 11, pct),
            col("report.column.learners"),
            col("report.column.attending"),
            col("report.column.results"),
            col("report.column.completed"),
            col("report.column.completion", 11, pct),
        ],
        months=[
            col("report.column.month", 12, text),
            col("report.column.opened"),
            col("report.column.month_learners"),
            col("report.column.opened_to_date"),
            col("report.column.learners_to_date"),
        ],
        classes=[
            col("report.column.code", 16, text),
            col("report.column.class", 48, text),
            col("report.column.kind", 30, text),
            col("report.column.sessions"),
            *marks,
        ],
        sessions=[
            col("report.column.code", 16, text),
            col("report.column.starts_at", 18, Kind.DATETIME),
            *marks,
        ],
        risk=[
            col("report.column.name", 28, text),
            col("report.column.unit", 36, text),
            col("report.column.code", 16, text),
            col("report.column.class", 44, text),
            col("report.column.attended"),
            col("report.column.total"),
            col("report.column.required"),
            col("report.column.level", 34, text),
        ],
        units=[
            col("report.column.unit", 48, text),
            col("report.column.level_in_tree", 8),
            *covered,
            col("report.column.own_staff"),
            col("report.column.own_trained"),
        ],
        untrained=[col("report.column.unit", 48, text), col("report.column.staff")],
        covered=[col("report.column.group", 40, text), *covered],
    )


def _kinds(texts: Texts, summary: Summary) -> Iterator[list[Value]]:
    for k in summary.kinds:
        target = k.target
        yield [kind_label(texts, k.kind), target.classes if target else None, k.managed_to_date,
               k.classes_share, k.new, k.carried, target.learners if target else None,
               k.learners_to_date, k.learners_share, k.learners, k.attending, k.results,
               k.completed, k.completion]  # fmt: skip


def _carried(summary: Summary) -> int:
    """Classes carried over into January: counted to date, opened in no month."""
    return summary.total.managed_to_date - sum(m.opened for m in summary.months)


def _months(summary: Summary) -> Iterator[list[Value]]:
    opened = learners = 0
    for m in summary.months:
        opened += m.opened
        learners += m.learners
        yield [f"{m.month:%m/%Y}", m.opened, m.learners, opened, learners]


def _classes(texts: Texts, summary: Summary) -> Iterator[list[Value]]:
    for c in summary.classes:
        m = c.marks
        yield [c.code, c.name, kind_label(texts, c.kind), c.sessions, m.present, m.late,
               m.excused, m.absent, m.rate]  # fmt: skip


def _marks_total(texts: Texts, summary: Summary) -> list[Value]:
    m = summary.marks
    return [texts("report.total"), None, None, summary.sessions, m.present, m.late, m.excused,
            m.absent, m.rate]  # fmt: skip


def _sessions(sessions: Sequence[SessionFigures]) -> Iterator[list[Value]]:
    for s in sessions:
        m = s.marks
        yield [s.class_code, s.starts_at, m.present, m.late, m.excused, m.absent, m.rate]


def _sessions_total(texts: Texts, sessions: Sequence[SessionFigures]) -> list[Value]:
    present = sum(s.marks.present for s in sessions)
    late = sum(s.marks.late for s in sessions)
    excused = sum(s.marks.excused for s in sessions)
    absent = sum(s.marks.absent for s in sessions)
    return [texts("report.total"), len(sessions), present, late, excused, absent,
            share(present + late, present + late + excused + absent)]  # fmt: skip


def _risk(texts: Texts, summary: Summary) -> Iterator[list[Value]]:
    for r in summary.at_risk:
        s = r.standing
        level = texts(f"report.level_{r.level.value}")
        yield [r.name, r.unit, r.class_code, r.class_name, s.attended, s.total, s.required, level]


def _units(coverage: Coverage) -> Iterator[list[Value]]:
    for u in coverage.units:
        yield [
            "    " * u.depth + u.name, u.depth + 1, u.subtree.staff, u.subtree.trained,
            u.subtree.rate, u.own.staff, u.own.trained,
        ]  # fmt: skip


def _covered_row(label: str, covered: Covered) -> list[Value]:
    return [label, covered.staff, covered.trained, covered.rate]


def _named(texts: Texts, rows: Sequence[NamedCoverage], blank: str) -> Iterator[list[Value]]:
    for r in rows:
        yield _covered_row(r.name or texts(blank), r.covered)


# --- the charts ---------------------------------------------------------------------------------


def chart(texts: Texts, view: ReportView, figures: Summary | Coverage) -> bytes:
    """The chart of a view, as PNG, from its figures (a summary, or a coverage for the units,
    groups and grades): classes opened month by month (the summary), plan against actual
    by kind, attendance by class (attendance and risk), coverage."""
    # matplotlib is loaded on the first chart: imported with the bot it holds ~55 MB of
    # memory in every process, most of which never draws one.
    import bot.report_charts as charts

    period = period_name(texts, figures.period)
    language, empty = texts.language, texts("report.chart_empty")
    if isinstance(figures, Coverage):
        return _coverage_chart(texts, view, figures, period)
    summary = figures
    if view is ReportView.OVERVIEW:  # carried over into January first: the total is the text's
        months = [texts.format("{m:short}", m=m.month)[3:] for m in summary.months]
        opened = [m.opened for m in summary.months]
        carried = _carried(summary)
        if carried:
            months, opened = [texts("report.chart_carried"), *months], [carried, *opened]
        target = summary.total.target
        return charts.monthly_progress(
            texts("report.chart_months", period=period), months,
            opened, target.classes if target else None,
            monthly=texts("report.chart_opened"), cumulative=texts("report.chart_to_date"),
            target_label=texts("report.chart_target"), empty=empty, language=language,
        )  # fmt: skip
    if view is ReportView.KINDS:
        rows = [(kind_label(texts, k.kind), k.target.classes if k.target else 0,
                 k.managed_to_date) for k in summary.kinds if k.kind != ALL_KINDS]  # fmt: skip
        return charts.plan_vs_actual(
            texts("report.chart_kinds", period=period),
            rows,
            target=texts("report.chart_target"),
            actual=texts("report.chart_actual"),
            empty=empty,
            language=language,
        )
    if view in (ReportView.ATTENDANCE, ReportView.RISK):
        marked = sorted((c for c in summary.classes if c.marks.rate is not None),
                        key=lambda c: (c.marks.rate or 0.0, c.code))[:CHART_CLASSES]  # fmt: skip
        return charts.rates_by_item(
            texts("report.chart_attendance", period=period),
            [(c.code, c.marks.rate or 0.0) for c in marked], CHART_THRESHOLD,
            threshold_label=texts("report.chart_threshold"), empty=empty, language=language,
        )  # fmt: skip
    raise ValueError(f"the {view} view charts a coverage")


def _coverage_chart(texts: Texts, view: ReportView, coverage: Coverage, period: str) -> bytes:
    import bot.report_charts as charts  # loaded on the first chart, as above

    if view is ReportView.UNITS:  # the units below the top, the lowest share trained first
        top = min((u.depth for u in coverage.units), default=0)
        below = [u for u in coverage.units if u.depth == top + 1 and u.subtree.staff]
        below.sort(key=lambda u: (u.subtree.rate or 0.0, fold(u.name)))
        rows = [(u.name, u.subtree.trained, u.subtree.staff) for u in below[:CHART_UNITS]]
        title = texts("report.chart_units", period=period)
    elif view is ReportView.GROUPS:
        rows = [(group_label(texts, g.key or "", coverage.young_under), g.covered.trained,
                 g.covered.staff) for g in coverage.groups]  # fmt: skip
        title = texts("report.chart_groups", period=period)
    else:
        rows = [(g.name or texts("report.no_grade"), g.covered.trained, g.covered.staff)
                for g in coverage.grades]  # fmt: skip
        title = texts("report.chart_grades", period=period)
    return charts.coverage(
        title, rows, trained=texts("report.chart_trained"),
        untrained=texts("report.chart_untrained"), empty=texts("report.chart_empty"),
        language=texts.language,
    )  # fmt: skip
