"""Whom an announcement goes to, as plain data: everyone in reach, a class's learners or its
waitlist, a unit with its sub-units, or a priority group. (bot.training.Audience is another
thing: whom a class is open to.)"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.training import PriorityGroup


class AudienceKind(StrEnum):
    """Stored in dialogue drafts and delivery batches: never rename one in use."""

    ALL = "all"
    CLASS = "class"  # the class's enrolled learners
    WAITLIST = "waitlist"  # the class's waitlist
    UNIT = "unit"  # with its sub-units
    YOUNG = PriorityGroup.YOUNG.value
    WOMEN = PriorityGroup.WOMEN.value
    MINORITY = PriorityGroup.MINORITY.value
    SOURCE_POOL = PriorityGroup.SOURCE_POOL.value

    @property
    def group(self) -> PriorityGroup | None:
        """The priority group this kind names, if it names one."""
        return PriorityGroup(self.value) if self.value in _GROUPS else None

    @property
    def of_class(self) -> bool:
        return self in (AudienceKind.CLASS, AudienceKind.WAITLIST)

    @property
    def needs_ref(self) -> bool:
        """A class or a unit must be chosen too."""
        return self.of_class or self is AudienceKind.UNIT


_GROUPS = frozenset(g.value for g in PriorityGroup)


@dataclass(frozen=True, slots=True)
class Recipients:
    """An audience: its kind and, for a class or a unit, its id. Always kept within the
    sender's reach (a unit head's units), whatever it names."""

    kind: AudienceKind = AudienceKind.ALL
    ref: int | None = None

    def __post_init__(self) -> None:
        if self.kind.needs_ref != (self.ref is not None):
            raise ValueError(f"audience {self.kind.value}: a class or unit id goes with it only")


@dataclass(frozen=True, slots=True)
class AudienceLabel:
    """An audience as people read it: its kind, the class or unit it names, and the units a
    unit head's announcement was kept within (None: the whole province)."""

    kind: AudienceKind
    name: str | None = None
    within: str | None = None


@dataclass(frozen=True, slots=True)
class AudienceSize:
    """What a preview says before Send: who, and how many can be reached. Those who blocked
    the bot are queued too, so that the report names them for the office to phone."""

    recipients: Recipients
    label: AudienceLabel
    reachable: int
    blocked: int


@dataclass(frozen=True, slots=True)
class ClassOption:
    """A class to announce to, as a search offers it."""

    id: int
    code: str
    name: str
