"""Demo attendance for the sandbox: last year's and this year's marks, results, and one
check-in under way.

Pure, like `tools.demo.classes`: the same training and moment always give the same marks.
Every session that has ended has its roll called (most learners checked in themselves,
the lecturer marked the rest) and is closed, so the sandbox's first pass closes nothing and
warns nobody; learners differ in how reliably they come, and classes in how strictly they
are attended (online evenings least), so summaries show real spreads and some learners
fall short of completion. The finished classes have their results, except
the latest, left for the office to record. The practice class's session under way has its
check-in open with some learners already in, and the demo learner's own record has an
excused absence there: one unexcused absence more and she is warned.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.attendance import DEFAULT_COMPLETION, Mark, MarkSource, Outcome, standing
from bot.training import ClassFormat, ClassStatus
from tools.demo.classes import DemoClass, DemoTraining
from tools.demo.data import DEMO_IDENTITIES

#: Of the learners of the practice class, this many have checked in to its session under way.
CHECKED_IN_NOW = 12
#: The demo learner's marks at the practice class's sessions before today.
LEARNER_PRACTICE = (Mark.PRESENT, Mark.PRESENT, Mark.EXCUSED, Mark.PRESENT)
#: How often a reliable learner misses a session, and a wavering one.
RELIABLE_MISS = (0.0, 0.06)
WAVERING_MISS = (0.12, 0.3)
WAVERING_SHARE = 0.1
#: How much more or less than usual a class's learners miss; online classes miss more.
CLASS_MISS = (0.6, 1.6)
ONLINE_MISS = 1.4
GRADES = ((Outcome.EXCELLENT, 0.12), (Outcome.VERY_GOOD, 0.33), (Outcome.GOOD, 0.4),
          (Outcome.PASSED, 0.15))  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoMark:
    class_code: str
    session: int  # the index of the session in its class
    phone: str
    mark: Mark
    source: MarkSource
    checked_in_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DemoResult:
    class_code: str
    phone: str
    outcome: Outcome
    attended: int
    total: int


@dataclass(frozen=True, slots=True)
class DemoAttendance:
    marks: tuple[DemoMark, ...]
    #: (class, session index) of every session closed: all that have ended.
    closed: tuple[tuple[str, int], ...]
    results: tuple[DemoResult, ...]
    #: The practice class's session under way, whose check-in is open, and when it opened.
    checkin: tuple[str, int, datetime]
    #: The latest finished class: its results are for the sandbox's office to record.
    results_to_record: str


def generate_attendance(training: DemoTraining, now: datetime, seed: int) -> DemoAttendance:
    rng = random.Random(f"demo-attendance:{seed}")
    learner = DEMO_IDENTITIES.learner.phone
    marks: list[DemoMark] = []
    closed: list[tuple[str, int]] = []
    results: list[DemoResult] = []
    classes = [c for c in training.classes if c.status is not ClassStatus.CANCELLED and c.learners]
    finished = [c for c in classes if c.status is ClassStatus.FINISHED]
    to_record = max(finished, key=lambda c: c.ends_at).code if finished else ""
    miss = {
        phone: rng.uniform(*(WAVERING_MISS if rng.random() < WAVERING_SHARE else RELIABLE_MISS))
        for phone in sorted({p for c in classes for p in c.learners})
    }
    miss[learner] = 0.0
    for c in classes:
        ended = [i for i, s in enumerate(c.sessions) if s.ends_at <= now]
        laxity = rng.uniform(*CLASS_MISS) * (ONLINE_MISS if c.format is ClassFormat.ONLINE else 1)
        for i in ended:
            closed.append((c.code, i))
            for phone in c.learners:
                if phone == learner and c.code == training.practice_class:
                    mark = LEARNER_PRACTICE[i % len(LEARNER_PRACTICE)]
                    marks.append(DemoMark(c.code, i, phone, mark, MarkSource.ROLL))
                else:
                    marks.append(_mark(c, i, phone, min(1.0, miss[phone] * laxity), rng))
        if c.code != to_record and c.status is ClassStatus.FINISHED:
            results += _results(c, [m for m in marks if m.class_code == c.code], rng)
    practice = training.by_code(training.practice_class)
    now_index = next(i for i, s in enumerate(practice.sessions) if s.starts_at <= now < s.ends_at)
    start = practice.sessions[now_index].starts_at
    opened = start - timedelta(minutes=15)
    arrived = [p for p in practice.learners if p != learner][:CHECKED_IN_NOW]
    for k, phone in enumerate(arrived):
        at = min(now, opened + (now - opened) * (k + 1) / (len(arrived) + 1))
        marks.append(DemoMark(practice.code, now_index, phone, Mark.PRESENT, MarkSource.CODE, at))
    return DemoAttendance(tuple(marks), tuple(closed), tuple(results),
                          (practice.code, now_index, opened), to_record)  # fmt: skip


def _mark(c: DemoClass, index: int, phone: str, miss: float, rng: random.Random) -> DemoMark:
    """Absent (excused two times in five) with the learner's odds; else most checked in
    themselves, a few late, and the lecturer marked the rest present."""
    start = c.sessions[index].starts_at
    if rng.random() < miss:
        mark = Mark.EXCUSED if rng.random() < 0.4 else Mark.ABSENT
        return DemoMark(c.code, index, phone, mark, MarkSource.ROLL)
    if rng.random() < 0.06:
        at = start + timedelta(minutes=rng.randint(16, 45))
        return DemoMark(c.code, index, phone, Mark.LATE, MarkSource.CODE, at)
    if rng.random() < 0.7:
        at = start + timedelta(minutes=rng.randint(-15, 10))
        return DemoMark(c.code, index, phone, Mark.PRESENT, MarkSource.CODE, at)
    return DemoMark(c.code, index, phone, Mark.PRESENT, MarkSource.ROLL)


def _results(c: DemoClass, marks: list[DemoMark], rng: random.Random) -> list[DemoResult]:
    """Completed with a grade when attendance reached the threshold, else not completed."""
    by_phone: dict[str, list[Mark]] = {}
    for m in marks:
        by_phone.setdefault(m.phone, []).append(m.mark)
    found = []
    for phone in c.learners:
        mine = standing(len(c.sessions), DEFAULT_COMPLETION, by_phone.get(phone, []))
        if mine.met:
            outcome = rng.choices([g for g, _ in GRADES], [w for _, w in GRADES])[0]
        else:
            outcome = Outcome.NOT_COMPLETED
        found.append(DemoResult(c.code, phone, outcome, mine.attended, mine.total))
    return found
