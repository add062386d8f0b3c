"""The training domain as plain data: plans and targets, programmes, classes, sessions,
enrolments. No framework types, no SQL; the rules that need no database live here too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.attendance import DEFAULT_COMPLETION, DEFAULT_LATE_AFTER


class ClassKind(StrEnum):
    """The kinds of class (loại lớp) a plan sets targets for (../shared/domain.md)."""

    UPDATE = "update"  # bồi dưỡng cập nhật kiến thức, by audience tier
    TITLE = "title"  # by leadership title
    GRADE = "grade"  # by civil-service grade
    THEORY = "theory"  # intermediate / advanced political theory
    THEMATIC = "thematic"  # thematic courses and skills training
    PARTY = "party"  # new Party members; Party awareness


#: The plan's overall target is filed under this kind.
ALL_KINDS = "all"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class ClassFormat(StrEnum):
    ON_SITE = "on_site"
    ONLINE = "online"
    BLENDED = "blended"


class ClassStatus(StrEnum):
    PLANNED = "planned"  # in the plan, not yet open for enrolment
    OPEN = "open"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    PENDING = "pending"  # waits for the unit head's approval, holding its seat
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"  # the class was cancelled
    DECLINED = "declined"  # the learner declined a nomination
    REJECTED = "rejected"  # the unit head did not approve
    EXPIRED = "expired"  # nobody decided in time; the seat went back


#: Enrolments that hold (or wait for) a seat.
ACTIVE_ENROLMENT = (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING)


class PriorityGroup(StrEnum):
    """Groups the seeds report on separately and favour (young, women, ethnic minorities,
    the leadership source pool)."""

    YOUNG = "young"
    WOMEN = "women"
    MINORITY = "minority"
    SOURCE_POOL = "source_pool"


#: The young-cadre age limit the seeds report on (under 35).
YOUNG_UNDER = 35
#: Ethnicity code of the Kinh majority: every other group is an ethnic minority.
MAJORITY_ETHNICITY = "01"


def priority_groups(
    *,
    year: int,
    birth_year: int | None,
    female: bool,
    ethnicity_code: str | None,
    source_pool: bool,
    young_under: int = YOUNG_UNDER,
) -> frozenset[PriorityGroup]:
    """The priority groups a cadre belongs to in `year`: the one rule audiences, reports and
    the demo data all use (young: under `young_under`, YOUNG_CADRE_UNDER when configured)."""
    found = set()
    if birth_year and year - birth_year < young_under:
        found.add(PriorityGroup.YOUNG)
    if female:
        found.add(PriorityGroup.WOMEN)
    if ethnicity_code is not None and ethnicity_code != MAJORITY_ETHNICITY:
        found.add(PriorityGroup.MINORITY)
    if source_pool:
        found.add(PriorityGroup.SOURCE_POOL)
    return frozenset(found)


class ClassEventKind(StrEnum):
    """What the people of a class must hear about: the notifier's input."""

    SESSION_MOVED = "session_moved"
    SESSION_CANCELLED = "session_cancelled"
    #: Its room or meeting link changed (switched online, or to another hall).
    SESSION_PLACE = "session_place"
    CLASS_CANCELLED = "class_cancelled"
    PROMOTED = "promoted"
    #: A session added to a class that has learners (an imported timetable).
    SESSION_ADDED = "session_added"


@dataclass(frozen=True, slots=True)
class Target:
    classes: int
    learners: int


@dataclass(frozen=True, slots=True)
class Plan:
    id: int
    year: int
    name: str
    status: PlanStatus
    approved_on: date | None = None
    approved_by: str | None = None
    #: Kind (or ALL_KINDS) → target.
    targets: dict[str, Target] = field(default_factory=dict)

    @property
    def approved(self) -> bool:
        return self.status is PlanStatus.APPROVED


@dataclass(frozen=True, slots=True)
class NewPlan:
    year: int
    name: str
    approved_on: date | None = None
    approved_by: str | None = None
    targets: dict[str, Target] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """A plan's year as seed 004 reports it: the classes it has opened, those of earlier
    plans still running in its year (carried over; they count in both years), and the
    learners enrolled in all of them, against its overall target."""

    plan_id: int
    classes: int  # planned in this plan, whatever their state (cancelled included)
    opened: int
    carried_over: int
    learners: int

    @property
    def managed(self) -> int:
        return self.opened + self.carried_over


