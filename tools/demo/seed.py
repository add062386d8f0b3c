"""Loads `tools.demo.data` into a database, for the sandbox, demos and load tests.

Everything goes through the application's repositories (the same bulk inserts a roster
import uses), in one write transaction: 100,000 people take seconds, and a half-seeded
database is never left behind. Seeding refuses a database that already has people: the
sandbox may restart many times and must never double its roster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import FrozenClock
from bot.domain import (
    AuditAction,
    Employment,
    Gender,
    NewPerson,
    NewUnit,
    PersonSource,
    Role,
    UnitScope,
)
from bot.services.access import AccessService
from bot.services.approval_requests import ApprovalPolicy, hold_for_approval
from bot.services.leave import LeaveService
from bot.training import (
    ClassFormat,
    ClassStatus,
    EnrolmentStatus,
    NewClass,
    NewSession,
    TrainingClass,
)
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.code_lists import CodeListRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.plans import PlanRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.roster_import import RosterImportRepository
from storage.repositories.units import UnitRepository
from storage.types import utcnow
from tools.demo.attendance import generate_attendance
from tools.demo.classes import SCHOOL, generate_training
from tools.demo.data import (
    DEFAULT_PEOPLE,
    DEFAULT_SEED,
    ROOT_CODE,
    DemoIdentities,
    DemoPerson,
    DemoUnit,
    generate_demo_data,
)
from tools.demo.load_attendance import load_attendance
from tools.demo.load_training import load_training

#: The privacy-notice version the demo's linked people are recorded as having accepted.
DEMO_NOTICE_VERSION = "2026-11"
#: Why the demo learner asks to be excused from a session.
LEAVE_REASON = "Đi công tác theo quyết định của Ủy ban nhân dân xã"
#: How many of the demo unit head's staff wait for approval, and how soon the first expires.
DEMO_PENDING = 3
EXPIRING_IN = timedelta(hours=2)
APPROVAL_DAYS = 3
#: The province's zone, unless the caller (the sandbox, from its settings) gives another.
DEMO_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: The class added for the approval demo when none of the plan's fits: when it meets, where.
APPROVAL_CLASS_IN = timedelta(days=14)
APPROVAL_CLASS_PLACE = f"{SCHOOL}, Hội trường C"
#: The demo roster's staff codes (mã cán bộ): "CB" and the person's id, "CB000042".
STAFF_CODE_PREFIX = "CB"


class DemoSeedError(RuntimeError):
    """The database is not empty enough to receive the demo data."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What was seeded: enough for the sandbox to print a welcome and for tests to check."""

    units: int
    people: int
    linked: int
    identities: DemoIdentities
    root_unit_id: int
    #: The current year's plan and its classes, and the classes the sandbox's guide names.
    plan_year: int
    classes: int
    running_class: str  # the demo lecturer teaches it this week
    full_class: str  # full, with a waitlist
    duplicate_class: str  # the demo learner is refused it: she completed its programme
    learner_classes: tuple[str, ...]  # the demo learner's, this week and later
    draft_class: str  # next year's, in a plan not yet approved
    practice_class: str  # meets now: check-in open, a roll call to take
    results_class: str  # finished, its results left to record

    @property
    def classes_to_try(self) -> dict[str, str]:
        """The codes the sandbox's welcome names, by the part of the loop each shows."""
        return {"week": self.learner_classes[0], "full": self.full_class,
                "running": self.running_class, "duplicate": self.duplicate_class,
                "draft": self.draft_class, "practice": self.practice_class,
                "results": self.results_class, "nominate": self.learner_classes[1]}  # fmt: skip


async def has_people(db: Database) -> bool:
    """Whether any person exists (the database is migrated first, as the bot would)."""
    await upgrade(db)
    async with db.read() as conn:
        return await PeopleRepository(conn).any()


