"""The plan, programme, class, session and completion importers against a real database: a dry
run counts and writes nothing, a bad cell names its row and column, a save writes, the same
file again changes nothing, and a revised file counts what it changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from bot.clock import FrozenClock
from bot.imports.cells import header
from bot.imports.classes import ClassImporter
from bot.imports.completions import CompletionImporter
from bot.imports.model import Change, Importer, Outcome, RowNote, SourceRow
from bot.imports.plan import PlanImporter
from bot.imports.programmes import ProgrammeImporter
from bot.imports.sessions import SessionImporter
from bot.training import ClassEventKind, ClassStatus, EnrolmentStatus, Target
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.plans import PlanRepository
from storage.schema import (
    audit_log,
    class_events,
    class_sessions,
    classes,
    completions,
    people,
    plans,
    programmes,
)
from tests.factories import add_class, add_person, add_role, add_unit, count, make_province
from tests.storage.test_reminders import chats, local, world
from tools.demo.data import HOME_COMMUNE_CODE
from tools.demo.import_files import write_import_files

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Today for every test: 10/01/2026, 08:00 in the province.
NOW = datetime(2026, 1, 10, 8, 0, tzinfo=TZ)
ADMIN = 1


class _RolledBack(Exception):
    """Raised inside the transaction to roll it back, as the import service does."""


async def _progress(done: int) -> None:
    assert done > 0


def rows(*cells: Mapping[str, str]) -> list[SourceRow]:
    """Data rows as the reader gives them: numbered from 2, the header being row 1."""
    return [SourceRow(number, dict(c)) for number, c in enumerate(cells, 2)]


async def run(db: Database, importer: Importer, data: Sequence[SourceRow], *,
              save: bool = True) -> Outcome:  # fmt: skip
    """One run in a write transaction, kept only when saved without an error."""
    outcome: Outcome | None = None
    try:
        async with db.write() as conn:
            outcome = await importer.run(
                conn, data, save=save, actor_telegram_id=ADMIN, progress=_progress
            )
            if not (save and outcome.clean):
                raise _RolledBack
    except _RolledBack:
        pass
    assert outcome is not None
    return outcome


def counts(outcome: Outcome) -> tuple[int, int, int]:
    return outcome.added, outcome.changed, outcome.unchanged


def errors(outcome: Outcome) -> list[tuple[int, str | None, str]]:
    return [(e.row, e.column, e.key) for e in outcome.errors]


def clock() -> FrozenClock:
    return FrozenClock(NOW)


PLAN_2026 = {"year": "2026", "name": "Kế hoạch ĐTBD năm 2026", "approved_on": "05/01/2026",
             "approved_by": "Ban Thường vụ Tỉnh ủy"}  # fmt: skip


def plan_rows(update: str = "30", learners: str = "2.668") -> list[SourceRow]:
    return rows(
        {**PLAN_2026, "kind": "Tổng", "classes": "24", "learners": learners},
        {**PLAN_2026, "kind": "bồi dưỡng cập nhật kiến thức", "classes": "12", "learners": update},
        {**PLAN_2026, "kind": "Lý luận chính trị", "classes": "4", "learners": "188"},
    )


async def test_plan_dry_run_save_reimport_and_revised_targets(db: Database) -> None:
    importer = PlanImporter(clock(), TZ)
    dry = await run(db, importer, plan_rows(), save=False)
    assert counts(dry) == (3, 0, 0) and dry.clean and not dry.saved
    assert await count(db, plans) == 0
    saved = await run(db, importer, plan_rows())
    assert saved.saved and counts(saved) == (3, 0, 0)
    async with db.read() as conn:
        plan = await PlanRepository(conn).of_year(2026)
    assert plan is not None and plan.approved and plan.approved_by == "Ban Thường vụ Tỉnh ủy"
    assert plan.targets == {"all": Target(24, 2668), "update": Target(12, 30),
                            "theory": Target(4, 188)}  # fmt: skip
    again = await run(db, importer, plan_rows())
    assert counts(again) == (0, 0, 3)
    # The office revises an approved plan's target: allowed, counted, audited.
    revised = await run(db, importer, plan_rows(update="900"))
    assert counts(revised) == (0, 1, 2) and revised.saved
    assert revised.changes == [Change(3, "learners", "30", "900")]
    async with db.read() as conn:
        plan = await PlanRepository(conn).of_year(2026)
        actions = list(await conn.scalars(sa.select(audit_log.c.action).order_by(audit_log.c.id)))
    assert plan is not None and plan.targets["update"] == Target(12, 900)
    assert actions == ["plan_saved", "plan_targets_set"]


async def test_plan_bad_cells_name_their_row_and_column_and_nothing_is_saved(db: Database) -> None:
    importer = PlanImporter(clock(), TZ)
    bad = rows(
        {**PLAN_2026, "kind": "Tổng", "classes": "24", "learners": "2668"},
        {**PLAN_2026, "kind": "Lớp học vui", "classes": "mười", "learners": "-3"},
        {"year": "1990", "name": "Kế hoạch cũ", "kind": "Tổng", "classes": "1",
         "learners": "1", "approved_on": "05/01/1990"},
        {**PLAN_2026, "name": "Tên khác hẳn", "kind": "Tổng", "classes": "1", "learners": "1"},
        {**PLAN_2026, "kind": "tong", "classes": "24", "learners": "2668"},
        {"year": "2027", "name": "Kế hoạch năm 2027", "kind": "Tổng", "classes": "1",
         "learners": "1", "approved_on": "05/02/2026", "approved_by": "UBND tỉnh"},
    )  # fmt: skip
    outcome = await run(db, importer, bad)
    assert not outcome.saved
    assert errors(outcome) == [
        (3, "kind", "import.error.cell.choice"),
        (3, "classes", "planning.count_range"),
        (3, "learners", "planning.count_range"),
        (4, "year", "planning.year_range"),
        (4, "approved_by", "import.error.plan.approval_pair"),
        (5, "name", "import.error.plan.name_differs"),
        (6, "kind", "import.error.cell.duplicate"),
        (7, "approved_on", "planning.approval_ahead"),
    ]
    assert outcome.errors[0].params["choices"].startswith("Tổng / Bồi dưỡng cập nhật kiến thức")
    assert await count(db, plans) == 0
    # A saved approval is not rewritten by a file; leaving it empty keeps it.
    await run(db, importer, plan_rows())
    other_body = {**PLAN_2026, "approved_by": "UBND tỉnh", "kind": "Tổng", "classes": "24",
                  "learners": "2668"}  # fmt: skip
    other = await run(db, importer, rows(other_body))
    assert errors(other) == [(2, "approved_on", "import.error.plan.approved_already")]
    empty = {"year": "2026", "name": PLAN_2026["name"], "kind": "Tổng", "classes": "24",
             "learners": "2668"}  # fmt: skip
    assert counts(await run(db, importer, rows(empty))) == (0, 0, 1)


PROGRAMMES = (
    {"code": "CT.CV", "name": "Bồi dưỡng ngạch chuyên viên", "kind": "Bồi dưỡng theo ngạch"},
    {"code": "ct.cds", "name": "Chuyển đổi số", "kind": "Chuyen de, tap huan nghiep vu",
     "validity_months": "24"},
)  # fmt: skip


async def test_programmes_added_updated_and_a_used_kind_kept(db: Database) -> None:
    importer = ProgrammeImporter()
    dry = await run(db, importer, rows(*PROGRAMMES), save=False)
    assert counts(dry) == (2, 0, 0) and await count(db, programmes) == 0
    assert counts(await run(db, importer, rows(*PROGRAMMES))) == (2, 0, 0)
    assert counts(await run(db, importer, rows(*PROGRAMMES))) == (0, 0, 2)
    renamed = {**PROGRAMMES[1], "name": "Chuyển đổi số trong cơ quan nhà nước",
               "validity_months": ""}  # fmt: skip
    changed = await run(db, importer, rows(PROGRAMMES[0], renamed))
    assert counts(changed) == (0, 1, 1)
    async with db.read() as conn:
        row = (await conn.execute(sa.select(programmes).where(programmes.c.code == "CT.CDS"))).one()
    assert (row.name, row.validity_months, row.kind) == (renamed["name"], None, "thematic")
    await add_class(db, "CV.01", programme="CT.CV")
    kind = await run(db, importer, rows({**PROGRAMMES[0], "kind": "Lý luận chính trị"}))
    assert errors(kind) == [(2, "kind", "import.error.programme.kind_in_use")]
    bad = await run(db, importer, rows({"code": "Mã có dấu", "name": "X", "kind": "",
                                        "validity_months": "0"}))  # fmt: skip
    assert errors(bad) == [
        (2, "code", "planning.code_format"),
        (2, "name", "planning.name_length"),
        (2, "kind", "import.error.cell.required"),
        (2, "validity_months", "planning.count_range"),
    ]


async def _ready_for_classes(db: Database) -> int:
    """The plan and programmes, a unit and a lecturer with a staff code; returns the
    lecturer's id."""
    province = await make_province(db)
    await run(db, PlanImporter(clock(), TZ), plan_rows())
    await run(db, ProgrammeImporter(), rows(*PROGRAMMES))
    lecturer = await add_person(db, "Hà Thị Giảng", unit_id=province.department_id)
    await add_role(db, lecturer, "lecturer")
    async with db.write() as conn:
        await conn.execute(people.update().where(people.c.id == lecturer).values(
            staff_code="GV001"))  # fmt: skip
    return lecturer


