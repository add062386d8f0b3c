"""Classes from the office's spreadsheet. A new class is made as the class dialogue makes it
(open when its plan is approved, else planned); a saved one takes only what the office may
change by chat (seats, attendance rules, approval), so a file cannot quietly move a class
its learners chose; a cancelled or finished class is left alone, and the dry run says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import DEFAULT_COMPLETION, DEFAULT_LATE_AFTER
from bot.clock import Clock
from bot.dates import parse_when
from bot.domain import AuditAction, Role
from bot.errors import DomainError
from bot.imports.cells import (
    PROGRESS_EVERY,
    Choice,
    RowReader,
    duplicates,
    link,
    note_changes,
    place,
)
from bot.imports.model import (
    Column,
    ImportKind,
    Outcome,
    Progress,
    RowError,
    RowNote,
    SourceRow,
)
from bot.services.enrolment import CAPACITY_MAX
from bot.services.planning import (
    LATE_AFTER_MAX,
    PLACE_MAX,
    check_not_past,
    check_window,
    clean_code,
    clean_name,
    parse_count,
)
from bot.training import (
    Audience,
    ClassFormat,
    ClassStatus,
    NewClass,
    Plan,
    Programme,
)
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.plans import PlanRepository, ProgrammeRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.training_import import SavedClass, TrainingImportRepository

FORMATS: Choice[ClassFormat] = Choice(
    {
        "import.word.format_on_site": ClassFormat.ON_SITE,
        "import.word.format_online": ClassFormat.ONLINE,
        "import.word.format_blended": ClassFormat.BLENDED,
        "training.format_on_site": ClassFormat.ON_SITE,
        "training.format_online": ClassFormat.ONLINE,
        "training.format_blended": ClassFormat.BLENDED,
    }
)
YES_NO: Choice[bool] = Choice({"import.word.yes": True, "import.word.no": False})
#: What `classes.organiser` holds.
ORGANISER_MAX = 200
#: A class a file leaves as it is, and the note the dry run shows on its row.
_LEFT_ALONE = {
    ClassStatus.CANCELLED: "import.note.class_cancelled",
    ClassStatus.FINISHED: "import.note.class_finished",
}


@dataclass(slots=True)
class _Row:
    """A row read and checked on its own: codes still to be looked up."""

    number: int
    code: str
    name: str
    programme: str
    year: int
    format: ClassFormat
    capacity: int
    deadline: datetime
    opens: datetime | None = None
    location: str | None = None
    link: str | None = None
    organiser: str | None = None
    requires_approval: bool | None = None
    late_after: int | None = None
    completion_pct: int | None = None
    units: list[str] = field(default_factory=list)
    lecturers: list[str] = field(default_factory=list)

    @property
    def refs(self) -> _Refs:
        return _Refs(self.number, self.programme, self.year, self.units, self.lecturers)


@dataclass(frozen=True, slots=True)
class _Refs:
    """What a row refers to, checked even when other cells of the row are wrong."""

    number: int
    programme: str | None
    year: int | None
    units: list[str]
    lecturers: list[str]


class ClassImporter:
    kind: ImportKind = ImportKind.CLASSES
    columns: Sequence[Column] = (
        Column("code", required=True, example="CV.2026.01"),
        Column("name", required=True, example="Bồi dưỡng ngạch chuyên viên khóa 1"),
        Column("programme", required=True, example="CT.CV"),
        Column("plan_year", required=True, example="2026"),
        Column("format", required=True, example="Tập trung"),
        Column("location", example="Hội trường A, Trường Chính trị tỉnh"),
        Column("meeting_link", example=""),
        Column("organiser", example="Phòng Quản lý đào tạo"),
        Column("capacity", required=True, example="60"),
        Column("enrol_opens", example="01/02/2026"),
        Column("enrol_deadline", required=True, example="20/02/2026"),
        Column("requires_approval", example="Không"),
        Column("late_after", example="15"),
        Column("completion_pct", example="80"),
        Column("audience", example=""),
        Column("lecturers", example=""),
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
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        found: list[_Row] = []
        refs: list[_Refs] = []
        for done, source in enumerate(rows, 1):
            read = RowReader(source)
            checked, refers = self._read(read, today)
            outcome.errors += read.errors
            if checked is not None:
                found.append(checked)
            else:
                refs.append(refers)
            if done % PROGRESS_EVERY == 0:
                await progress(done)
        repeated = duplicates([(r.number, r.code) for r in found])
        for number, first in repeated.items():
            outcome.errors.append(
                RowError(number, "code", "import.error.cell.duplicate", {"first": first})
            )
        found = [r for r in found if r.number not in repeated]
        world = await _World.read(conn, found, refs)
        for refers in refs:
            world.resolve(refers, outcome.errors)
        adds: list[NewClass] = []
        updates: list[tuple[int, SavedClass, dict[str, Any]]] = []
        for row in found:
            errors_before = len(outcome.errors)
            programme, plan, unit_ids, lecturer_ids = world.resolve(row.refs, outcome.errors)
            saved = world.classes.get(row.code)
            if len(outcome.errors) > errors_before or programme is None or plan is None:
                continue
            if saved is None:
                new = self._new(outcome, row, programme, plan, unit_ids, lecturer_ids, now)
                if new is not None:
                    adds.append(new)
                    outcome.added += 1
                continue
            values = self._compare(outcome, row, saved, programme, plan, unit_ids, lecturer_ids)
            if values:
                outcome.changed += 1
                updates.append((row.number, saved, values))
            elif values is not None:
                outcome.unchanged += 1
        if save and outcome.clean:
            await self._save(conn, outcome, adds, updates, actor_telegram_id)
            outcome.saved = outcome.clean
        outcome.errors.sort(key=lambda e: e.row)
        return outcome

    def _read(self, read: RowReader, today: date) -> tuple[_Row | None, _Refs]:
        code = read.read("code", clean_code, required=True)
        name = read.read("name", clean_name, required=True)
        programme = read.read("programme", clean_code, required=True)
        year = read.read(
            "plan_year", lambda raw: parse_count(raw, low=2000, high=today.year + 2), required=True
        )
        fmt = read.read("format", FORMATS.parse, required=True)
        location = read.read("location", lambda raw: place(raw, PLACE_MAX))
        meeting_link = read.read("meeting_link", link)
        organiser = read.read("organiser", lambda raw: place(raw, ORGANISER_MAX))
        capacity = read.read(
            "capacity", lambda raw: parse_count(raw, low=1, high=CAPACITY_MAX), required=True
        )
        at_year = year or today.year
        opens = read.read("enrol_opens", lambda raw: parse_when(raw, at_year, self.tz))
        deadline = read.read(
            "enrol_deadline",
            lambda raw: parse_when(raw, at_year, self.tz, day_end=True),
            required=True,
        )
        approval = read.read("requires_approval", YES_NO.parse)
        late_after = read.read("late_after", lambda raw: parse_count(raw, high=LATE_AFTER_MAX))
        completion = read.read("completion_pct", lambda raw: parse_count(raw, low=1, high=100))
        units = read.codes("audience")
        lecturers = read.staff("lecturers")
        if fmt is not None:
            _check_place(read, fmt)
        if opens is not None and deadline is not None:
            read.check("enrol_deadline", lambda: check_window(opens, deadline))
        refs = _Refs(read.row.number, programme, year, units, lecturers)
        if read.errors:
            return None, refs
        assert code and name and programme and year and fmt and capacity and deadline
        return _Row(
            read.row.number, code, name, programme, year, fmt, capacity, deadline, opens,
            location, meeting_link, organiser, approval, late_after, completion, units, lecturers,
        ), refs  # fmt: skip

    def _new(
        self,
        outcome: Outcome,
        row: _Row,
        programme: Programme,
        plan: Plan,
        unit_ids: tuple[int, ...],
        lecturer_ids: tuple[int, ...],
        now: datetime,
    ) -> NewClass | None:
        """A class the office has not saved: its deadline still to come, as in the chat."""
        try:
            check_not_past(row.deadline, now, self.tz)
        except DomainError as error:
            outcome.errors.append(RowError.of(row.number, "enrol_deadline", error))
            return None
        return NewClass(
            code=row.code, name=row.name, programme_id=programme.id, plan_id=plan.id,
            kind=programme.kind, format=row.format, capacity=row.capacity,
            audience=Audience(unit_ids=unit_ids), location=row.location,
            meeting_link=row.link, organiser=row.organiser, lecturer_ids=lecturer_ids,
            enrol_opens_at=row.opens, enrol_deadline=row.deadline,
            status=ClassStatus.OPEN if plan.approved else ClassStatus.PLANNED,
            late_after=DEFAULT_LATE_AFTER if row.late_after is None else row.late_after,
            completion_pct=row.completion_pct or DEFAULT_COMPLETION,
            requires_approval=bool(row.requires_approval),
        )  # fmt: skip

    def _compare(
        self,
        outcome: Outcome,
        row: _Row,
        saved: SavedClass,
        programme: Programme,
        plan: Plan,
        unit_ids: tuple[int, ...],
        lecturer_ids: tuple[int, ...],
    ) -> dict[str, Any] | None:
        """What the row changes of a saved class (empty: nothing); None when the class is
        left alone or the row asks for what only the chat may change."""
        c = saved.training_class
        left_alone = _LEFT_ALONE.get(c.status)
        if left_alone is not None:
            outcome.unchanged += 1
            outcome.notes.append(RowNote(row.number, left_alone, {"code": c.code}))
            return None
        fixed = {
            "name": (c.name, row.name),
            "programme": (c.programme.code, row.programme),
            "plan_year": (c.plan_year, row.year),
            "format": (c.format, row.format),
            "location": (c.location, row.location),
            "meeting_link": (c.meeting_link, row.link),
            "organiser": (c.organiser, row.organiser),
            "enrol_opens": (c.enrol_opens_at, row.opens),
            "enrol_deadline": (c.enrol_deadline, row.deadline),
            "audience": (set(c.audience.unit_ids), set(unit_ids)),
            "lecturers": (set(saved.lecturer_ids), set(lecturer_ids)),
        }
        errors = [
            RowError(row.number, column, "import.error.class.fixed", {"code": c.code})
            for column, (before, after) in fixed.items()
            if before != after
        ]
        wanted = {
            "capacity": row.capacity,
            "requires_approval": row.requires_approval,
            "late_after": row.late_after,
            "completion_pct": row.completion_pct,
        }
        values = {
            column: value
            for column, value in wanted.items()
            if value is not None and value != getattr(c, column)
        }
        if "capacity" in values:
            if row.capacity < c.enrolled:
                errors.append(RowError(row.number, "capacity", "planning.capacity_below",
                                       {"enrolled": c.enrolled}))  # fmt: skip
            elif row.capacity > c.capacity and c.waiting:
                errors.append(RowError(row.number, "capacity",
                                       "import.error.class.capacity_waitlist",
                                       {"code": c.code, "waiting": c.waiting}))  # fmt: skip
        if errors:
            outcome.errors += errors
            return None
        note_changes(
            outcome,
            row.number,
            [(column, getattr(c, column), value) for column, value in values.items()],
            who=c.code,
        )
        return values

    async def _save(
        self,
        conn: AsyncConnection,
        outcome: Outcome,
        adds: Sequence[NewClass],
        updates: Sequence[tuple[int, SavedClass, dict[str, Any]]],
        actor: int | None,
    ) -> None:
        repo, audit = ClassRepository(conn), AuditRepository(conn)
        for new in adds:
            class_id = await repo.add(new, actor)
            await audit.record(AuditAction.CLASS_SAVED, actor=actor, class_id=class_id,
                               code=new.code, sessions=0, capacity=new.capacity,
                               source="import")  # fmt: skip
        for number, saved, values in updates:
            class_id = saved.training_class.id
            before = await repo.lock(class_id)
            capacity = values.pop("capacity", None)
            if capacity is not None:
                if not await repo.set_capacity(class_id, capacity):
                    outcome.errors.append(RowError(number, "capacity", "planning.capacity_below",
                                                   {"enrolled": before.enrolled}))  # fmt: skip
                    return
                await audit.record(AuditAction.CAPACITY_CHANGED, actor=actor, class_id=class_id,
                                   before=before.capacity, after=capacity,
                                   source="import")  # fmt: skip
            if values:
                await repo.update(class_id, **values)
                await audit.record(
                    AuditAction.CLASS_SAVED, actor=actor, class_id=class_id, source="import",
                    changes={column: {"before": getattr(before, column), "after": value}
                             for column, value in values.items()},
                )  # fmt: skip


def _check_place(read: RowReader, fmt: ClassFormat) -> None:
    """On site needs a place, online a link, blended both; and nothing the format has not."""
    needs = {
        "location": fmt is not ClassFormat.ONLINE,
        "meeting_link": fmt is not ClassFormat.ON_SITE,
    }
    for column, needed in needs.items():
        if needed and not read.text(column):
            read.fail(column, "import.error.class.place_needed")
        elif not needed and read.text(column):
            read.fail(column, "import.error.class.place_unused")


@dataclass(frozen=True, slots=True)
class _World:
    """What the rows refer to, read once for the whole file."""

    classes: dict[str, SavedClass]
    programmes: dict[str, Programme]
    plans: dict[int, Plan]
    units: dict[str, int]
    staff: dict[str, int]
    lecturers: frozenset[int]

    @classmethod
    async def read(
        cls, conn: AsyncConnection, rows: Sequence[_Row], refs: Sequence[_Refs]
    ) -> _World:
        imports = TrainingImportRepository(conn)
        every = [*refs, *(r.refs for r in rows)]
        return cls(
            classes=await imports.classes_by_code(r.code for r in rows),
            programmes={p.code: p for p in await ProgrammeRepository(conn).all()},
            plans={p.year: p for p in await PlanRepository(conn).all()},
            units=await imports.unit_ids(u for r in every for u in r.units),
            staff=await imports.staff_ids(s for r in every for s in r.lecturers),
            lecturers=frozenset(await RoleRepository(conn).holders(Role.LECTURER)),
        )

    def resolve(
        self, row: _Refs, errors: list[RowError]
    ) -> tuple[Programme | None, Plan | None, tuple[int, ...], tuple[int, ...]]:
        """The row's programme, plan, audience units and lecturers; each unknown one is an
        error of its column (one not read is not looked for)."""
        n = row.number
        programme = self.programmes.get(row.programme) if row.programme else None
        if row.programme and programme is None:
            errors.append(RowError(n, "programme", "import.error.class.programme_unknown",
                                   {"code": row.programme}))  # fmt: skip
        plan = self.plans.get(row.year) if row.year else None
        if row.year and plan is None:
            errors.append(RowError(n, "plan_year", "import.error.class.plan_unknown",
                                   {"year": row.year}))  # fmt: skip
        unit_ids: list[int] = []
        for code in row.units:
            if code in self.units:
                unit_ids.append(self.units[code])
            else:
                errors.append(RowError(n, "audience", "import.error.cell.unit_unknown",
                                       {"code": code}))  # fmt: skip
        lecturer_ids: list[int] = []
        for code in row.lecturers:
            person_id = self.staff.get(code)
            if person_id is None:
                errors.append(RowError(n, "lecturers", "import.error.cell.staff_unknown",
                                       {"code": code}))  # fmt: skip
            elif person_id not in self.lecturers:
                errors.append(RowError(n, "lecturers", "import.error.cell.not_lecturer",
                                       {"code": code}))  # fmt: skip
            else:
                lecturer_ids.append(person_id)
        return programme, plan, tuple(sorted(unit_ids)), tuple(sorted(lecturer_ids))
