"""Progress reports as chat text, in the reporting style of the seeds ("15/24 lớp, đạt 62,5%
kế hoạch"): each view fits one Telegram message, and what does not fit is counted and left
to the workbook."""

from __future__ import annotations

from collections.abc import Sequence

from bot.attendance import Outcome, WarningLevel
from bot.i18n import Raw, Texts
from bot.report import (
    ClassReport,
    Coverage,
    KindProgress,
    Period,
    PeriodKind,
    Summary,
)
from bot.training import ALL_KINDS, PriorityGroup
from bot.validation import telegram_length

BUDGET = 3600  # characters of a report's message (Telegram takes 4096)
ROMAN = ("I", "II", "III", "IV")
UNIT_DEPTH = 2  # units listed in the text: the top level and the one below


def percent(texts: Texts, value: float | None) -> str:
    return (
        texts.format("{value:percent}", value=value)
        if value is not None
        else texts("report.no_share")
    )


def period_name(texts: Texts, period: Period) -> str:
    match period.kind:
        case PeriodKind.YEAR:
            return texts("report.period_y", year=period.year)
        case PeriodKind.HALF:
            return texts(f"report.period_h{period.number}", year=period.year)
        case PeriodKind.QUARTER:
            return texts("report.period_q", roman=ROMAN[period.number - 1], year=period.year)
        case PeriodKind.MONTH:
            return texts("report.period_m", number=period.number, year=period.year)
    return texts("report.period_d", first=period.first, last=period.last)


def kind_label(texts: Texts, kind: str) -> str:
    return texts(f"training.kind_{kind}")


def group_label(texts: Texts, key: str, young_under: int) -> str:
    if key == PriorityGroup.YOUNG.value:
        return texts("report.group_young", age=young_under)
    return texts(f"training.group_{key}")


def _heading(texts: Texts, period: Period, units: str | None) -> list[str]:
    top = texts("report.heading_unit", units=units) if units else texts("report.heading")
    return [top, texts("report.period_line", period=period_name(texts, period),
                       first=period.first, last=period.last)]  # fmt: skip


def overview(texts: Texts, summary: Summary, units: str | None = None) -> str:
    """The summary a superior asks for first: the plan to date, the period, attendance and
    the learners at risk, in numbered sections."""
    period, total = summary.period, summary.total
    lines = _heading(texts, period, units)
    if not summary.scoped:
        plan = summary.plan
        if plan is None:
            lines.append(texts("report.no_plan", year=period.year))
        else:
            key = "report.plan_line" if plan.approved else "report.plan_draft"
            lines.append(texts(key, name=plan.name))
    if summary.empty:
        return "\n".join(
            [*lines, "", texts("report.empty"), texts("report.generated", at=summary.generated_at)]
        )
    section = "report.section_to_date" if summary.scoped else "report.section_plan"
    lines += ["", texts(section, last=period.last), _classes_line(texts, total),
              _learners_line(texts, total), "", texts("report.section_period"),
              texts("report.period_classes", new=total.new, carried=total.carried,
                    managed=total.managed),
              texts("report.period_learners", learners=total.learners, attending=total.attending),
              texts("report.period_completed", completed=total.completed, results=total.results,
                    share=percent(texts, total.completion))
              if total.results else texts("report.period_no_results"),
              "", texts("report.section_attendance", sessions=summary.sessions,
                        marks=summary.marks.total)]  # fmt: skip
    marks = summary.marks
    lines.append(
        texts("report.attendance_line", rate=percent(texts, marks.rate), present=marks.present,
              late=marks.late, excused=marks.excused, absent=marks.absent)
        if marks.total else texts("report.attendance_none")
    )  # fmt: skip
    if summary.current:
        lines += ["", texts("report.section_risk", count=len(summary.at_risk))]
    lines += ["", texts("report.generated", at=summary.generated_at)]
    return "\n".join(lines)


def _classes_line(texts: Texts, kind: KindProgress) -> str:
    if kind.target is None or not kind.target.classes:
        return texts("report.classes_count", managed=kind.managed_to_date)
    return texts("report.classes_target", managed=kind.managed_to_date,
                 target=kind.target.classes, share=percent(texts, kind.classes_share))  # fmt: skip