CLASS_ROWS = (
    {"code": "CV.2026.01", "name": "Bồi dưỡng ngạch chuyên viên khóa 1", "programme": "CT.CV",
     "plan_year": "2026", "format": "Tập trung", "location": "Hội trường A",
     "capacity": "60", "enrol_opens": "12/01/2026", "enrol_deadline": "20/02/2026",
     "requires_approval": "Có", "audience": "SNV, XA.DONGVAN", "lecturers": "gv001"},
    {"code": "CDS.2026.01", "name": "Chuyển đổi số khóa 1", "programme": "CT.CDS",
     "plan_year": "2026", "format": "💻 Trực tuyến", "meeting_link": "https://meet.example.vn/cds",
     "capacity": "200", "enrol_deadline": "01/03/2026 17:00", "late_after": "10",
     "completion_pct": "90"},
)  # fmt: skip


async def test_classes_made_as_the_dialogue_makes_them_then_changed_as_the_chat_may(
    db: Database,
) -> None:
    lecturer = await _ready_for_classes(db)
    importer = ClassImporter(clock(), TZ)
    dry = await run(db, importer, rows(*CLASS_ROWS), save=False)
    assert counts(dry) == (2, 0, 0) and dry.clean, dry.errors
    assert await count(db, classes) == 0
    assert counts(await run(db, importer, rows(*CLASS_ROWS))) == (2, 0, 0)
    async with db.read() as conn:
        repo = ClassRepository(conn)
        cv = await repo.get(await repo.id_of("CV.2026.01") or 0)
        cds = await repo.get(await repo.id_of("CDS.2026.01") or 0)
    assert cv.status is ClassStatus.OPEN and cv.requires_approval and cv.capacity == 60
    assert len(cv.audience.unit_ids) == 2 and cv.lecturers == ("Hà Thị Giảng",)
    assert cv.enrol_deadline == datetime(2026, 2, 20, 23, 59, tzinfo=TZ)
    assert (cds.location, cds.late_after, cds.completion_pct) == (None, 10, 90)
    assert counts(await run(db, importer, rows(*CLASS_ROWS))) == (0, 0, 2)

    learner = await add_person(db, "Lò Văn Học", unit_id=None)
    async with db.write() as conn:
        await EnrolmentRepository(conn).put(cv.id, learner, EnrolmentStatus.ENROLLED)
        await ClassRepository(conn).take_seat(cv.id)
    more = {**CLASS_ROWS[0], "capacity": "80", "late_after": "5", "requires_approval": "không"}
    changed = await run(db, importer, rows(more, CLASS_ROWS[1]))
    assert counts(changed) == (0, 1, 1) and changed.saved
    assert changed.changes == [
        Change(2, "capacity", "60", "80", who="CV.2026.01"),
        Change(
            2,
            "requires_approval",
            "import.word.yes",
            "import.word.no",
            keyed=True,
            who="CV.2026.01",
        ),
        Change(2, "late_after", "15", "5", who="CV.2026.01"),
    ]
    async with db.read() as conn:
        cv = await ClassRepository(conn).get(cv.id)
    assert (cv.capacity, cv.late_after, cv.requires_approval) == (80, 5, False)
    assert lecturer

    # What only the dialogue sets, or a capacity below those enrolled: row errors.
    moved = {**CLASS_ROWS[0], "capacity": "0", "name": "Tên mới của lớp", "location": "Phòng 2"}
    refused = await run(db, importer, rows(moved))
    assert errors(refused) == [(2, "capacity", "planning.count_range")]
    moved["capacity"] = "80"
    refused = await run(db, importer, rows(moved))
    assert errors(refused) == [
        (2, "name", "import.error.class.fixed"),
        (2, "location", "import.error.class.fixed"),
    ]
    others = [await add_person(db, name, unit_id=None) for name in ("Người Hai", "Người Ba")]
    async with db.write() as conn:
        for other in others:
            await EnrolmentRepository(conn).put(cv.id, other, EnrolmentStatus.ENROLLED)
    async with db.write() as conn:
        await conn.execute(classes.update().where(classes.c.id == cv.id).values(enrolled_count=3))
    below = await run(db, importer, rows({**CLASS_ROWS[0], "capacity": "2"}))
    assert errors(below) == [(2, "capacity", "planning.capacity_below")]

    # A cancelled class is left alone, and the dry run says so.
    async with db.write() as conn:
        await conn.execute(classes.update().where(classes.c.id == cds.id).values(
            status="cancelled"))  # fmt: skip
    alone = await run(db, importer, rows({**CLASS_ROWS[1], "capacity": "10"}))
    assert counts(alone) == (0, 0, 1) and alone.clean
    assert alone.notes == [RowNote(2, "import.note.class_cancelled", {"code": "CDS.2026.01"})]


