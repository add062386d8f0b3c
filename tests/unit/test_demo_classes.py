"""The demo's training must let every part of the classes loop be tried, on any day it is
seeded: these check it at fixed moments, mid-year, in December and at the year's edges."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.training import ALL_KINDS, ClassFormat, ClassKind, ClassStatus, Target
from tools.demo.attendance import generate_attendance
from tools.demo.classes import (
    APPROVED_BY,
    DemoAudience,
    DemoClass,
    DemoSession,
    DemoTraining,
    generate_training,
)
from tools.demo.data import DEMO_IDENTITIES, HOME_COMMUNE_CODE, DemoData, generate_demo_data

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MARCH = datetime(2026, 3, 18, 10, 0, tzinfo=TZ)  # a Wednesday morning
DECEMBER = datetime(2026, 12, 2, 21, 0, tzinfo=TZ)  # a Wednesday evening, late in the year
SUNDAY = datetime(2027, 6, 13, 16, 0, tzinfo=TZ)
USUAL_DAYS = (MARCH, DECEMBER, SUNDAY)
FRIDAY_NIGHT = datetime(2026, 3, 20, 20, 0, tzinfo=TZ)
EDGES = (datetime(2026, 1, 1, 0, 30, tzinfo=TZ), datetime(2026, 12, 31, 22, 0, tzinfo=TZ))
LEARNER = DEMO_IDENTITIES.learner.phone
LECTURER = DEMO_IDENTITIES.lecturer.phone


@pytest.fixture(scope="module")
def roster() -> DemoData:
    return generate_demo_data(seed=2026, people=2000)


def this_year(training: DemoTraining) -> list[DemoClass]:
    year = training.plans[0].year
    return [c for c in training.classes if c.plan_year == year]


def months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def test_the_years_plan_is_approved_with_the_seeds_targets(roster: DemoData) -> None:
    training = generate_training(roster, MARCH, TZ)
    plan, draft, last = training.plans
    assert (plan.year, plan.approved_by) == (2026, APPROVED_BY) == (2026, "Ban Thường vụ Tỉnh ủy")
    assert plan.approved_on is not None and plan.approved_on.month == 1
    assert plan.targets[ClassKind.UPDATE] == Target(24, 2668)
    assert plan.targets[ALL_KINDS] == Target(60, 4563)
    kinds = [t for kind, t in plan.targets.items() if kind != ALL_KINDS]
    assert set(plan.targets) == {*ClassKind, ALL_KINDS}
    assert sum(t.classes for t in kinds) == 60 and sum(t.learners for t in kinds) == 4563
    # Last year's long courses carried over make up this year's theory and grade targets;
    # the thematic and Party courses fall short of theirs, as in a real year.
    assert len(this_year(training)) == 55
    carried = [training.by_code(code) for code in training.carried_over]
    per_kind = Counter(c.kind.value for c in [*this_year(training), *carried])
    short = {kind for kind in ClassKind if per_kind[kind] < plan.targets[kind].classes}
    assert short == {ClassKind.THEMATIC, ClassKind.PARTY}
    assert all(per_kind[kind] <= plan.targets[kind].classes for kind in ClassKind)

    assert (last.year, last.approved_by) == (2025, APPROVED_BY) and last.approved_on is not None
    assert set(last.targets) == set(plan.targets)
    last_kinds = [t for kind, t in last.targets.items() if kind != ALL_KINDS]
    assert sum(t.classes for t in last_kinds) == last.targets[ALL_KINDS].classes
    assert sum(t.learners for t in last_kinds) == last.targets[ALL_KINDS].learners

    assert draft.year == 2027 and draft.approved_on is None and draft.approved_by is None
    planned = [c for c in training.classes if c.plan_year == 2027]
    assert len(planned) >= 3 and all(c.status is ClassStatus.PLANNED for c in planned)
    assert training.draft_class in {c.code for c in planned}


def test_programmes_have_names_kinds_and_validity(roster: DemoData) -> None:
    programmes = {p.name: p for p in generate_training(roster, MARCH, TZ).programmes}
    assert 8 <= len(programmes) <= 12
    assert programmes["Bồi dưỡng ngạch chuyên viên chính"].validity_months is None
    assert programmes["Bồi dưỡng cập nhật kiến thức đối tượng 4"].validity_months == 36
    assert programmes["Chuyển đổi số trong cơ quan nhà nước"].kind is ClassKind.THEMATIC
    assert {"Trung cấp lý luận chính trị", "Bồi dưỡng lãnh đạo, quản lý cấp phòng"} <= set(
        programmes
    )
    assert {p.kind for p in programmes.values()} == set(ClassKind)


@pytest.mark.parametrize("now", USUAL_DAYS, ids=["march", "december", "sunday"])
def test_every_status_appears(roster: DemoData, now: datetime) -> None:
    training = generate_training(roster, now, TZ)
    assert {c.status for c in training.classes} == set(ClassStatus)
    assert all(c.cancelled_reason for c in training.classes if c.status is ClassStatus.CANCELLED)


@pytest.mark.parametrize("now", USUAL_DAYS + EDGES)
def test_sessions_lie_in_the_plans_year_and_statuses_follow_the_clock(
    roster: DemoData, now: datetime
) -> None:
    training = generate_training(roster, now, TZ)
    codes = [c.code for c in training.classes]
    assert len(codes) == len(set(codes))
    for c in training.classes:
        assert re.fullmatch(rf"[A-Z0-9]+\.{c.plan_year}\.\d\d", c.code)
        starts = [s.starts_at for s in c.sessions]
        assert c.sessions and starts == sorted(starts)
        first_day = c.starts_at.astimezone(TZ).date()
        assert first_day.year == c.plan_year
        for s in c.sessions:
            assert c.starts_at <= s.starts_at < s.ends_at <= c.ends_at
            year = s.starts_at.astimezone(TZ).year
            assert year == s.ends_at.astimezone(TZ).year
            # Only a long course begun in November or December runs into the next year.
            assert year == c.plan_year or (year == c.plan_year + 1 and first_day.month >= 11)
        stage = {
            ClassStatus.FINISHED: c.ends_at <= now,
            ClassStatus.RUNNING: c.starts_at <= now < c.ends_at,
            ClassStatus.OPEN: now < c.starts_at,
            ClassStatus.PLANNED: now < c.starts_at,
            ClassStatus.CANCELLED: True,
        }
        assert stage[c.status], c.code
        if c.status is ClassStatus.OPEN:
            assert c.enrol_opens_at is not None and c.enrol_opens_at <= now
            assert c.enrol_deadline is not None and now < c.enrol_deadline <= c.starts_at
        if c.format is ClassFormat.ON_SITE:
            assert c.location and c.meeting_link is None
        else:
            assert c.meeting_link and c.meeting_link.startswith("https://")
        assert 1 <= c.capacity <= 120 and c.organiser and c.lecturer_phones


@pytest.mark.parametrize("now", USUAL_DAYS + EDGES)
def test_seats_never_exceed_capacity_and_nobody_is_counted_twice(
    roster: DemoData, now: datetime
) -> None:
    training = generate_training(roster, now, TZ)
    for c in training.classes:
        people = [*c.learners, *c.waitlist]
        assert len(people) == len(set(people)) and len(c.learners) <= c.capacity
        assert not (set(people) & set(c.lecturer_phones))
        if c.status in (ClassStatus.FINISHED, ClassStatus.RUNNING):
            assert c.learners
        if c.status in (ClassStatus.PLANNED, ClassStatus.CANCELLED):
            assert not people
        if c.waitlist:
            assert c.code == training.full_class and len(c.learners) == c.capacity
    full = training.by_code(training.full_class)
    assert len(full.waitlist) == 5


def test_audience_rules_are_kept_by_the_learners_drawn(roster: DemoData) -> None:
    training = generate_training(roster, MARCH, TZ)
    people = {p.phone: p for p in roster.people}
    ruled = [c for c in training.classes if c.audience != DemoAudience()]
    assert {bool(a) for c in ruled for a in (c.audience.groups, c.audience.unit_codes)} == {
        True,
        False,
    }
    assert len(ruled) < len(training.classes) / 2  # everyone, on most
    for c in ruled:
        for phone in c.learners:
            person = people[phone]
            assert (
                person.grade_code in c.audience.grade_codes
                or person.title_code in c.audience.title_codes
                or c.audience.groups
                or any(person.unit_code.startswith(u) for u in c.audience.unit_codes)
            )


@pytest.mark.parametrize("now", USUAL_DAYS, ids=["march", "december", "sunday"])
def test_the_demo_learner_has_two_upcoming_classes_and_a_duplicate_to_be_refused(
    roster: DemoData, now: datetime
) -> None:
    training = generate_training(roster, now, TZ)
    elsewhere = {training.practice_class, *training.learner_past}
    mine = [c for c in training.classes if LEARNER in c.learners and c.code not in elsewhere]
    assert {c.code for c in mine} == set(training.learner_classes) and len(mine) == 2
    assert all(c.status is ClassStatus.OPEN and c.starts_at > now for c in mine)
    assert min(c.starts_at for c in mine) < now + timedelta(days=7)
    assert not any(LEARNER in c.waitlist for c in training.classes)

    duplicate = training.by_code(training.duplicate_class)
    assert duplicate.status is ClassStatus.OPEN and duplicate.audience == DemoAudience()
    programme = next(p for p in training.programmes if p.code == duplicate.programme_code)
    done = [d for d in training.completions if d.phone == LEARNER]
    collides = [d for d in done if d.programme_code == programme.code]
    assert collides and programme.validity_months is not None
    assert months_between(collides[0].completed_on, now.date()) < programme.validity_months
    # Her refresher of the other upcoming class has lapsed: that one is hers to take.
    for c in mine:
        for d in done:
            if d.programme_code == c.programme_code:
                validity = next(p for p in training.programmes if p.code == d.programme_code)
                assert validity.validity_months is not None
                assert months_between(d.completed_on, now.date()) >= validity.validity_months
    assert len(training.completions) > len(done)


@pytest.mark.parametrize("now", USUAL_DAYS, ids=["march", "december", "sunday"])
def test_the_lecturer_teaches_this_week_and_the_heads_staff_are_enrolled(
    roster: DemoData, now: datetime
) -> None:
    training = generate_training(roster, now, TZ)
    running = training.by_code(training.running_class)
    assert running.status is ClassStatus.RUNNING and LECTURER in running.lecturer_phones
    week = [
        s
        for c in training.classes
        for s in c.sessions
        if s.lecturer_phone == LECTURER and now - timedelta(days=1) < s.starts_at
        and s.starts_at < now + timedelta(days=7)
    ]  # fmt: skip
    assert len(week) >= 3
    home = {p.phone for p in roster.people[5:-3] if p.unit_code == HOME_COMMUNE_CODE}
    staff = [c for c in training.classes if home & set(c.learners) and c.ends_at > now]
    assert staff and set(training.lecturer_phones) <= {p.phone for p in roster.people}


def sessions_of(training: DemoTraining, phone: str) -> list[DemoSession]:
    """The sessions `phone` learns in or teaches, in order."""
    return sorted(
        (s for c in training.classes if c.status is not ClassStatus.CANCELLED
         for s in c.sessions if phone in c.learners or s.lecturer_phone == phone),
        key=lambda s: s.starts_at,
    )  # fmt: skip


def mornings(sessions: list[DemoSession], day: date) -> list[DemoSession]:
    return [s for s in sessions if s.starts_at.astimezone(TZ).date() == day
            and s.starts_at.astimezone(TZ).hour < 12]  # fmt: skip


@pytest.mark.parametrize("now", (*USUAL_DAYS, FRIDAY_NIGHT),
                         ids=["march", "december", "sunday", "friday-night"])  # fmt: skip
def test_the_learner_and_lecturer_have_reminders_to_see_tonight_and_in_the_morning(
    roster: DemoData, now: datetime
) -> None:
    """The sandbox's `:clock 19:00` shows an evening-before reminder and `:clock +12h` the
    one-hour reminder of a morning session, seeded on any day at any hour."""
    training = generate_training(roster, now, TZ)
    today = now.astimezone(TZ).date()
    # The first 19:00 after seeding: reminders due before the data existed are not sent.
    evening = today if now.astimezone(TZ).hour < 19 else today + timedelta(days=1)
    for phone in (LEARNER, LECTURER):
        mine = sessions_of(training, phone)
        assert mornings(mine, today + timedelta(days=1)), phone
        assert mornings(mine, evening + timedelta(days=1)), phone
        assert all(a.ends_at <= b.starts_at for a, b in itertools.pairwise(mine)), phone
        practice = set(training.by_code(training.practice_class).sessions)
        tonight = [s for s in mine if s.starts_at.astimezone(TZ).date() == today
                   and s.starts_at.astimezone(TZ).hour >= 18 and s not in practice]  # fmt: skip
        assert bool(tonight) is (now.astimezone(TZ).hour < 17), phone
        assert all(s.starts_at > now for s in tonight)


def test_the_same_seed_and_moment_give_the_same_training(roster: DemoData) -> None:
    first = generate_training(roster, MARCH, TZ)
    assert generate_training(roster, MARCH, TZ) == first
    other = generate_training(generate_demo_data(seed=7, people=2000), MARCH, TZ)
    assert [c.learners for c in other.classes] != [c.learners for c in first.classes]
    later = generate_training(roster, MARCH + timedelta(days=7), TZ)
    assert later.by_code(later.running_class).starts_at == (
        first.by_code(first.running_class).starts_at + timedelta(days=7)
    )


def test_a_tiny_roster_still_gives_a_consistent_year() -> None:
    training = generate_training(generate_demo_data(seed=1, people=20), MARCH, TZ)
    assert len(training.classes) == sum(p.per_year + p.last_year for p in training.programmes) + 3
    assert all(len(c.learners) <= c.capacity for c in training.classes)


@pytest.mark.parametrize(
    "now",
    (*USUAL_DAYS, FRIDAY_NIGHT, datetime(2026, 12, 31, 23, 50, tzinfo=TZ),
     datetime(2027, 1, 1, 0, 3, tzinfo=TZ)),
    ids=["march", "december", "sunday", "friday-night", "new-year-eve", "new-year"],
)  # fmt: skip
def test_a_class_meets_now_for_attendance_and_the_learner_has_a_past_year(
    roster: DemoData, now: datetime
) -> None:
    """The sandbox's check-in and roll call need a session under way whenever it is seeded;
    the training record needs classes the learner finished."""
    training = generate_training(roster, now, TZ)
    practice = training.by_code(training.practice_class)
    assert practice.status is ClassStatus.RUNNING and LEARNER in practice.learners
    assert len(practice.learners) >= 30
    under_way = [s for s in practice.sessions if s.starts_at <= now < s.ends_at]
    assert len(under_way) == 1 and under_way[0].lecturer_phone == LECTURER
    assert now - under_way[0].starts_at <= timedelta(minutes=15)
    for code in training.learner_past:
        past = training.by_code(code)
        assert past.status is ClassStatus.FINISHED and LEARNER in past.learners


@pytest.mark.parametrize("now", USUAL_DAYS + EDGES)
def test_last_year_was_held_and_its_long_courses_run_into_this_one(
    roster: DemoData, now: datetime
) -> None:
    """Last year's report has figures, and this year's counts classes carried over: long
    courses begun last November or December that meet into this year."""
    training = generate_training(roster, now, TZ)
    year = training.plans[0].year
    last = [c for c in training.classes if c.plan_year == year - 1]
    assert len(last) == sum(p.last_year for p in training.programmes)
    carried = [training.by_code(code) for code in training.carried_over]
    assert len(carried) == 3 and {c.programme_code for c in carried} == {"TCLLCT", "CVC"}
    assert {c.starts_at.astimezone(TZ).month for c in carried} == {11, 12}
    for c in carried:
        assert c.plan_year == year - 1 and c.ends_at.astimezone(TZ).year == year
        assert c.status is (ClassStatus.FINISHED if c.ends_at <= now else ClassStatus.RUNNING)
        assert len(c.learners) >= 30
    others = Counter(c.status for c in last if c not in carried)
    assert others == {ClassStatus.FINISHED: len(last) - 4, ClassStatus.CANCELLED: 1}
    assert all(c.learners for c in last if c.status is ClassStatus.FINISHED)
    # No long course meets in the weeks around Tết, and last year's classes kept holidays.
    for c in (c for c in training.classes if c.programme_code in ("TCLLCT", "CVC")):
        assert not any(5 <= s.starts_at.astimezone(TZ).isocalendar().week <= 8 for s in c.sessions)
    days = {s.starts_at.astimezone(TZ).date() for c in last for s in c.sessions}
    assert not {(d.month, d.day) for d in days} & {(1, 1), (4, 30), (5, 1), (9, 2)}


@pytest.mark.parametrize("now", [datetime(2026, 12, 2, 23, 59, 30, tzinfo=TZ)], ids=["23:59:30"])
def test_a_sandbox_seeded_in_the_days_last_minute_has_a_session_under_way(
    roster: DemoData, now: datetime
) -> None:
    training = generate_training(roster, now, TZ)
    practice = training.by_code(training.practice_class)
    assert any(s.starts_at <= now < s.ends_at for s in practice.sessions)
    assert generate_attendance(training, now, seed=1).checkin[0] == training.practice_class
