"""Progress against the plan as plain data: reporting periods and the figures of a summary.

What each figure means is decided here once, in words, and the storage queries and the
independent checks in the tests follow it:

- A class is *held* once it opened (open, running or finished; neither planned nor cancelled).
- *Newly opened* in a period: held classes of the period's plan that started in the period.
- *Carried over* into a period: held classes (of any plan) begun before it and running into it.
- *Managed* = newly opened + carried over (seed 004: "carried over and newly opened").
- Against the plan the figures run *from 1 January to the period's end* (lũy kế), as seed 004
  reports "29 classes in the first six months, 58% of the class plan".
- *Learners*: enrolments still enrolled (a withdrawn learner no longer counts) in the classes
  managed; *attending*: those of them who attended at least one session of their class;
  *completed*: results with a completing outcome in held classes that ended in the period.
- Attendance rates: marks of the scheduled sessions that started in the period, counting
  the sessions marked (a session nobody took the roll of is not yet a figure); a rate is
  (present + late) / all marks.
- *Trained* (coverage): people who attended at least one session of a class managed in the
  period (one who withdrew later still took part), counted under the unit they belong to
  now (the roster as it stands); staff are the roster's people and confirmed self-declared.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.attendance import Mark, Standing, WarningLevel
from bot.errors import InvalidInput
from bot.training import (
    ALL_KINDS,
    ClassKind,
    ClassStatus,
    Plan,
    PriorityGroup,
    Target,
    TrainingClass,
)

#: Classes that opened: they count towards the plan.
HELD = (ClassStatus.OPEN, ClassStatus.RUNNING, ClassStatus.FINISHED)
#: A period typed as dates spans at most a year (reports are yearly at most).
DATES_MAX_DAYS = 366


class ReportView(StrEnum):
    """The views of a report: the summary and its breakdowns."""

    OVERVIEW = "o"
    KINDS = "k"
    ATTENDANCE = "a"
    RISK = "r"
    UNITS = "u"
    GROUPS = "g"
    GRADES = "t"

    @property
    def of_coverage(self) -> bool:
        return self in (ReportView.UNITS, ReportView.GROUPS, ReportView.GRADES)


class PeriodKind(StrEnum):
    YEAR = "y"
    HALF = "h"
    QUARTER = "q"
    MONTH = "m"
    DATES = "d"


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days, `first` to `last` included, within one calendar year."""

    kind: PeriodKind
    first: date
    last: date

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        return cls._months(PeriodKind.HALF, year, 6 * (half - 1) + 1, 6)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls._months(PeriodKind.QUARTER, year, 3 * (quarter - 1) + 1, 3)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls._months(PeriodKind.MONTH, year, month, 1)

    @classmethod
    def dates(cls, first: date, last: date) -> Period:
        if last < first:
            raise InvalidInput("report.dates_reversed")
        if first.year != last.year or (last - first).days >= DATES_MAX_DAYS:
            raise InvalidInput("report.dates_one_year")
        return cls(PeriodKind.DATES, first, last)

    @classmethod
    def _months(cls, kind: PeriodKind, year: int, first_month: int, count: int) -> Period:
        last_month = first_month + count - 1
        last_day = calendar.monthrange(year, last_month)[1]
        return cls(kind, date(year, first_month, 1), date(year, last_month, last_day))

    @property
    def year(self) -> int:
        return self.first.year

    @property
    def number(self) -> int:
        """Which half, quarter or month of the year it is (0 for a year or typed dates)."""
        match self.kind:
            case PeriodKind.HALF:
                return (self.first.month - 1) // 6 + 1
            case PeriodKind.QUARTER:
                return (self.first.month - 1) // 3 + 1
            case PeriodKind.MONTH:
                return self.first.month
        return 0

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) as aware moments: local midnight of the first day and of the day
        after the last."""
        return _midnight(self.first, tz), _midnight(self.last + timedelta(days=1), tz)

    def year_start(self, tz: tzinfo) -> datetime:
        return _midnight(date(self.year, 1, 1), tz)

    def months(self) -> list[date]:
        """The first day of each month from January to the period's last month: the
        monthly progress of the year so far."""
        return [date(self.year, m, 1) for m in range(1, self.last.month + 1)]

    @property
    def token(self) -> str:
        """Short and stable, for buttons: "y2026", "q2026.3", "d20260105.20260320"."""
        if self.kind is PeriodKind.DATES:
            return f"d{self.first:%Y%m%d}.{self.last:%Y%m%d}"
        if self.kind is PeriodKind.YEAR:
            return f"y{self.year}"
        return f"{self.kind.value}{self.year}.{self.number}"

    @classmethod
    def from_token(cls, token: str) -> Period:
        try:
            kind, rest = PeriodKind(token[:1]), token[1:]
            if kind is PeriodKind.DATES:
                first, last = (datetime.strptime(p, "%Y%m%d").date() for p in rest.split("."))
                return cls.dates(first, last)
            if kind is PeriodKind.YEAR:
                return cls.of_year(_year(rest))
            year, number = rest.split(".")
            build = {PeriodKind.HALF: (cls.half, 2), PeriodKind.QUARTER: (cls.quarter, 4),
                     PeriodKind.MONTH: (cls.month, 12)}[kind]  # fmt: skip
            if not 1 <= int(number) <= build[1]:
                raise ValueError(number)
            return build[0](_year(year), int(number))
        except (ValueError, KeyError, InvalidInput) as exc:
            raise InvalidInput("report.period_unknown") from exc


def _year(raw: str) -> int:
    year = int(raw)
    if not 2000 <= year <= 2100:
        raise ValueError(raw)
    return year


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def choices(today: date) -> list[Period]:
    """The periods offered as buttons: this year and the last, the halves, quarters and
    months of this year so far (the latest first among each)."""
    year = today.year
    current_half = (today.month - 1) // 6 + 1
    current_quarter = (today.month - 1) // 3 + 1
    return [
        Period.of_year(year),
        Period.of_year(year - 1),
        *(Period.half(year, h) for h in range(current_half, 0, -1)),
        *(Period.quarter(year, q) for q in range(current_quarter, 0, -1)),
        *(Period.month(year, m) for m in range(today.month, max(0, today.month - 3), -1)),
    ]


# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Marks:
    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def total(self) -> int:
        return self.present + self.late + self.excused + self.absent

    @property
    def rate(self) -> float | None:
        return self.attended / self.total if self.total else None

    def __add__(self, other: Marks) -> Marks:
        return Marks(self.present + other.present, self.late + other.late,
                     self.excused + other.excused, self.absent + other.absent)  # fmt: skip

    @classmethod
    def of(cls, counts: dict[Mark, int]) -> Marks:
        return cls(*(counts.get(m, 0) for m in Mark))


def share(part: int, whole: int | None) -> float | None:
    """part / whole, or None when there is nothing to compare with (no target, no one)."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class KindProgress:
    """One line of plan against actual: a kind of class, or the whole plan (ALL_KINDS)."""

    kind: str
    target: Target | None
    new: int = 0
    carried: int = 0
    managed_to_date: int = 0  # from 1 January to the period's end
    learners: int = 0  # in the classes managed in the period
    learners_to_date: int = 0
    attending: int = 0
    completed: int = 0
    results: int = 0  # results recorded in the classes that ended in the period

    @property
    def managed(self) -> int:
        return self.new + self.carried

    @property
    def classes_share(self) -> float | None:
        return share(self.managed_to_date, self.target.classes if self.target else None)

    @property
    def learners_share(self) -> float | None:
        return share(self.learners_to_date, self.target.learners if self.target else None)

    @property
    def completion(self) -> float | None:
        return share(self.completed, self.results)