async def test_class_rows_with_unknown_references_and_bad_cells(db: Database) -> None:
    await _ready_for_classes(db)
    await add_person(db, "Người Không Dạy", unit_id=None)
    async with db.write() as conn:
        await conn.execute(people.update().where(people.c.full_name == "Người Không Dạy")
                           .values(staff_code="CB999"))  # fmt: skip
    bad = rows(
        {**CLASS_ROWS[0], "programme": "CT.KHONGCO", "plan_year": "2025",
         "audience": "KHONGCO", "lecturers": "CB999, CB000"},
        {**CLASS_ROWS[1], "format": "Học từ xa", "capacity": "nhiều", "meeting_link": "meet.vn",
         "enrol_deadline": "31/02/2026", "requires_approval": "có lẽ"},
        {**CLASS_ROWS[1], "code": "CDS.2026.02", "location": "Hội trường B",
         "enrol_opens": "05/03/2026"},
        {**CLASS_ROWS[0], "code": "CV.2026.09", "enrol_opens": "", "enrol_deadline": "05/01/2026"},
        {**CLASS_ROWS[0], "name": "<b>" + "Tên rất dài " * 40, "code": "CV.2026.10",
         "format": "Kết hợp"},
    )  # fmt: skip
    outcome = await run(db, ClassImporter(clock(), TZ), bad)
    assert errors(outcome) == [
        (2, "programme", "import.error.class.programme_unknown"),
        (2, "plan_year", "import.error.class.plan_unknown"),
        (2, "audience", "import.error.cell.unit_unknown"),
        (2, "lecturers", "import.error.cell.not_lecturer"),
        (2, "lecturers", "import.error.cell.staff_unknown"),
        (3, "format", "import.error.cell.choice"),
        (3, "meeting_link", "planning.link_format"),
        (3, "capacity", "planning.count_range"),
        (3, "enrol_deadline", "error.date_invalid"),
        (3, "requires_approval", "import.error.cell.choice"),
        (4, "location", "import.error.class.place_unused"),
        (4, "enrol_deadline", "planning.deadline_order"),
        (5, "enrol_deadline", "planning.in_the_past"),
        (6, "name", "planning.name_length"),
        (6, "meeting_link", "import.error.class.place_needed"),
    ]
    assert await count(db, classes) == 0