@dataclass(frozen=True, slots=True)
class Programme:
    id: int
    code: str
    name: str
    kind: ClassKind
    #: How long a completion counts; None: for good (a grade course is taken once).
    validity_months: int | None


@dataclass(frozen=True, slots=True)
class NewProgramme:
    code: str
    name: str
    kind: ClassKind
    validity_months: int | None


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a class is for: everyone, or anyone matching one of these."""

    unit_ids: tuple[int, ...] = ()  # with their sub-units
    grade_ids: tuple[int, ...] = ()
    title_ids: tuple[int, ...] = ()
    groups: tuple[PriorityGroup, ...] = ()

    @property
    def everyone(self) -> bool:
        return not (self.unit_ids or self.grade_ids or self.title_ids or self.groups)

    def targets(self) -> list[str]:
        """As stored: "unit:12", "grade:3", "title:7", "group:women"."""
        return [
            *(f"unit:{i}" for i in self.unit_ids),
            *(f"grade:{i}" for i in self.grade_ids),
            *(f"title:{i}" for i in self.title_ids),
            *(f"group:{g.value}" for g in self.groups),
        ]

    @classmethod
    def from_targets(cls, targets: list[str]) -> Audience:
        found: dict[str, list[str]] = {"unit": [], "grade": [], "title": [], "group": []}
        for target in targets:
            kind, _, value = target.partition(":")
            if kind in found:
                found[kind].append(value)
        return cls(
            unit_ids=tuple(int(v) for v in found["unit"]),
            grade_ids=tuple(int(v) for v in found["grade"]),
            title_ids=tuple(int(v) for v in found["title"]),
            groups=tuple(PriorityGroup(v) for v in found["group"]),
        )


@dataclass(frozen=True, slots=True)
class Learner:
    """What the audience rule and the catalog need to know about a cadre."""

    person_id: int
    unit_ancestor_ids: tuple[int, ...]
    grade_id: int | None
    title_id: int | None
    groups: frozenset[PriorityGroup]

    def targets(self) -> list[str]:
        """Every audience target this cadre matches."""
        return [
            *(f"unit:{i}" for i in self.unit_ancestor_ids),
            *([f"grade:{self.grade_id}"] if self.grade_id else []),
            *([f"title:{self.title_id}"] if self.title_id else []),
            *(f"group:{g.value}" for g in sorted(self.groups)),
        ]


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    class_id: int
    starts_at: datetime
    ends_at: datetime
    status: SessionStatus
    topic: str | None = None
    lecturer_id: int | None = None
    lecturer_name: str | None = None
    room: str | None = None
    link: str | None = None
    moved_from: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.status is SessionStatus.CANCELLED


@dataclass(frozen=True, slots=True)
class Place:
    """Where a session happens, as its people are told: a room, a meeting link, or both."""

    format: ClassFormat
    room: str | None = None
    link: str | None = None

    @classmethod
    def own(cls, room: str | None, link: str | None) -> Place:
        """A session's own place: a link and no room is online, both are blended."""
        fmt = (
            ClassFormat.BLENDED
            if room and link
            else ClassFormat.ONLINE
            if link
            else ClassFormat.ON_SITE
        )
        return cls(fmt, room, link)


def session_place(
    room: str | None,
    link: str | None,
    fmt: ClassFormat,
    location: str | None,
    meeting_link: str | None,
) -> Place:
    """A session's own room or link replaces its class's place altogether (a session of a
    class in a hall, switched online, is a link and no room); without either, the session
    is where its class is."""
    if room or link:
        return Place.own(room, link)
    return Place(
        fmt,
        location if fmt is not ClassFormat.ONLINE else None,
        meeting_link if fmt is not ClassFormat.ON_SITE else None,
    )