async def seed_demo(
    db: Database, *, people: int = DEFAULT_PEOPLE, seed: int = DEFAULT_SEED,
    now: datetime | None = None, tz: tzinfo = DEMO_TZ,
) -> DemoSummary:  # fmt: skip
    """Migrate, then add the demo province's units, roster, consents and staff roles, and
    its training around `now` (by default the present): plans, classes, enrolments.

    Raises DemoSeedError if the database already has people or any of the demo unit codes.
    """
    await upgrade(db)
    now = now or utcnow()
    data = generate_demo_data(seed=seed, people=people)
    training = generate_training(data, now, tz)
    async with db.write() as conn:
        repo = PeopleRepository(conn)
        # Checked inside the write transaction, so two concurrent seeders cannot both pass.
        if await repo.any():
            raise DemoSeedError(
                "the database already has people; demo data is seeded only into an empty one"
            )
        unit_ids = await _add_units(UnitRepository(conn), data.units)
        jobs = await _Jobs.load(CodeListRepository(conn))
        ethnicities = await CodeListRepository(conn).ids_by_code("ethnicity")
        await repo.add_many(
            [
                NewPerson(
                    full_name=p.full_name,
                    source=PersonSource.SELF if p.self_declared else PersonSource.ROSTER,
                    unit_id=unit_ids[p.unit_code],
                    verified=not p.self_declared,
                    ethnicity_id=ethnicities[p.ethnicity_code],
                    gender=Gender(p.gender),
                    birth_year=p.birth_year,
                    phone=p.phone,
                    source_pool=p.source_pool,
                    telegram_id=p.telegram_id,
                    language="vi" if p.linked else None,
                    consent_at=now if p.linked else None,
                    **jobs.of(p),
                )
                for p in data.people
            ]
        )
        linked = await repo.linked_ids()
        await RosterImportRepository(conn).give_staff_codes(STAFF_CODE_PREFIX)
        await repo.add_consents([person_id for person_id, _ in linked], DEMO_NOTICE_VERSION, now)
        staff = data.identities
        roles = RoleRepository(conn)
        for identity, role, unit in (
            (staff.admin, Role.ADMIN, None),
            (staff.unit_head, Role.UNIT_HEAD, unit_ids[staff.unit_head.unit_code]),
            (staff.lecturer, Role.LECTURER, None),
        ):
            (person,) = await repo.by_phone(identity.phone)
            await roles.grant(person.id, role, unit, by=None)
        loaded = await load_training(conn, training, unit_ids, jobs.grades, jobs.titles)
        attendance = generate_attendance(training, now, seed)
        await load_attendance(conn, attendance, loaded, tz)
        await AuditRepository(conn).record(
            AuditAction.DEMO_SEED, actor=None, people=len(data.people), seed=seed
        )
    return DemoSummary(
        units=len(data.units),
        people=len(data.people),
        linked=len(linked),
        identities=data.identities,
        root_unit_id=unit_ids[ROOT_CODE],
        plan_year=training.plans[0].year,
        classes=sum(c.plan_year == training.plans[0].year for c in training.classes),
        running_class=training.running_class,
        full_class=training.full_class,
        duplicate_class=training.duplicate_class,
        learner_classes=training.learner_classes,
        draft_class=training.draft_class,
        practice_class=training.practice_class,
        results_class=attendance.results_to_record,
    )


@dataclass(frozen=True, slots=True)
class _Jobs:
    """Files a demo person's job and grade where each belongs: a position, a civil
    servant's grade, or a public employee's professional title and rank."""

    titles: dict[str, int]
    grades: dict[str, int]
    lecturer: int

    @classmethod
    async def load(cls, codes: CodeListRepository) -> _Jobs:
        professional = await codes.ids_by_code("professional_title")
        return cls(
            await codes.ids_by_code("title"), await codes.ids_by_code("grade"),
            professional["GIANG_VIEN"],
        )  # fmt: skip

    def of(self, person: DemoPerson) -> dict[str, Any]:
        job, grade = person.title_code, person.grade_code
        fields: dict[str, Any] = {"title_id": self.titles.get(job)}  # None: not a position
        if grade in _RANKS:
            fields |= {
                "employment": Employment.VIEN_CHUC,
                "professional_rank": _RANKS[grade],
                "professional_title_id": self.lecturer if job == "GV" else None,
            }
        elif grade == "CX":  # commune leaders are elected cadres; the rest civil servants
            elected = job in _ELECTED
            fields["employment"] = Employment.CAN_BO if elected else Employment.CONG_CHUC
        else:
            fields |= {"employment": Employment.CONG_CHUC, "grade_id": self.grades[grade]}
        return fields


_RANKS = {"VC.I": 1, "VC.II": 2, "VC.III": 3, "VC.IV": 4}
_ELECTED = {"BT", "PBT", "CT_UBND", "PCT_UBND", "CT_HDND", "CT_MTTQ"}


async def ask_demo_leave(db: Database, summary: DemoSummary, now: datetime | None = None) -> None:
    """The demo learner asks to be excused from the practice class's next session, as she
    would in the chat: the demo lecturer finds the request waiting for a decision. Apart
    from the seed: the request is a message to deliver, to a chat only the sandbox has."""
    now = now or utcnow()
    staff = summary.identities
    async with db.read() as conn:
        classes = ClassRepository(conn)
        class_id = await classes.id_of(summary.practice_class)
        sessions = await classes.sessions(class_id) if class_id is not None else []
    upcoming = [s for s in sessions if s.starts_at > now]
    if not upcoming or staff.learner.telegram_id is None:
        return
    learner = await AccessService(db, frozenset()).actor(staff.learner.telegram_id)
    await LeaveService(db, FrozenClock(now), frozenset()).ask(learner, upcoming[0].id, LEAVE_REASON)