def session_row(day: str, start: str, end: str, **more: str) -> dict[str, str]:
    return {"class": "NL01", "date": day, "start": start, "end": end, **more}


async def test_sessions_added_as_the_dialogue_adds_them_and_learners_told(db: Database) -> None:
    province = await make_province(db)
    starts = datetime(2026, 3, 2, 7, 30, tzinfo=TZ)
    class_id = await add_class(db, "NL01", starts=starts, days=2, plan_year=2026)
    learner = await add_person(db, "Lò Văn Học", unit_id=province.commune_id, telegram_id=7000)
    async with db.write() as conn:
        await EnrolmentRepository(conn).put(class_id, learner, EnrolmentStatus.ENROLLED)
        await ClassRepository(conn).take_seat(class_id)
    importer = SessionImporter(clock(), TZ)
    new = rows(
        session_row("04/03/2026", "7h30", "11h", topic="Chuyên đề 3: Kinh tế số"),
        session_row("04/03/2026", "13:30", "16:30", room="Phòng 201"),
        session_row("05/03/2026", "07:30", "11:00", link="https://meet.example.vn/nl01"),
    )
    dry = await run(db, importer, new, save=False)
    assert counts(dry) == (3, 0, 0) and dry.clean, dry.errors
    assert await count(db, class_sessions) == 2
    assert counts(await run(db, importer, new)) == (3, 0, 0)
    async with db.read() as conn:
        training_class = await ClassRepository(conn).get(class_id)
        kinds = list(await conn.scalars(sa.select(class_events.c.kind)))
    assert training_class.ends_at == datetime(2026, 3, 5, 11, 0, tzinfo=TZ)
    assert kinds == [ClassEventKind.SESSION_ADDED.value] * 3
    assert counts(await run(db, importer, new)) == (0, 0, 3)

    # The same session, a later end and another room: changed, and its people hear of it.
    later = rows(session_row("04/03/2026", "13:30", "17:00", room="Phòng 305"))
    changed = await run(db, importer, later)
    assert counts(changed) == (0, 1, 0)
    assert changed.changes == [
        Change(2, "end", "16:30", "17:00"),
        Change(2, "room", "Phòng 201", "Phòng 305"),
    ]
    async with db.read() as conn:
        kinds = list(await conn.scalars(sa.select(class_events.c.kind).order_by(class_events.c.id)))
    assert kinds[3:] == ["session_moved", "session_place"]


