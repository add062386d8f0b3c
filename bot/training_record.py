"""A cadre's training record (quá trình đào tạo, bồi dưỡng) as plain data: each class with its
sessions and marks, its result, and the completions imported from before the bot; what was
held, attended, and for how many hours. No framework types, no SQL.

The record feeds the cadre's annual evaluation, so it counts only what happened: a session
is held once it has begun (or someone marked it), attended when the mark is present or late;
an excused absence stays apart from an unexcused one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from bot.attendance import Mark, Outcome, Standing, standing
from bot.domain import Person
from bot.text_search import fold
from bot.training import ClassKind, ClassStatus, EnrolmentStatus


class RecordFormat(StrEnum):
    """The files a record is downloaded as."""

    PDF = "pdf"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class SessionMark:
    """One session of a class (not cancelled), with the learner's mark if any."""

    starts_at: datetime
    ends_at: datetime
    mark: Mark | None
    #: Begun by the time the record was made, or marked already (check-in opens early).
    held: bool
    topic: str | None = None

    @property
    def attended(self) -> bool:
        return self.mark is not None and self.mark.attended

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class ClassRecord:
    """A class in someone's record: what it was, their sessions in it, and their result."""

    class_id: int
    code: str
    name: str
    kind: ClassKind
    programme: str
    plan_year: int
    status: ClassStatus
    enrolment: EnrolmentStatus
    completion_pct: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    sessions: tuple[SessionMark, ...] = ()
    outcome: Outcome | None = None
    override: bool = False

    def _count(self, mark: Mark) -> int:
        return sum(1 for s in self.sessions if s.mark is mark)

    @property
    def held(self) -> int:
        return sum(1 for s in self.sessions if s.held)

    @property
    def attended(self) -> int:
        """Present or late: lateness is recorded, but the learner was there."""
        return sum(1 for s in self.sessions if s.attended)

    @property
    def late(self) -> int:
        return self._count(Mark.LATE)

    @property
    def excused(self) -> int:
        return self._count(Mark.EXCUSED)

    @property
    def unexcused(self) -> int:
        return self._count(Mark.ABSENT)

    @property
    def hours(self) -> float:
        """Hours of the sessions attended."""
        return sum(s.hours for s in self.sessions if s.attended)

    @property
    def completed(self) -> bool:
        return self.outcome is not None and self.outcome.completed

    @property
    def standing(self) -> Standing:
        """Against the class's threshold, counting every session held or to come."""
        marks = [s.mark for s in self.sessions if s.mark is not None]
        return standing(len(self.sessions), self.completion_pct, marks)

    def year(self, tz: tzinfo) -> int:
        """The year the class began (local time); the plan's, before it has sessions."""
        return self.starts_at.astimezone(tz).year if self.starts_at else self.plan_year


@dataclass(frozen=True, slots=True)
class ImportedCompletion:
    """Training completed before the bot, from the roster import."""

    class_name: str
    programme: str
    completed_on: date


@dataclass(frozen=True, slots=True)
class RecordYear:
    """One year of a record, with its totals."""

    year: int
    classes: tuple[ClassRecord, ...] = ()
    imported: tuple[ImportedCompletion, ...] = ()

    @property
    def class_count(self) -> int:
        return len(self.classes) + len(self.imported)

    @property
    def held(self) -> int:
        return sum(c.held for c in self.classes)

    @property
    def attended(self) -> int:
        return sum(c.attended for c in self.classes)

    @property
    def hours(self) -> float:
        return sum(c.hours for c in self.classes)

    @property
    def completed(self) -> int:
        return sum(1 for c in self.classes if c.completed) + len(self.imported)


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """Someone's record across the years, oldest first, as it stood when it was made."""

    person: Person
    generated_at: datetime
    years: tuple[RecordYear, ...] = ()

    @property
    def period(self) -> tuple[int, int] | None:
        return (self.years[0].year, self.years[-1].year) if self.years else None

    @property
    def totals(self) -> RecordYear:
        """The whole record as one "year" (numbered 0), for its totals."""
        return RecordYear(
            0,
            tuple(c for y in self.years for c in y.classes),
            tuple(i for y in self.years for i in y.imported),
        )

    def find(self, class_id: int) -> ClassRecord | None:
        return next((c for y in self.years for c in y.classes if c.class_id == class_id), None)


def by_year(
    classes: list[ClassRecord], imported: list[ImportedCompletion], tz: tzinfo
) -> tuple[RecordYear, ...]:
    """Classes (in the order given) and imported completions grouped by year, oldest first."""
    years: dict[int, tuple[list[ClassRecord], list[ImportedCompletion]]] = {}
    for record in classes:
        years.setdefault(record.year(tz), ([], []))[0].append(record)
    for done in imported:
        years.setdefault(done.completed_on.year, ([], []))[1].append(done)
    return tuple(
        RecordYear(year, tuple(found), tuple(done)) for year, (found, done) in sorted(years.items())
    )


def file_name(prefix: str, person_name: str, year: int, fmt: RecordFormat) -> str:
    """ "qua-trinh-hoc-tap-nguyen-thi-lan-2026.pdf": folded, no diacritics, no spaces."""
    words = re.findall(r"[a-z0-9]+", fold(f"{prefix} {person_name}"))
    return "-".join([*words[:12], str(year)]) + f".{fmt.value}"
