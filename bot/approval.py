"""The rules of a unit head's approval of an enrolment: until when the seat is held, and who
decides. (A rejection's reason follows the rules of a leave request's: bot/leave.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


def approval_expiry(
    now: datetime,
    days: int,
    enrol_deadline: datetime | None,
    starts_at: datetime | None,
) -> datetime:
    """When a pending enrolment gives its seat back: APPROVAL_DAYS from now, or earlier at the
    enrolment deadline or the class's start; a moment already past is not a limit (a cadre
    promoted from the waitlist after the deadline still gets the days to be approved)."""
    limits = [now + timedelta(days=days)]
    limits += [at for at in (enrol_deadline, starts_at) if at is not None and at > now]
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
