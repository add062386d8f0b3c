"""A small province's year of training, generated from a seed, and its figures computed again
in plain Python from the rows as stored: what every progress report is checked against.

The world holds the awkward cases on purpose: a class carried over from last year, one
spanning the first quarter's end, a cancelled session with marks, a withdrawn learner who
had attended, a person who moved unit after training, excused absences, a marked absence
corrected, planned and cancelled classes, a unit nobody from was trained.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.attendance import Mark, standing
from bot.report import HELD, Period
from bot.training import MAJORITY_ETHNICITY, ClassKind, PriorityGroup
from storage.database import Database
from storage.schema import (
    attendance,
    class_sessions,
    classes,
    enrolments,
    ethnicities,
    people,
    plan_targets,
    plans,
    programmes,
    results,
    unit_closure,
    units,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: The world's "now": mid-November, with classes finished, running and to come.
NOW = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)
YEAR = 2026
COMPLETING = {"excellent", "very_good", "good", "passed"}


@dataclass(frozen=True)
class World:
    root_id: int
    department_id: int  # with a sub-unit: a unit head's report covers both
    sub_unit_id: int
    empty_unit_id: int  # staff, none of them trained
    mover_id: int  # changed unit after training
    withdrawn_id: int  # withdrew after attending
    spanning_class_id: int  # 20/03 to 10/04: both sides of the first quarter's end


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


async def build_world(db: Database, seed: int = 7) -> World:
    rng = random.Random(seed)
    now_naive = NOW
    async with db.write() as conn:

        async def insert(table: sa.Table, **values: Any) -> int:
            result = await conn.execute(table.insert().values(**values).returning(table.c.id))
            return int(result.scalar_one())

        async def unit(code: str, name: str, parent: int | None) -> int:
            unit_id = await insert(units, code=code, name=name, name_search=name.lower(),
                                   parent_id=parent, kind="department")  # fmt: skip
            ancestors = [] if parent is None else [
                r.ancestor_id for r in await conn.execute(
                    sa.select(unit_closure.c.ancestor_id).where(
                        unit_closure.c.descendant_id == parent))
            ]  # fmt: skip
            rows = [{"ancestor_id": unit_id, "descendant_id": unit_id, "depth": 0}]
            rows += [{"ancestor_id": a, "descendant_id": unit_id, "depth": 1} for a in ancestors]
            await conn.execute(unit_closure.insert(), rows)
            return unit_id

        root = await unit("W.TINH", "Tỉnh Sơn Lâm", None)
        department = await unit("W.SNV", "Sở Nội vụ", root)
        sub_unit = await unit("W.SNV.VP", "Văn phòng Sở Nội vụ", department)
        commune = await unit("W.XA.DV", "Xã Hồng Ngài", root)
        empty = await unit("W.XA.MV", "Xã Mèo Vạc", root)
        await unit("W.XA.KHONG", "Xã không có người", root)

        staff_units = [department, sub_unit, commune, commune, root, empty]
        person_ids: list[int] = []
        for n in range(70):
            unit_id = staff_units[n % len(staff_units)]
            person_ids.append(
                await insert(
                    people, full_name=f"Học viên {n:02d}", name_search=f"hoc vien {n:02d}",
                    unit_id=unit_id, source="roster" if n % 9 else "self", verified=n % 13 != 0,
                    gender=rng.choice(["male", "female", None]),
                    birth_year=rng.choice([None, *range(1965, 2004)]),
                    ethnicity_id=rng.choice([None, 1, 1, 1, 2, 3, 8]),
                    source_pool=rng.random() < 0.2, grade_id=rng.choice([None, 1, 2, 3]),
                    title_id=rng.choice([None, 1, 2]), created_at=now_naive, updated_at=now_naive,
                )
            )  # fmt: skip
        empty_staff = [p for i, p in enumerate(person_ids) if staff_units[i % 6] == empty]
        plan_ids = {}
        for year in (YEAR - 1, YEAR):
            plan_ids[year] = await insert(plans, year=year, name=f"Kế hoạch {year}",
                                          status="draft", created_at=now_naive,
                                          updated_at=now_naive)  # fmt: skip
            await conn.execute(
                plan_targets.insert(),
                [{"plan_id": plan_ids[year], "kind": k, "classes": c, "learners": c * 9}
                 for k, c in (("all", 24), ("update", 10), ("theory", 4), ("thematic", 6))],
            )  # fmt: skip
        programme = await insert(programmes, code="P1", name="Chương trình", name_search="p",
                                 kind="update", created_at=now_naive)  # fmt: skip

        # (code, first day, days between sessions, sessions, status, plan year, kind)
        layout = [
            ("CARRIED", date(2025, 12, 10), 14, 5, "finished", YEAR - 1, "theory"),
            ("OLD", date(2025, 5, 4), 3, 4, "finished", YEAR - 1, "update"),
            ("SPAN", date(2026, 3, 20), 7, 4, "finished", YEAR, "update"),
            ("PLANNED", date(2026, 6, 1), 2, 3, "planned", YEAR, "update"),
            ("GONE", date(2026, 4, 1), 2, 3, "cancelled", YEAR, "thematic"),
            ("RUNNING", date(2026, 10, 20), 7, 6, "running", YEAR, "thematic"),
            ("FUTURE", date(2026, 12, 7), 1, 3, "open", YEAR, "update"),
        ]
        for n in range(12):
            first = date(2026, 1, 5) + timedelta(days=24 * n + rng.randint(0, 6))
            kind = rng.choice([ClassKind.UPDATE, ClassKind.THEORY, ClassKind.GRADE]).value
            layout.append(
                (
                    f"C{n:02d}",
                    first,
                    rng.choice([1, 2, 7]),
                    rng.randint(2, 6),
                    "finished" if first < date(2026, 10, 1) else "running",
                    YEAR,
                    kind,
                )
            )
        ids: dict[str, int] = {}
        withdrawn_id = person_ids[3]
        for code, first, step, count, status, year, kind in layout:
            starts = [_at(first + timedelta(days=step * i)) for i in range(count)]
            class_id = await insert(
                classes, code=code, name=f"Lớp {code}", search_text=code.lower(),
                programme_id=programme, plan_id=plan_ids[year], kind=kind, format="on_site",
                capacity=40, enrolled_count=0, waitlist_seq=0, status=status,
                starts_at=starts[0], ends_at=starts[-1] + timedelta(hours=4),
                completion_pct=80 if code == "RUNNING" else rng.choice([50, 80]),
                created_at=now_naive, updated_at=now_naive,
            )  # fmt: skip
            ids[code] = class_id
            session_ids = [
                await insert(
                    class_sessions,
                    class_id=class_id,
                    starts_at=s,
                    ends_at=s + timedelta(hours=4),
                    status="scheduled",
                    created_at=now_naive,
                    updated_at=now_naive,
                )
                for s in starts
            ]
            learners = rng.sample(person_ids, rng.randint(4, 14))
            if code == "SPAN":
                learners = [withdrawn_id, *(p for p in learners if p != withdrawn_id)]
            learners = [p for p in learners if p not in empty_staff]
            states = {p: "enrolled" for p in learners}
            for p in learners[1:3]:
                states[p] = rng.choice(["enrolled", "withdrawn", "waitlisted"])
            if code == "SPAN":
                states[withdrawn_id] = "withdrawn"
            if code == "RUNNING":
                states.update(dict.fromkeys(learners[:2], "enrolled"))
            if status == "cancelled":
                states = dict.fromkeys(learners, "cancelled")
            await conn.execute(
                enrolments.insert(),
                [{"class_id": class_id, "person_id": p, "status": s, "created_at": now_naive,
                  "updated_at": now_naive} for p, s in states.items()],
            )  # fmt: skip
            enrolled = sum(1 for s in states.values() if s == "enrolled")
            await conn.execute(classes.update().where(classes.c.id == class_id)
                               .values(enrolled_count=enrolled))  # fmt: skip
            marks = []
            for i, (session_id, start) in enumerate(zip(session_ids, starts, strict=True)):
                if start > NOW or status in ("planned", "cancelled"):
                    continue
                for p, s in states.items():
                    took_part = s == "enrolled" or (s == "withdrawn" and i == 0)
                    if took_part:
                        mark = rng.choices(["present", "late", "excused", "absent"],
                                           [70, 10, 10, 10])[0]  # fmt: skip
                        if p == withdrawn_id:
                            mark = "present"
                        if code == "RUNNING" and p in learners[:2] and i < 1 + learners.index(p):
                            mark = "absent"  # one absence to spare, or none
                        marks.append({"session_id": session_id, "person_id": p,
                                      "class_id": class_id, "mark": mark, "source": "roll",
                                      "at": now_naive})  # fmt: skip
            if marks:
                await conn.execute(attendance.insert(), marks)
            if status == "finished":
                await conn.execute(
                    results.insert(),
                    [{"class_id": class_id, "person_id": p, "attended": 0, "total": 0,
                      "outcome": rng.choice(["good", "passed", "not_completed", "excellent"]),
                      "override": False, "recorded_at": now_naive}
                     for p, s in states.items() if s == "enrolled"],
                )  # fmt: skip
            if code.startswith("C") and len(session_ids) > 2 and status == "finished":
                # cancelled after the roll call: its marks leave the learners' tallies
                await conn.execute(
                    class_sessions.update()
                    .where(class_sessions.c.id == session_ids[-1])
                    .values(status="cancelled")
                )
        # corrections after the fact: one mark changed, one removed
        first_marks = (await conn.execute(sa.select(attendance).limit(2))).all()
        await conn.execute(
            attendance.update()
            .where(attendance.c.session_id == first_marks[0].session_id,
                   attendance.c.person_id == first_marks[0].person_id)
            .values(mark="excused")
        )  # fmt: skip
        await conn.execute(
            attendance.delete().where(attendance.c.session_id == first_marks[1].session_id,
                                      attendance.c.person_id == first_marks[1].person_id)
        )  # fmt: skip
        # someone trained in the department moves to the commune afterwards
        trained = (await conn.execute(
            sa.select(attendance.c.person_id).join(people, people.c.id == attendance.c.person_id)
            .where(people.c.unit_id == department, attendance.c.mark == "present").limit(1)
        )).scalar_one()  # fmt: skip
        await conn.execute(people.update().where(people.c.id == trained).values(unit_id=commune))
    return World(root, department, sub_unit, empty, trained, withdrawn_id, ids["SPAN"])


# --- the figures, again, in plain Python --------------------------------------------------------


@dataclass
class Expected:
    new: dict[str, int]
    carried: dict[str, int]
    managed_to_date: dict[str, int]
    learners: dict[str, int]
    learners_to_date: dict[str, int]
    attending: dict[str, int]
    completed: dict[str, int]
    results: dict[str, int]
    class_marks: dict[str, tuple[int, int, int, int, int]]  # code → sessions, p, l, e, a
    trained: set[int]
    staff: set[int]
    groups: dict[PriorityGroup, tuple[int, int]]
    units_own: dict[int, tuple[int, int]]
    at_risk: set[tuple[str, int]]  # (class code, person id)


async def _rows(db: Database, table: sa.Table) -> list[Any]:
    async with db.read() as conn:
        return list((await conn.execute(sa.select(table))).all())


async def expected(db: Database, period: Period, scope_units: set[int] | None) -> Expected:
    """Every figure of the summary and the coverage by the definitions in bot/report.py,
    from whole tables read with plain SELECTs."""
    start, end = period.bounds(TZ)
    year_start = period.year_start(TZ)
    all_plans = {r.id: r.year for r in await _rows(db, plans)}
    the_plan = next((i for i, y in all_plans.items() if y == period.year), None)
    persons = {r.id: r for r in await _rows(db, people)}
    codes = {r.id: r.code for r in await _rows(db, ethnicities)}
    staff = {
        p.id for p in persons.values()
        if (p.source == "roster" or p.verified)
        and (scope_units is None or p.unit_id in scope_units)
    }  # fmt: skip
    # learners: everyone of the scope's units; coverage: the roster (staff) only
    reach = {p.id for p in persons.values() if scope_units is None or p.unit_id in scope_units}
    all_classes = {c.id: c for c in await _rows(db, classes)}
    held = {c.id for c in all_classes.values() if c.status in {s.value for s in HELD}}
    sessions = {s.id: s for s in await _rows(db, class_sessions)}
    marks = await _rows(db, attendance)
    enrolled = [e for e in await _rows(db, enrolments) if e.status == "enrolled"]

    def aware(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def is_new(c: Any, since: datetime) -> bool:
        return c.plan_id == the_plan and since <= aware(c.starts_at) < end

    def is_carried(c: Any, into: datetime) -> bool:
        return aware(c.starts_at) < into <= aware(c.ends_at)

    attended: set[tuple[int, int]] = set()
    for m in marks:
        if m.mark in ("present", "late") and sessions[m.session_id].status == "scheduled":
            attended.add((m.class_id, m.person_id))
    learners_of: dict[int, list[int]] = defaultdict(list)
    for e in enrolled:
        if e.person_id in reach:
            learners_of[e.class_id].append(e.person_id)
    counted = {c for c in held if scope_units is None or learners_of.get(c)}
    result_rows = [r for r in await _rows(db, results) if r.person_id in reach]
    if scope_units is not None:
        counted |= {r.class_id for r in result_rows if r.class_id in held}

    def kinds_of(c: Any) -> list[str]:
        return [c.kind, "all"]

    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for class_id in counted:
        c = all_classes[class_id]
        if aware(c.starts_at) >= end or aware(c.ends_at) < year_start:
            continue
        new, carried = is_new(c, start), is_carried(c, start)
        to_date = is_new(c, year_start) or is_carried(c, year_start)
        n_learners = len(learners_of.get(class_id, []))
        n_attending = sum(1 for p in learners_of.get(class_id, []) if (class_id, p) in attended)
        ended = start <= aware(c.ends_at) < end
        mine = [r for r in result_rows if r.class_id == class_id]
        for kind in kinds_of(c):
            f = figures[kind]
            f["new"] += new
            f["carried"] += carried
            f["managed_to_date"] += to_date
            if new or carried:
                f["learners"] += n_learners
                f["attending"] += n_attending
            if to_date:
                f["learners_to_date"] += n_learners
            if ended:
                f["completed"] += sum(1 for r in mine if r.outcome in COMPLETING)
                f["results"] += len(mine)

    def pick(name: str) -> dict[str, int]:
        return {k: v[name] for k, v in figures.items() if v[name]}

    # sessions marked (by someone in reach) in the period, and those marks, by class
    class_marks: dict[str, list[int]] = {}
    marked: dict[str, set[int]] = defaultdict(set)
    order = ["present", "late", "excused", "absent"]
    for m in marks:
        s = sessions[m.session_id]
        if s.status != "scheduled" or not start <= aware(s.starts_at) < min(end, NOW):
            continue
        if s.class_id not in held or m.person_id not in reach:
            continue
        code = all_classes[s.class_id].code
        row = class_marks.setdefault(code, [0, 0, 0, 0, 0])
        row[1 + order.index(m.mark)] += 1
        marked[code].add(s.id)
    for code, row in class_marks.items():
        row[0] = len(marked[code])

    trained_all = {
        p for (c, p) in attended
        if c in held and (is_new(all_classes[c], start) or is_carried(all_classes[c], start))
    }  # fmt: skip
    trained = trained_all & staff

    def member(p: Any, group: PriorityGroup) -> bool:
        match group:
            case PriorityGroup.YOUNG:
                return p.birth_year is not None and period.year - p.birth_year < 35
            case PriorityGroup.WOMEN:
                return bool(p.gender == "female")
            case PriorityGroup.MINORITY:
                return p.ethnicity_id is not None and codes[p.ethnicity_id] != MAJORITY_ETHNICITY
        return bool(p.source_pool)

    groups = {
        g: (sum(member(persons[p], g) for p in staff),
            sum(member(persons[p], g) for p in trained))
        for g in PriorityGroup
    }  # fmt: skip
    at_risk = set()  # as of now, so only in a period running now
    for e in enrolled if start <= NOW < end else []:
        c = all_classes[e.class_id]
        if (
            e.person_id not in staff
            or c.status not in ("open", "running")
            or aware(c.starts_at) > NOW
        ):
            continue
        scheduled = [s for s in sessions.values() if s.class_id == c.id
                     and s.status == "scheduled"]  # fmt: skip
        own = [Mark(m.mark) for m in marks if m.class_id == c.id and m.person_id == e.person_id
               and sessions[m.session_id].status == "scheduled"]  # fmt: skip
        if standing(len(scheduled), c.completion_pct, own).warning is not None:
            at_risk.add((c.code, e.person_id))
    units_own: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for p in staff:
        units_own[persons[p].unit_id][0] += 1
        units_own[persons[p].unit_id][1] += p in trained
    return Expected(
        new=pick("new"), carried=pick("carried"), managed_to_date=pick("managed_to_date"),
        learners=pick("learners"), learners_to_date=pick("learners_to_date"),
        attending=pick("attending"), completed=pick("completed"), results=pick("results"),
        class_marks={k: (v[0], v[1], v[2], v[3], v[4]) for k, v in class_marks.items()},
        trained=trained, staff=staff, groups=groups,
        units_own={u: (a, b) for u, (a, b) in units_own.items()}, at_risk=at_risk,
    )  # fmt: skip