@dataclass(frozen=True, slots=True)
class ClassFact:
    """A held class that may count in the report, with its learners in the scope."""

    id: int
    code: str
    name: str
    kind: str
    plan_id: int
    starts_at: datetime | None
    ends_at: datetime | None
    enrolled: int
    attending: int
    completed: int
    results: int


@dataclass(frozen=True, slots=True)
class MonthProgress:
    month: date
    opened: int  # classes of the plan started that month
    learners: int  # enrolled in them


@dataclass(frozen=True, slots=True)
class ClassFigures:
    """A class's attendance in the period (sessions that started in it)."""

    class_id: int
    code: str
    name: str
    kind: str
    sessions: int
    marks: Marks


@dataclass(frozen=True, slots=True)
class SessionFigures:
    session_id: int
    class_code: str
    starts_at: datetime
    marks: Marks


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A learner who can no longer complete a running class, or is one absence away."""

    person_id: int
    name: str
    unit: str | None
    class_code: str
    class_name: str
    standing: Standing

    @property
    def level(self) -> WarningLevel:
        level = self.standing.warning
        assert level is not None
        return level


@dataclass(frozen=True, slots=True)
class Summary:
    period: Period
    plan: Plan | None
    scoped: bool  # a unit head's: their staff only, no province targets
    generated_at: datetime
    kinds: list[KindProgress]  # one per kind that has a target or a class, then ALL_KINDS
    months: list[MonthProgress]
    classes: list[ClassFigures]
    at_risk: list[AtRisk]  # as of now, so only when the period runs now
    current: bool = True  # the period runs now

    @property
    def total(self) -> KindProgress:
        return self.kinds[-1]

    @property
    def marks(self) -> Marks:
        return sum((c.marks for c in self.classes), Marks())

    @property
    def sessions(self) -> int:
        return sum(c.sessions for c in self.classes)

    @property
    def empty(self) -> bool:
        return not self.total.managed and not self.classes and not self.total.completed


@dataclass(frozen=True, slots=True)
class Covered:
    """Staff on the roster and how many of them were trained, for one row of a breakdown."""

    staff: int = 0
    trained: int = 0

    @property
    def rate(self) -> float | None:
        return share(self.trained, self.staff)

    def __add__(self, other: Covered) -> Covered:
        return Covered(self.staff + other.staff, self.trained + other.trained)


@dataclass(frozen=True, slots=True)
class UnitCoverage:
    unit_id: int
    name: str
    parent_id: int | None
    depth: int  # below the report's top (0: the top units)
    own: Covered  # staff attached to this unit itself
    subtree: Covered  # with its sub-units
    groups: dict[PriorityGroup, Covered] = field(default_factory=dict)  # of its own staff


@dataclass(frozen=True, slots=True)
class NamedCoverage:
    """A grade, a position, a priority group: None when the roster does not say."""

    key: str | None
    name: str | None
    covered: Covered


@dataclass(frozen=True, slots=True)
class Coverage:
    period: Period
    scoped: bool
    generated_at: datetime
    young_under: int
    total: Covered
    units: list[UnitCoverage]  # tree order
    groups: list[NamedCoverage]  # PriorityGroup order
    grades: list[NamedCoverage]
    titles: list[NamedCoverage]

    @property
    def untrained_units(self) -> list[UnitCoverage]:
        """Units with staff of their own of whom nobody was trained."""
        return [u for u in self.units if u.own.staff and not u.own.trained]


def kind_order(kinds: Collection[str]) -> list[str]:
    """Kinds in the catalog's order, the whole plan last."""
    known = [k.value for k in ClassKind if k.value in kinds]
    return [*known, ALL_KINDS]