async def ask_demo_approvals(
    db: Database, summary: DemoSummary, now: datetime | None = None, *, tz: tzinfo = DEMO_TZ
) -> str | None:
    """A class of this year's plan comes to need the unit head's approval, and a few of the
    demo head's staff wait for it (one seat held only a couple of hours more): the head finds
    the requests, and /approvals. Apart from the seed, as the leave request: the requests are
    messages to deliver. Late in the year no class of the plan is open long enough any more:
    then a class of its own is added, two weeks on, so the demo works whatever the day it is
    seeded. Returns the class's code (None only if the demo head has no unit)."""
    now = now or utcnow()
    async with db.write() as conn:
        people = PeopleRepository(conn)
        (head,) = await people.by_phone(summary.identities.unit_head.phone)
        plan = await PlanRepository(conn).of_year(summary.plan_year)
        if head.unit is None or plan is None:
            return None
        classes = ClassRepository(conn)
        held = now + timedelta(days=APPROVAL_DAYS)  # the others' seats, held from now
        taken = {summary.full_class, summary.duplicate_class, summary.running_class,
                 summary.practice_class, *summary.learner_classes}  # fmt: skip
        plan_classes = await classes.of_plan(plan.id)
        fits = [
            c for c in plan_classes
            if c.stage(now) is ClassStatus.OPEN and c.code not in taken
            and c.starts_at is not None and c.starts_at > held
            and (c.enrol_deadline is None or c.enrol_deadline > held)
            and c.seats_left >= DEMO_PENDING
        ]  # fmt: skip
        if fits:
            chosen = min(fits, key=lambda c: (c.starts_at or now, c.code))
            await classes.update(chosen.id, requires_approval=True)
        else:
            chosen = await classes.get(await _add_approval_class(classes, plan_classes[0], now, tz))
        training_class = await classes.get(chosen.id)
        enrolments = EnrolmentRepository(conn)
        staff = [
            p for p in (await people.search("", [UnitScope((head.unit.id,))], size=50)).people
            if p.id != head.id and await enrolments.of(chosen.id, p.id) is None
        ][:DEMO_PENDING]  # fmt: skip
        policy = ApprovalPolicy(APPROVAL_DAYS, frozenset(), tz)
        for n, person in enumerate(staff):
            # The first asked long enough ago that its seat is held only a while longer.
            asked = now - timedelta(days=APPROVAL_DAYS) + EXPIRING_IN if n == 0 else now
            if not await classes.take_seat(chosen.id):
                break
            await enrolments.put(chosen.id, person.id, EnrolmentStatus.PENDING, at=asked)
            await hold_for_approval(conn, training_class, person, asked, policy)
    return chosen.code


async def _add_approval_class(
    classes: ClassRepository, like: TrainingClass, now: datetime, tz: tzinfo
) -> int:
    """An open class needing approval, as `like` (its plan and programme), meeting two
    mornings two weeks from now: enough time to hold seats and decide."""
    first = datetime.combine(now.astimezone(tz).date() + APPROVAL_CLASS_IN, time(8), tz)
    class_id = await classes.add(
        NewClass(
            code=f"DUYET.{like.plan_year}", name=f"{like.programme.name} (lớp bổ sung)",
            programme_id=like.programme.id, plan_id=like.plan_id, kind=like.kind,
            format=ClassFormat.ON_SITE, capacity=40, location=APPROVAL_CLASS_PLACE,
            organiser=like.organiser, enrol_opens_at=now - timedelta(days=1),
            enrol_deadline=first - timedelta(days=APPROVAL_DAYS), status=ClassStatus.OPEN,
            requires_approval=True,
        ),
        by=None,
    )  # fmt: skip
    await classes.add_sessions(
        class_id,
        [NewSession(first + timedelta(days=d), first + timedelta(days=d, hours=3))
         for d in (0, 1)],
    )  # fmt: skip
    return class_id


async def _add_units(repo: UnitRepository, demo_units: Sequence[DemoUnit]) -> dict[str, int]:
    """Adds the tree level by level, so each level can refer to its parents' new ids."""
    taken = await repo.codes_taken([unit.code for unit in demo_units])
    if taken:
        raise DemoSeedError(f"demo unit codes already exist: {sorted(taken)[:5]}")
    ids: dict[str, int] = {}
    pending = list(demo_units)
    while pending:
        level = [u for u in pending if u.parent_code is None or u.parent_code in ids]
        if not level:
            raise AssertionError("demo units refer to parents that do not exist")
        ids |= await repo.add_many(
            [
                NewUnit(u.code, u.name, ids[u.parent_code] if u.parent_code else None, u.kind)
                for u in level
            ]
        )
        placed = {u.code for u in level}
        pending = [u for u in pending if u.code not in placed]
    return ids