def _learners_line(texts: Texts, kind: KindProgress) -> str:
    if kind.target is None or not kind.target.learners:
        return texts("report.learners_count", learners=kind.learners_to_date)
    share = percent(texts, kind.learners_share)
    return texts("report.learners_target", learners=kind.learners_to_date,
                 target=kind.target.learners, share=share)  # fmt: skip


def by_kind(texts: Texts, summary: Summary) -> str:
    lines = [texts("report.kinds_heading", period=period_name(texts, summary.period))]
    for kind in summary.kinds:
        name = kind_label(texts, kind.kind)
        if kind.kind == ALL_KINDS:
            lines.append("")
        if kind.target is not None and kind.target.classes and kind.target.learners:
            lines.append(texts(
                "report.kind_target", kind=name, managed=kind.managed_to_date,
                target=kind.target.classes, share=percent(texts, kind.classes_share),
                learners=kind.learners_to_date, learners_target=kind.target.learners,
                learners_share=percent(texts, kind.learners_share), new=kind.new,
                carried=kind.carried,
            ))  # fmt: skip
        else:
            lines.append(texts("report.kind_count", kind=name, managed=kind.managed_to_date,
                               learners=kind.learners_to_date, new=kind.new,
                               carried=kind.carried))  # fmt: skip
    return "\n".join(lines)


def attendance(texts: Texts, summary: Summary) -> str:
    """Classes by attendance rate, the lowest first: where the office should look."""
    head = texts("report.attendance_heading", period=period_name(texts, summary.period))
    marked = [c for c in summary.classes if c.marks.total]
    if not marked:
        return head + "\n\n" + texts("report.attendance_empty")
    marked.sort(key=lambda c: (c.marks.rate or 0.0, c.code))
    lines = [
        texts("report.attendance_class", code=c.code, name=c.name, sessions=c.sessions,
              rate=percent(texts, c.marks.rate), late=c.marks.late, excused=c.marks.excused,
              absent=c.marks.absent)
        for c in marked
    ]  # fmt: skip
    return head + "\n\n" + fitted(texts, lines, BUDGET - telegram_length(head))


def at_risk(texts: Texts, summary: Summary) -> str:
    head = texts("report.risk_heading", count=len(summary.at_risk), at=summary.generated_at)
    if not summary.current:
        return texts("report.risk_past", period=period_name(texts, summary.period))
    if not summary.at_risk:
        return head + "\n\n" + texts("report.risk_none")
    lines = []
    for learner in summary.at_risk:
        s = learner.standing
        key = "report.risk_cannot" if s.reachable < s.required else "report.risk_one_left"
        lines.append(texts(key, name=learner.name, unit=learner.unit or "—",
                           code=learner.class_code, attended=s.attended, total=s.total,
                           required=s.required))  # fmt: skip
    return head + "\n\n" + fitted(texts, lines, BUDGET - telegram_length(head))