@dataclass
class _Tally:
    new: int = 0
    carried: int = 0
    managed_to_date: int = 0
    learners: int = 0
    learners_to_date: int = 0
    attending: int = 0
    completed: int = 0
    results: int = 0


def plan_progress(
    facts: Sequence[ClassFact],
    plan: Plan | None,
    *,
    scoped: bool,
    start: datetime,
    end: datetime,
    year_start: datetime,
    months: Sequence[date],
    tz: tzinfo,
) -> tuple[list[KindProgress], list[MonthProgress]]:
    """Plan against actual by kind (the whole plan last) and month by month, by the
    definitions above, in one pass over the classes. A unit head's report has no targets:
    the plan's are the province's."""
    plan_id = plan.id if plan else None
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    opened: dict[date, list[int]] = {m: [0, 0] for m in months}
    for f in facts:
        if f.starts_at is None or f.ends_at is None:
            continue
        ours = f.plan_id == plan_id
        new = ours and start <= f.starts_at < end
        carried = f.starts_at < start <= f.ends_at
        new_to_date = ours and year_start <= f.starts_at < end
        to_date = new_to_date or f.starts_at < year_start <= f.ends_at
        ended = start <= f.ends_at < end
        if new_to_date and (month := f.starts_at.astimezone(tz).date().replace(day=1)) in opened:
            opened[month][0] += 1
            opened[month][1] += f.enrolled
        for kind in (f.kind, ALL_KINDS):
            t = tallies[kind]
            t.new += new
            t.carried += carried
            t.managed_to_date += to_date
            if new or carried:
                t.learners += f.enrolled
                t.attending += f.attending
            if to_date:
                t.learners_to_date += f.enrolled
            if ended:
                t.completed += f.completed
                t.results += f.results
    targets = plan.targets if plan is not None and not scoped else {}
    kinds = [
        KindProgress(kind, targets.get(kind), **vars(tallies[kind]))
        for kind in kind_order(set(tallies) | set(targets))
    ]
    return kinds, [MonthProgress(m, *opened[m]) for m in months]


