"""Demo training for the sandbox: plans, programmes, classes, enrolments, completions.

Pure, like `tools.demo.data`: `tools.demo.seed` loads it. The same seed, roster and moment
always give the same training; the moment matters because the sandbox must be right on any
day it is seeded, so the year's classes lie around "now" (finished, running, open, planned),
and the classes people try things with are placed relative to it: a class running this week
taught by the demo lecturer; a short class she teaches the demo learner, tonight if there is
time and the next two mornings (for the sandbox's reminders), and a later one for the
learner; a full class with a waitlist, and an open class the learner is refused because she
completed its programme.

Progress reports need a past as well: last year's approved plan and its classes, all held
(one cancelled), and its long courses that began in November and December and run into this
year (carried over, "chuyển tiếp"); this year's plan is not met in every kind, and learners
come from some units more than others (tools.demo.learners).

Work is bounded by the number of classes, not the roster: learners are drawn by sampling,
so 100,000 people cost no more than 500.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo

from bot.dates import Slot, end_of_day, recurring
from bot.report import HELD
from bot.training import (
    ALL_KINDS,
    ClassFormat,
    ClassKind,
    ClassStatus,
    PriorityGroup,
    Target,
    priority_groups,
)
from tools.demo.data import (
    DEMO_IDENTITIES,
    DEMO_SELF_DECLARED,
    HOME_COMMUNE_CODE,
    SCHOOL_CODE,
    DemoData,
    DemoPerson,
    DemoUnit,
)
from tools.demo.learners import LearnerDraw, Propensity

APPROVED_BY = "Ban Thường vụ Tỉnh ủy"
SCHOOL = "Trường Chính trị tỉnh"
MORNING = Slot(time(7, 30), time(11, 0))
AFTERNOON = Slot(time(13, 30), time(16, 30))
EVENING = Slot(time(19, 30), time(21, 0))
FULL_DAY = (MORNING, AFTERNOON)
MON_FRI = (0, 1, 2, 3, 4)
#: Future classes starting within this many days are open for enrolment; later ones planned.
OPEN_AHEAD = timedelta(days=60)
#: The demo learner's class opens tonight only if its session is this far ahead: time for
#: its one-hour reminder to fall due after the data exists.
EVENING_LEAD = timedelta(hours=2, minutes=30)
#: Roster people (besides the demo lecturer) given the lecturer role, from the school's faculties.
EXTRA_LECTURERS = 4
HOME_STAFF_ENROLLED = 4
#: Seats of the class that meets now: its roll call spans a few pages.
PRACTICE_SEATS = 36
PRACTICE_LENGTH = timedelta(hours=2, minutes=30)
#: Programmes of the classes the demo learner finished earlier in the year.
LEARNER_PAST = ("NTVD", "CNKT4")
LINK_BASE = "https://hoctructuyen.truongchinhtri.example/lop/"


@dataclass(frozen=True, slots=True)
class DemoProgramme:
    code: str
    name: str
    kind: ClassKind
    validity_months: int | None
    #: How many classes of it the current year's plan holds, and last year's held.
    per_year: int
    last_year: int


#: Names from the seed documents; validity: refreshers recur, grade and title courses count
#: for good. This year's plan holds fewer classes than its targets in some kinds (the AI
#: course and the Party courses lag), as a real year does.
PROGRAMMES = (
    DemoProgramme("CNKT4", "Bồi dưỡng cập nhật kiến thức đối tượng 4", ClassKind.UPDATE,
                  36, 12, 11),
    DemoProgramme("CBCX", "Bồi dưỡng cập nhật kiến thức cán bộ, công chức cấp xã",
                  ClassKind.UPDATE, 24, 12, 11),
    DemoProgramme("LDCP", "Bồi dưỡng lãnh đạo, quản lý cấp phòng", ClassKind.TITLE, None, 6, 5),
    DemoProgramme("CVC", "Bồi dưỡng ngạch chuyên viên chính", ClassKind.GRADE, None, 1, 2),
    DemoProgramme("CV", "Bồi dưỡng ngạch chuyên viên", ClassKind.GRADE, None, 3, 3),
    DemoProgramme("TCLLCT", "Trung cấp lý luận chính trị", ClassKind.THEORY, None, 2, 3),
    DemoProgramme("CDS", "Chuyển đổi số trong cơ quan nhà nước", ClassKind.THEMATIC, 24, 5, 4),
    DemoProgramme("AI", "Ứng dụng trí tuệ nhân tạo trong thực thi công vụ", ClassKind.THEMATIC,
                  24, 3, 2),
    DemoProgramme("QPAN", "Bồi dưỡng kiến thức quốc phòng và an ninh đối tượng 4",
                  ClassKind.THEMATIC, 60, 3, 3),
    DemoProgramme("DVM", "Bồi dưỡng lý luận chính trị cho đảng viên mới", ClassKind.PARTY,
                  None, 5, 5),
    DemoProgramme("NTVD", "Bồi dưỡng nhận thức về Đảng", ClassKind.PARTY, None, 3, 3),
)  # fmt: skip

#: The approved plan's targets (chỉ tiêu), as in seeds 002 and 004: 24 refresher classes with
#: 2,668 learners, four intermediate-theory classes with 188, about 60 classes and 4,563 in all.
TARGETS = {
    ClassKind.UPDATE.value: Target(24, 2668),
    ClassKind.TITLE.value: Target(6, 420),
    ClassKind.GRADE.value: Target(5, 350),
    ClassKind.THEORY.value: Target(4, 188),
    ClassKind.THEMATIC.value: Target(12, 600),
    ClassKind.PARTY.value: Target(9, 337),
    ALL_KINDS: Target(60, 4563),
}
#: Last year's plan, a little smaller; its classes are all held but one, cancelled.
LAST_YEAR_TARGETS = {
    ClassKind.UPDATE.value: Target(22, 2450),
    ClassKind.TITLE.value: Target(5, 350),
    ClassKind.GRADE.value: Target(5, 330),
    ClassKind.THEORY.value: Target(3, 150),
    ClassKind.THEMATIC.value: Target(10, 520),
    ClassKind.PARTY.value: Target(8, 320),
    ALL_KINDS: Target(53, 4120),
}
NEXT_YEAR_TARGETS = {
    ClassKind.UPDATE.value: Target(26, 2800),
    ClassKind.THEORY.value: Target(4, 200),
    ALL_KINDS: Target(62, 4700),
}

_TOPICS = {
    ClassKind.UPDATE: (
        "Quán triệt Nghị quyết Đại hội Đảng các cấp", "Kỹ năng lãnh đạo, quản lý ở cơ sở",
        "Chuyển đổi số ở cơ sở", "Công tác dân vận trong tình hình mới", "Tham quan thực tế",
    ),
    ClassKind.TITLE: (
        "Kỹ năng tổ chức thực hiện nhiệm vụ", "Kỹ năng ra quyết định",
        "Quản lý nhân sự cấp phòng", "Xây dựng văn hóa công sở",
    ),
    ClassKind.GRADE: (
        "Nhà nước và pháp luật", "Quản lý hành chính nhà nước", "Kỹ năng soạn thảo văn bản",
        "Kỹ năng thẩm định, phản biện chính sách",
    ),
    ClassKind.THEORY: (
        "Triết học Mác - Lênin", "Kinh tế chính trị Mác - Lênin", "Chủ nghĩa xã hội khoa học",
        "Tư tưởng Hồ Chí Minh", "Lịch sử Đảng Cộng sản Việt Nam", "Xây dựng Đảng",
    ),
    ClassKind.THEMATIC: (
        "Chính phủ số và dịch vụ công trực tuyến", "An toàn thông tin", "Thực hành trên hệ thống",
    ),
    ClassKind.PARTY: (
        "Điều lệ Đảng", "Nhiệm vụ của đảng viên", "Truyền thống của Đảng bộ tỉnh",
    ),
}  # fmt: skip

_CANCEL_REASONS = (
    "Không đủ số học viên đăng ký",
    "Trùng lịch kỳ họp Hội đồng nhân dân tỉnh",
    "Giảng viên được điều động công tác đột xuất",
)


@dataclass(frozen=True, slots=True)
class DemoAudience:
    """Who a class is for, by codes (units with their sub-units, grades, titles) and groups;
    empty is everyone. The seed turns codes into ids."""

    unit_codes: tuple[str, ...] = ()
    grade_codes: tuple[str, ...] = ()
    title_codes: tuple[str, ...] = ()
    groups: tuple[PriorityGroup, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoSession:
    starts_at: datetime
    ends_at: datetime
    topic: str | None
    lecturer_phone: str | None


@dataclass(frozen=True, slots=True)
class DemoClass:
    """A class; people are named by phone (unique in the roster). `waitlist` is in ticket
    order."""

    code: str
    name: str
    programme_code: str
    plan_year: int
    kind: ClassKind
    format: ClassFormat
    capacity: int
    status: ClassStatus
    sessions: tuple[DemoSession, ...]
    audience: DemoAudience = DemoAudience()
    location: str | None = None
    meeting_link: str | None = None
    organiser: str | None = None
    lecturer_phones: tuple[str, ...] = ()
    enrol_opens_at: datetime | None = None
    enrol_deadline: datetime | None = None
    cancelled_reason: str | None = None
    learners: tuple[str, ...] = ()
    waitlist: tuple[str, ...] = ()

    @property
    def starts_at(self) -> datetime:
        return self.sessions[0].starts_at

    @property
    def ends_at(self) -> datetime:
        return self.sessions[-1].ends_at


@dataclass(frozen=True, slots=True)
class DemoPlan:
    year: int
    name: str
    approved_on: date | None
    targets: dict[str, Target]

    @property
    def approved_by(self) -> str | None:
        return APPROVED_BY if self.approved_on else None


@dataclass(frozen=True, slots=True)
class DemoCompletion:
    """A course completed before the bot, imported: it counts against duplicated training."""

    phone: str
    programme_code: str
    completed_on: date
    class_name: str


@dataclass(frozen=True, slots=True)
class DemoTraining:
    """Everything training, and the classes the sandbox's guide points people to."""

    plans: tuple[DemoPlan, ...]  # this year's, next year's draft, last year's
    programmes: tuple[DemoProgramme, ...]
    classes: tuple[DemoClass, ...]
    completions: tuple[DemoCompletion, ...]
    lecturer_phones: tuple[str, ...]  # given the lecturer role (the demo lecturer has it)
    running_class: str  # taught by the demo lecturer this week
    full_class: str  # open, full, with a waitlist
    duplicate_class: str  # open; the demo learner completed its programme
    learner_classes: tuple[str, ...]  # the demo learner's: this week, later
    draft_class: str  # next year's, in the draft plan
    #: Meets now, taught by the demo lecturer, the demo learner in it: attendance to try.
    practice_class: str = ""
    #: Finished classes of this year the demo learner took (her training record).
    learner_past: tuple[str, ...] = ()
    #: Last year's classes that run into this year: carried over ("chuyển tiếp").
    carried_over: tuple[str, ...] = ()

    def by_code(self, code: str) -> DemoClass:
        return next(c for c in self.classes if c.code == code)