def units(texts: Texts, coverage: Coverage) -> str:
    """The top units (and the level below) with their subtree's figures; then the units
    whose own staff nobody was trained from."""
    total = coverage.total
    head = texts("report.units_heading", period=period_name(texts, coverage.period),
                 trained=total.trained, staff=total.staff,
                 share=percent(texts, total.rate))  # fmt: skip
    lines = [
        texts("report.unit_line", indent=Raw("   " * u.depth + ("– " if u.depth else "")),
              name=u.name, trained=u.subtree.trained, staff=u.subtree.staff,
              share=percent(texts, u.subtree.rate))
        for u in coverage.units
        if u.depth < UNIT_DEPTH
    ]  # fmt: skip
    untrained = coverage.untrained_units
    room = BUDGET - telegram_length(head)
    tail = texts("report.untrained_none")
    if untrained:
        names = [u.name for u in untrained]
        tail = (
            texts("report.untrained_heading", count=len(untrained))
            + "\n"
            + fitted(texts, names, room // 2, separator=", ")
        )
    body = fitted(texts, lines, room - telegram_length(tail) - 4)
    return "\n\n".join([head, body, tail])


def groups(texts: Texts, coverage: Coverage) -> str:
    lines = [texts("report.groups_heading", period=period_name(texts, coverage.period))]
    lines += [
        texts("report.group_line", group=group_label(texts, g.key or "", coverage.young_under),
              trained=g.covered.trained, staff=g.covered.staff,
              share=percent(texts, g.covered.rate))
        for g in coverage.groups
    ]  # fmt: skip
    return "\n".join(lines)


def grades(texts: Texts, coverage: Coverage) -> str:
    head = texts("report.grades_heading", period=period_name(texts, coverage.period))
    half = (BUDGET - telegram_length(head)) // 2
    parts = [head]
    for section, rows, blank in (
        ("report.grades_section", coverage.grades, "report.no_grade"),
        ("report.titles_section", coverage.titles, "report.no_title"),
    ):
        lines = [
            texts("report.named_line", name=r.name or texts(blank), trained=r.covered.trained,
                  staff=r.covered.staff, share=percent(texts, r.covered.rate))
            for r in rows
        ]  # fmt: skip
        parts.append(texts(section) + "\n" + fitted(texts, lines, half - 40))
    return "\n\n".join(parts)


def fitted(texts: Texts, lines: Sequence[str], budget: int, separator: str = "\n") -> str:
    """As many lines as fit in `budget` characters (as Telegram counts them, markup
    included), then how many more there are: nothing is cut, so no markup is broken."""
    kept: list[str] = []
    used = 0
    for number, line in enumerate(lines):
        left = len(lines) - number
        note = texts("report.more_in_workbook", count=left - 1) if left > 1 else ""
        cost = telegram_length(line) + len(separator)
        if used + cost + telegram_length(note) + 1 > budget:
            kept.append(texts("report.more_in_workbook", count=left))
            break
        kept.append(line)
        used += cost
    return separator.join(kept)


def class_detail(texts: Texts, report: ClassReport) -> str:
    """A class as its own report: learners, sessions, standings, results, then session by
    session (the latest that fit)."""
    c = report.training
    head = [texts("report.class_heading", code=c.code, name=c.name)]
    status = texts(f"training.status_{c.status.value}")
    if c.starts_at and c.ends_at:
        head.append(texts("report.class_dates", status=status, first=c.starts_at,
                          last=c.ends_at, pct=c.completion_pct))  # fmt: skip
    else:
        head.append(texts("report.class_dates_none", status=status))
    if report.scoped:
        head.append(texts("report.class_scoped"))
    counts = report.statuses
    head.append(texts("report.class_learners", enrolled=counts.get("enrolled", 0),
                      waiting=counts.get("waitlisted", 0),
                      withdrawn=counts.get("withdrawn", 0)))  # fmt: skip
    now = report.generated_at
    held = [s for s in report.sessions if s.starts_at <= now]
    marks = report.marks
    head.append(texts("report.class_sessions", held=len(held), total=len(report.sessions),
                      rate=percent(texts, marks.rate), late=marks.late, excused=marks.excused,
                      absent=marks.absent))  # fmt: skip
    head.append(texts("report.class_standings", met=report.met,
                      one_left=report.warned(WarningLevel.ONE_LEFT),
                      cannot=report.warned(WarningLevel.CANNOT)))  # fmt: skip
    outcomes = [
        texts("report.class_result_part", outcome=texts(f"results.outcome.{o.value}"),
              count=report.outcomes[o.value])
        for o in Outcome if report.outcomes.get(o.value)
    ]  # fmt: skip
    head.append(
        texts("report.class_results", results=", ".join(outcomes))
        if outcomes else texts("report.class_no_results")
    )  # fmt: skip
    lines = [
        texts("report.class_session_line", at=s.starts_at, rate=percent(texts, s.marks.rate),
              attended=s.marks.attended, marked=s.marks.total)
        if s.starts_at <= now else texts("report.class_session_ahead", at=s.starts_at)
        for s in report.sessions
    ]  # fmt: skip
    text = "\n".join(head)
    if not lines:
        return text
    heading = texts("report.class_sessions_heading")
    budget = BUDGET - telegram_length(text) - telegram_length(heading) - 4
    return text + "\n\n" + heading + "\n" + fitted(texts, lines, budget)