def unit_coverage(
    tree: Sequence[tuple[int, str, int | None]],
    own: dict[int | None, Covered],
    groups: dict[int | None, dict[PriorityGroup, Covered]],
) -> list[UnitCoverage]:
    """The units of `tree` (id, name, parent; parents outside it make roots) in tree order,
    each with its own staff and its subtree's; units with no staff below them are left out."""
    children: dict[int | None, list[tuple[int, str]]] = defaultdict(list)
    known = {unit_id for unit_id, _name, _parent in tree}
    for unit_id, name, parent in tree:
        children[parent if parent in known else None].append((unit_id, name))
    found: list[UnitCoverage] = []

    def walk(unit_id: int, name: str, parent: int | None, depth: int) -> Covered:
        at = len(found)
        found.append(UnitCoverage(unit_id, name, parent, depth, Covered(), Covered()))
        subtree = own.get(unit_id, Covered())
        for child, child_name in children.get(unit_id, []):
            subtree = subtree + walk(child, child_name, unit_id, depth + 1)
        if subtree.staff or subtree.trained:
            found[at] = UnitCoverage(unit_id, name, parent, depth, own.get(unit_id, Covered()),
                                     subtree, groups.get(unit_id, {}))  # fmt: skip
        else:
            del found[at:]
        return subtree

    for root, name in children.get(None, []):
        walk(root, name, None, 0)
    return found


@dataclass(frozen=True, slots=True)
class ClassReport:
    """One class in detail: its learners (of the scope), sessions, standings and results."""

    training: TrainingClass
    scoped: bool
    generated_at: datetime
    statuses: dict[str, int]  # enrolment status → learners
    sessions: list[SessionFigures]  # every session still scheduled, held or to come
    standings: list[Standing]  # of the enrolled learners
    outcomes: dict[str, int]  # result → learners

    @property
    def marks(self) -> Marks:
        return sum((s.marks for s in self.sessions), Marks())

    @property
    def met(self) -> int:
        return sum(1 for s in self.standings if s.met)

    def warned(self, level: WarningLevel) -> int:
        return sum(1 for s in self.standings if s.warning is level)
