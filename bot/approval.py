"""The rules of a unit head's approval of an enrolment: until when the seat is held, and who
decides. (A rejection's reason follows the rules of a leave request's: bot/leave.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: The least time the deciders are given before the enrolment deadline may end a hold.
DECIDING_MIN = timedelta(days=1)


def approval_expiry(
    now: datetime,
    days: int,
    enrol_deadline: datetime | None,
    starts_at: datetime | None,
) -> datetime:
    """When a pending enrolment gives its seat back: APPROVAL_DAYS from now, or earlier at the
    class's start; or at the enrolment deadline, so that a seat given back can still be taken
    by someone enrolling, but only if that leaves the deciders DECIDING_MIN. Later (a seat
    held at 23:00 for a deadline at 23:59) the deciders get their days, and a seat given back
    after the deadline goes to the waitlist. A moment already past is not a limit."""
    limits = [now + timedelta(days=days)]
    if starts_at is not None and starts_at > now:
        limits.append(starts_at)
    if enrol_deadline is not None and enrol_deadline - now >= DECIDING_MIN:
        limits.append(enrol_deadline)
    return min(limits)


@dataclass(frozen=True, slots=True)
class HeadOf:
    """A unit head above (or of) a learner's unit: `depth` 0 is the learner's own unit."""

    depth: int
    person_id: int


def nearest_heads(heads: Sequence[HeadOf], learner_id: int) -> list[int]:
    """The heads of the nearest unit up the tree that has one, never the learner themself
    (a head enrolling is approved by the unit above); empty when no unit has another head."""
    others = [h for h in heads if h.person_id != learner_id]
    if not others:
        return []
    nearest = min(h.depth for h in others)
    return sorted({h.person_id for h in others if h.depth == nearest})