def generate_training(data: DemoData, now: datetime, tz: tzinfo) -> DemoTraining:
    """The current year's training (the year of `now` in `tz`) and next year's draft."""
    return _Builder(data, now, tz).build()


@dataclass(frozen=True, slots=True)
class _Shape:
    """How a kind of class runs: weeks, weekdays, times of day, seats, where and by whom."""

    weeks: int
    weekdays: tuple[int, ...]
    slots: tuple[Slot, ...]
    formats: tuple[ClassFormat, ...]
    capacity: tuple[int, int]
    organiser: str
    at_commune: bool = False


_SHAPES = {
    "CNKT4": _Shape(1, MON_FRI, FULL_DAY, (ClassFormat.ON_SITE,), (90, 120), SCHOOL),
    "CBCX": _Shape(1, MON_FRI, FULL_DAY, (ClassFormat.ON_SITE, ClassFormat.BLENDED), (70, 110),
                   SCHOOL, at_commune=True),
    "LDCP": _Shape(2, MON_FRI, FULL_DAY, (ClassFormat.ON_SITE,), (50, 70), "Ban Tổ chức Tỉnh ủy"),
    "CVC": _Shape(2, MON_FRI, FULL_DAY, (ClassFormat.ON_SITE, ClassFormat.BLENDED), (50, 80),
                  "Sở Nội vụ"),
    "CV": _Shape(2, MON_FRI, FULL_DAY, (ClassFormat.ON_SITE,), (50, 80), "Sở Nội vụ"),
    "TCLLCT": _Shape(6, MON_FRI, FULL_DAY, (ClassFormat.ON_SITE,), (45, 55), SCHOOL),
    "CDS": _Shape(2, (1, 3), (EVENING,), (ClassFormat.ONLINE, ClassFormat.BLENDED), (60, 120),
                  "Sở Khoa học và Công nghệ"),
    "AI": _Shape(1, MON_FRI[:3], (EVENING,), (ClassFormat.ONLINE,), (80, 120),
                 "Sở Khoa học và Công nghệ"),
    "QPAN": _Shape(1, MON_FRI[:4], FULL_DAY, (ClassFormat.ON_SITE,), (60, 100),
                   "Bộ Chỉ huy Quân sự tỉnh"),
    "DVM": _Shape(1, MON_FRI[:4], FULL_DAY, (ClassFormat.ON_SITE,), (30, 40),
                  "Ban Tuyên giáo và Dân vận Tỉnh ủy", at_commune=True),
    "NTVD": _Shape(1, MON_FRI[:3], FULL_DAY, (ClassFormat.ON_SITE,), (30, 60),
                   "Ban Tuyên giáo và Dân vận Tỉnh ủy", at_commune=True),
}  # fmt: skip
#: Long courses meet a week at a time ("đợt"): (weeks of classes, weeks from one to the next).
_BLOCKS = {"TCLLCT": (5, 4), "CVC": (3, 3)}
#: The ISO weeks the long courses of this year's plan and of last year's start in: those
#: starting in November or December run into the next year.
_LONG_STARTS = {"TCLLCT": (12, 45), "CVC": (20,)}
_LAST_YEAR_LONG_STARTS = {"TCLLCT": (10, 45, 50), "CVC": (18, 48)}
#: Around Tết (late January to February) no class starts and no long course meets.
_TET_WEEKS = range(5, 9)
_HALLS = ("Hội trường A", "Hội trường B", "Phòng học 201", "Phòng học 305")
#: Audience rules some ordinary classes carry, by programme: a unit and its sub-units, titles,
#: grades, priority groups.
_AUDIENCES = {
    "CDS": DemoAudience(unit_codes=("SKHCN", "VPUBND")),
    "LDCP": DemoAudience(title_codes=("TP", "PTP")),
    "CVC": DemoAudience(grade_codes=("01.003",)),
    "CNKT4": DemoAudience(groups=(PriorityGroup.YOUNG, PriorityGroup.SOURCE_POOL)),
    "CBCX": DemoAudience(groups=(PriorityGroup.WOMEN,)),
}

