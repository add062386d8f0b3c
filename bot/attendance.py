"""Attendance as plain rules: the marks, the rotating check-in code, the windows, and whether
a learner can still complete a class. No framework types, no SQL.

A learner completes a class by attending (present or late) at least its share of sessions
(80% by default). An excused absence is still an absence for completion, as the schools'
regulations count it, but it is recorded apart: it is not a breach of discipline.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Mark(StrEnum):
    """A learner's attendance at one session (có mặt, đi muộn, vắng có phép, vắng không phép)."""

    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"

    @property
    def attended(self) -> bool:
        return self in (Mark.PRESENT, Mark.LATE)


class MarkSource(StrEnum):
    """How a mark came to be: the learner checked in, the lecturer marked it, or a rule did."""

    CODE = "code"  # typed the code on the projector
    LINK = "link"  # scanned the QR code (a deep link)
    BUTTON = "button"  # the check-in button of an online session's reminder
    ROLL = "roll"  # the lecturer's roll call
    CORRECTION = "correction"  # changed after it was saved, with a reason (audited)
    LEAVE = "leave"  # an excused-absence request approved
    CLOSE = "close"  # unmarked when the session closed


#: Marks that show a session's attendance was taken (an approved leave or the close do not).
TAKEN_BY = (MarkSource.CODE, MarkSource.LINK, MarkSource.BUTTON, MarkSource.ROLL,
            MarkSource.CORRECTION)  # fmt: skip
#: Minutes after the start from which a check-in is late, unless the class says otherwise.
DEFAULT_LATE_AFTER = 15
#: The share of sessions (percent) a learner must attend to complete, unless the class says.
DEFAULT_COMPLETION = 80
#: Self check-in opens this long before a session starts...
CHECKIN_EARLY = timedelta(minutes=30)
#: ...and a session's attendance closes this long after it ends: the unmarked are absent.
CLOSE_AFTER = timedelta(hours=2)
#: An excused absence may be asked for until this long after the session began.
LEAVE_AFTER = timedelta(days=1)
#: Digits of a check-in code: short enough to read off a projector at the back of a hall.
CODE_DIGITS = 6
#: A code this old is "expired" rather than simply wrong (someone read it off a photo).
EXPIRED_WITHIN = 30


def new_secret() -> str:
    """The secret a session's codes are derived from; never shown, kept in the database."""
    return secrets.token_hex(16)


def minute_of(at: datetime) -> int:
    """The code's clock: whole minutes since the epoch, the same in every process."""
    return int(at.timestamp()) // 60


def checkin_code(secret: str, minute: int) -> str:
    """The code shown during `minute`: an HMAC, so knowing one code tells nothing of the next."""
    digest = hmac.new(secret.encode(), str(minute).encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


class CodeAge(StrEnum):
    CURRENT = "current"
    GRACE = "grace"  # the previous minute's: a slow network delivered it late
    EXPIRED = "expired"
    WRONG = "wrong"

    @property
    def valid(self) -> bool:
        return self in (CodeAge.CURRENT, CodeAge.GRACE)


def code_age(secret: str, code: str, now: datetime) -> CodeAge:
    """Whether `code` is this minute's, the previous one's, an older one's, or none of them."""
    minute = minute_of(now)
    for back in range(EXPIRED_WITHIN + 1):
        if hmac.compare_digest(checkin_code(secret, minute - back), code):
            return CodeAge.CURRENT if back == 0 else CodeAge.GRACE if back == 1 else CodeAge.EXPIRED
    return CodeAge.WRONG


def clean_code(raw: str) -> str | None:
    """A typed code as learners write it ("123 456", full-width digits); None if it is not one."""
    digits = "".join(str(int(c)) for c in raw if c.isdecimal())
    rest = "".join(c for c in raw if not c.isdecimal() and not c.isspace() and c not in "-.")
    return digits if len(digits) == CODE_DIGITS and not rest else None


def checkin_window(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """When a learner may check in to a session: from a little before it until it ends."""
    return starts_at - CHECKIN_EARLY, ends_at


def arrival_mark(starts_at: datetime, at: datetime, late_after: int) -> Mark:
    """Present, or late if the learner checked in `late_after` minutes or more after the start."""
    return Mark.LATE if at >= starts_at + timedelta(minutes=late_after) else Mark.PRESENT


def required_sessions(total: int, completion_pct: int) -> int:
    """Sessions a learner must attend of `total`: the share, rounded up."""
    return math.ceil(total * completion_pct / 100 - 1e-9)


class WarningLevel(StrEnum):
    """How close a learner is to failing a class on attendance."""

    ONE_LEFT = "one_left"  # one more absence and they cannot complete
    CANNOT = "cannot"  # they can no longer complete


@dataclass(frozen=True, slots=True)
class Standing:
    """A learner's attendance in one class so far: what the warnings and results rest on."""

    total: int  # sessions held or to be held (cancelled ones do not count)
    required: int
    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def missed(self) -> int:
        return self.excused + self.absent

    @property
    def unmarked(self) -> int:
        """Sessions to come, or not yet closed."""
        return max(0, self.total - self.attended - self.missed)

    @property
    def reachable(self) -> int:
        """The most sessions the learner can still have attended by the end."""
        return self.attended + self.unmarked

    @property
    def met(self) -> bool:
        """The threshold is reached (and nothing still to come can undo that)."""
        return self.total > 0 and self.attended >= self.required

    @property
    def percent(self) -> float:
        return 100 * self.attended / self.total if self.total else 0.0

    @property
    def warning(self) -> WarningLevel | None:
        # Without an absence there is nothing to warn of: in a class needing every session
        # (three of three at 80%) everyone is "one absence away" from the first roll call.
        if self.total == 0 or self.met or self.missed == 0:
            return None
        if self.reachable < self.required:
            return WarningLevel.CANNOT
        if self.reachable == self.required and self.unmarked > 0:
            return WarningLevel.ONE_LEFT
        return None


def standing(total: int, completion_pct: int, marks: list[Mark]) -> Standing:
    counts = {m: 0 for m in Mark}
    for mark in marks:
        counts[mark] += 1
    return Standing(
        total=total,
        required=required_sessions(total, completion_pct),
        present=counts[Mark.PRESENT],
        late=counts[Mark.LATE],
        excused=counts[Mark.EXCUSED],
        absent=counts[Mark.ABSENT],
    )


class Outcome(StrEnum):
    """A learner's result in a class (kết quả): completed with a grade, or not completed."""

    EXCELLENT = "excellent"  # xuất sắc
    VERY_GOOD = "very_good"  # giỏi
    GOOD = "good"  # khá
    PASSED = "passed"  # đạt
    NOT_COMPLETED = "not_completed"

    @property
    def completed(self) -> bool:
        return self is not Outcome.NOT_COMPLETED


class LeaveStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class AttendanceEntry:
    """One of a person's marks as /mydata shows it."""

    class_code: str
    class_name: str
    starts_at: datetime
    mark: Mark
    source: MarkSource
    checked_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class LeaveEntry:
    """One of a person's excused-absence requests as /mydata shows it."""

    class_code: str
    starts_at: datetime
    reason: str
    status: LeaveStatus
    asked_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class ResultEntry:
    """One of a person's results as /mydata shows it."""

    class_code: str
    class_name: str
    outcome: Outcome
    override: bool
    recorded_at: datetime