async def test_session_overlaps_and_bad_rows_are_refused(db: Database) -> None:
    await make_province(db)
    starts = datetime(2026, 3, 2, 7, 30, tzinfo=TZ)  # saved: 02/03 and 03/03, 07:30–10:30
    await add_class(db, "NL01", starts=starts, days=2, plan_year=2026)
    await add_class(db, "HUY01", starts=starts, days=1, plan_year=2026, status="cancelled")
    bad = rows(
        session_row("02/03/2026", "09:00", "11:00"),  # overlaps a saved one
        session_row("06/03/2026", "07:30", "11:00"),
        session_row("06/03/2026", "10:00", "12:00"),  # overlaps the row above
        session_row("07/03/2026", "11:00", "07:30"),
        session_row("31/02/2026", "25h", "", lecturer="GV404"),
        session_row("05/01/2026", "07:30", "11:00"),  # gone
        {**session_row("09/03/2026", "07:30", "11:00"), "class": "KHONGCO"},
        {**session_row("09/03/2026", "07:30", "11:00"), "class": "HUY01"},
        session_row("06/03/2026", "07:30", "11:00"),
    )
    outcome = await run(db, SessionImporter(clock(), TZ), bad)
    assert errors(outcome) == [
        (2, "start", "import.error.session.overlap"),
        (4, "start", "import.error.session.overlap"),
        (5, "end", "import.error.session.end_before_start"),
        (6, "date", "error.date_invalid"),
        (6, "start", "error.time_format"),
        (6, "end", "import.error.cell.required"),
        (7, "date", "planning.in_the_past"),
        (8, "class", "import.error.session.class_unknown"),
        (9, "class", "planning.already_cancelled"),
        (10, "start", "import.error.cell.duplicate"),
    ]
    assert outcome.errors[0].params["start"] == starts.astimezone(UTC)
    assert await count(db, class_sessions) == 3