@dataclass(frozen=True, slots=True)
class NewSession:
    starts_at: datetime
    ends_at: datetime
    topic: str | None = None
    lecturer_id: int | None = None
    room: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class TrainingClass:
    """A class (lớp) as the catalog, its card and the administrators see it."""

    id: int
    code: str
    name: str
    programme: Programme
    plan_id: int
    plan_year: int
    plan_approved: bool
    kind: ClassKind
    format: ClassFormat
    capacity: int
    enrolled: int
    waiting: int
    status: ClassStatus
    audience: Audience = field(default_factory=Audience)
    location: str | None = None
    meeting_link: str | None = None
    organiser: str | None = None
    enrol_opens_at: datetime | None = None
    enrol_deadline: datetime | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    lecturers: tuple[str, ...] = ()
    cancelled_reason: str | None = None
    #: Attendance rules (bot/attendance.py): late from this many minutes after the start;
    #: completion needs this share (percent) of the sessions attended.
    late_after: int = DEFAULT_LATE_AFTER
    completion_pct: int = DEFAULT_COMPLETION
    #: Enrolments wait for the learner's unit head to approve them.
    requires_approval: bool = False
    #: Of the `enrolled`, how many hold their seat while awaiting that approval (read by
    #: `ClassRepository.get` only).
    pending: int = 0

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.enrolled)

    @property
    def full(self) -> bool:
        return self.enrolled >= self.capacity

    def enrolment_open(self, now: datetime) -> bool:
        """Whether enrolment is open now (whether a given cadre may enrol is the service's)."""
        return (
            self.stage(now) is ClassStatus.OPEN
            and self.plan_approved
            and (self.enrol_opens_at is None or self.enrol_opens_at <= now)
            and (self.enrol_deadline is None or self.enrol_deadline > now)
        )

    def stage(self, now: datetime) -> ClassStatus:
        """The status as time has moved it: an open class whose first session has begun is
        running, and one whose last has ended is finished."""
        if self.status in (ClassStatus.CANCELLED, ClassStatus.FINISHED):
            return self.status
        if self.ends_at is not None and now >= self.ends_at:
            return ClassStatus.FINISHED
        if self.starts_at is not None and now >= self.starts_at:
            return ClassStatus.RUNNING
        return self.status


@dataclass(frozen=True, slots=True)
class NewClass:
    code: str
    name: str
    programme_id: int
    plan_id: int
    kind: ClassKind
    format: ClassFormat
    capacity: int
    audience: Audience = field(default_factory=Audience)
    location: str | None = None
    meeting_link: str | None = None
    organiser: str | None = None
    lecturer_ids: tuple[int, ...] = ()
    enrol_opens_at: datetime | None = None
    enrol_deadline: datetime | None = None
    status: ClassStatus = ClassStatus.PLANNED
    late_after: int = DEFAULT_LATE_AFTER
    completion_pct: int = DEFAULT_COMPLETION
    requires_approval: bool = False


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A cadre's place in a class: a seat, or a waitlist position (1 = next); a seat that
    waits for approval is held until `expires_at`."""

    class_id: int
    person_id: int
    status: EnrolmentStatus
    position: int | None = None
    expires_at: datetime | None = None
    #: Sent by their unit head: they decline with a reason rather than withdraw.
    nominated: bool = False


@dataclass(frozen=True, slots=True)
class Clash:
    """A session of the class asked for that overlaps one of another class of the cadre's."""

    session: Session
    other: Session
    other_class: str


@dataclass(frozen=True, slots=True)
class EarlierTraining:
    """Why an enrolment would duplicate training: the class taken or being taken."""

    class_name: str
    completed_on: date | None  # None: enrolled there now


@dataclass(frozen=True, slots=True)
class CatalogFilter:
    """A cadre's catalog view: what they narrowed it to and the page they are on."""

    kind: ClassKind | None = None
    month: int | None = None  # 1-12, of the current or coming year
    format: ClassFormat | None = None
    query: str = ""
    include_full: bool = False
    page: int = 0


@dataclass(frozen=True, slots=True)
class CatalogPage:
    classes: list[TrainingClass]
    total: int
    page: int
    size: int
    full_hidden: int = 0  # classes that fit but have no seat left (offered on demand)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True, slots=True)
class TimetableEntry:
    """One session in someone's timetable, with its class."""

    session: Session
    class_id: int
    class_code: str
    class_name: str
    format: ClassFormat
    location: str | None
    meeting_link: str | None
    #: The enrolment waits for the unit head's approval until then (its seat held).
    pending_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class StaffEnrolment:
    """A unit head's view: who of their staff is in which class."""

    person_name: str
    unit_name: str
    class_code: str
    class_name: str
    status: EnrolmentStatus
    starts_at: datetime | None
    #: The class's id: the head's view offers its list.
    class_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClassMember:
    """Someone enrolled in a class or waiting for it, with how to reach them."""

    person_id: int
    telegram_id: int | None  # None: not on Telegram (or withdrew consent): phone them
    name: str
    phone: str | None
    unit: str | None
    status: EnrolmentStatus