#: Units that always send learners (tools.demo.learners lets a few others lag each year):
#: the unit head's commune, whose staff the guide shows in classes, and the units of the
#: audience rules, whose classes would otherwise stay empty.
NEVER_LAGGING = (HOME_COMMUNE_CODE, *(c for a in _AUDIENCES.values() for c in a.unit_codes))


@dataclass
class _Draft:
    """A class while it is being placed; numbered and frozen into a DemoClass at the end."""

    programme: DemoProgramme
    sessions: list[DemoSession]
    format: ClassFormat
    capacity: int
    location: str | None
    organiser: str
    lecturers: tuple[str, ...]
    audience: DemoAudience = DemoAudience()
    cancelled_reason: str | None = None
    learners: list[str] = field(default_factory=list)
    waitlist: list[str] = field(default_factory=list)
    fill: float | None = None  # share of seats the sampled learners take, if any
    key: str = ""  # the role a special class plays
    year: int = 0  # of the plan

    def days(self, tz: tzinfo) -> frozenset[date]:
        return frozenset(s.starts_at.astimezone(tz).date() for s in self.sessions)


class _Builder:
    def __init__(self, data: DemoData, now: datetime, tz: tzinfo) -> None:
        self.data, self.now, self.tz = data, now, tz
        self.today = now.astimezone(tz).date()
        self.year = self.today.year
        self.rng = random.Random(f"demo-training:{data.seed}")
        self.programmes = {p.code: p for p in PROGRAMMES}
        self.units = {u.code: u for u in data.units}
        self.communes = [u for u in data.units if u.kind == "commune"]
        self.people = data.people
        # Sampled learners come from the generated roster: no identity, no unconfirmed profile.
        self.pool = range(len(DEMO_IDENTITIES.all()), len(self.people) - len(DEMO_SELF_DECLARED))
        self.lecturers = (DEMO_IDENTITIES.lecturer.phone, *self._school_lecturers())
        propensity = Propensity(data, (self.year - 1, self.year), NEVER_LAGGING)
        self.draw = LearnerDraw(self.people, self.pool, propensity, self.rng, {*self.lecturers})
        self.learner_past: list[str] = []

    # --- the whole ---------------------------------------------------------------------------

    def build(self) -> DemoTraining:
        special = self._special()
        self._free_the_lecturer(special)
        taken = [d.programme.code for d in special.values()]
        counts = {p.code: p.per_year - taken.count(p.code) for p in PROGRAMMES}
        drafts = [*special.values(), *self._ordinary(self.year, counts, _LONG_STARTS)]
        self._cancel_some(drafts)
        last_counts = {p.code: p.last_year for p in PROGRAMMES}
        past = self._ordinary(self.year - 1, last_counts, _LAST_YEAR_LONG_STARTS)
        self._cancel_one_of_last_year(past)
        completions = self._completions()
        self._enrol(past, drafts, special, completions)
        last_year = sorted(self._freeze(past, self.year - 1).values(), key=_order)
        classes = self._freeze(drafts, self.year)
        codes = {key: demo_class.code for key, demo_class in classes.items()}
        draft_year = self._next_year()
        plans = (
            DemoPlan(self.year, _plan_name(self.year), min(date(self.year, 1, 8), self.today),
                     TARGETS),
            DemoPlan(self.year + 1, f"{_plan_name(self.year + 1)} (dự thảo)", None,
                     NEXT_YEAR_TARGETS),
            DemoPlan(self.year - 1, _plan_name(self.year - 1), date(self.year - 1, 1, 10),
                     LAST_YEAR_TARGETS),
        )  # fmt: skip
        year_start = datetime.combine(date(self.year, 1, 1), time(0), self.tz)
        carried = [c for c in last_year if c.status in HELD and c.ends_at > year_start]
        all_classes = (*last_year, *sorted(classes.values(), key=_order), *draft_year)
        return DemoTraining(
            plans=plans,
            programmes=PROGRAMMES,
            classes=all_classes,
            completions=completions,
            lecturer_phones=self.lecturers[1:],
            running_class=codes["running"],
            full_class=codes["full"],
            duplicate_class=codes["duplicate"],
            learner_classes=(codes["week"], codes["later"]),
            draft_class=draft_year[0].code,
            practice_class=codes["practice"],
            learner_past=tuple(codes[f"past:{p}"] for p in self.learner_past),
            carried_over=tuple(c.code for c in carried),
        )

    # --- placing classes ---------------------------------------------------------------------

    def _special(self) -> dict[str, _Draft]:
        """The classes the guide names, placed relative to today: the future ones in the
        next four weeks, so that they still fit in the year in December.

        The demo learner's and lecturer's short online class meets tonight when there is
        time for it, then on the next two mornings whatever weekday they fall on, so the
        sandbox can show, on any day and hour it is seeded, the evening-before reminder at
        19:00 and the one-hour reminder the morning after, past the quiet hours (seeded
        after 19:00, the second morning has them). The other classes start after it ends.
        """
        today, lecturer = self.today, DEMO_IDENTITIES.lecturer.phone
        tomorrow = today + timedelta(days=1)
        tonight = datetime.combine(today, EVENING.start, self.tz)
        opening = [(tonight, datetime.combine(today, EVENING.end, self.tz))]
        # A school lecturer takes the running class's mornings: the demo lecturer's are the
        # short class's.
        running_lecturers = (*self.lecturers[1:2], lecturer)
        monday = _week_start(tomorrow + timedelta(days=1))
        home = self.units[HOME_COMMUNE_CODE]
        return {
            "running": self._draft("CNKT4", today - timedelta(days=3), today + timedelta(days=4),
                                   lecturers=running_lecturers,
                                   location=f"{SCHOOL}, Hội trường A", fill=0.9, key="running"),
            "week": self._draft("AI", tomorrow, tomorrow + timedelta(days=1), weekdays=range(7),
                                slots=(MORNING,), lecturers=(lecturer,), fill=0.3, key="week",
                                extra=opening if tonight - self.now > EVENING_LEAD else ()),
            "full": self._draft("LDCP", monday + timedelta(weeks=1),
                                monday + timedelta(weeks=1, days=4), fill=1.0, key="full"),
            "later": self._draft("CBCX", monday + timedelta(weeks=2),
                                 monday + timedelta(weeks=2, days=4),
                                 location=_commune_hall(home), fill=0.4, key="later"),
            "duplicate": self._draft("CDS", monday + timedelta(weeks=3),
                                     monday + timedelta(weeks=3, days=4), fill=0.3,
                                     key="duplicate"),
            "practice": self._practice(),
        }  # fmt: skip

    def _free_the_lecturer(self, special: dict[str, _Draft]) -> None:
        """The demo lecturer teaches the practice class: the running class's sessions at the
        same hours go to the school's lecturer, so she is never in two places at once."""
        practice = special["practice"].sessions
        running = special["running"]
        other = (self.lecturers[1:] or self.lecturers)[0]
        running.sessions = [
            replace(s, lecturer_phone=other)
            if any(s.starts_at < p.ends_at and p.starts_at < s.ends_at for p in practice)
            else s
            for s in running.sessions
        ]

    def _practice(self) -> _Draft:
        """Ten sessions at this time of day: four on the days before (their roll called),
        one under way now (check-in open, a roll call to take), five from three days on
        (after the demo learner's short class), all taught by the demo lecturer."""
        local = self.now.astimezone(self.tz).replace(second=0, microsecond=0)
        midnight = datetime.combine(self.today, time(0), self.tz)
        start = max(local - timedelta(minutes=local.minute % 5 + 10), midnight)
        # Until the day's last instant: one seeded at 23:59:30 still has its session under way.
        end = min(start + PRACTICE_LENGTH, midnight + timedelta(days=1, microseconds=-1))
        times = [
            (start + timedelta(days=d), end + timedelta(days=d))
            for d in (-4, -3, -2, -1, 0, 3, 4, 5, 6, 7)
            if (start + timedelta(days=d)).year == self.year
        ]
        draft = self._draft(
            "QPAN",
            self.today,
            self.today,
            lecturers=(DEMO_IDENTITIES.lecturer.phone,),
            location=f"{SCHOOL}, Hội trường B",
            fill=None,
            key="practice",
        )
        topics = _TOPICS[ClassKind.THEMATIC]
        draft.sessions = [
            DemoSession(a, b, topics[i % len(topics)], DEMO_IDENTITIES.lecturer.phone)
            for i, (a, b) in enumerate(times)
        ]
        draft.format, draft.capacity = ClassFormat.ON_SITE, PRACTICE_SEATS
        return draft

    def _ordinary(self, year: int, counts: dict[str, int],
                  long_starts: dict[str, tuple[int, ...]]) -> list[_Draft]:  # fmt: skip
        """`counts` classes of each programme in `year`'s plan: long courses from their
        start weeks, the others spread over the year's weeks but those around Tết."""
        drafts = []
        for programme in PROGRAMMES:
            count = counts[programme.code]
            shape = _SHAPES[programme.code]
            weeks = [w for w in range(2, 51 - shape.weeks) if w not in _TET_WEEKS]
            for i in range(count):
                if programme.code in long_starts:
                    week = long_starts[programme.code][i]
                else:
                    # The middle of the i-th of `count` equal stretches, give or take a week.
                    at = (2 * i + 1) * len(weeks) // (2 * count) + self.rng.randint(-1, 1)
                    week = weeks[max(0, min(at, len(weeks) - 1))]
                first = date.fromisocalendar(year, week, 1)
                last = first + timedelta(weeks=shape.weeks, days=-3)
                audience = DemoAudience()
                if programme.code in _AUDIENCES and i % 3 == 1:
                    audience = _AUDIENCES[programme.code]
                drafts.append(
                    self._draft(programme.code, first, last, audience=audience, year=year)
                )
        return drafts

    def _draft(self, code: str, first: date, last: date, *, weekdays: Sequence[int] = (),
               slots: Sequence[Slot] = (), extra: Sequence[tuple[datetime, datetime]] = (),
               lecturers: tuple[str, ...] = (), location: str | None = None,
               audience: DemoAudience = DemoAudience(), fill: float | None = None,
               key: str = "", year: int | None = None) -> _Draft:  # fmt: skip
        """A class of programme `code` from `first` to `last`, shaped as its kind runs unless
        told otherwise; `extra` sessions (an opening evening) join the regular ones."""
        programme, shape, rng = self.programmes[code], _SHAPES[code], self.rng
        class_format = rng.choice(shape.formats)
        if not lecturers:
            # The demo lecturer teaches only the classes the guide names: her timetable and
            # reminders stay legible, and she is never in two places at once.
            staff = self.lecturers[1:] or self.lecturers
            lecturers = tuple(rng.sample(staff, min(2, len(staff))))
        if location is None and class_format is not ClassFormat.ONLINE:
            location = (_commune_hall(rng.choice(self.communes))
                        if shape.at_commune and self.communes
                        else f"{SCHOOL}, {rng.choice(_HALLS)}")  # fmt: skip
        if class_format is ClassFormat.ONLINE:
            location = None
        if code in _BLOCKS and not weekdays:
            times = self._blocks(first, shape, *_BLOCKS[code])
        else:
            # The guide's classes meet when the guide says, holiday or not.
            skip = () if key else _holidays(year or self.year)
            times = self._times(first, last, weekdays or shape.weekdays, slots or shape.slots,
                                year or self.year, skip)  # fmt: skip
        times = sorted({*times, *extra})
        topics = _TOPICS[programme.kind]
        sessions = [
            DemoSession(start, end, topics[i % len(topics)], lecturers[i % len(lecturers)])
            for i, (start, end) in enumerate(times)
        ]
        return _Draft(programme, sessions, class_format, rng.randint(*shape.capacity), location,
                      shape.organiser, lecturers, audience, fill=fill, key=key,
                      year=year or self.year)  # fmt: skip

    def _blocks(self, first: date, shape: _Shape, blocks: int,
                apart: int) -> list[tuple[datetime, datetime]]:  # fmt: skip
        """A long course's weeks of classes from the week of `first`, `apart` weeks from one
        to the next, none around Tết; it may run into the next year."""
        times: list[tuple[datetime, datetime]] = []
        monday = _week_start(first)
        for _ in range(blocks):
            while monday.isocalendar().week in _TET_WEEKS:
                monday += timedelta(weeks=1)
            friday = monday + timedelta(days=4)
            times += recurring(monday, friday, shape.weekdays, shape.slots, self.tz,
                               _holidays(monday.year) | _holidays(friday.year))  # fmt: skip
            monday += timedelta(weeks=apart)
        return times

    def _times(self, first: date, last: date, weekdays: Sequence[int], slots: Sequence[Slot],
               year: int, skip: Collection[date] = ()
               ) -> list[tuple[datetime, datetime]]:  # fmt: skip
        """Sessions from `first` to `last` but on the days skipped, kept inside the plan's
        year: near its ends a class is cut short rather than spilling into another year's
        plan."""
        first, last = max(first, date(year, 1, 2)), min(last, date(year, 12, 31))
        if first > last:
            first = last = min(max(first, date(year, 1, 2)), date(year, 12, 31))
        times = recurring(first, last, weekdays, slots, self.tz, skip)
        return times or recurring(last, last, range(7), slots[:1], self.tz)

    def _cancel_some(self, drafts: list[_Draft]) -> None:
        """One class cancelled before it began and two ahead, each with its reason."""
        ordinary = [d for d in drafts if not d.key]
        past = [d for d in ordinary if d.sessions[-1].ends_at <= self.now]
        future = [d for d in ordinary if d.sessions[0].starts_at > self.now]
        chosen = self.rng.sample(past, min(1, len(past)))
        chosen += self.rng.sample(future, min(3 - len(chosen), len(future)))
        for draft, reason in zip(chosen, _CANCEL_REASONS, strict=False):
            draft.cancelled_reason = reason

    def _cancel_one_of_last_year(self, drafts: list[_Draft]) -> None:
        """Last year one short class did not gather enough learners."""
        short = [d for d in drafts if d.programme.code not in _BLOCKS]
        if short:
            self.rng.choice(short).cancelled_reason = _CANCEL_REASONS[0]

    # --- people ------------------------------------------------------------------------------

    def _school_lecturers(self) -> list[str]:
        """A few of the school's own lecturers (its faculties' staff titled GV)."""
        found = []
        for i in self.pool:
            person = self.people[i]
            if person.title_code == "GV" and person.unit_code.startswith(f"{SCHOOL_CODE}."):
                found.append(person.phone)
                if len(found) == EXTRA_LECTURERS:
                    break
        return found

    def _enrol(self, past: list[_Draft], drafts: list[_Draft], special: dict[str, _Draft],
               completions: Sequence[DemoCompletion]) -> None:  # fmt: skip
        """Learners for the classes that have begun and some for those open, last year's
        first (who took a programme then, or before the bot, is not drawn for it again); the
        full class gets a waitlist; the demo learner and a few of the unit head's staff their
        places."""
        learner = DEMO_IDENTITIES.learner.phone
        for key in ("week", "later", "practice"):
            special[key].learners.append(learner)
            self.draw.book(learner, special[key].programme.code, special[key].days(self.tz))
        special["practice"].fill = 1.0
        home = self._home_staff()
        half = len(home) // 2
        for key, staff in (("running", home[:half]), ("later", home[half:])):
            special[key].learners.extend(staff)
            for phone in staff:
                self.draw.book(phone, special[key].programme.code, special[key].days(self.tz))
        for done in completions:
            self.draw.book(done.phone, done.programme_code)
        for draft in [*past, *drafts]:
            if draft.cancelled_reason:
                continue
            fill = draft.fill
            if fill is None:
                stage = self._stage(draft)
                if stage in (ClassStatus.FINISHED, ClassStatus.RUNNING):
                    fill = self.rng.uniform(0.7, 1.0)
                elif stage is ClassStatus.OPEN:
                    fill = self.rng.uniform(0.1, 0.5)
                else:
                    continue
            want = min(draft.capacity, round(draft.capacity * fill)) - len(draft.learners)
            draft.learners.extend(self._sample(draft, want))
        full = special["full"]
        full.capacity = len(full.learners)
        full.waitlist = self._sample(full, 5)
        self._past_for_learner(drafts)

    def _past_for_learner(self, drafts: list[_Draft]) -> None:
        """Two classes the demo learner finished earlier this year, for her training record:
        open to everyone, of programmes she has not completed nor is taking, on days she was
        free."""
        learner = DEMO_IDENTITIES.learner.phone
        latest_first = sorted(drafts, key=lambda d: d.sessions[-1].ends_at, reverse=True)
        for code in LEARNER_PAST:
            for draft in latest_first:
                ended = draft.sessions[-1].ends_at <= self.now - timedelta(days=7)
                free = draft.days(self.tz).isdisjoint(self.draw.busy[learner])
                if (draft.programme.code == code and not draft.key and not draft.cancelled_reason
                        and draft.audience == DemoAudience() and ended and free):  # fmt: skip
                    draft.learners.insert(0, learner)
                    self.draw.book(learner, code, draft.days(self.tz))
                    draft.key = f"past:{code}"
                    self.learner_past.append(code)
                    break

    def _home_staff(self) -> list[str]:
        """Cadres of the unit head's commune (contiguous in the roster, found by one scan)."""
        return [
            p.phone for i in self.pool
            if (p := self.people[i]).unit_code == HOME_COMMUNE_CODE
        ][:HOME_STAFF_ENROLLED]  # fmt: skip

    def _sample(self, draft: _Draft, want: int) -> list[str]:
        """Up to `want` roster people the class's audience takes and who are not in it yet,
        drawn without looking at the rest of the roster."""
        return self.draw.draw(
            want, draft.programme.code, draft.days(self.tz), draft.year,
            lambda person: self._fits(person, draft.audience, draft.year),
            besides={*draft.learners, *draft.waitlist},
        )  # fmt: skip

    def _fits(self, person: DemoPerson, audience: DemoAudience, year: int) -> bool:
        """The audience rule as the enrolment service applies it (../../bot/services)."""
        if audience == DemoAudience():
            return True
        groups = priority_groups(
            year=year,
            birth_year=person.birth_year,
            female=person.gender == "female",
            ethnicity_code=person.ethnicity_code,
            source_pool=person.source_pool,
        )
        return (
            any(g in groups for g in audience.groups)
            or person.grade_code in audience.grade_codes
            or person.title_code in audience.title_codes
            or any(code in audience.unit_codes for code in self._ancestry(person.unit_code))
        )

    def _ancestry(self, code: str | None) -> list[str]:
        found = []
        while code is not None:
            found.append(code)
            code = self.units[code].parent_code
        return found

    def _completions(self) -> tuple[DemoCompletion, ...]:
        """The demo learner's earlier courses (one still counts against the open class of its
        programme; one refresher has lapsed, so its new class is hers to take), and a few
        imported for others."""
        learner, today, year = DEMO_IDENTITIES.learner.phone, self.today, self.year
        done = [
            DemoCompletion(learner, "CDS", today - timedelta(days=420),
                           f"Lớp Chuyển đổi số trong cơ quan nhà nước khóa 2 năm {year - 1}"),
            DemoCompletion(learner, "CBCX", today - timedelta(days=900),
                           f"Lớp bồi dưỡng cán bộ, công chức cấp xã năm {year - 3}"),
            DemoCompletion(learner, "DVM", date(year - 5, 6, 18),
                           "Lớp bồi dưỡng lý luận chính trị cho đảng viên mới khóa 3"),
        ]  # fmt: skip
        for i in self.rng.sample(self.pool, min(len(self.pool), 40)):
            programme = self.rng.choice(PROGRAMMES)
            on = today - timedelta(days=self.rng.randint(200, 1500))
            name = f"Lớp {programme.name[0].lower()}{programme.name[1:]} năm {on.year}"
            done.append(DemoCompletion(self.people[i].phone, programme.code, on, name))
        return tuple(done)

    # --- freezing ----------------------------------------------------------------------------

    def _stage(self, draft: _Draft) -> ClassStatus:
        if draft.cancelled_reason:
            return ClassStatus.CANCELLED
        if draft.sessions[-1].ends_at <= self.now:
            return ClassStatus.FINISHED
        if draft.sessions[0].starts_at <= self.now:
            return ClassStatus.RUNNING
        if draft.sessions[0].starts_at - self.now <= OPEN_AHEAD:
            return ClassStatus.OPEN
        return ClassStatus.PLANNED

    def _freeze(self, drafts: list[_Draft], year: int) -> dict[str, DemoClass]:
        """Numbers each programme's classes by date ("CNKT4.2026.03") and fixes their
        status and enrolment window from where they lie against now."""
        found: dict[str, DemoClass] = {}
        drafts = sorted(drafts, key=lambda d: (d.sessions[0].starts_at, d.programme.code))
        counters: dict[str, int] = {}
        for draft in drafts:
            code = draft.programme.code
            counters[code] = number = counters.get(code, 0) + 1
            status = self._stage(draft)
            demo_class = self._frozen(draft, f"{code}.{year}.{number:02d}", number, year, status)
            found[draft.key or demo_class.code] = demo_class
        return found

    def _frozen(self, draft: _Draft, code: str, number: int, year: int,
                status: ClassStatus) -> DemoClass:  # fmt: skip
        first = draft.sessions[0].starts_at
        opens = deadline = None
        if status in (ClassStatus.OPEN, ClassStatus.PLANNED, ClassStatus.CANCELLED):
            first_day = first.astimezone(self.tz).date()
            opens = datetime.combine(first_day - timedelta(days=45), time(0), self.tz)
            deadline = end_of_day(first_day - timedelta(days=3), self.tz)
            if status is ClassStatus.OPEN:
                opens = min(opens, self.now - timedelta(days=1))
                if deadline <= self.now:
                    deadline = first - timedelta(hours=1)
        link = None
        if draft.format is not ClassFormat.ON_SITE:
            link = f"{LINK_BASE}{code.lower().replace('.', '-')}"
        learners = tuple(draft.learners) if status is not ClassStatus.CANCELLED else ()
        return DemoClass(
            code=code, name=f"{draft.programme.name} khóa {number} năm {year}",
            programme_code=draft.programme.code, plan_year=year, kind=draft.programme.kind,
            format=draft.format, capacity=max(draft.capacity, len(learners), 1), status=status,
            sessions=tuple(draft.sessions), audience=draft.audience, location=draft.location,
            meeting_link=link, organiser=draft.organiser, lecturer_phones=draft.lecturers,
            enrol_opens_at=opens, enrol_deadline=deadline,
            cancelled_reason=draft.cancelled_reason, learners=learners,
            waitlist=tuple(draft.waitlist),
        )  # fmt: skip

    def _next_year(self) -> tuple[DemoClass, ...]:
        """Three classes of next year's draft plan: planned, and not to be opened until the
        plan is approved."""
        year = self.year + 1
        drafts = []
        for code, week in (("CNKT4", 10), ("TCLLCT", 12), ("CDS", 15)):
            first = date.fromisocalendar(year, week, 1)
            last = first + timedelta(weeks=_SHAPES[code].weeks, days=-3)
            drafts.append(self._draft(code, first, last, year=year))
        return tuple(
            self._frozen(d, f"{d.programme.code}.{year}.01", 1, year, ClassStatus.PLANNED)
            for d in drafts
        )


def _holidays(year: int) -> set[date]:
    """Public holidays on fixed dates: New Year, Reunification Day, May Day, National Day."""
    return {date(year, 1, 1), date(year, 4, 30), date(year, 5, 1), date(year, 9, 2)}


def _plan_name(year: int) -> str:
    return f"Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức năm {year}"


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _commune_hall(unit: DemoUnit) -> str:
    return f"Hội trường Ủy ban nhân dân {unit.name.lower()[0]}{unit.name[1:]}"


def _order(demo_class: DemoClass) -> tuple[datetime, str]:
    return demo_class.starts_at, demo_class.code