async def test_completions_of_the_past_once_each(db: Database) -> None:
    province = await make_province(db)
    person = await add_person(db, "Lò Văn Học", unit_id=province.commune_id)
    async with db.write() as conn:
        await conn.execute(people.update().where(people.c.id == person).values(
            staff_code="CB000123"))  # fmt: skip
    await run(db, ProgrammeImporter(), rows(*PROGRAMMES))
    importer = CompletionImporter(clock(), TZ)
    record = rows(
        {"staff_code": "cb000123", "programme": "CT.CV", "completed_on": "28/11/2024",
         "class_name": "Lớp chuyên viên khóa 3"},
        {"staff_code": "CB000123", "programme": "CT.CDS", "completed_on": "15/06/2025"},
    )  # fmt: skip
    dry = await run(db, importer, record, save=False)
    assert counts(dry) == (2, 0, 0) and await count(db, completions) == 0
    assert counts(await run(db, importer, record)) == (2, 0, 0)
    assert counts(await run(db, importer, record)) == (0, 0, 2)
    renamed = rows({"staff_code": "CB000123", "programme": "CT.CV", "completed_on": "28/11/2024",
                    "class_name": "Lớp bồi dưỡng ngạch chuyên viên khóa 3"})  # fmt: skip
    assert counts(await run(db, importer, renamed)) == (0, 1, 0)
    async with db.read() as conn:
        saved = (await conn.execute(sa.select(completions).order_by(completions.c.id))).all()
    assert [(r.source, r.completed_on, r.class_name) for r in saved] == [
        ("import", date(2024, 11, 28), "Lớp bồi dưỡng ngạch chuyên viên khóa 3"),
        ("import", date(2025, 6, 15), None),
    ]
    bad = rows(
        {"staff_code": "CB404", "programme": "CT.KHONGCO", "completed_on": "01/01/2025"},
        {"staff_code": "CB000123", "programme": "CT.CV", "completed_on": "01/02/2026"},
        {"staff_code": "CB000123, CB2", "programme": "CT.CV", "completed_on": "hôm qua"},
        {"staff_code": "", "programme": "", "completed_on": ""},
    )
    outcome = await run(db, importer, bad)
    assert errors(outcome) == [
        (2, "staff_code", "import.error.cell.staff_unknown"),
        (2, "programme", "import.error.completion.programme_unknown"),
        (3, "completed_on", "import.error.completion.day_range"),
        (4, "completed_on", "error.date_format"),
        (4, "staff_code", "import.error.completion.one_person"),
        (5, "staff_code", "import.error.cell.required"),
        (5, "programme", "import.error.cell.required"),
        (5, "completed_on", "import.error.cell.required"),
    ]
    assert await count(db, completions) == 2


async def test_a_few_thousand_completions_read_in_bulk(db: Database) -> None:
    await make_province(db)
    await run(db, ProgrammeImporter(), rows(*PROGRAMMES))
    async with db.write() as conn:
        now = datetime.now(UTC)
        await conn.execute(people.insert(), [
            {"full_name": f"Cán Bộ Số {i}", "name_search": f"can bo so {i}",
             "staff_code": f"CB{i:05}", "source": "roster", "verified": True,
             "source_pool": False, "created_at": now, "updated_at": now}
            for i in range(3000)
        ])  # fmt: skip
    record = rows(*({"staff_code": f"CB{i:05}", "programme": "CT.CV",
                     "completed_on": f"{1 + i % 28:02}/0{1 + i % 9}/2024"}
                    for i in range(3000)))  # fmt: skip
    started = datetime.now(UTC)
    assert counts(await run(db, CompletionImporter(clock(), TZ), record)) == (3000, 0, 0)
    assert datetime.now(UTC) - started < timedelta(seconds=20)
    assert counts(await run(db, CompletionImporter(clock(), TZ), record)) == (0, 0, 3000)


async def test_learners_hear_of_sessions_added_to_their_class(db: Database) -> None:
    w = await world(db, learners=2)
    day = local(7, 0).date().strftime("%d/%m/%Y")
    added = rows(session_row(day, "07:30", "11:00"), session_row(day, "13:30", "16:30"))
    outcome = await run(db, SessionImporter(w.clock, TZ), added)
    assert counts(outcome) == (2, 0, 0)
    w.clock.advance(timedelta(minutes=2))
    await w.run()
    assert chats(await w.sent("class_changed")) == [7000, 7001]
    async with db.read() as conn:
        handled = list(await conn.scalars(sa.select(class_events.c.handled_at)))
    assert len(handled) == 2 and all(handled)


def _read_sheet(path: Path, importer: Importer) -> list[SourceRow]:
    """The example file read back as the import's reader gives rows: by header, dates as
    dd/mm/yyyy, whole numbers without ".0" (enough of the reader for these files)."""
    table = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    keys = {header(importer.kind, c.key): c.key for c in importer.columns}
    columns = [keys[str(title)] for title in table[0]]

    def text(value: object) -> str:
        if isinstance(value, datetime | date):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    return [SourceRow(n, {c: text(v) for c, v in zip(columns, row, strict=True)})
            for n, row in enumerate(table[1:], 2)]  # fmt: skip


async def test_the_example_files_import_cleanly_and_the_faulty_one_says_why(
    db: Database, tmp_path: Path
) -> None:
    province = await make_province(db)
    await add_unit(db, HOME_COMMUNE_CODE, "Xã Lũng Cú", province.root_id, "commune")
    await run(db, PlanImporter(clock(), TZ), plan_rows())  # this year's plan, approved
    await run(db, ProgrammeImporter(), rows(PROGRAMMES[1]))  # CT.CDS
    files = write_import_files(tmp_path / "files", NOW.date())
    assert [f.name for f in files] == ["ke-hoach-2027.xlsx", "chuong-trinh.xlsx", "lop-hoc.xlsx",
                                       "buoi-hoc.xlsx", "lop-hoc-co-loi.xlsx"]  # fmt: skip
    importers: list[Importer] = [
        PlanImporter(clock(), TZ), ProgrammeImporter(), ClassImporter(clock(), TZ),
        SessionImporter(clock(), TZ), ClassImporter(clock(), TZ),
    ]  # fmt: skip
    outcomes = [await run(db, i, _read_sheet(f, i)) for f, i in zip(files, importers, strict=True)]
    assert [counts(o) for o in outcomes[:4]] == [(4, 0, 0), (3, 0, 0), (3, 0, 0), (10, 0, 0)]
    assert all(o.saved for o in outcomes[:4])
    assert errors(outcomes[4]) == [
        (2, "format", "import.error.cell.choice"),
        (2, "capacity", "planning.count_range"),
        (3, "enrol_deadline", "error.date_invalid"),
        (3, "programme", "import.error.class.programme_unknown"),
    ]


async def test_odd_text_is_cleaned_or_refused_never_a_database_error(db: Database) -> None:
    await _ready_for_classes(db)
    importer = ClassImporter(clock(), TZ)
    odd = {**CLASS_ROWS[0], "code": "ODD.01", "name": "Lớp\x00 chuyển đổi số 🚀\u202e",
           "organiser": "Phòng " * 50, "lecturers": "GV\x00001\u200b"}  # fmt: skip
    online = {**CLASS_ROWS[1], "code": "ODD.02", "meeting_link": "https://meet.vn/a\x00b"}
    refused = await run(db, importer, rows(odd, online))
    assert errors(refused) == [(2, "organiser", "planning.place_length")]
    odd["organiser"] = "Phòng Quản lý đào tạo 🏫"
    assert counts(await run(db, importer, rows(odd, online))) == (2, 0, 0)
    async with db.read() as conn:
        repo = ClassRepository(conn)
        saved = await repo.get(await repo.id_of("ODD.01") or 0)
        link = (await repo.get(await repo.id_of("ODD.02") or 0)).meeting_link
    assert (saved.name, saved.lecturers, link) == (
        "Lớp chuyển đổi số 🚀",
        ("Hà Thị Giảng",),
        "https://meet.vn/ab",
    )
    sessions = rows(
        {"class": "ODD.01", "date": "02/03/2026", "start": "07:30", "end": "11:00",
         "topic": "Chuyên đề\x00 1 " + "🚀" * 400, "room": "Phòng " * 40},
    )  # fmt: skip
    outcome = await run(db, SessionImporter(clock(), TZ), sessions)
    assert errors(outcome) == [
        (2, "topic", "planning.name_length"),
        (2, "room", "planning.place_length"),
    ]
